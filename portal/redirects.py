from __future__ import annotations

from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request, fallback: str) -> str:
    """The ``next`` the request asks for when it stays on our host, else ``fallback``.

    Only a path ("/…") or a full URL: redirect() would take a bare word for the name of a
    view and fail."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith(("/", "http://", "https://")) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback
