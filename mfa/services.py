"""Two-factor operations: authenticators, codes, push challenges, enforcement, trust."""

from __future__ import annotations

import hmac
import io
import math
import re
import secrets
import time
import zoneinfo
from datetime import timedelta
from urllib.parse import quote, urlencode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device
from django_otp.oath import TOTP
from django_otp.plugins.otp_email.models import EmailDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import roles
from accounts.emails import send_email_to_user
from accounts.models import SecurityEvent, User
from accounts.services import (
    client_ip,
    origin_of,
    record_event,
    register_second_factor_failure,
    request_user_agent,
)
from accounts.sessions_service import describe_user_agent
from portal.prepared import PreparedQuery
from portal.throttle import retry_after

from . import protocol
from .delivery import get_backend
from .models import (
    BackupCode,
    BackupCodeDevice,
    MfaSettings,
    PushChallenge,
    PushDevice,
    PushEnrollment,
    PushNonce,
    digest,
)

Kind = SecurityEvent.Kind

TYPES = {"totp": TOTPDevice, "email": EmailDevice, "push": PushDevice}
# The one name of each kind of second factor: security page, company policy, emails.
TYPE_LABELS = {
    "totp": _("Authenticator app (TOTP)"),
    "push": _("Smartphone push"),
    "email": _("Email code"),
    "backup": _("Backup codes"),
}
STRONG_TYPES = ("totp", "push")
LOGIN_ATTEMPT_SESSION_KEY = "mfa_login_attempt"
EMAIL_CODE_SECONDS = 300
PUSH_ENROLLMENT_SECONDS = 600
PUSH_CHALLENGE_SECONDS = 120
PUSH_CONSUME_GRACE_SECONDS = 60
PUSH_MAX_PENDING = 3
PUSH_MAX_PER_WINDOW = 5
PUSH_WINDOW = timedelta(minutes=15)
PUSH_CLOCK_SKEW_SECONDS = 300
BACKUP_CODE_COUNT = 10
TRUST_COOKIE = "mfa_trusted_browser"
TRUST_DAYS = 30


class PushError(Exception):
    """A push protocol error; ``status`` is the HTTP status the API answers with."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


class PushLimitReached(Exception):
    pass


# --- Authenticators ---------------------------------------------------------------------------


def type_of(device: Device) -> str:
    for code, model in TYPES.items():
        if isinstance(device, model):
            return code
    return "backup" if isinstance(device, BackupCodeDevice) else ""


def ref_of(device: Device) -> str:
    """A URL-safe reference to one of a user's authenticators, e.g. ``totp-12``."""
    return f"{type_of(device)}-{device.pk}"


def authenticators(user) -> list[Device]:
    """The user's confirmed authenticators (TOTP, email, push), oldest first."""
    if not user or not user.pk:
        return []
    devices: list[Device] = []
    for model in TYPES.values():
        devices += list(model.objects.filter(user=user, confirmed=True))
    return sorted(devices, key=lambda d: (d.created_at or timezone.now(), d.pk))


def _has_confirmed(types) -> Q:
    """A filter on users: those with a confirmed authenticator of one of ``types``."""
    condition = Q()
    for code in types:
        condition |= Exists(TYPES[code].objects.filter(user_id=OuterRef("pk"), confirmed=True))
    return condition


def has_authenticator_q() -> Q:
    """A filter on users: those with a confirmed authenticator (TOTP, email, push), as
    ``authenticators`` counts them; backup codes alone are none."""
    return _has_confirmed(TYPES)


def has_sufficient_authenticator_q() -> Q:
    """A filter on users: those whose authenticators are enough for their role, as
    enrollment_required decides: TOTP or push for the roles that need a strong factor
    (roles.requires_strong_second_factor), any confirmed authenticator for everyone else."""
    weak = [code for code in TYPES if code not in STRONG_TYPES]
    return _has_confirmed(STRONG_TYPES) | (
        _has_confirmed(weak) & ~roles.requires_strong_second_factor_filter()
    )


def _user_if_it_has_an_authenticator(pk):
    return User._default_manager.filter(has_authenticator_q(), pk=pk).only("pk")[:1]


