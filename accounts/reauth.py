"""Recent authentication: security pages ask for the password again after a few minutes."""

from __future__ import annotations

import time
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

AUTH_AT = "portal_auth_at"


def mark_authenticated(request) -> None:
    """Remember when this session last proved who it is (sign-in or re-authentication)."""
    request.session[AUTH_AT] = time.time()


def confirm_identity(request) -> None:
    """The password was just entered again: a new session key against fixation, the new
    authentication time, and the security log."""
    from .models import SecurityEvent
    from .services import record_event

    request.session.cycle_key()
    mark_authenticated(request)
    record_event(SecurityEvent.Kind.REAUTHENTICATED, request.user, request=request)


def sign_out_locked_out(request):
    """A password typed in this signed-in session was refused because the account is locked
    out (its own wrong passwords locked it, or earlier ones did): whoever sits at an
    unattended browser must not stay signed in. This session only is signed out, with the
    log entry, and sent to the sign-in page, which says how to unblock the account. The
    account's other sessions stay: anyone who knows a user name can cause a lockout."""
    from .sessions_service import LOCKED_OUT, end_current_session

    end_current_session(request, LOCKED_OUT)
    return redirect("accounts:login")


def recently_authenticated(request) -> bool:
    auth_at = request.session.get(AUTH_AT)
    return auth_at is not None and time.time() - auth_at <= settings.REAUTHENTICATION_MAX_AGE


def reauthentication_required(view):
    """Send the user to re-authenticate first when their last authentication is too old."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not recently_authenticated(request):
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('accounts:reauthenticate')}?{query}")
        return view(request, *args, **kwargs)

    return wrapper
