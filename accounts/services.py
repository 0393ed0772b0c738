"""Account operations that span models or have side effects (audit entries, emails)."""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from portal.celery import enqueue_after_commit
from portal.locks import lock_for_transaction
from portal.prepared import PreparedQuery
from portal.throttle import count_hit, retry_after, seconds_until_allowed

from .emails import send_email, send_email_to_user
from .models import Company, PendingRegistration, SecurityEvent, User

Kind = SecurityEvent.Kind
logger = logging.getLogger(__name__)


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or behind proxies (USE_X_FORWARDED_FOR) the
    X-Forwarded-For entry the outermost of FORWARDED_PROXY_COUNT proxies appended. Entries
    left of it are the client's to write; an entry that is no address (``unknown``) gives the
    proxy's own rather than none."""
    if request is None:
        return None
    remote = _valid_ip(request.META.get("REMOTE_ADDR") or "")
    if not getattr(settings, "USE_X_FORWARDED_FOR", False):
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    entries = [entry.strip() for entry in forwarded.split(",") if entry.strip()]
    proxies = max(1, getattr(settings, "FORWARDED_PROXY_COUNT", 1))
    if len(entries) < proxies:
        return remote
    return _valid_ip(_without_port(entries[-proxies])) or remote


def _without_port(entry: str) -> str:
    """ "203.0.113.4:51234" and "[2001:db8::1]:443", as some load balancers write them."""
    if entry.startswith("["):
        return entry[1:].split("]", 1)[0]
    if entry.count(":") == 1:
        return entry.split(":", 1)[0]
    return entry


def _valid_ip(value: str) -> str | None:
    """The address as the log's inet column takes it; None for anything else."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def request_user_agent(request) -> str:
    """The browser's User-Agent as the log keeps it: at most 300 characters, no NUL, which
    PostgreSQL text columns refuse."""
    if request is None:
        return ""
    return request.META.get("HTTP_USER_AGENT", "").replace("\x00", "")[:300]


def _done_by_provider(actor: User | None, company_id: int | None) -> bool:
    """Provider staff, or someone outside the event's company (SecurityEvent.done_by_provider).
    The company comparisons first: they cost no query, the roles may."""
    from .company_services import acted_by_staff

    if actor is None:
        return False
    return actor.company_id is None or actor.company_id != company_id or acted_by_staff(actor)


def record_event(
    kind: str,
    user: User | None = None,
    *,
    request=None,
    actor: User | None = None,
    origin: tuple[str | None, str] | None = None,
    company: Company | None = None,
    **data,
) -> SecurityEvent:
    """The one way to write the security log.

    ``origin`` is (IP address, user agent) of a request handled earlier, for work done in a
    task; otherwise both come from ``request``. The event belongs to ``user``'s company, or
    to ``company`` for an event about the company itself.
    """
    ip_address, user_agent = origin or (client_ip(request), request_user_agent(request))
    company_id = company.pk if company is not None else getattr(user, "company_id", None)
    return SecurityEvent.objects.create(
        kind=kind,
        user=user,
        username=getattr(user, "username", ""),
        actor=actor,
        actor_username=getattr(actor, "username", ""),
        company_id=company_id,
        done_by_provider=_done_by_provider(actor, company_id),
        ip_address=ip_address,
        user_agent=user_agent,
        data=data,
    )


RECENT_EVENTS = 5
# On the dashboard, the landing page of every sign-in: compiled once per thread.
_RECENT_EVENTS = PreparedQuery(
    lambda user_id: SecurityEvent.objects.filter(user_id=user_id).order_by("-created_at", "-id")[
        :RECENT_EVENTS
    ],
    user_id=int,
)


def recent_events(user: User) -> list[SecurityEvent]:
    """The user's latest security events, newest first."""
    return _RECENT_EVENTS(user_id=user.pk)


# --- Per-IP throttle against password spraying ------------------------------------------------


def _ip_key(ip: str | None) -> str:
    return f"login-failures:{ip or 'unknown'}"


def ip_retry_after(request) -> int:
    """Seconds until this IP may try again, or 0 when it is not throttled."""
    limit, window = settings.LOGIN_IP_FAILURE_LIMIT, settings.LOGIN_IP_FAILURE_WINDOW
    return seconds_until_allowed(_ip_key(client_ip(request)), limit=limit, window=window)


