"""Gates other views put on: a recent password (mfa's own pages) and a strong second
factor (/manage/, /support/ in other apps)."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.shortcuts import redirect, render
from django.urls import reverse

from accounts.reauth import recently_authenticated

from . import services


def require_recent_auth(view):
    """accounts.reauth's rule (a password within the last few minutes), with the password page
    under mfa:setup: a user who must enrol an authenticator can reach nothing else."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not recently_authenticated(request):
            target = reverse("mfa:setup", kwargs={"kind": "confirm-password"})
            return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
        return view(request, *args, **kwargs)

    return wrapper


def strong_factor_page(request):
    """403, saying that an emailed code is not enough and what to do."""
    return render(request, "mfa/strong_factor_required.html", status=403)


def strong_second_factor_required(view):
    """Let through only a session verified by TOTP, push, or a backup code standing in for
    one of them (services.verified_with_strong_factor). Put it inside the role check, so that
    whoever lacks the role gets a plain 403 first."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not services.verified_with_strong_factor(request.user):
            return strong_factor_page(request)
        return view(request, *args, **kwargs)

    return wrapper