_USER_IF_IT_HAS_AN_AUTHENTICATOR = PreparedQuery(_user_if_it_has_an_authenticator, pk=int)


def has_authenticator(user) -> bool:
    """Whether the user has any confirmed authenticator: one query (compiled once), for the
    sign-in's step conditions. Never from the cache: a stale answer would skip the factor."""
    if not user or not user.pk:
        return False
    return bool(_USER_IF_IT_HAS_AN_AUTHENTICATOR(pk=user.pk))


def get_authenticator(user, ref: str) -> Device:
    """The user's own authenticator named by ``ref``; anybody else's is a 404."""
    code, _sep, pk = ref.partition("-")
    model = TYPES.get(code)
    if model is None or not re.fullmatch(r"[0-9]{1,18}", pk):
        raise Http404
    try:
        return model.objects.get(user=user, pk=int(pk), confirmed=True)
    except model.DoesNotExist:
        raise Http404 from None


def mfa_settings(user) -> MfaSettings:
    return MfaSettings.objects.get_or_create(user=user)[0]


def default_device(user, devices: list[Device] | None = None) -> Device | None:
    """The user's chosen default among ``devices`` (all their authenticators if not given)."""
    devices = authenticators(user) if devices is None else devices
    if not devices:
        return None
    chosen = MfaSettings.objects.filter(user=user).values_list("default_device", flat=True).first()
    for device in devices:
        if device.persistent_id == chosen:
            return device
    return devices[0]


def sign_in_authenticators(user) -> list[Device]:
    """The authenticators offered and accepted at sign-in: for roles that need a strong factor,
    email only while they have no TOTP or push (the code then guards nothing but enrolling
    one: enrollment_required keeps the rest of the portal closed)."""
    devices = authenticators(user)
    if roles.requires_strong_second_factor(user):
        return [d for d in devices if type_of(d) in STRONG_TYPES] or devices
    return devices


def allowed_types(user) -> list[str]:
    """Types this user may add: the company's allow-list, minus email for strong roles."""
    types = list(TYPES)
    company = getattr(user, "company", None)
    allowed = company.allowed_authenticator_types if company is not None else None
    if isinstance(allowed, list) and allowed:  # the forms store lists; ignore anything else
        types = [t for t in types if t in allowed]
    if roles.requires_strong_second_factor(user):
        types = [t for t in types if t in STRONG_TYPES]
    return types


def _types_cache_key(user) -> str:
    return f"mfa:authenticator-types:{user.pk}"


def authenticator_types(user) -> set[str]:
    """The types of the user's authenticators, cached: the middleware asks on every request."""
    key = _types_cache_key(user)
    types = cache.get(key)
    if types is None:
        types = sorted({type_of(d) for d in authenticators(user)})
        cache.set(key, types, 300)
    return set(types)


def enrollment_required(user) -> bool:
    """True when the user must add an authenticator before using the portal."""
    if not getattr(settings, "MFA_ENFORCE", True):
        return False
    if roles.requires_strong_second_factor(user):
        return not authenticator_types(user) & set(STRONG_TYPES)
    company = getattr(user, "company", None)
    return bool(company is not None and company.mfa_required and not authenticator_types(user))


def required_action_url_name(user) -> str | None:
    """For accounts.middleware: the one page such a user may reach.

    Enrolment for a user who must enrol; for a manager, staff member or admin whose session
    passed only an emailed code (it began before the role was given), the page that asks to
    sign in again with the strong authenticator they already have."""
    if enrollment_required(user):
        return "mfa:setup"
    if (
        roles.requires_strong_second_factor(user)
        and getattr(user, "is_verified", bool)()
        and not verified_with_strong_factor(user)
    ):
        return "mfa:strong_factor_required"
    return None


def verified_with_strong_factor(user) -> bool:
    """Whether this session passed a second factor that is enough for every role: TOTP, push,
    or a backup code standing in for one of them; never an emailed code. The one rule of
    /manage/, /support/ and the admin."""
    if not user.is_verified():
        return False
    kind = type_of(user.otp_device)
    if kind == "backup":
        return bool(authenticator_types(user) & set(STRONG_TYPES))
    return kind in STRONG_TYPES


