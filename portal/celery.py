"""The Celery application; its configuration lives in Django settings (CELERY_*)."""

from __future__ import annotations

import logging
import os

from celery import Celery
from kombu.exceptions import OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)


def enqueue_after_commit(task, *args) -> None:
    """Queue ``task(*args)`` once the current transaction has committed.

    When the broker cannot take it (Redis down or unreachable), the task runs here, once,
    instead: the request has saved its data by then, so an error would answer a 500 for work
    that was done, and the email the task sends would be lost. Only a broker failure falls
    back; any other error (an argument JSON cannot carry) is a bug and still raises.
    """
    from django.db import transaction

    def enqueue() -> None:
        try:
            task.delay(*args)
        except OperationalError:
            logger.exception("Broker unavailable: running %s in the request instead", task.name)
            try:
                task.run(*args)
            except Exception:
                logger.exception("%s failed in the request too; it is lost", task.name)

    transaction.on_commit(enqueue)
