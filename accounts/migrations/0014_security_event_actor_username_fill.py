from django.db import migrations, transaction
from django.db.models import Max, Min, OuterRef, Subquery

# Events per transaction: each UPDATE locks only its own rows, and only for a moment, so the
# portal goes on writing and reading its log (every sign-in) while millions are filled.
BATCH = 10_000


def keep_actor_names(apps, schema_editor):
    """Existing events keep the name of their actor while it still exists, in batches by
    primary key. Run again (after an interruption), it fills only what is still empty."""
    SecurityEvent = apps.get_model("accounts", "SecurityEvent")
    User = apps.get_model("accounts", "User")
    alias = schema_editor.connection.alias
    events = SecurityEvent.objects.using(alias).filter(actor__isnull=False, actor_username="")
    bounds = events.aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        return
    name = User.objects.using(alias).filter(pk=OuterRef("actor_id")).values("username")[:1]
    for start in range(bounds["low"], bounds["high"] + 1, BATCH):
        with transaction.atomic(using=alias):
            events.filter(pk__gte=start, pk__lt=start + BATCH).update(
                actor_username=Subquery(name)
            )


class Migration(migrations.Migration):
    # Not one transaction for the whole table: one per batch (keep_actor_names).
    atomic = False

    dependencies = [
        ('accounts', '0013_security_event_actor_username'),
    ]

    operations = [
        migrations.RunPython(keep_actor_names, migrations.RunPython.noop),
    ]