def _notify_change(
    request,
    user,
    kind: str,
    device: Device,
    template: str,
    origin: tuple[str | None, str] | None = None,
) -> None:
    """``origin`` (IP address, user agent) when the change was asked for by an earlier request
    than ``request``."""
    record_event(kind, user, request=request, origin=origin, type=type_of(device), name=device.name)
    cache.delete(_types_cache_key(user))
    invalidate_trusted_browsers(user)
    if template:
        send_email_to_user(
            user,
            template,
            {
                "device_name": device.name,
                "device_kind": TYPE_LABELS.get(type_of(device), ""),
                **({"ip": origin[0], "user_agent": origin[1]} if origin else origin_of(request)),
            },
        )


def activate_authenticator(
    request, user, device: Device, origin: tuple[str | None, str] | None = None
) -> None:
    """A confirmed new authenticator: logged, notified, default if it is the first."""
    device.confirmed = True
    # The code that confirmed it was its setting up, not a use: "Last used" means a sign-in
    # with it, for an app or an email code as for a phone, which enrols with no code.
    device.last_used_at = None
    device.save(update_fields=["confirmed", "last_used_at"])
    prefs = mfa_settings(user)
    if not prefs.default_device or len(authenticators(user)) == 1:
        prefs.default_device = device.persistent_id
        prefs.save(update_fields=["default_device"])
    _notify_change(
        request, user, Kind.AUTHENTICATOR_ADDED, device, "mfa_authenticator_added", origin
    )


def rename_authenticator(request, user, device: Device, name: str) -> None:
    old = device.name
    device.name = name
    device.save(update_fields=["name"])
    record_event(
        Kind.AUTHENTICATOR_CHANGED, user, request=request, type=type_of(device), name=name, old=old
    )


def set_default_authenticator(request, user, device: Device) -> None:
    prefs = mfa_settings(user)
    prefs.default_device = device.persistent_id
    prefs.save(update_fields=["default_device"])
    record_event(
        Kind.AUTHENTICATOR_CHANGED,
        user,
        request=request,
        type=type_of(device),
        name=device.name,
        default=True,
    )


def remove_authenticator(request, user, device: Device) -> None:
    device.delete()
    _notify_change(request, user, Kind.AUTHENTICATOR_REMOVED, device, "mfa_authenticator_removed")


def remove_would_break_policy(user, device: Device) -> bool:
    """Removing the last (strong) authenticator is refused where policy requires one."""
    remaining = [d for d in authenticators(user) if d.persistent_id != device.persistent_id]
    if roles.requires_strong_second_factor(user):
        return not any(type_of(d) in STRONG_TYPES for d in remaining)
    company = getattr(user, "company", None)
    return bool(company is not None and company.mfa_required and not remaining)


# --- Verifying codes (compare-and-set updates: a code is accepted once, even in parallel) -----


def _throttle_failure(device: Device) -> None:
    type(device).objects.filter(pk=device.pk).update(
        throttling_failure_count=F("throttling_failure_count") + 1,
        throttling_failure_timestamp=timezone.now(),
    )


def _verify_totp(device: TOTPDevice, token: str) -> bool:
    # ASCII digits only: int() also takes "١٢٣٤٥٦", " 12_345" and the like.
    if not re.fullmatch(r"[0-9]{1,10}", token or ""):
        return False
    value = int(token)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if not totp.verify(value, device.tolerance, device.last_t + 1):
        return False
    # Only one request can move last_t past this step: the replayed code loses the race.
    return bool(
        TOTPDevice.objects.filter(pk=device.pk, last_t__lt=totp.t()).update(
            last_t=totp.t(), drift=totp.drift
        )
    )


def _verify_email(device: EmailDevice, token: str) -> bool:
    token = (token or "").strip()
    if not token or device.token is None:
        return False
    # As bytes: compare_digest raises TypeError for str with non-ASCII characters.
    if not hmac.compare_digest(token.encode(), device.token.encode()):
        return False
    return bool(
        EmailDevice.objects.filter(
            pk=device.pk, token=token, valid_until__gt=timezone.now()
        ).update(token=None, valid_until=timezone.now())
    )