def _count_ip_failure(request) -> None:
    limit, window = settings.LOGIN_IP_FAILURE_LIMIT, settings.LOGIN_IP_FAILURE_WINDOW
    count_hit(_ip_key(client_ip(request)), limit=limit, window=window)


def recovery_retry_after(request) -> int:
    """Count one recovery request (forgotten password or user name, check and unblock) from
    this IP address; the seconds to wait when it is over the limit, else 0.

    The per-address email limits keep one mailbox from being flooded; this keeps one client
    from queueing mail to thousands of addresses."""
    key = f"recovery:{client_ip(request) or 'unknown'}"
    return retry_after(key, limit=settings.RECOVERY_IP_LIMIT, window=settings.RECOVERY_IP_WINDOW)


def registration_retry_after(request) -> int:
    """Count one registration from this IP address; the seconds to wait when it is over the
    limit, else 0. Each one emails an address the visitor typed (a verification link or the
    owner's notice) and costs a password hash: one client must not send thousands."""
    key = f"registration:{client_ip(request) or 'unknown'}"
    limit, window = settings.REGISTRATION_IP_LIMIT, settings.REGISTRATION_IP_WINDOW
    return retry_after(key, limit=limit, window=window)


# --- Password step of the sign-in --------------------------------------------------------------


@dataclass
class PasswordCheck:
    user: User | None
    unverified_email: bool = False
    # Refused because the account is locked out (by this failure or earlier ones). Only for
    # signed-in forms, which sign their session out then: the sign-in page answers a locked
    # account like any wrong password.
    locked_out: bool = False


def check_sign_in_password(request, identifier: str, password: str) -> PasswordCheck:
    """Verify a password for an identifier, counting failures and blocking the account.

    The account row is found and locked in one query and stays locked for the whole check,
    so that parallel attempts are counted exactly and no password is evaluated once the
    account is blocked. An unknown identifier costs the same hashing time as a known one.
    """
    with transaction.atomic():
        user = User.objects.find_by_identifier(identifier, lock=True)
        if user is None:
            ok = False
        elif user.is_blocked or not user.is_active or initial_password_expired(user):
            user.failed_login_count += 1
            user.save(update_fields=["failed_login_count"])
            make_password(password)
            ok = False
            record_event(
                Kind.SIGN_IN_FAILED,
                user,
                request=request,
                count=user.failed_login_count,
                refused=_refusal(user),
            )
        else:
            ok = user.check_password(password)
            if ok:
                if user.failed_login_count:
                    user.failed_login_count = 0
                    user.save(update_fields=["failed_login_count"])
            else:
                _register_failure(request, user)
    if user is None:
        make_password(password)  # outside the transaction: nothing is locked
    if not ok:
        _count_ip_failure(request)
        return PasswordCheck(user=None, locked_out=user is not None and user.is_locked_out)
    user.backend = settings.AUTHENTICATION_BACKENDS[0]
    return PasswordCheck(user=user, unverified_email=not user.email_verified)


def _refusal(user: User) -> str:
    """Why an account refuses every password (the password itself is not checked)."""
    if user.is_blocked:
        return "blocked"
    if not user.is_active:
        return "deactivated"
    return "initial_password_expired"


def origin_of(request) -> dict:
    """Where a security notice's event came from, for emails/_event_origin.*."""
    if request is None:
        return {}
    return {"ip": client_ip(request), "user_agent": request_user_agent(request)}


def _register_failure(request, user: User, *, second_factor: bool = False) -> None:
    user.failed_login_count += 1
    fields = ["failed_login_count"]
    record_event(Kind.SIGN_IN_FAILED, user, request=request, count=user.failed_login_count)
    if user.failed_login_count >= settings.LOGIN_FAILURE_LIMIT:
        user.blocked_at = timezone.now()
        user.blocked_reason = User.BlockReason.LOCKOUT
        fields += ["blocked_at", "blocked_reason"]
        record_event(Kind.BLOCKED, user, request=request, reason="failed_sign_ins")
        context = {
            **origin_of(request),
            "unblock_url": unblock_url(user),
            "second_factor": second_factor,
        }
        send_email_to_user(user, "account_blocked", context)
    user.save(update_fields=fields)


def unblock_user(user: User, *, request=None, actor: User | None = None) -> None:
    """Lift any block. Callers decide who may: the unblock link only works for a lockout
    (tokens.UnblockTokenGenerator), a manager's block is lifted by staff."""
    user.blocked_at = None
    user.blocked_reason = ""
    user.failed_login_count = 0
    user.save(update_fields=["blocked_at", "blocked_reason", "failed_login_count"])
    record_event(Kind.UNBLOCKED, user, request=request, actor=actor)


def record_sign_in(request, user: User) -> None:
    record_event(Kind.SIGNED_IN, user, request=request)


# --- Passwords -------------------------------------------------------------------------------


def password_change_required(user: User) -> bool:
    """An initial, expired or compromised password must be changed before anything else."""
    return bool(
        user.must_change_password or user.password_compromised or user.password_has_expired()
    )


def change_password(request, user: User, new_password: str) -> None:
    """Set a new password, keep this session, end the user's other sessions, notify them."""
    from django.contrib.auth import update_session_auth_hash

    user.set_password(new_password)
    user.must_change_password = False
    user.password_compromised = False
    user.initial_password_expires_at = None
    user.save()
    if request is not None:
        update_session_auth_hash(request, user)
    from .sessions_service import end_other_sessions

    end_other_sessions(request, user, reason="password_changed")
    record_event(Kind.PASSWORD_CHANGED, user, request=request)
    send_email_to_user(user, "password_changed", origin_of(request))


def register_second_factor_failure(request, user: User) -> None:
    """A wrong second-factor code: logged, and counted toward the same lockout as a password."""
    record_event(Kind.SECOND_FACTOR_FAILED, user, request=request)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        _register_failure(request, locked, second_factor=True)
    _count_ip_failure(request)


# --- Emailed links ---------------------------------------------------------------------------

_LINK_URL_NAMES = {
    "verify": "accounts:verify_email",
    "unblock": "accounts:unblock_account",
    "reset": "accounts:password_reset_confirm",
}


def _link_url(purpose: str, user: User) -> str:
    from django.urls import reverse

    from . import tokens

    generator = {
        "verify": tokens.email_verification_token,
        "unblock": tokens.unblock_token,
        "reset": tokens.password_reset_token,
    }[purpose]
    path = reverse(
        _LINK_URL_NAMES[purpose],
        kwargs={"uidb64": tokens.encode_uid(user), "token": generator.make_token(user)},
    )
    return settings.SITE_URL + path


def unblock_url(user: User) -> str:
    return _link_url("unblock", user)


def password_reset_url(user: User) -> str:
    """The one reset link, whoever sends it (the user, their manager, "This wasn't me")."""
    return _link_url("reset", user)


def _email_slot_key(purpose: str, address: str) -> str:
    import hashlib

    digest = hashlib.sha256(address.strip().lower().encode()).hexdigest()
    return f"email-slot:{purpose}:{digest}"


def _email_wait(purpose: str, address: str, *, limit: int, window: int) -> int:
    """Count one email of ``purpose`` to ``address``; once ``limit`` per ``window`` is used
    up, the seconds until one may go again, else 0. Known and unknown addresses are counted
    alike, so it reveals nothing."""
    return retry_after(_email_slot_key(purpose, address), limit=limit, window=window)


def _request_language() -> str:
    from django.utils import translation

    language = translation.get_language() or settings.LANGUAGE_CODE
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def _send_no_account_email(address: str, action: str, language: str | None = None) -> None:
    language = language or _request_language()
    send_email("no_account", address, {"action": action}, language=language)


# --- Registration ------------------------------------------------------------------------------

REGISTRATION_RESEND_COOLDOWN = 60
REGISTRATION_RESEND_PER_HOUR = 5


def _initial(name: str) -> str:
    import unicodedata

    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return next((ch for ch in folded if "a" <= ch <= "z"), "x")


def generate_username(first_name: str, last_name: str) -> str:
    """A free user name in the provider's format: c + 5 digits + . + the two initials.

    Numbers that are a company's customer number are skipped: those belong to its employees.
    """
    import secrets

    from .models import Company

    suffix = _initial(first_name) + _initial(last_name)
    for _ in range(200):
        digits = f"{secrets.randbelow(100_000):05d}"
        candidate = f"c{digits}.{suffix}"
        if Company.objects.filter(customer_number=digits).exists():
            continue
        if not User.objects.filter(username__iexact=candidate).exists():
            return candidate
    raise RuntimeError("No free user name found.")


def send_verification_email(user: User) -> None:
    """Registration sends it, and the resend on the "verify your email" page, also to an
    account someone else created (staff in the admin): "if you did not register" would puzzle
    them. Only registration accepts the terms, so that tells the two apart."""
    context = {"verify_url": _link_url("verify", user), "registered": bool(user.terms_accepted_at)}
    send_email_to_user(user, "verify_email", context)


def _send_registration_notice(address: str, users: list[User]) -> None:
    send_email(
        "registration_exists",
        address,
        {"usernames": [u.username for u in users]},
        users[0].preferred_language,
    )


def request_registration(
    request,
    *,
    first_name: str,
    last_name: str,
    email: str,
    password: str,
    phone="",
    time_zone="",
) -> None:
    """Store the registration and queue its task; the caller answers every address alike.

    As for a forgotten password (request_password_reset), the request does the same work
    whether the address has an account: it hashes the password, stores a PendingRegistration
    and queues one task (accounts.tasks.register_account) with the row's key, which creates the
    account or emails the owner of the address. Neither the password nor its hash goes
    through the broker.
    """
    from .tasks import register_account as task

    pending = store_pending_registration(
        first_name=first_name,
        last_name=last_name,
        email=email,
        phone=phone,
        time_zone=time_zone,
        terms_version=settings.TERMS_VERSION,
        password_hash=make_password(password),
        language=_request_language(),
        ip_address=client_ip(request),
        user_agent=request_user_agent(request),
    )
    enqueue_after_commit(task, str(pending.pk))


def store_pending_registration(*, email, phone="", time_zone="", **fields) -> PendingRegistration:
    """The row a registration task does (register_account); ``fields`` are its other columns."""
    return PendingRegistration.objects.create(
        email=(email or "").strip(), phone=phone or "", time_zone=time_zone or "", **fields
    )


def register_account(registration_id: str) -> User | None:
    """Do a PendingRegistration: create the unverified account and email the verification
    link, or email the owner of an address that has an account (and return None).

    The row is deleted in the same transaction, so this is idempotent: a second delivery of
    the task finds no row and does nothing, and a run that fails before its commit leaves the
    row, and no account, for the next (process_pending_registrations, or a redelivery).
    """
    from django.db import IntegrityError

    with transaction.atomic():
        # A second delivery running at the same time waits here, then finds the row gone.
        pending = PendingRegistration.objects.select_for_update().filter(pk=registration_id).first()
        if pending is None:
            return None
        email = User.objects.normalize_email(pending.email.strip())
        # Two registrations of one address at once (a double submit) take turns: the second
        # finds the first's account and sends the notice instead.
        lock_for_transaction(f"registration:{email.lower()}")
        pending.delete()
        existing = list(User.objects.filter(email__iexact=email).order_by("date_joined"))
        if existing:
            _send_registration_notice(existing[0].email, existing)
            return None
        for attempt in range(5):
            user = User(
                username=generate_username(pending.first_name, pending.last_name),
                first_name=pending.first_name,
                last_name=pending.last_name,
                email=email,
                phone=pending.phone,
                email_verified=False,
                preferred_language=pending.language or settings.LANGUAGE_CODE,
                time_zone=pending.time_zone or User._meta.get_field("time_zone").get_default(),
                terms_version=pending.terms_version,
                terms_accepted_at=pending.created_at,
                password=pending.password_hash,
            )
            try:
                with transaction.atomic():
                    user.save()
                break
            except IntegrityError:  # two registrations drew the same user name
                if attempt == 4:
                    raise
        origin = (pending.ip_address, pending.user_agent)
        record_event(Kind.REGISTERED, user, origin=origin, terms_version=pending.terms_version)
        send_verification_email(user)
        return user


