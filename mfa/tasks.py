from __future__ import annotations

from celery import shared_task


@shared_task
def purge_expired_mfa_data() -> dict[str, int]:
    """Daily: delete what is past its retention (mfa.retention)."""
    from .retention import purge

    return purge()