def verify_code(device: Device, token: str) -> bool:
    """Check a typed code against one device: throttled, single use, expiry enforced."""
    device = type(device).objects.get(pk=device.pk)
    allowed, _extra = device.verify_is_allowed()
    if not allowed:
        return False
    if isinstance(device, TOTPDevice):
        ok = _verify_totp(device, token)
    elif isinstance(device, EmailDevice):
        ok = _verify_email(device, token)
    elif isinstance(device, BackupCodeDevice):
        ok = device.use_code(token)
    else:
        ok = False
    if not ok:
        _throttle_failure(device)
        return False
    type(device).objects.filter(pk=device.pk).update(
        throttling_failure_count=0, throttling_failure_timestamp=None, last_used_at=timezone.now()
    )
    return True


def verify_is_throttled(device: Device) -> bool:
    allowed, _extra = type(device).objects.get(pk=device.pk).verify_is_allowed()
    return not allowed


def verify_sign_in_code(request, user, device: Device, token: str) -> bool:
    """The second factor at sign-in: a wrong code also counts toward the account lockout."""
    if device is None or device.user_id != user.pk:
        return False
    if verify_code(device, token):
        if isinstance(device, BackupCodeDevice):
            record_event(Kind.BACKUP_CODE_USED, user, request=request, remaining=device.remaining())
            send_email_to_user(
                user,
                "mfa_backup_code_used",
                {"remaining": device.remaining(), **origin_of(request)},
            )
        return True
    register_second_factor_failure(request, user)
    return False


# --- TOTP -------------------------------------------------------------------------------------