# A row this old was missed by its task (lost with the broker's queue, or its run failed): the
# task normally runs within seconds, and a late duplicate run would change nothing anyway.
PENDING_REGISTRATION_GRACE = timedelta(minutes=15)


def process_pending_registrations(now=None) -> tuple[int, int]:
    """Hourly: do the registrations whose task was lost, then forget those too old to do.

    We do rather than drop a missed registration that is recent: the person was told to
    expect an email, and the "send again" button cannot help while no account exists. One
    older than PENDING_REGISTRATION_MAX_AGE is deleted undone (its password hash must not
    stay; after a day the person has registered again or given up). Returns (done, deleted).
    """
    now = now or timezone.now()
    too_old = now - timedelta(seconds=settings.PENDING_REGISTRATION_MAX_AGE)
    deleted, _by_model = PendingRegistration.objects.filter(created_at__lt=too_old).delete()
    missed = PendingRegistration.objects.filter(created_at__lt=now - PENDING_REGISTRATION_GRACE)
    done = 0
    for registration_id in list(missed.order_by("created_at").values_list("pk", flat=True)):
        try:
            register_account(registration_id)
            done += 1
        except SoftTimeLimitExceeded:  # the task's time is up: stop, the next run goes on
            raise
        except Exception:  # one failing row must not hold up the others; it is tried again
            logger.exception("Pending registration %s failed", registration_id)
    return done, deleted


def resend_registration_email(request, email: str) -> int:
    """Send the verification email (or the notice) again; when it may not go yet, the
    seconds until it may (the short cooldown or the hourly limit, whichever ends last), else
    0."""
    wait = _email_wait("resend-cooldown", email, limit=1, window=REGISTRATION_RESEND_COOLDOWN)
    if wait:
        hour_key = _email_slot_key("resend-hour", email)
        limit = REGISTRATION_RESEND_PER_HOUR
        return max(wait, seconds_until_allowed(hour_key, limit=limit, window=3600))
    wait = _email_wait("resend-hour", email, limit=REGISTRATION_RESEND_PER_HOUR, window=3600)
    if wait:
        return wait
    users = list(User.objects.filter(email__iexact=email.strip()).order_by("date_joined"))
    unverified = [u for u in users if not u.email_verified]
    for user in unverified:
        send_verification_email(user)
    if users and not unverified:
        _send_registration_notice(users[0].email, users)
    return 0


def resend_verification_email(request, user: User) -> int:
    """The signed-in user's own resend; the seconds to wait when throttled, else 0."""
    return resend_registration_email(request, user.email)


def verify_email(request, user: User) -> None:
    """Mark the address verified; a new account also gets the welcome email."""
    user.email_verified = True
    user.save(update_fields=["email_verified"])
    record_event(Kind.EMAIL_VERIFIED, user, request=request, email=user.email)
    if user.last_login is None:
        send_email_to_user(user, "welcome")


def can_sign_in_without_second_factor(user: User) -> bool:
    from django_otp import user_has_device

    return user.is_active and not user.is_blocked and not user_has_device(user)


# The language a visitor picked with the switcher before signing in (session key).
LANGUAGE_CHOSEN_KEY = "language_chosen"


def take_chosen_language(request) -> str | None:
    """The language picked on the site before this sign-in, if any; taken out of the session."""
    chosen = request.session.pop(LANGUAGE_CHOSEN_KEY, None)
    return chosen if chosen in dict(settings.LANGUAGES) else None


def adopt_language(request, user: User, chosen: str | None) -> None:
    """At sign-in, a language picked on the site is the user's choice: it becomes their
    preference rather than being replaced by the stored one. The rest of the request speaks
    the preference, as the pages after it will."""
    from django.utils import translation

    if chosen and chosen != user.preferred_language:
        user.preferred_language = chosen
        user.save(update_fields=["preferred_language"])
    translation.activate(user.preferred_language)
    request.LANGUAGE_CODE = user.preferred_language


def sign_in_by_link(request, user: User) -> None:
    """Sign in after proving control of the mailbox (only for users without a second factor).

    The session is tracked from this request on, like a sign-in by password, so that ending
    the user's sessions (a block, "This wasn't me", "sign out everywhere") ends it too; and a
    language picked on the link's page becomes the preference, as at the sign-in."""
    from django.contrib.auth import login

    from .sessions_service import start_link_session

    chosen = take_chosen_language(request)
    with transaction.atomic():
        login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
        record_sign_in(request, user)
        start_link_session(request, user)
        adopt_language(request, user, chosen)


