from __future__ import annotations

from celery import shared_task


@shared_task(bind=True)
def purge_expired_mfa_data(self) -> dict[str, int]:
    """Daily: delete what is past its retention (mfa.retention); a backlog goes on in the run
    it queues."""
    from portal.retention import purge_within_budget

    from .retention import purge

    return purge_within_budget(self, purge)
