from django.db import migrations, models
from django.db.models import F


def mark_description_messages(apps, schema_editor):
    """create_ticket put the files of a report on a message repeating the description, by the
    requester, dated at the ticket's creation: a reply can be none of these at once."""
    Message = apps.get_model("tickets", "Message")
    holders = Message.objects.filter(
        is_internal=False,
        author_id=F("ticket__requester_id"),
        created_at=F("ticket__created_at"),
        body=F("ticket__description"),
    ).values("pk")
    Message.objects.filter(pk__in=holders).update(is_description=True)


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0004_ticket_contact_language"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="is_description",
            field=models.BooleanField(
                default=False, verbose_name="holds the description's files"
            ),
        ),
        migrations.RunPython(mark_description_messages, migrations.RunPython.noop),
    ]
