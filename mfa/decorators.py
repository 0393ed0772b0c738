from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import reverse

from . import services


def require_recent_auth(view):
    """Security changes need a password entered within the last 5 minutes (sudo mode)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not services.has_recent_auth(request):
            target = reverse("mfa:setup", kwargs={"kind": "confirm-password"})
            return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
        return view(request, *args, **kwargs)

    return wrapper