# --- Check and unblock your account ----------------------------------------------------------

ACCOUNT_STATUS_EMAILS_PER_HOUR = 3


def _users_for_identifier(identifier: str) -> list[User]:
    identifier = (identifier or "").strip()
    if not identifier:
        return []
    if "@" in identifier:
        return list(User.objects.filter(email__iexact=identifier).order_by("date_joined"))
    return list(User.objects.filter(username__iexact=identifier))


def send_account_status(request, identifier: str) -> None:
    """Queue the account's status report; the caller always answers alike.

    The request does the same work whatever the identifier names (one account, several,
    none): it only queues a task. Looking the accounts up, rendering the emails and writing
    the log happen in the task (accounts.tasks.report_account_status), so the answer's timing
    does not tell whether an account exists.
    """
    from .tasks import report_account_status as task

    identifier = (identifier or "").strip()
    ip_address, user_agent, language = (
        client_ip(request),
        request_user_agent(request),
        _request_language(),
    )
    enqueue_after_commit(task, identifier, ip_address, user_agent, language)


def report_account_status(
    identifier: str, ip_address: str | None = None, user_agent: str = "", language: str = ""
) -> None:
    """Email the account's status report: an unblock link for a lockout, "ask your Security
    Manager" for a manager's block; "no account" for an unknown address.

    At most ACCOUNT_STATUS_EMAILS_PER_HOUR per account. Runs in a task; ``ip_address``,
    ``user_agent`` and ``language`` are those of the request that asked.
    """
    from mfa.services import authenticator_kinds

    identifier = (identifier or "").strip()
    users = _users_for_identifier(identifier)
    if not users and "@" in identifier:
        if not _email_wait("account-status", identifier, limit=3, window=3600):
            _send_no_account_email(identifier, "check", language)
        return
    since = timezone.now() - timedelta(hours=1)
    for user in users:
        sent = user.security_events.filter(kind=Kind.ACCOUNT_CHECKED, created_at__gte=since)
        if not user.email or sent.count() >= ACCOUNT_STATUS_EMAILS_PER_HOUR:
            continue
        context = {
            "authenticators": authenticator_kinds(user),
            "unblock_url": unblock_url(user) if user.is_locked_out else "",
        }
        send_email_to_user(user, "account_status", context)
        origin = (ip_address, user_agent)
        record_event(Kind.ACCOUNT_CHECKED, user, origin=origin, blocked=user.is_blocked)


# --- Forgotten password and user name ----------------------------------------------------------

RECOVERY_EMAILS_PER_HOUR = 5


def request_password_reset(request, identifier: str) -> None:
    """Queue the reset emails for what ``identifier`` (a user name or an email address)
    names; the caller always answers alike.

    As for "check and unblock" (send_account_status), the request only queues a task whatever
    the identifier names (one account, several sharing an address, none): neither the answer
    nor its timing tells whether a user name or address is in use.
    """
    from .tasks import send_password_reset_emails as task

    identifier = (identifier or "").strip()
    ip_address, user_agent = client_ip(request), request_user_agent(request)
    enqueue_after_commit(task, identifier, ip_address, user_agent, _request_language())


