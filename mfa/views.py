from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from django_otp import login as otp_login

from accounts.forms import ReauthenticationForm
from accounts.reauth import confirm_identity, sign_out_locked_out
from portal.forms import answer_rate_limited
from portal.redirects import safe_next

from . import services
from .decorators import require_recent_auth, strong_factor_page
from .forms import CodeForm, EmailSetupForm, NameForm

PENDING_TOTP = "mfa_pending_totp"
PENDING_EMAIL = "mfa_pending_email"
PENDING_PUSH = "mfa_pending_push"


def _rows(user) -> list[dict]:
    default = services.default_device(user)
    return [
        {
            "device": device,
            "ref": services.ref_of(device),
            "type": services.type_of(device),
            "type_label": services.TYPE_LABELS[services.type_of(device)],
            # The address can differ from the profile's (changed since): say where codes go.
            "address": services.email_address(device)
            if services.type_of(device) == "email"
            else "",
            "is_default": default is not None and device.persistent_id == default.persistent_id,
        }
        for device in services.authenticators(user)
    ]


def _activated(request, device) -> None:
    """A new authenticator: active, logged, notified; the session counts as verified by it."""
    services.activate_authenticator(request, request.user, device)
    if not request.user.is_verified():
        otp_login(request, device)
    messages.success(request, _("Authenticator “%(name)s” added.") % {"name": device.name})


def _done_adding(required: bool):
    """Where adding an authenticator ends: the list of authenticators; or, when the account
    had to add one before anything else, the dashboard the sign-in was heading for."""
    return redirect("dashboard" if required else "mfa:index")


def _setup_url(kind: str = "") -> str:
    return reverse("mfa:setup", kwargs={"kind": kind}) if kind else reverse("mfa:setup")


@login_required
@never_cache
def strong_factor_required(request):
    """Where a session of a role that needs a strong factor is sent when it passed only an
    emailed code (services.required_action_url_name)."""
    return strong_factor_page(request)


@login_required
@never_cache
def index(request):
    backup = services.backup_device(request.user)
    trust_allowed = services.trust_allowed(request.user)
    ctx = {
        "rows": _rows(request.user),
        "backup_remaining": backup.remaining() if backup else None,
        "enrollment_required": services.enrollment_required(request.user),
        "trust_allowed": trust_allowed,
        "trust_days": services.TRUST_DAYS,
        "this_browser_trusted": trust_allowed
        and services.browser_is_trusted(request, request.user),
    }
    return render(request, "mfa/index.html", ctx)


@login_required
@require_POST
def forget_trusted_browsers(request):
    services.forget_trusted_browsers(request, request.user)
    messages.success(
        request, _("Every browser, this one too, asks for your second factor at the next sign-in.")
    )
    return redirect("mfa:index")


@login_required
@never_cache
def setup(request, kind: str = ""):
    """Adding an authenticator; one URL name for all steps (see mfa.urls)."""
    views = {
        "": _choose,
        "confirm-password": _confirm_password,
        "totp": _setup_totp,
        "email": _setup_email,
        "push": _setup_push,
        "push-status": _push_enrollment_status,
    }
    view = views.get(kind)
    if view is None:
        raise Http404
    return view(request)


def _choose(request):
    ctx = {
        "types": services.allowed_types(request.user),
        "enrollment_required": services.enrollment_required(request.user),
    }
    return render(request, "mfa/setup_choose.html", ctx)


def _confirm_password(request):
    next_url = safe_next(request, reverse("mfa:index"))
    form = ReauthenticationForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        confirm_identity(request)
        return redirect(next_url)
    if form.locked_out:
        return sign_out_locked_out(request)
    status = 400 if form.is_bound else 200
    response = render(request, "mfa/reauth.html", {"form": form, "next": next_url}, status=status)
    return answer_rate_limited(response, form.retry_after)


def _type_allowed(request, kind: str) -> bool:
    if kind in services.allowed_types(request.user):
        return True
    messages.error(request, _("This type of authenticator is not allowed for your account."))
    return False


