"""Required actions: after sign-in, nothing else is reachable until they are done."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import redirect
from django.urls import Resolver404, resolve

from . import services

# URL names a user with a pending required action may still reach.
ALWAYS_ALLOWED = {
    "accounts:logout",
    "accounts:login_help",
    "switch_language",
    "healthz",
    "javascript-catalog",
    "accounts:verify_email",
    "accounts:password_changed",
}


def _required_action_url(user) -> str | None:
    if services.password_change_required(user):
        return "accounts:change_initial_password"
    if user.email and not user.email_verified:
        return "accounts:verify_email_required"
    from mfa.services import required_action_url_name

    return required_action_url_name(user)


class RequiredActionsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(settings.STATIC_URL)
        ):
            target = _required_action_url(user)
            if target is not None:
                try:
                    match = resolve(request.path_info)
                    name = (
                        f"{match.namespace}:{match.url_name}" if match.namespace else match.url_name
                    )
                except Resolver404:
                    name = None
                if name != target and name not in ALWAYS_ALLOWED:
                    return redirect(target)
        return self.get_response(request)