def start_totp(user, name: str) -> TOTPDevice:
    """An unconfirmed TOTP device; it becomes active after its first valid code."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=name, confirmed=False)


def pending_totp(user, pk) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False, pk=pk).first()


def totp_secret(device: TOTPDevice) -> str:
    from base64 import b32encode

    return b32encode(device.bin_key).decode().rstrip("=")


def totp_uri(device: TOTPDevice) -> str:
    issuer = settings.SITE_NAME.replace(":", "")
    label = quote(f"{issuer}:{device.user.username}")
    params = urlencode(
        {
            "secret": totp_secret(device),
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": device.digits,
            "period": device.step,
        },
        quote_via=quote,
    )
    return f"otpauth://totp/{label}?{params}"


def qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    return svg[svg.index("<svg") :]


# --- Email ------------------------------------------------------------------------------------


def email_address(device: EmailDevice) -> str:
    return device.email or device.user.email


def start_email(user, name: str, address: str) -> EmailDevice:
    EmailDevice.objects.filter(user=user, confirmed=False).delete()
    device = EmailDevice.objects.create(user=user, name=name, email=address, confirmed=False)
    send_email_code(device, "mfa_email_confirm")
    return device


def pending_email(user, pk) -> EmailDevice | None:
    return EmailDevice.objects.filter(user=user, confirmed=False, pk=pk).first()


EMAIL_SETUP_ADDRESSES_PER_HOUR = 5


def email_code_wait(device: EmailDevice) -> int:
    """Seconds until send_email_code sends ``device`` another code: 0, or what is left of the
    60 s cooldown while the last code is still unused and valid."""
    now = timezone.now()
    allowed, extra = device.generate_is_allowed()
    # A used code (django-otp clears it) must not leave the user waiting with nothing to type:
    # only the owner can use one, so this does not open a way to flood their mailbox.
    live_code = device.token and device.valid_until and device.valid_until > now
    if allowed or not live_code:
        return 0
    until = (extra or {}).get("next_generation_at")
    if until is None:
        return device.get_cooldown_duration()
    return max(1, math.ceil((until - now).total_seconds()))


def email_code_wait_message(user, wait: int) -> str:
    """The one answer wherever an emailed code is refused for the cooldown (or the setup's
    hourly limit): when a new code can be sent, ``wait`` seconds from now, in the user's time
    zone (the sign-in step has no signed-in user, so the middleware has not activated it)."""
    try:
        zone = zoneinfo.ZoneInfo(user.time_zone)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        zone = timezone.get_current_timezone()
    at = timezone.localtime(timezone.now() + timedelta(seconds=wait), zone)
    return gettext("Please wait: a new code can be sent at %(time)s.") % {
        "time": at.strftime("%H:%M:%S")
    }


def email_setup_retry_after(user) -> int:
    """Count one code sent to a new address for the user's email authenticator; the seconds
    to wait when it may not go yet, else 0.

    The cooldown of the code last sent for a setup (send_email_code's) holds for a new
    address too, and at most EMAIL_SETUP_ADDRESSES_PER_HOUR addresses in any 60 minutes: the
    form takes any address, so without these a signed-in user could have the portal email
    anyone, without end."""
    pending = EmailDevice.objects.filter(user=user, confirmed=False)
    wait = max((email_code_wait(device) for device in pending), default=0)
    if wait:
        return wait
    key = f"mfa-email-setup:{user.pk}"
    return retry_after(key, limit=EMAIL_SETUP_ADDRESSES_PER_HOUR, window=3600)


def send_email_code(
    device: EmailDevice, template: str = "mfa_sign_in_code", language: str = ""
) -> bool:
    """Email a fresh 6-digit code valid 5 minutes; False while the 60 s cooldown runs and the
    last code is still unused and valid. ``language``: that of the page waiting for the code
    (a language picked on the sign-in pages is the user's only once they are signed in)."""
    if email_code_wait(device):
        return False
    device.cooldown_set(commit=False)
    device.generate_token(valid_secs=EMAIL_CODE_SECONDS, commit=True)
    send_email_to_user(
        device.user,
        template,
        {"code": device.token, "minutes": EMAIL_CODE_SECONDS // 60},
        to=email_address(device),
        language=language,
    )
    return True


# --- Backup codes -----------------------------------------------------------------------------


def authenticator_kinds(user) -> list[str]:
    """The kinds of second factor a user has set up, as TYPE_LABELS (lazy: they are read in
    the language of whoever renders them), never the devices' names or secrets."""
    devices = authenticators(user)
    backup = backup_device(user)
    if backup is not None and backup.remaining():
        devices.append(backup)
    kinds = []
    for device in devices:
        label = TYPE_LABELS[type_of(device)]
        if label not in kinds:
            kinds.append(label)
    return kinds


def backup_device(user) -> BackupCodeDevice | None:
    return BackupCodeDevice.objects.filter(user=user).first()


def _new_backup_code() -> str:
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def regenerate_backup_codes(request, user) -> list[str]:
    """Ten new single-use codes replacing any old ones; the plain codes are returned once."""
    codes = [_new_backup_code() for _ in range(BACKUP_CODE_COUNT)]
    with transaction.atomic():
        device, _created = BackupCodeDevice.objects.get_or_create(
            user=user, defaults={"name": "backup", "confirmed": True}
        )
        device.codes.all().delete()
        BackupCode.objects.bulk_create(
            BackupCode(device=device, digest=digest(code.replace("-", ""))) for code in codes
        )
    record_event(Kind.BACKUP_CODES_CREATED, user, request=request, count=len(codes))
    send_email_to_user(user, "mfa_backup_codes_created", origin_of(request))
    return codes


# --- Push: enrollment -------------------------------------------------------------------------


def start_push_enrollment(user, name: str, request=None) -> tuple[PushEnrollment, str]:
    """A one-time code for the phone app, shown in the browser of ``request``."""
    token = secrets.token_urlsafe(32)
    enrollment = PushEnrollment.objects.create(
        user=user,
        name=name,
        ip_address=client_ip(request),
        user_agent=request_user_agent(request),
        token_digest=digest(token),
        expires_at=timezone.now() + timedelta(seconds=PUSH_ENROLLMENT_SECONDS),
    )
    return enrollment, token


def push_enrollment_uri(token: str) -> str:
    return f"{settings.SITE_URL}{reverse('mfa:api_enrol')}?token={token}"


def enrol_push_device(request, token: str, name: str, public_key: str) -> PushDevice:
    """The app's enrollment call: the token dies on use; the device is active at once."""
    try:
        _key, algorithm = protocol.load_public_key(public_key or "")
    except (ValueError, TypeError) as error:
        raise PushError("public_key must be a PEM Ed25519 or ECDSA P-256 public key") from error
    now = timezone.now()
    with transaction.atomic():
        enrollment = (
            PushEnrollment.objects.select_for_update()
            .filter(token_digest=digest(token or ""))
            .first()
        )
        if enrollment is None or enrollment.used_at or enrollment.expires_at <= now:
            raise PushError("invalid or expired enrollment token", status=403)
        # Offboarded or blocked since the code was shown: the account may add no phone now.
        if not enrollment.user.is_active or enrollment.user.is_blocked_by_manager:
            raise PushError("invalid or expired enrollment token", status=403)
        if not PushEnrollment.objects.filter(pk=enrollment.pk, used_at=None).update(used_at=now):
            raise PushError("invalid or expired enrollment token", status=403)
        device = PushDevice.objects.create(
            user=enrollment.user,
            name=(enrollment.name or name or "push")[:64],
            key_id=secrets.token_urlsafe(24),
            public_key=public_key,
            algorithm=algorithm,
            confirmed=False,
        )
        enrollment.device = device
        enrollment.save(update_fields=["device"])
        # Logged and emailed as added where the code was shown: this request is the app's.
        origin = (enrollment.ip_address, enrollment.user_agent)
        activate_authenticator(request, enrollment.user, device, origin)
    return device


def push_enrollment_done(user, enrollment_id) -> bool:
    return PushEnrollment.objects.filter(user=user, pk=enrollment_id, device__isnull=False).exists()


# --- Push: signed device requests -------------------------------------------------------------


def authenticate_device_request(request) -> PushDevice:
    """The device that signed this request, or PushError(401): bad key, signature, time, nonce."""
    headers = request.headers
    key_id = headers.get(protocol.HEADER_DEVICE, "")
    timestamp = headers.get(protocol.HEADER_TIMESTAMP, "")
    nonce = headers.get(protocol.HEADER_NONCE, "")
    signature = headers.get(protocol.HEADER_SIGNATURE, "")
    # [0-9], not isdigit(): "²" is a digit to Python but not to int(). Bounded: int() refuses
    # very long strings too.
    valid_timestamp = re.fullmatch(r"[0-9]{1,12}", timestamp)
    if not (key_id and valid_timestamp and 16 <= len(nonce) <= 64 and signature) or any(
        "\x00" in value for value in (key_id, nonce, signature)
    ):
        raise PushError("missing or malformed signature headers", status=401)
    if abs(time.time() - int(timestamp)) > PUSH_CLOCK_SKEW_SECONDS:
        raise PushError("timestamp outside the allowed window", status=401)
    device = PushDevice.objects.filter(key_id=key_id, confirmed=True).select_related("user").first()
    if device is None:
        raise PushError("unknown device", status=401)
    message = protocol.canonical_request(
        request.method, request.path, timestamp, nonce, request.body
    )
    try:
        raw_signature = protocol.b64decode(signature)
    except ValueError:
        raw_signature = b""
    if not protocol.verify_signature(device.public_key, raw_signature, message):
        raise PushError("bad signature", status=401)
    try:
        with transaction.atomic():
            PushNonce.objects.create(device=device, nonce=nonce)
    except IntegrityError:
        raise PushError("replayed request", status=401) from None
    expired_push_nonces().delete()
    return device


def expired_push_nonces(now=None):
    """Nonces older than any timestamp the API still accepts: a request replaying one is
    refused for its time. Every device request deletes them, the daily purge what is left."""
    now = now or timezone.now()
    return PushNonce.objects.filter(
        created_at__lt=now - timedelta(seconds=2 * PUSH_CLOCK_SKEW_SECONDS)
    )


# --- Push: sign-in challenges -----------------------------------------------------------------


def new_login_attempt(request) -> str:
    attempt = secrets.token_urlsafe(24)
    request.session[LOGIN_ATTEMPT_SESSION_KEY] = attempt
    return attempt


def _attempt_digest(request) -> str:
    attempt = request.session.get(LOGIN_ATTEMPT_SESSION_KEY) or ""
    return digest(f"attempt:{attempt}") if attempt else ""


def describe_browser(user_agent: str) -> str:
    """ "Chrome 124 / Windows 10" for the authenticator app and the audit log ("" if unknown)."""
    return " / ".join(filter(None, describe_user_agent(user_agent)))


def start_push_challenge(request, user, device: PushDevice) -> PushChallenge:
    """The pending challenge of this sign-in attempt on this device, or a new one (limits)."""
    attempt = _attempt_digest(request)
    if not attempt:
        raise PushLimitReached
    now = timezone.now()
    with transaction.atomic():
        # Lock the user row so parallel requests count the limits exactly.
        type(user).objects.select_for_update().filter(pk=user.pk).first()
        existing = (
            PushChallenge.objects.pending(now)
            .filter(user=user, device=device, attempt_digest=attempt)
            .first()
        )
        if existing:
            return existing
        recent = PushChallenge.objects.filter(user=user, created_at__gt=now - PUSH_WINDOW)
        if (
            recent.count() >= PUSH_MAX_PER_WINDOW
            or PushChallenge.objects.pending(now).filter(user=user).count() >= PUSH_MAX_PENDING
        ):
            raise PushLimitReached
        number = 10 + secrets.randbelow(90)
        choices = {number}
        while len(choices) < 3:
            choices.add(10 + secrets.randbelow(90))
        choices = list(choices)
        secrets.SystemRandom().shuffle(choices)
        challenge = PushChallenge.objects.create(
            public_id=secrets.token_urlsafe(16),
            user=user,
            device=device,
            attempt_digest=attempt,
            number=number,
            choices=choices,
            ip_address=client_ip(request),
            user_agent=request_user_agent(request),
            expires_at=now + timedelta(seconds=PUSH_CHALLENGE_SECONDS),
        )
    transaction.on_commit(lambda: get_backend().deliver(challenge))
    return challenge


def current_push_challenge(request, user) -> PushChallenge | None:
    attempt = _attempt_digest(request)
    if not attempt or not user:
        return None
    return (
        PushChallenge.objects.filter(user=user, attempt_digest=attempt)
        .order_by("-created_at", "-pk")
        .first()
    )


def push_status(request) -> str:
    """The state of this browser's sign-in push: none, pending, approved, denied or expired."""
    challenge = (
        PushChallenge.objects.filter(attempt_digest=_attempt_digest(request))
        .order_by("-created_at", "-pk")
        .first()
        if _attempt_digest(request)
        else None
    )
    if challenge is None:
        return "none"
    if challenge.status == PushChallenge.Status.PENDING and challenge.expires_at <= timezone.now():
        return "expired"
    return challenge.status


def challenge_payload(challenge: PushChallenge) -> dict:
    return {
        "id": challenge.public_id,
        "portal": settings.SITE_NAME,
        "account": challenge.user.username,
        "browser": describe_browser(challenge.user_agent),
        "ip": challenge.ip_address,
        "created_at": challenge.created_at.isoformat(),
        "expires_at": challenge.expires_at.isoformat(),
        "choices": challenge.choices,
    }


def pending_challenges_for(device: PushDevice) -> list[PushChallenge]:
    return list(
        PushChallenge.objects.pending()
        .filter(device=device)
        .select_related("user")
        .order_by("created_at")
    )


def answer_challenge(device: PushDevice, public_id: str, decision: str, number) -> str:
    """Approve with the matching number, else deny; a denial is logged and emailed."""
    if decision not in ("approve", "deny"):
        raise PushError("decision must be approve or deny")
    challenge = None
    if re.fullmatch(r"[A-Za-z0-9_-]{1,32}", public_id):  # as secrets.token_urlsafe makes them
        challenge = PushChallenge.objects.filter(device=device, public_id=public_id).first()
    if challenge is None:
        raise PushError("no such challenge", status=404)
    now = timezone.now()
    approved = decision == "approve" and number == challenge.number
    new_status = PushChallenge.Status.APPROVED if approved else PushChallenge.Status.DENIED
    changed = PushChallenge.objects.filter(
        pk=challenge.pk, status=PushChallenge.Status.PENDING, expires_at__gt=now
    ).update(status=new_status, answered_at=now)
    if not changed:
        raise PushError("challenge is no longer pending", status=409)
    if not approved:
        reason = "denied" if decision == "deny" else "wrong_number"
        # Where the refused sign-in came from, as the email says: the phone's answer is not it.
        record_event(
            Kind.PUSH_DENIED,
            challenge.user,
            origin=(challenge.ip_address, challenge.user_agent),
            device=device.name,
            reason=reason,
        )
        send_email_to_user(
            challenge.user,
            "mfa_push_denied",
            {
                "device_name": device.name,
                "ip": challenge.ip_address,
                "user_agent": challenge.user_agent,
                "reason": reason,
            },
        )
    return new_status


def consume_approved_push(request, user, device: PushDevice) -> bool:
    """True once for an approved challenge of this sign-in attempt; later calls are False."""
    attempt = _attempt_digest(request)
    if not attempt or device is None or device.user_id != user.pk:
        return False
    grace = timezone.now() - timedelta(seconds=PUSH_CONSUME_GRACE_SECONDS)
    used = PushChallenge.objects.filter(
        user=user,
        device=device,
        attempt_digest=attempt,
        status=PushChallenge.Status.APPROVED,
        expires_at__gt=grace,
    ).update(status=PushChallenge.Status.USED)
    if used:
        PushDevice.objects.filter(pk=device.pk).update(last_used_at=timezone.now())
    return bool(used)


# --- Recent authentication, trusted browsers --------------------------------------------------


def invalidate_trusted_browsers(user) -> None:
    prefs = mfa_settings(user)
    MfaSettings.objects.filter(pk=prefs.pk).update(trust_epoch=F("trust_epoch") + 1)


def forget_trusted_browsers(request, user) -> None:
    """The user's own "ask for the second factor again everywhere" (a lost device, a shared
    computer): every trust cookie stops counting, this browser's too."""
    invalidate_trusted_browsers(user)
    record_event(Kind.TRUSTED_BROWSERS_FORGOTTEN, user, request=request)


def _trust_fingerprint(user) -> str:
    epoch = MfaSettings.objects.filter(user=user).values_list("trust_epoch", flat=True).first() or 0
    return salted_hmac("mfa.trust", f"{user.pk}:{user.password}:{epoch}").hexdigest()


def trust_allowed(user) -> bool:
    company = getattr(user, "company", None)
    return bool(company is not None and company.trust_browser_allowed)


def trust_cookie_value(user) -> str:
    return signing.dumps({"u": user.pk, "f": _trust_fingerprint(user)}, salt="mfa.trust")


def browser_is_trusted(request, user) -> bool:
    """A valid trust cookie for this user, still allowed by the company, no change since."""
    if not trust_allowed(user):
        return False
    value = request.COOKIES.get(TRUST_COOKIE, "")
    if not value:
        return False
    try:
        data = signing.loads(value, salt="mfa.trust", max_age=TRUST_DAYS * 86400)
    except signing.BadSignature:
        return False
    return data.get("u") == user.pk and hmac.compare_digest(
        str(data.get("f", "")), _trust_fingerprint(user)
    )


def forget_authenticator_types(user_ids) -> None:
    """Drop the cached authenticator types of many users at once (after a bulk load)."""
    from accounts.models import User

    cache.delete_many([_types_cache_key(User(pk=pk)) for pk in user_ids])


def forget_authenticator_state(user) -> None:
    """After authenticators were removed elsewhere (a security manager's reset): drop the
    cached types, the trusted browsers that relied on them and the push enrolments still
    pending (a code shown before the reset must not add a phone after it)."""
    cache.delete(_types_cache_key(user))
    invalidate_trusted_browsers(user)
    drop_pending_push_enrollments(user)


def drop_pending_push_enrollments(user) -> None:
    """Push enrolment codes not used yet stop working: one shown to whoever had a session
    (an intruder, a lost phone's finder) must not add a phone once the account is secured."""
    PushEnrollment.objects.filter(user=user, used_at__isnull=True).delete()
