"""Run the daily retention jobs now: for a first deploy with a backlog, or to see what a
changed retention period would delete (--dry-run)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone

from accounts import retention as accounts_retention
from mfa import retention as mfa_retention
from portal.retention import count_expired
from tickets import retention as tickets_retention

# In the order of the beat schedule (03:17, 03:27, 03:37).
RETENTION = [
    ("accounts", accounts_retention),
    ("mfa", mfa_retention),
    ("tickets", tickets_retention),
]


class Command(BaseCommand):
    help = (
        "Delete what is past its retention now, as the three daily jobs do, to the end (no time "
        "budget). With --dry-run, count what would go and delete nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be deleted; delete nothing."
        )

    def handle(self, *args, dry_run: bool = False, **options) -> None:
        now = timezone.now()
        total = 0
        for app, retention in RETENTION:
            counts = count_expired(retention.expired(now)) if dry_run else retention.purge(now)
            self.stdout.write(app)
            for kind, count in counts.items():
                self.stdout.write(f"  {kind}: {count}")
            if not counts:
                self.stdout.write("  nothing: kept forever by its settings")
            total += sum(counts.values())
        if dry_run:
            self.stdout.write(
                f"Would delete {total} records (dry run: nothing deleted; expired database "
                "sessions, which clearsessions deletes with the accounts, are not counted)."
            )
        else:
            self.stdout.write(self.style.SUCCESS(f"Deleted {total} records."))
