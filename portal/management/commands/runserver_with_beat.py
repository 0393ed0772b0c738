"""`make run`: the development server with the scheduled jobs (Celery beat) in the process that
serves, for the embedded default, where no beat process runs."""

from __future__ import annotations

import logging

from django.conf import settings
from whitenoise.runserver_nostatic.management.commands.runserver import (
    Command as RunserverCommand,
)

from portal.celery import embedded_beat

logger = logging.getLogger(__name__)


class Command(RunserverCommand):
    help = (
        "runserver, and Celery beat in the same process: with eager tasks (no REDIS_URL) each "
        "scheduled job runs there when due. Run no other beat beside it."
    )

    def inner_run(self, *args, **options) -> None:
        # Only the process that serves gets here: under the autoreloader that is the child,
        # started afresh (with its beat) on each reload, never the parent that watches files.
        schedule_file = settings.VAR_DIR / "celerybeat-schedule"
        embedded_beat(schedule_file).start()
        logger.info("Scheduled jobs (Celery beat) run in this process; schedule: %s", schedule_file)
        super().inner_run(*args, **options)