@require_recent_auth
def _setup_totp(request):
    if not _type_allowed(request, "totp"):
        return redirect(_setup_url())
    user = request.user
    device = services.pending_totp(user, request.session.get(PENDING_TOTP))
    name_form = NameForm(request.POST if "name" in request.POST else None)
    code_form = CodeForm(request.POST if "code" in request.POST else None, device=device)
    if request.method == "POST":
        if name_form.is_bound and name_form.is_valid():
            device = services.start_totp(user, name_form.cleaned_data["name"])
            request.session[PENDING_TOTP] = device.pk
            return redirect(_setup_url("totp"))
        if device is not None and code_form.is_bound and code_form.is_valid():
            request.session.pop(PENDING_TOTP, None)
            required = services.enrollment_required(user)
            _activated(request, device)
            return _done_adding(required)
    ctx = {"name_form": name_form, "code_form": code_form, "device": device}
    if device is not None:
        uri = services.totp_uri(device)
        ctx.update(uri=uri, qr_svg=services.qr_svg(uri), secret=services.totp_secret(device))
    status = 400 if request.method == "POST" else 200
    return render(request, "mfa/setup_totp.html", ctx, status=status)


@require_recent_auth
def _setup_email(request):
    if not _type_allowed(request, "email"):
        return redirect(_setup_url())
    user = request.user
    device = services.pending_email(user, request.session.get(PENDING_EMAIL))
    start_form = EmailSetupForm(
        request.POST if "email" in request.POST else None,
        initial={"email": user.email, "name": _("Email")},
        user=user,
    )
    code_form = CodeForm(request.POST if "code" in request.POST else None, device=device)
    if request.method == "POST":
        if start_form.is_bound and start_form.is_valid():
            data = start_form.cleaned_data
            device = services.start_email(user, data["name"], data["email"])
            request.session[PENDING_EMAIL] = device.pk
            return redirect(_setup_url("email"))
        if device is not None and "resend" in request.POST:
            if services.send_email_code(device, "mfa_email_confirm"):
                messages.success(request, _("We sent a new code."))
            else:
                wait = services.email_code_wait(device)
                messages.error(request, services.email_code_wait_message(user, wait))
            return redirect(_setup_url("email"))
        if device is not None and code_form.is_bound and code_form.is_valid():
            request.session.pop(PENDING_EMAIL, None)
            required = services.enrollment_required(user)
            _activated(request, device)
            return _done_adding(required)
    # "Use a different address": the form again while a code waits, filled in as before.
    changing = device is not None and request.method == "GET" and "change" in request.GET
    if changing:
        start_form.initial = {"email": services.email_address(device), "name": device.name}
    ctx = {"start_form": start_form, "code_form": code_form, "device": device, "changing": changing}
    if device is not None:
        ctx["address"] = services.email_address(device)
    status = 400 if request.method == "POST" else 200
    response = render(request, "mfa/setup_email.html", ctx, status=status)
    return answer_rate_limited(response, start_form.retry_after)


@require_recent_auth
def _setup_push(request):
    if not _type_allowed(request, "push"):
        return redirect(_setup_url())
    pending = request.session.get(PENDING_PUSH)
    if pending and services.push_enrollment_done(request.user, pending["id"]):
        request.session.pop(PENDING_PUSH)
        messages.success(request, _("Your smartphone has been added."))
        return _done_adding(pending.get("required", False))
    form = NameForm(request.POST or None, initial={"name": _("Smartphone")})
    if request.method == "POST" and form.is_valid():
        enrollment, token = services.start_push_enrollment(
            request.user, form.cleaned_data["name"], request
        )
        request.session[PENDING_PUSH] = {
            "id": enrollment.pk,
            "token": token,
            "expires": enrollment.expires_at.timestamp(),
            # Known now: once the phone has enrolled, the account no longer has to.
            "required": services.enrollment_required(request.user),
        }
        return redirect(_setup_url("push"))
    ctx = {"form": form}
    if pending and pending["expires"] > timezone.now().timestamp():
        uri = services.push_enrollment_uri(pending["token"])
        ctx.update(uri=uri, qr_svg=services.qr_svg(uri))
    elif pending:
        request.session.pop(PENDING_PUSH)
        messages.error(request, _("The enrollment code expired. Start again."))
    return render(request, "mfa/setup_push.html", ctx, status=400 if form.is_bound else 200)


def _push_enrollment_status(request):
    pending = request.session.get(PENDING_PUSH)
    done = bool(pending) and services.push_enrollment_done(request.user, pending["id"])
    return JsonResponse({"done": done, "next": _setup_url("push")})


