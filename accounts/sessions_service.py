"""Signed-in sessions: tracking, idle and absolute limits, revocation, new-browser alerts.

Each signed-in session has a ``UserSession`` row whose id is kept in the session. The row,
not the session store, decides whether the session may still be used, so revocation holds
with database sessions and with Redis-backed cache sessions alike (a revoked session whose
cache entry survives is still refused).

Every request asks that question, so the answer (the row's session-key hash, or ENDED) is
kept in the shared cache: readers only ``add`` it, and every write of the row ``set``s it
after the database update, so a reader racing with a revocation cannot bring a live state
back. With the local-memory cache of the embedded default the cache is per process: a
revocation made by another process (a management command) takes up to STATE_MAX_AGE.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import UTC, datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from user_agents import parse as parse_user_agent

from portal.durations import duration_text

from . import reauth
from .emails import send_email_to_user
from .models import SecurityEvent, User, UserSession
from .services import client_ip, password_reset_url, record_event, request_user_agent

Kind = SecurityEvent.Kind

SIGNED_IN_AT = "portal_signed_in_at"
LAST_ACTIVITY = "portal_last_activity"
TRACKED_ID = "portal_session_id"
REPORT_SALT = "accounts.sign-in-report"
ENDED = "ended"
STATE_MAX_AGE = 3600

IDLE, ABSOLUTE, REVOKED, BLOCKED = "idle", "absolute", "revoked", "blocked"
# Its own wrong passwords locked the account (a signed-in form asking for it again).
LOCKED_OUT = "locked_out"


def hash_key(key: str | None) -> str:
    return hashlib.sha256((key or "").encode()).hexdigest()


UNKNOWN_FAMILY = "Other"  # ua-parser's name for a browser or system it does not recognise


def describe_user_agent(user_agent: str) -> tuple[str, str]:
    """("Chrome 120", "Windows 10") from a User-Agent header; "" for what the parser does not
    know (it says "Other", an English word in German and Spanish pages)."""
    parsed = parse_user_agent(user_agent or "")
    browser = ""
    if parsed.browser.family != UNKNOWN_FAMILY:
        version = str(parsed.browser.version[0]) if parsed.browser.version else ""
        browser = " ".join(filter(None, [parsed.browser.family, version]))
    os_name = ""
    if parsed.os.family != UNKNOWN_FAMILY:
        os_name = " ".join(filter(None, [parsed.os.family, parsed.os.version_string]))
    return browser[:100], os_name[:100]


def _activity_interval() -> float:
    """How often last activity is written: often enough for the idle limit to be precise."""
    return min(60.0, settings.SESSION_IDLE_TIMEOUT / 20)


def _dt(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


# --- Sign-in -------------------------------------------------------------------------------


def _create_row(request, user: User, browser_key_hash: str = "") -> UserSession:
    user_agent = request_user_agent(request)
    browser, os_name = describe_user_agent(user_agent)
    now = time.time()
    row = UserSession.objects.create(
        user=user,
        session_key_hash=hash_key(request.session.session_key),
        browser_key_hash=browser_key_hash,
        user_agent=user_agent,
        browser=browser,
        os=os_name,
        ip_address=client_ip(request),
        created_at=_dt(now),
        last_activity_at=_dt(now),
    )
    request.session[TRACKED_ID] = row.pk
    request.session.setdefault(SIGNED_IN_AT, now)
    request.session[LAST_ACTIVITY] = now
    request.tracked_session = row
    return row


def _begin_session(request) -> None:
    """A new sign-in in this browser: the session it replaces (if any) ends."""
    previous = getattr(request, "tracked_session", None)
    if previous is not None:
        _end_rows(UserSession.objects.filter(pk=previous.pk), "signed_out")
    request.session[SIGNED_IN_AT] = time.time()


def start_session(request, user: User, response) -> UserSession:
    """Called once the sign-in completed (after ``login()`` rotated the session key)."""
    _begin_session(request)
    reauth.mark_authenticated(request)

    browser_token = request.COOKIES.get(settings.BROWSER_COOKIE_NAME, "")
    if len(browser_token) < 32:
        browser_token = secrets.token_urlsafe(32)
    browser_key_hash = hash_key(browser_token)
    # One query: None when the user never signed in before (no alert for a first sign-in),
    # True when this browser was seen, False when only other browsers were. A link sign-in
    # from a browser without our cookie (the newcomer's email verification) identified no
    # browser: it is no "other browser", or the first password sign-in there would alarm.
    seen_here = (
        UserSession.objects.filter(user=user)
        .exclude(browser_key_hash="")
        .annotate(here=ExpressionWrapper(Q(browser_key_hash=browser_key_hash), BooleanField()))
        .order_by("-here")
        .values_list("here", flat=True)
        .first()
    )
    is_new_browser = seen_here is False
    row = _create_row(request, user, browser_key_hash)
    response.set_cookie(
        settings.BROWSER_COOKIE_NAME,
        browser_token,
        max_age=400 * 24 * 3600,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    if is_new_browser:
        _send_new_browser_alert(user, row)
    return row


def start_link_session(request, user: User) -> UserSession:
    """Called once a sign-in by an emailed link completed (after ``login()``).

    Tracked from the start like any sign-in. Unlike start_session it does not count as a
    fresh authentication for the security pages (no password was asked) and sends no
    new-browser alert: the link came from the mailbox the alert would go to. The browser is
    recognised by the cookie it already has; the view's response sets none.
    """
    _begin_session(request)
    browser_token = request.COOKIES.get(settings.BROWSER_COOKIE_NAME, "")
    return _create_row(request, user, hash_key(browser_token) if len(browser_token) >= 32 else "")


def _send_new_browser_alert(user: User, row: UserSession) -> None:
    token = signing.dumps({"s": row.pk, "u": user.pk}, salt=REPORT_SALT)
    url = settings.SITE_URL + reverse("accounts:report_sign_in", kwargs={"token": token})
    send_email_to_user(user, "new_sign_in", {"session": row, "report_url": url})


# --- Every request --------------------------------------------------------------------------


def seconds_left(request) -> int | None:
    """Seconds until this session reaches its absolute limit (None: not known), for the notice
    that comes before it: unlike the idle limit, nothing can extend it."""
    started = request.session.get(SIGNED_IN_AT)
    if started is None:
        return None
    return max(0, int(started + settings.SESSION_ABSOLUTE_TIMEOUT - time.time()))


def limits_left(request) -> dict:
    """Seconds left before the idle and the absolute limit end this session, for the page's
    notices: another tab's activity moves the idle limit on, so a page asks before it warns
    or reloads."""
    last = request.session.get(LAST_ACTIVITY, time.time())
    idle_left = max(0, int(last + settings.SESSION_IDLE_TIMEOUT - time.time()))
    return {"idle_left": idle_left, "absolute_left": seconds_left(request)}


def check_request(request, *, activity: bool = True) -> str | None:
    """Why this signed-in request's session must end (BLOCKED, IDLE, ABSOLUTE, REVOKED), or
    None.

    Refreshes the last activity (at most every few seconds) when the session may go on,
    unless the request is not the user's ``activity`` (a page asking how long it has left).
    """
    if request.user.is_blocked_by_manager:
        # Whoever blocked the account ended its sessions; this also stops one they missed.
        # Not a lockout: anyone can cause one with five wrong passwords, and signing the
        # owner out of the sessions they already have would only help the one who tried.
        return BLOCKED
    session = request.session
    now = time.time()
    last = session.get(LAST_ACTIVITY)
    started = session.get(SIGNED_IN_AT)
    if last is not None and now - last > settings.SESSION_IDLE_TIMEOUT:
        return IDLE
    if started is not None and now - started > settings.SESSION_ABSOLUTE_TIMEOUT:
        return ABSOLUTE

    row_id = session.get(TRACKED_ID)
    if row_id is None:
        # A session from before tracking existed (or force_login in tests): adopt it.
        _create_row(request, request.user)
        return None
    state = _tracked_state(row_id)
    if (
        state is None
        or state[0] != request.user.pk
        or state[1] == ENDED
        or state[1] != hash_key(session.session_key)
    ):
        return REVOKED
    request.tracked_session = UserSession(pk=row_id, user_id=state[0], session_key_hash=state[1])
    if activity and (last is None or now - last >= _activity_interval()):
        touch(request)
    return None


def touch(request) -> None:
    """Record activity now: in the session (the idle clock) and on the tracking row."""
    now = time.time()
    request.session[LAST_ACTIVITY] = now
    row = getattr(request, "tracked_session", None)
    if row is not None:
        row.last_activity_at = _dt(now)
        UserSession.objects.filter(pk=row.pk).update(last_activity_at=row.last_activity_at)


def after_response(request, key_at_start: str | None) -> None:
    """Follow what the view did: a logout ends the row, a rotated key moves with it."""
    row = getattr(request, "tracked_session", None)
    if row is None:
        return
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        _end_rows(UserSession.objects.filter(pk=row.pk), "signed_out")
        return
    key = request.session.session_key
    if key and key != key_at_start and hash_key(key) != row.session_key_hash:
        row.session_key_hash = hash_key(key)
        UserSession.objects.filter(pk=row.pk).update(session_key_hash=row.session_key_hash)
        cache.set(_state_key(row.pk), (row.user_id, row.session_key_hash), STATE_MAX_AGE)


def end_current_session(request, reason: str) -> None:
    """Sign this request's session out because of ``reason`` and say why on the sign-in page."""
    user = request.user
    row_id = request.session.get(TRACKED_ID)
    if reason in (IDLE, ABSOLUTE):
        record_event(Kind.SESSION_EXPIRED, user, request=request, reason=reason)
    elif reason == LOCKED_OUT:
        record_event(Kind.SIGNED_OUT, user, request=request, reason=reason)
    if row_id is not None:
        _end_rows(UserSession.objects.filter(pk=row_id), reason)
    request.tracked_session = None
    logout(request)
    if reason == IDLE:
        text = _("You were signed out after %(duration)s of inactivity.") % {
            "duration": duration_text(settings.SESSION_IDLE_TIMEOUT)
        }
    elif reason == ABSOLUTE:
        text = _("You were signed out because you had been signed in for %(duration)s.") % {
            "duration": duration_text(settings.SESSION_ABSOLUTE_TIMEOUT)
        }
    elif reason == LOCKED_OUT:
        text = _(
            "Your account is blocked after too many wrong passwords, and you have been signed "
            "out. To unblock it, use the link in the email we sent you, or choose “Check and "
            "unblock your account”."
        )
    else:
        text = _("Your session was ended. Please sign in again.")
    messages.info(request, text)


