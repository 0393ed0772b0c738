from django.db import migrations
from django.db.models import Q

# roles.SUPPORT_AGENTS and roles.PROVIDER_ADMINS as they are named now.
PROVIDER_GROUPS = ("Support agents", "Provider admins")


def provider_staff_leave_companies(apps, schema_editor):
    """Provider staff belong to no company (the admin refuses it since): one who had one was
    listed as its employee (its Security Manager could block them) and its log showed their
    sign-ins. Their own events stay where they were recorded."""
    User = apps.get_model("accounts", "User")
    staff = User.objects.filter(
        Q(is_staff=True) | Q(is_superuser=True) | Q(groups__name__in=PROVIDER_GROUPS)
    )
    User.objects.filter(pk__in=staff.values("pk"), company__isnull=False).update(company=None)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0014_security_event_actor_username_fill"),
    ]

    operations = [
        migrations.RunPython(provider_staff_leave_companies, migrations.RunPython.noop),
    ]