@login_required
@never_cache
def rename(request, ref: str):
    device = services.get_authenticator(request.user, ref)
    form = NameForm(request.POST or None, initial={"name": device.name})
    if request.method == "POST" and form.is_valid():
        services.rename_authenticator(request, request.user, device, form.cleaned_data["name"])
        messages.success(request, _("Authenticator renamed."))
        return redirect("mfa:index")
    status = 400 if form.is_bound else 200
    return render(request, "mfa/rename.html", {"form": form, "device": device}, status=status)


@login_required
@never_cache
@require_recent_auth
def remove(request, ref: str):
    device = services.get_authenticator(request.user, ref)
    blocked = services.remove_would_break_policy(request.user, device)
    if request.method == "POST" and not blocked:
        services.remove_authenticator(request, request.user, device)
        messages.success(request, _("Authenticator “%(name)s” removed.") % {"name": device.name})
        return redirect("mfa:index")
    ctx = {"device": device, "blocked": blocked}
    return render(request, "mfa/remove.html", ctx, status=409 if request.method == "POST" else 200)


@login_required
@require_POST
def make_default(request, ref: str):
    device = services.get_authenticator(request.user, ref)
    services.set_default_authenticator(request, request.user, device)
    messages.success(request, _("“%(name)s” is now your default.") % {"name": device.name})
    return redirect("mfa:index")


@login_required
@never_cache
def backup_codes(request):
    if not services.authenticators(request.user):
        messages.error(request, _("Add an authenticator first."))
        return redirect("mfa:index")
    if request.method == "POST":
        return _regenerate_backup_codes(request)
    backup = services.backup_device(request.user)
    ctx = {"remaining": backup.remaining() if backup else None}
    return render(request, "mfa/backup_codes.html", ctx)


@require_recent_auth
def _regenerate_backup_codes(request):
    codes = services.regenerate_backup_codes(request, request.user)
    # plain_history: a reload or back and forward must not make new codes, which would void
    # the ones just written down; it asks for the page with GET instead.
    return render(request, "mfa/backup_codes.html", {"codes": codes, "plain_history": True})


# --- The browser's view of its push sign-in -----------------------------------------------


@never_cache
@require_GET
def sign_in_push_status(request):
    """Polled by static/js/mfa-push.js on the sign-in page; reveals only this attempt's state."""
    return JsonResponse({"status": services.push_status(request)})


# --- Device API (JSON; authenticated by token or by signature, never by cookie) -------------


def _api_error(error: services.PushError) -> JsonResponse:
    return JsonResponse({"error": str(error)}, status=error.status)


def _json_body(request) -> dict:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError, RecursionError):  # deep nesting: RecursionError
        raise services.PushError("body must be JSON") from None
    if not isinstance(data, dict):
        raise services.PushError("body must be a JSON object")
    # JSON may escape characters that no database column takes: lone surrogates ("\ud800")
    # and NUL ("\u0000").
    if any(not _storable(text) for text in _strings(data)):
        raise services.PushError("body must be JSON")
    return data


def _strings(value):
    """Every string in a parsed JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _storable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


@csrf_exempt
@require_POST
def api_enrol(request):
    try:
        data = _json_body(request)
        device = services.enrol_push_device(
            request,
            str(data.get("token", "")),
            str(data.get("name", "")),
            str(data.get("public_key", "")),
        )
    except services.PushError as error:
        return _api_error(error)
    return JsonResponse(
        {
            "device_id": device.key_id,
            "name": device.name,
            "account": device.user.username,
            "portal": settings.SITE_NAME,
            "challenges_url": settings.SITE_URL + reverse("mfa:api_challenges"),
        },
        status=201,
    )


@csrf_exempt
@require_GET
def api_challenges(request):
    try:
        device = services.authenticate_device_request(request)
    except services.PushError as error:
        return _api_error(error)
    challenges = services.pending_challenges_for(device)
    return JsonResponse({"challenges": [services.challenge_payload(c) for c in challenges]})


@csrf_exempt
@require_POST
def api_answer(request, public_id: str):
    try:
        device = services.authenticate_device_request(request)
        data = _json_body(request)
        number = data.get("number")
        status = services.answer_challenge(
            device,
            public_id,
            str(data.get("decision", "")),
            number if isinstance(number, int) else None,
        )
    except services.PushError as error:
        return _api_error(error)
    return JsonResponse({"status": status})
