"""Floors: what the work that a password step or a page cannot skip costs on its own.

The targets compare the password step with the Argon2 bound and the pages with the minimal
view. These views do only the mandatory part of each, so that the report can say how close
any implementation could come: served by a second gunicorn with `bench.floor_settings`
(the portal's production settings and URLs, plus these), never by the portal itself.

- password check: the session of the identifier step, the account and Argon2; no sign-in;
- password check and sign-in: the same check as the portal (lockout counting included), then
  what `PortalLoginView.done` does: `login()` (new session key, `last_login`), the audit event
  and the session row, in one transaction; without django-two-factor-auth's wizard;
- signed-in response: session, revocation state and user, as every signed-in page; no template;
- signed-in layout: the same with `base.html` and nothing in it;
- cached dashboard: the signed-in response, then the user's dashboard read from the cache
  with its version in one round trip (rendered once by the portal's own view): the best a
  per-user page cache could do, which the pages' targets would need (bench/limits.md).
"""

from __future__ import annotations

from django.contrib.auth import authenticate, login
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from accounts import services, sessions_service
from accounts.views import PortalLoginView
from accounts.views import dashboard as portal_dashboard

# Where django-formtools keeps the sign-in wizard's data in the session ("wizard_" + prefix).
WIZARD_SESSION_KEY = "wizard_" + PortalLoginView.PREFIX
PASSWORD_FIELD = "auth-password"  # the real password step's field, as bench/wrk/password.lua posts


def _identifier(request) -> str:
    """The user name that the portal's own identifier step stored for this session."""
    return request.session.get(WIZARD_SESSION_KEY, {}).get("identifier", "")


@require_POST
def password_check(request):
    user = authenticate(
        request, username=_identifier(request), password=request.POST.get(PASSWORD_FIELD, "")
    )
    if user is None:
        return HttpResponseBadRequest()
    return HttpResponseRedirect(reverse("dashboard"))


@require_POST
def password_sign_in(request):
    check = services.check_sign_in_password(
        request, _identifier(request), request.POST.get(PASSWORD_FIELD, "")
    )
    if check.user is None:
        return HttpResponseBadRequest()
    response = HttpResponseRedirect(reverse("dashboard"))
    with transaction.atomic():
        login(request, check.user)
        services.record_sign_in(request, check.user)
        sessions_service.start_session(request, check.user, response)
    return response


@login_required
def signed_in(request):
    return HttpResponse(b"")


@login_required
def layout(request):
    return render(request, "base.html")


@login_required
def cached_dashboard(request):
    """A page cache keyed by the data it shows would read, besides the page, a version of
    that data (bumped by every change): here both in one get_many, as cheap as it gets."""
    page_key, version_key = f"floor-page:{request.user.pk}", f"floor-version:{request.user.pk}"
    found = cache.get_many([page_key, version_key])
    if page_key not in found:
        html = portal_dashboard(request).content
        cache.set_many({page_key: html, version_key: 1}, timeout=3600)
        return HttpResponse(html)
    return HttpResponse(found[page_key])


# The paths are bench/run.py's FLOORS.
urlpatterns = [
    path("__floor__/password-check/", password_check),
    path("__floor__/password-sign-in/", password_sign_in),
    path("__floor__/signed-in/", signed_in),
    path("__floor__/layout/", layout),
    path("__floor__/cached-dashboard/", cached_dashboard),
]
