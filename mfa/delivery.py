"""How a new push challenge reaches the phone. The default backend does nothing: the app polls
the device API. A Web Push / FCM / APNs backend implements ``deliver`` and is named in the
setting ``MFA_PUSH_BACKEND``; the sign-in flow does not change."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string


class PushBackend:
    def deliver(self, challenge) -> None:
        """Tell the challenge's device that a challenge waits (it then fetches it, signed)."""
        raise NotImplementedError


class PollingBackend(PushBackend):
    def deliver(self, challenge) -> None:
        return None


def get_backend() -> PushBackend:
    path = getattr(settings, "MFA_PUSH_BACKEND", "mfa.delivery.PollingBackend")
    return import_string(path)()
