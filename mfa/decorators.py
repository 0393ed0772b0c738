from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import reverse

from accounts.reauth import recently_authenticated


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
