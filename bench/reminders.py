"""The password-expiry reminder job over a benchmark data set: time, queries, peak memory.

    python -m bench.reminders

Runs accounts.reminders.send_password_reminders twice on the same users (the reminder rows of
the first run are deleted in between): once for time and queries, once under tracemalloc for
the peak of Python memory (tracemalloc slows the job, so the two are kept apart). Emails are
rendered and handed to Django's dummy backend (run with EMAIL_URL=dummymail:// and eager
tasks), so the time is the job's own and excludes delivery.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
import tracemalloc


class BatchQueryCounter:
    """Counts queries per batch of the job; a batch starts with the query for candidates."""

    def __init__(self):
        self.per_batch: list[int] = []

    def __call__(self, execute, sql, params, many, context):
        if (
            sql.lstrip().upper().startswith("SELECT")
            and '"accounts_user"' in sql
            and "LIMIT" in sql
        ):
            self.per_batch.append(0)
        if self.per_batch:
            self.per_batch[-1] += 1
        return execute(sql, params, many, context)


def run() -> dict:
    from django.conf import settings
    from django.db import connection

    from accounts.models import PasswordReminder, User
    from accounts.reminders import send_password_reminders

    users = User.objects.count()
    PasswordReminder.objects.all().delete()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    counter = BatchQueryCounter()
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        sent = send_password_reminders()
        seconds = time.perf_counter() - started
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    PasswordReminder.objects.all().delete()
    tracemalloc.start()
    sent_again = send_password_reminders()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    PasswordReminder.objects.all().delete()

    batches = counter.per_batch[:-1]  # the last batch is the empty read that ends the walk
    return {
        "users": users,
        "batch_size": settings.PASSWORD_REMINDER_BATCH_SIZE,
        "emails": sent,
        "emails_second_run": sent_again,
        "seconds": round(seconds, 3),
        "users_per_second": round(users / seconds, 1) if seconds else None,
        "queries": sum(counter.per_batch),
        "batches": len(batches),
        "queries_per_batch_max": max(batches, default=0),
        "queries_per_batch_min": min(batches, default=0),
        "peak_python_memory_kib": round(peak / 1024, 1),
        "peak_rss_kib": rss_after,
        "rss_growth_kib": rss_after - rss_before,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    print(json.dumps(run()))


if __name__ == "__main__":
    main()
