"""The Celery application; its configuration lives in Django settings (CELERY_*)."""

from __future__ import annotations

import logging
import os
import threading
from datetime import timedelta
from pathlib import Path

from celery import Celery
from kombu.exceptions import OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)


def enqueue_after_commit(task, *args) -> None:
    """Queue ``task(*args)`` once the current transaction has committed.

    When the broker cannot take it (Redis down or unreachable), the task runs once in a
    thread of this process instead: the request has saved its data by then, so an error would
    answer a 500 for work that was done, and the email the task sends would be lost. A thread
    rather than the request itself, so that the answer's timing still tells nothing (whether
    "forgot password" found an account) and no one waits for SMTP. Only a broker failure falls
    back; any other error (an argument JSON cannot carry) is a bug and still raises.
    """
    from django.db import transaction

    def enqueue() -> None:
        try:
            task.delay(*args)
        except OperationalError:
            logger.exception("Broker unavailable: running %s in this process instead", task.name)
            threading.Thread(
                target=_run_without_broker, args=(task, args), name=f"{FALLBACK_THREAD}{task.name}"
            ).start()

    transaction.on_commit(enqueue)


FALLBACK_THREAD = "task-without-broker:"


def _run_without_broker(task, args: tuple) -> None:
    from django.db import connections

    try:
        task.run(*args)
    except Exception:
        logger.exception("%s failed without the broker too; it is lost", task.name)
    finally:
        connections.close_all()  # this thread's own


def embedded_beat(schedule_file: Path):
    """Celery beat as a daemon thread of this process, for the embedded default (`make run`):
    with eager tasks each job falls due and runs right there, with no broker, no worker and no
    server of its own, and it ends with the process.

    Jobs whose time came while the portal was stopped run once when it starts, as beat does;
    so that the first start is no exception, a new schedule counts each job as last run a day
    ago: the daily ones run too (the demo accounts' password reminders land in var/mail/)."""
    from celery.beat import EmbeddedService

    # What `celery beat` does at start: import every app's tasks module, or beat finds only
    # the tasks imported so far and sends the others to a broker that nobody reads.
    app.loader.import_default_modules()
    first_start = not any(schedule_file.parent.glob(f"{schedule_file.name}*"))
    beat = EmbeddedService(app, thread=True, schedule_filename=str(schedule_file))
    # The thread dies with the process (Ctrl-C, each reload) instead of shutting down: save the
    # schedule after every job, or the jobs run since the last save would run again at start.
    beat.service.scheduler.sync_every_tasks = 1
    if first_start:
        a_day_ago = app.now() - timedelta(days=1)
        for entry in beat.service.scheduler.schedule.values():
            entry.last_run_at = a_day_ago
    return beat
