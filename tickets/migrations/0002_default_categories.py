from django.db import migrations

# English names; the portal shows translated labels for these codes (DEFAULT_CATEGORY_LABELS).
DEFAULTS = [
    ("login_identity", "Login and identity", 10),
    ("cloud_desktop", "Cloud desktop", 20),
    ("email", "Email", 30),
    ("applications", "Applications", 40),
    ("other", "Other", 90),
]


def create_categories(apps, schema_editor):
    Category = apps.get_model("tickets", "Category")
    for code, name, position in DEFAULTS:
        Category.objects.get_or_create(code=code, defaults={"name": name, "position": position})


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]

    operations = [migrations.RunPython(create_categories, migrations.RunPython.noop)]