# --- Ending sessions -----------------------------------------------------------------------


def _state_key(row_id: int) -> str:
    return f"accounts:tracked-session:{row_id}"


def _tracked_state(row_id: int) -> tuple[int, str] | None:
    """(user id, session-key hash or ENDED) of a tracked session; None when there is none."""
    key = _state_key(row_id)
    state = cache.get(key)
    if state is None:
        row = UserSession.objects.filter(pk=row_id).values_list(
            "user_id", "ended_at", "session_key_hash"
        )
        found = row.first()
        if found is None:
            return None
        user_id, ended_at, key_hash = found
        state = (user_id, ENDED if ended_at is not None else key_hash)
        cache.add(key, state, STATE_MAX_AGE)
    return tuple(state)


def _end_rows(rows, reason: str) -> int:
    """End the rows still open; the cached states follow, so the sessions stop at once."""
    ending = list(rows.filter(ended_at__isnull=True).values_list("pk", "user_id"))
    if not ending:
        return 0
    count = UserSession.objects.filter(
        pk__in=[pk for pk, _user in ending], ended_at__isnull=True
    ).update(ended_at=timezone.now(), end_reason=reason)
    cache.set_many({_state_key(pk): (user_id, ENDED) for pk, user_id in ending}, STATE_MAX_AGE)
    return count