def send_password_reset_emails(
    identifier: str, ip_address: str | None = None, user_agent: str = "", language: str = ""
) -> None:
    """Email a reset link to each active account ``identifier`` names: every account with
    that address, or the one with that user name (at its address on file). An unknown
    address gets a 'no account' email; an unknown user name or an account without an address
    gets nothing, as there is nowhere to write. At most RECOVERY_EMAILS_PER_HOUR per address,
    whether asked by address or by user name. Runs in a task; ``ip_address``, ``user_agent``
    and ``language`` are those of the request that asked.

    An account blocked by a Security Manager (or provider staff) gets no reset link: a reset
    does not lift that block, and the link would be refused (tokens.ResetPasswordTokenGenerator).
    Its owner is told instead that the account is blocked and whom to ask. The page answered
    exactly as for any other identifier, so this reveals nothing to whoever asked.
    """
    identifier = (identifier or "").strip()
    users = [u for u in _users_for_identifier(identifier) if u.is_active]
    address = identifier if "@" in identifier else (users[0].email if users else "")
    if not address:
        return
    if _email_wait("password-reset", address, limit=RECOVERY_EMAILS_PER_HOUR, window=3600):
        return
    if not users:
        _send_no_account_email(address, "password", language)
        return
    origin = (ip_address, user_agent)
    for user in users:
        if user.is_blocked_by_manager:
            send_email_to_user(user, "password_reset_blocked")
            record_event(Kind.PASSWORD_RESET_REQUESTED, user, origin=origin, refused="blocked")
            continue
        send_email_to_user(user, "password_reset", {"reset_url": password_reset_url(user)})
        record_event(Kind.PASSWORD_RESET_REQUESTED, user, origin=origin)


def reset_password(request, user: User, new_password: str) -> bool:
    """Set the password from a reset link: lifts a lockout, ends every other session (their
    session hash no longer matches), notifies the user and signs them in unless a second
    factor is still required. Returns whether the user is now signed in.

    A block by a Security Manager or provider staff is never lifted here and the user is not
    signed in: reset links for such an account are refused before this (and none is sent),
    so only a caller that skipped the link check would get here, and the block holds.
    """
    lifts_lockout = user.is_locked_out
    user.set_password(new_password)
    user.must_change_password = False
    user.password_compromised = False
    user.initial_password_expires_at = None
    user.failed_login_count = 0
    if lifts_lockout:
        user.blocked_at = None
        user.blocked_reason = ""
    user.email_verified = True  # the link reached the mailbox
    user.save()
    record_event(Kind.PASSWORD_RESET, user, request=request)
    if lifts_lockout:
        record_event(Kind.UNBLOCKED, user, request=request, reason="password_reset")
    send_email_to_user(user, "password_changed", {**origin_of(request), "by_link": True})
    if not can_sign_in_without_second_factor(user):
        return False
    sign_in_by_link(request, user)
    return True


def request_username_reminder(request, email: str) -> None:
    """Queue the user name reminder for ``email``; the caller always answers alike.

    As for a forgotten password, the request only queues a task: neither the answer nor its
    timing tells whether the address has an account.
    """
    from .tasks import send_username_reminder as task

    email = (email or "").strip()
    ip_address, user_agent = client_ip(request), request_user_agent(request)
    enqueue_after_commit(task, email, ip_address, user_agent, _request_language())


def send_username_reminder(
    email: str, ip_address: str | None = None, user_agent: str = "", language: str = ""
) -> None:
    """Email the user names registered with this address (or a 'no account' email). Runs in a
    task; ``ip_address``, ``user_agent`` and ``language`` are those of the request that asked."""
    email = (email or "").strip()
    if _email_wait("username", email, limit=RECOVERY_EMAILS_PER_HOUR, window=3600):
        return
    users = list(User.objects.filter(email__iexact=email, is_active=True).order_by("username"))
    if not users:
        _send_no_account_email(email, "username", language)
        return
    # Greet by name when every account with the address is one person's; a shared address
    # gets a neutral greeting. The email goes only to the address itself.
    names = {u.get_full_name() or u.username for u in users}
    context = {
        "usernames": [u.username for u in users],
        "name": names.pop() if len(names) == 1 else "",
    }
    send_email_to_user(users[0], "username_reminder", context)
    for user in users:
        record_event(Kind.USERNAME_REMINDER, user, origin=(ip_address, user_agent))


def mark_password_compromised(user: User, *, request=None, actor: User | None = None) -> None:
    """Staff: force a password change at the next request or sign-in, whatever the policy."""
    user.password_compromised = True
    user.save(update_fields=["password_compromised"])
    record_event(Kind.PASSWORD_COMPROMISED, user, request=request, actor=actor)


def initial_password_expired(user: User, now=None) -> bool:
    """An initial password unused for 7 days stops working (check_sign_in_password refuses it)."""
    return bool(
        user.must_change_password
        and user.initial_password_expires_at is not None
        and (now or timezone.now()) >= user.initial_password_expires_at
    )
