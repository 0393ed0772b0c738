"""Required actions: after sign-in, nothing else is reachable until they are done."""

from __future__ import annotations

import zoneinfo
from functools import cache

from django.conf import settings
from django.shortcuts import redirect
from django.urls import Resolver404, get_script_prefix, resolve, reverse
from django.utils import timezone
from django.utils.functional import LazyObject, empty

from . import services

# URL names a user with a pending required action may still reach.
ALWAYS_ALLOWED = {
    "accounts:session_status",
    "accounts:logout",
    "accounts:login_help",
    "switch_language",
    "healthz",
    "healthz_live",
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


class ResolvedUserMiddleware:
    """Puts the user object itself on the request, in place of the lazy wrappers around it.

    Django's auth and django-otp each wrap request.user in a SimpleLazyObject; every
    attribute read then goes through two proxies, and a page reads the user hundreds of
    times. Every request looks at the user anyway (required actions, session limits, the
    layout), so nothing is saved by keeping it lazy.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        while isinstance(user, LazyObject):
            if user._wrapped is empty:
                user._setup()
            user = user._wrapped
        if user is not None:
            request.user = user
        return self.get_response(request)


class UserTimeZoneMiddleware:
    """Pages show times in the signed-in user's time zone, as their emails do."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        zone = getattr(user, "time_zone", "") if user is not None else ""
        if not zone:
            return self.get_response(request)
        try:
            timezone.activate(zone)
        except (ValueError, zoneinfo.ZoneInfoNotFoundError):
            return self.get_response(request)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class RequiredActionsMiddleware:
    """A signed-in user with a required action reaches its page and ALWAYS_ALLOWED only.
    ``request.required_action`` names that page (None when nothing is pending): the layout
    then leaves out the links that would only lead back to it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.required_action = None
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(settings.STATIC_URL)
        ):
            target = request.required_action = _required_action_url(user)
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


@cache
def _session_status_path() -> str:
    """As in request.path_info: without the prefix a deployment below the root adds."""
    return "/" + reverse("accounts:session_status").removeprefix(get_script_prefix())


def _is_activity(request) -> bool:
    """Every request is the user's activity, except a page asking how long its session has
    left (idle-timeout.js): asking must not keep an unattended session alive."""
    return request.path_info != _session_status_path()


class SessionActivityMiddleware:
    """Idle and absolute session limits and revocation, enforced on the server.

    Runs for signed-in requests: a session idle for SESSION_IDLE_TIMEOUT, older than
    SESSION_ABSOLUTE_TIMEOUT or ended from "Active sessions" is signed out and the request
    goes to the sign-in page with the reason.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.contrib.auth.views import redirect_to_login

        from . import sessions_service

        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        reason = sessions_service.check_request(request, activity=_is_activity(request))
        if reason is not None:
            sessions_service.end_current_session(request, reason)
            next_url = request.get_full_path() if request.method == "GET" else ""
            return redirect_to_login(next_url) if next_url else redirect(settings.LOGIN_URL)
        key_at_start = request.session.session_key
        response = self.get_response(request)
        sessions_service.after_response(request, key_at_start)
        return response