def end_session(request, row: UserSession) -> None:
    """End one of the user's sessions from the Active sessions page."""
    if _end_rows(UserSession.objects.filter(pk=row.pk), "revoked"):
        record_event(Kind.SESSION_ENDED, row.user, request=request, browser=row.browser, os=row.os)


def end_other_sessions(request, user: User, reason: str = "revoked") -> int:
    """End every session of the user except the one making this request."""
    current = request.session.get(TRACKED_ID) if request is not None else None
    count = _end_rows(UserSession.objects.filter(user=user).exclude(pk=current), reason)
    if count and reason == "revoked":
        record_event(Kind.SESSION_ENDED, user, request=request, count=count, others=True)
    return count


def end_all_sessions(user: User, reason: str) -> int:
    return _end_rows(UserSession.objects.filter(user=user), reason)


# --- "This wasn't me" ------------------------------------------------------------------------


def load_sign_in_report(token: str) -> UserSession | None:
    try:
        data = signing.loads(token, salt=REPORT_SALT, max_age=settings.SIGN_IN_REPORT_TIMEOUT)
    except signing.BadSignature:
        return None
    return (
        UserSession.objects.select_related("user")
        .filter(pk=data.get("s"), user_id=data.get("u"))
        .first()
    )


def report_sign_in(request, row: UserSession) -> bool:
    """End all the user's sessions, turn the password off and send a password reset (to an
    account its Security Manager blocked: whom to ask instead); False when already reported.
    Whoever signed in knows the password: it stops working now rather than when the owner
    gets to the email, and the browsers it trusted (bound to the password hash) with it. A
    push enrolment the intruder started dies with their session."""
    from mfa.services import drop_pending_push_enrollments

    with transaction.atomic():
        claimed = UserSession.objects.filter(pk=row.pk, reported_at__isnull=True).update(
            reported_at=timezone.now()
        )
        if not claimed:
            return False
        user = row.user
        end_all_sessions(user, "reported")
        user.set_unusable_password()
        user.save(update_fields=["password"])
        drop_pending_push_enrollments(user)
        record_event(Kind.SIGN_IN_REPORTED, user, request=request, session=row.pk)
        # A reset would not lift a person's block and its link would be refused: the email
        # says whom to ask instead.
        blocked = user.is_blocked_by_manager
        refused = {"refused": "blocked"} if blocked else {}
        record_event(
            Kind.PASSWORD_RESET_REQUESTED, user, request=request, reason="reported", **refused
        )
        reset_url = "" if blocked else password_reset_url(user)
        send_email_to_user(user, "sign_in_reported", {"session": row, "reset_url": reset_url})
    if request.user.is_authenticated and request.user.pk == user.pk:
        logout(request)
    return True
