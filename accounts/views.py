from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone, translation
from django.utils.translation import check_for_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from two_factor.views import LoginView

from mfa.login import SecondFactorLoginMixin
from mfa.services import authenticator_types
from portal.durations import wait_text
from portal.forms import answer_rate_limited
from portal.redirects import safe_next

from . import email_change, roles, services, sessions_service, tokens
from .forms import (
    AccountIdentifierForm,
    EmailAddressForm,
    IdentifyForm,
    NewPasswordForm,
    PasswordStepForm,
    PortalPasswordChangeForm,
    ProfileWithEmailForm,
    ReauthenticationForm,
    RegistrationForm,
    RequiredPasswordChangeForm,
)
from .models import SecurityEvent, UserSession
from .reauth import (
    confirm_identity,
    reauthentication_required,
    recently_authenticated,
    sign_out_locked_out,
)


def _form_status(form) -> int:
    """Bad input is answered with 400 and the form showing what is wrong."""
    return 400 if form.is_bound and form.errors else 200


def _remember_language(response, language: str) -> None:
    """The interface language of this browser from the next page on: the one cookie that
    the header's switcher, the sign-in and the profile's "Preferred language" all set."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )


# Set on the request by speak_link_language, read by @link_page.
LINK_LANGUAGE_ATTR = "link_language"


def speak_link_language(request, language: str) -> None:
    """A page opened from an emailed link answers in the language of that email, once its
    token has named the account (or the request) it was written for: on a shared browser the
    browser's own language is someone else's. A language the visitor picked on the site
    (the switcher keeps it in the session until sign-in) wins, and a signed-in visitor keeps
    their own. An invalid link names nobody: the view never calls this, nothing changes."""
    if request.user.is_authenticated or language not in dict(settings.LANGUAGES):
        return
    if request.session.get(services.LANGUAGE_CHOSEN_KEY) in dict(settings.LANGUAGES):
        return
    translation.activate(language)
    request.LANGUAGE_CODE = language
    setattr(request, LINK_LANGUAGE_ATTR, language)


def link_page(view):
    """For the views of emailed links: the browser keeps the language speak_link_language
    chose, as after a sign-in, so the pages the link leads to (the sign-in page after an
    unblock, the dashboard after a reset) go on in it."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        language = getattr(request, LINK_LANGUAGE_ATTR, "")
        if getattr(request, "user", None) and request.user.is_authenticated:
            language = request.user.preferred_language  # signed in (by the link, or before)
        if language:
            _remember_language(response, language)
        return response

    return wrapper


def sign_in_url(user) -> str:
    """The sign-in page with the user name filled in, after a link proved whose account it is."""
    return f"{reverse('accounts:login')}?{urlencode({'user': user.username})}"


class PortalLoginView(SecondFactorLoginMixin, LoginView):
    """Identifier-first sign-in: user → password → second factor (when the user has one).

    Built on django-two-factor-auth's wizard so that the MFA steps slot in after the password.
    """

    PREFIX = "login_view"  # of the wizard's form fields and its data in the session
    STEP_PARAMETER = "step"  # of the URL a step is shown at after a POST (_step_url)
    TIMED_OUT_KEY = "timed_out"
    IDENTIFY_STEP = "identify"
    FIRST_STEP = IDENTIFY_STEP
    template_name = "accounts/login.html"
    form_list = (
        (IDENTIFY_STEP, IdentifyForm),
        (LoginView.AUTH_STEP, PasswordStepForm),
        *LoginView.form_list[1:],
    )

    def get_prefix(self, request, *args, **kwargs):
        return self.PREFIX

    def step_requires_authentication(self, step):
        return step not in (self.IDENTIFY_STEP, self.AUTH_STEP)

    def get_form_initial(self, step):
        initial = super().get_form_initial(step)
        if step == self.IDENTIFY_STEP and self.request.method == "GET":
            # sign_in_url(): the account a link just activated or unblocked, already filled in.
            initial["username"] = self.request.GET.get("user", "")[:150]
        return initial

    def get_form_kwargs(self, step=None):
        kwargs = super().get_form_kwargs(step)
        if step == self.AUTH_STEP:
            kwargs["identifier"] = self.storage.data.get("identifier", "")
        return kwargs

    def get(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.GET.get("next"):
            # Back to the sign-in page (the back button, a bookmark) while signed in. With a
            # "next" it stays: a page that asks for a stronger sign-in sends people here.
            return redirect(settings.LOGIN_REDIRECT_URL)
        resumed = self._resume_step(request.GET.get(self.STEP_PARAMETER, ""))
        if resumed is not None:
            return resumed
        if self.storage.data.pop(self.TIMED_OUT_KEY, False):
            self.show_timeout_error = True
        response = super().get(request, *args, **kwargs)
        # The first page only asks for a user name. A visitor without a session (or a crawler)
        # who goes no further leaves no session in the store: the wizard's empty storage is
        # dropped, and the identifier step starts it. A session that exists is reset as before.
        session = request.session
        if session.session_key is None:

            def drop_empty_wizard(rendered):
                if set(session.keys()) <= {self.storage.prefix}:
                    session.pop(self.storage.prefix, None)

            # After the page is rendered: the template reads the wizard's current step.
            response.add_post_render_callback(drop_empty_wizard)
        return response

    def _resume_step(self, step: str):
        """The step a redirect after a POST names (`_step_url`), rendered again from the
        wizard's storage: the step the wizard is at (a reload) or one before it (the back
        button: the password page again after the code page), or a redirect to the step it is
        at for a later one (forward after back). None when nothing is under way: then it
        starts over, as a plain visit of the sign-in page does."""
        steps = list(self.get_form_list())
        current = self.storage.current_step
        if step not in steps or current not in steps:
            return None
        if steps.index(step) > steps.index(current):
            # The forward button after the back button: the step the wizard is at, not the
            # identifier page that would drop the account the visitor has named.
            if current == self.steps.first:
                return None
            return HttpResponseRedirect(self._step_url(current), status=303)
        if self.expired and self.step_requires_authentication(step):
            self.show_timeout_error = True
            return None
        self.storage.current_step = step
        form = self.get_form(
            data=self.storage.current_step_data, files=self.storage.current_step_files
        )
        return self.render(form)

    def _step_url(self, step: str) -> str:
        """This page at `step`: each step the wizard moves to is answered with a redirect to
        it, so that reload and the back button never post a password or code again (the
        browser's "Confirm form resubmission"). `next` comes along for after the sign-in."""
        params = {}
        if step != self.steps.first:
            params[self.STEP_PARAMETER] = step
        next_url = self.get_redirect_url()
        if next_url:
            params[self.redirect_field_name] = next_url
        query = f"?{urlencode(params)}" if params else ""
        return f"{self.request.path}{query}"

    def render_next_step(self, form, **kwargs):
        self.storage.current_step = self.steps.next
        return HttpResponseRedirect(self._step_url(self.storage.current_step), status=303)

    def render_goto_step(self, goto_step, **kwargs):
        self.storage.current_step = goto_step
        if self.show_timeout_error:
            self.storage.data[self.TIMED_OUT_KEY] = True  # said by the first step's form
        return HttpResponseRedirect(self._step_url(goto_step), status=303)

    def process_step(self, form):
        step = self.steps.current
        if step == self.IDENTIFY_STEP:
            self.storage.data["identifier"] = form.cleaned_data["username"]
            return super(LoginView, self).process_step(form)
        if step == self.AUTH_STEP:
            identifier = self.storage.data.get("identifier", "")
            result = super().process_step(form)  # resets the wizard's storage
            self.storage.data["identifier"] = identifier
            self.storage.current_step = self.AUTH_STEP
            # The user the password check just loaded and locked: the rest of this request
            # (step conditions, login) uses it instead of loading it again.
            self.user_cache = form.get_user()
            return result
        return super().process_step(form)

    def get_done_form_list(self):
        form_list = super().get_done_form_list()
        form_list.pop(self.IDENTIFY_STEP, None)
        return form_list

    def get_context_data(self, form, **kwargs):
        context = super().get_context_data(form, **kwargs)
        context["identifier"] = self.storage.data.get("identifier", "")
        context["registration_open"] = settings.REGISTRATION_OPEN
        # A step shown again with its errors answers a POST: back and reload ask for the
        # step's page instead of posting a password or code again.
        context["plain_history"] = self.request.method == "POST"
        return context

    def render(self, form=None, **kwargs):
        response = super().render(form, **kwargs)
        if form is not None and form.is_bound and form.errors:
            response.status_code = 400  # bad input is a 4xx, with the message on the form
        return answer_rate_limited(response, getattr(form, "retry_after", 0))

    def done(self, form_list, **kwargs):
        user = self.get_user()
        chosen = services.take_chosen_language(self.request)
        # last_login, the audit event and the session row: one commit, not three.
        with transaction.atomic():
            response = super().done(form_list, **kwargs)
            services.record_sign_in(self.request, user)
            sessions_service.start_session(self.request, user, response)
            services.adopt_language(self.request, user, chosen)
        _remember_language(response, user.preferred_language)
        return response


@require_POST
def logout_view(request):
    if request.user.is_authenticated:
        services.record_event(SecurityEvent.Kind.SIGNED_OUT, request.user, request=request)
    logout(request)
    messages.success(request, _("You have been signed out."))
    return redirect("home")


@require_POST
def switch_language(request):
    """Switch the interface language; a signed-in user's choice becomes their preference."""
    language = request.POST.get("language", "")
    response = HttpResponseRedirect(safe_next(request, "/"))
    if check_for_language(language) and language in dict(settings.LANGUAGES):
        if not request.user.is_authenticated:
            request.session[services.LANGUAGE_CHOSEN_KEY] = language  # kept at sign-in
        elif request.user.preferred_language != language:
            request.user.preferred_language = language
            request.user.save(update_fields=["preferred_language"])
        _remember_language(response, language)
    return response


def home(request):
    if request.user.is_authenticated:
        return redirect("dashboard")
    return render(request, "home.html", {"registration_open": settings.REGISTRATION_OPEN})


@login_required
@never_cache
def dashboard(request):
    user = request.user
    ctx = {
        "role": roles.role_label(user),
        "recent_events": services.recent_events(user),
        "has_second_factor": bool(authenticator_types(user)),
    }
    return render(request, "accounts/dashboard.html", ctx)


def login_help(request):
    ctx = {
        "registration_open": settings.REGISTRATION_OPEN,
        "LOGIN_FAILURE_LIMIT": settings.LOGIN_FAILURE_LIMIT,
    }
    return render(request, "accounts/login_help.html", ctx)


@login_required
@never_cache
def profile(request):
    form = ProfileWithEmailForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        # A new email is logged as its own request; a save that changed nothing, not at all.
        changed = [name for name in form.changed_data if name != "email"]
        form.save()
        if changed:
            services.record_event(
                SecurityEvent.Kind.PROFILE_CHANGED, request.user, request=request, fields=changed
            )
        # A new preferred language is the portal's language at once, from this message on.
        translation.activate(request.user.preferred_language)
        messages.success(request, _("Your profile has been saved."))
        if form.new_email:
            # The page then shows the pending change with its address: no second message.
            email_change.request_email_change(request, request.user, form.new_email)
        response = redirect("accounts:profile")
        _remember_language(response, request.user.preferred_language)
        return response
    ctx = {"form": form, "pending_change": email_change.pending_email_change(request.user)}
    return render(request, "accounts/profile.html", ctx, status=_form_status(form))


@login_required
@never_cache
def security(request):
    user = request.user
    events = user.security_events.order_by("-created_at", "-id")
    ctx = {
        "events": Paginator(events, 20).get_page(request.GET.get("page")),
        "has_second_factor": bool(authenticator_types(user)),
    }
    return render(request, "accounts/security.html", ctx)


@login_required
@never_cache
def change_initial_password(request):
    """The required action of an account with an initial, expired or compromised password."""
    user = request.user
    if not services.password_change_required(user):
        return redirect("dashboard")
    if recently_authenticated(request):
        form = RequiredPasswordChangeForm(user, request.POST or None)
    else:
        # A password that expired (or was marked compromised) during an older session: that
        # session alone (an unattended browser, a stolen cookie) must not choose the next one.
        form = PortalPasswordChangeForm(user, request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        services.change_password(request, user, form.cleaned_data["new_password1"])
        return redirect("accounts:password_changed")
    if getattr(form, "locked_out", False):
        return sign_out_locked_out(request)
    if "old_password" in form.errors and "old_password" not in request.POST:
        # The page was shown while the sign-in was recent and sent after that: say why the
        # current password is asked for now (nothing was checked, nothing counted).
        form.errors["old_password"] = form.error_class(
            [
                _(
                    "This page was open for a while: for your security, enter your current password too."
                )
            ]
        )
    template = "accounts/change_initial_password.html"
    response = render(request, template, {"form": form}, status=_form_status(form))
    return answer_rate_limited(response, getattr(form, "retry_after", 0))


# --- Registration -----------------------------------------------------------------------------

REGISTRATION_EMAIL_SESSION_KEY = "registration_email"


def _check_link(uidb64: str, token: str, generator):
    """The user an emailed link names, or None when it is unknown, used or expired."""
    user = tokens.user_from_uid(uidb64)
    if user is None or not generator.check_token(user, token):
        return None
    return user


def _invalid_link(request):
    return render(request, "accounts/link_invalid.html", status=400)


def _answer_resend(request, wait: int, template: str, ctx: dict | None = None, done: str = ""):
    """A resend that went leads back to its page, saying ``done`` (or that it went again);
    one the per-address limit refused shows the page again, a 429 that says when the email
    can go."""
    if not wait:
        messages.success(request, done or _("We have sent the email again."))
        return redirect(request.path)
    messages.warning(
        request,
        _("Please wait %(duration)s before asking again.") % {"duration": wait_text(wait)},
    )
    response = render(request, template, {**(ctx or {}), "plain_history": True})
    return answer_rate_limited(response, wait)


def terms(request):
    return render(request, "accounts/terms.html", {"version": settings.TERMS_VERSION})


@never_cache
def register(request):
    if not settings.REGISTRATION_OPEN:
        raise Http404
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = RegistrationForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.request_registration(
            request,
            first_name=data["first_name"],
            last_name=data["last_name"],
            email=data["email"],
            password=data["password1"],
            phone=data["phone"],
            time_zone=data["time_zone"],
        )
        request.session[REGISTRATION_EMAIL_SESSION_KEY] = data["email"]
        return redirect("accounts:verification_sent")
    status = _form_status(form)
    response = render(request, "accounts/register.html", {"form": form}, status=status)
    return answer_rate_limited(response, form.retry_after)


@never_cache
def verification_sent(request):
    """'Email verification': check your inbox; offers a throttled resend."""
    email = request.session.get(REGISTRATION_EMAIL_SESSION_KEY, "")
    template, ctx = "accounts/verification_sent.html", {"email": email}
    if request.method == "POST":
        if not email:
            return redirect("accounts:verification_sent")
        wait = services.resend_registration_email(request, email)
        return _answer_resend(request, wait, template, ctx)
    return render(request, template, ctx)


@never_cache
@link_page
def verify_email(request, uidb64: str, token: str):
    """An emailed verification link: GET confirms, POST verifies and signs in."""
    user = _check_link(uidb64, token, tokens.email_verification_token)
    if user is None:
        return _invalid_link(request)
    speak_link_language(request, user.preferred_language)
    if request.method != "POST":
        return render(request, "accounts/verify_email.html", {"account": user})
    services.verify_email(request, user)
    request.session.pop(REGISTRATION_EMAIL_SESSION_KEY, None)
    if request.user.is_authenticated and request.user.pk == user.pk:
        return redirect("accounts:email_verified")
    if not services.can_sign_in_without_second_factor(user):
        messages.success(request, _("Your email address is verified. Please sign in."))
        return redirect("accounts:login")
    services.sign_in_by_link(request, user)
    return redirect("accounts:email_verified")


@never_cache
@login_required
def email_verified(request):
    return render(request, "accounts/email_verified.html")


@never_cache
@login_required
def verify_email_required(request):
    """The required action of a signed-in user whose email address is not verified yet."""
    if request.user.email_verified:
        return redirect("dashboard")
    template = "accounts/verify_email_required.html"
    if request.method == "POST":
        wait = services.resend_verification_email(request, request.user)
        # Not "again": an account created in the admin was never sent one.
        done = _("We have sent a verification email to %(email)s.") % {"email": request.user.email}
        return _answer_resend(request, wait, template, done=done)
    return render(request, template)


# --- Check and unblock your account ------------------------------------------------------------


@never_cache
def check_account(request):
    form = AccountIdentifierForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        services.send_account_status(request, form.cleaned_data["identifier"])
        return redirect("accounts:check_account_sent")
    status = _form_status(form)
    response = render(request, "accounts/check_account.html", {"form": form}, status=status)
    return answer_rate_limited(response, form.retry_after)


def check_account_sent(request):
    return render(request, "accounts/check_inbox.html", {"flow": "check"})


@never_cache
@link_page
def unblock_account(request, uidb64: str, token: str):
    """An emailed unblock link: GET confirms, POST unblocks (without signing in)."""
    user = _check_link(uidb64, token, tokens.unblock_token)
    if user is None:
        return _invalid_link(request)
    speak_link_language(request, user.preferred_language)
    if request.method != "POST":
        return render(request, "accounts/unblock_account.html", {"account": user})
    services.unblock_user(user, request=request)
    messages.success(request, _("Your account is unblocked. You can sign in again."))
    return redirect(sign_in_url(user))


# --- Forgotten password and user name ----------------------------------------------------------

# The address entered, shown once on the "sent" page: the same for every address, known or not.
RECOVERY_EMAIL_SESSION_KEY = "recovery_email"


def _check_inbox(request, flow: str):
    email = request.session.pop(RECOVERY_EMAIL_SESSION_KEY, "")
    return render(request, "accounts/check_inbox.html", {"flow": flow, "email": email})


@never_cache
def password_reset(request):
    form = AccountIdentifierForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        identifier = form.cleaned_data["identifier"]
        services.request_password_reset(request, identifier)
        # The next page shows the address typed; never a user name's address (it is not
        # theirs to know), nor an earlier request's. Written either way: the same work.
        request.session[RECOVERY_EMAIL_SESSION_KEY] = identifier if "@" in identifier else ""
        return redirect("accounts:password_reset_sent")
    status = _form_status(form)
    response = render(request, "accounts/password_reset.html", {"form": form}, status=status)
    return answer_rate_limited(response, form.retry_after)


@never_cache
def password_reset_sent(request):
    return _check_inbox(request, "password")


@never_cache
@link_page
def password_reset_confirm(request, uidb64: str, token: str):
    """'Reset password' from an emailed reset link."""
    user = _check_link(uidb64, token, tokens.password_reset_token)
    if user is None or not user.is_active:
        return _invalid_link(request)
    speak_link_language(request, user.preferred_language)
    form = NewPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.reset_password(request, user, form.cleaned_data["new_password1"]):
            messages.success(request, _("Your password has been changed. You are signed in."))
            return redirect("dashboard")
        messages.success(
            request, _("Your password has been changed. Sign in with your new password.")
        )
        return redirect("accounts:login")
    status = _form_status(form)
    ctx = {"form": form, "account": user}
    return render(request, "accounts/password_reset_confirm.html", ctx, status=status)


@never_cache
def username_reminder(request):
    form = EmailAddressForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        services.request_username_reminder(request, form.cleaned_data["email"])
        request.session[RECOVERY_EMAIL_SESSION_KEY] = form.cleaned_data["email"]
        return redirect("accounts:username_reminder_sent")
    status = _form_status(form)
    response = render(request, "accounts/username_reminder.html", {"form": form}, status=status)
    return answer_rate_limited(response, form.retry_after)


@never_cache
def username_reminder_sent(request):
    return _check_inbox(request, "username")


@never_cache
@login_required
def password_changed(request):
    """'Password changed → continue' after the forced password change."""
    return render(request, "accounts/password_changed.html")


# --- Accounts II: re-authentication, password change, sessions, email change ------------------


# Pages a re-authentication leads to, named in the explanation shown to the user (lazy: the
# name is read in the user's language, not in the one active when the module was imported).
REAUTH_DESTINATIONS = {"accounts:change_password": gettext_lazy("Change password")}


@login_required
@never_cache
def reauthenticate(request):
    next_url = safe_next(request, reverse("accounts:security"))
    form = ReauthenticationForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        confirm_identity(request)
        return redirect(next_url)
    if form.locked_out:
        return sign_out_locked_out(request)
    try:
        match = resolve(next_url.split("?")[0])
        destination = REAUTH_DESTINATIONS.get(f"{match.namespace}:{match.url_name}")
    except Resolver404:
        destination = None
    ctx = {"form": form, "next": next_url, "destination": destination}
    response = render(request, "accounts/reauthenticate.html", ctx, status=_form_status(form))
    return answer_rate_limited(response, form.retry_after)


@login_required
@never_cache
@reauthentication_required
def change_password(request):
    form = PortalPasswordChangeForm(request.user, request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        services.change_password(request, request.user, form.cleaned_data["new_password1"])
        messages.success(
            request, _("Your password has been changed. Your other sessions were signed out.")
        )
        return redirect("accounts:security")
    if form.locked_out:
        return sign_out_locked_out(request)
    response = render(
        request, "accounts/change_password.html", {"form": form}, status=_form_status(form)
    )
    return answer_rate_limited(response, form.retry_after)


@login_required
@never_cache
def sessions(request):
    rows = UserSession.objects.filter(user=request.user).active().order_by("-last_activity_at")
    ctx = {"sessions": rows, "current_id": request.session.get(sessions_service.TRACKED_ID)}
    return render(request, "accounts/sessions.html", ctx)


@require_POST
@login_required
def end_session(request, pk: int):
    row = get_object_or_404(UserSession.objects.filter(user=request.user), pk=pk)
    sessions_service.end_session(request, row)
    if row.pk == request.session.get(sessions_service.TRACKED_ID):
        logout(request)
        messages.success(request, _("You have been signed out."))
        return redirect("accounts:login")
    messages.success(request, _("The session has been signed out."))
    return redirect("accounts:sessions")


@require_POST
@login_required
def end_other_sessions(request):
    count = sessions_service.end_other_sessions(request, request.user)
    messages.success(request, _("Other sessions signed out: %(count)d.") % {"count": count})
    return redirect("accounts:sessions")


@require_POST
@login_required
def keep_alive(request):
    """The "stay signed in" button: any request counts as activity; this one always does.
    idle-timeout.js sends it in the background, so a half-written form stays as it is."""
    sessions_service.touch(request)
    if _wants_json(request):
        return JsonResponse(sessions_service.limits_left(request))
    return redirect(safe_next(request, reverse("dashboard")))


@require_GET
@never_cache
@login_required
def session_status(request):
    """How long this session has left, for the page's notices. Not activity (the middleware
    leaves the idle clock alone); an ended session answers with the sign-in redirect."""
    return JsonResponse(sessions_service.limits_left(request))


def _wants_json(request) -> bool:
    return request.accepts("application/json") and not request.accepts("text/html")


@never_cache
@link_page
def confirm_email_change(request, token: str):
    """The link is often opened signed out, from the new address's mailbox: the sign-in page
    then says why it is asked for."""
    if not request.user.is_authenticated:
        account = email_change.account_of_link(token)
        if account is not None:
            speak_link_language(request, account.preferred_language)
        messages.info(request, _("Sign in to confirm your new email address."))
        return redirect_to_login(request.get_full_path())
    return _confirm_email_change(request, token)


@reauthentication_required
def _confirm_email_change(request, token: str):
    """Confirming a new email needs the password again: the email is how an account is
    recovered, so a session alone (an unattended browser, a stolen cookie) must not move it."""
    change = email_change.load_email_change(token, request.user)
    if change is None:
        return render(request, "accounts/confirm_email_change.html", {"invalid": True}, status=404)
    if request.method == "POST":
        if email_change.confirm_email_change(request, change):
            messages.success(request, _("Your email address has been changed."))
        return redirect("accounts:profile")
    return render(request, "accounts/confirm_email_change.html", {"change": change})


@never_cache
@link_page
def report_sign_in(request, token: str):
    """ "This wasn't me" from the new-browser email: on POST, end all sessions and reset."""
    row = sessions_service.load_sign_in_report(token)
    if row is None:
        raise Http404
    speak_link_language(request, row.user.preferred_language)
    if request.method == "POST":
        done = sessions_service.report_sign_in(request, row)
        ctx = {"already": not done, "account": row.user}
        return render(request, "accounts/report_sign_in_done.html", ctx)
    ctx = {"session": row, "already": row.reported_at is not None}
    with timezone.override(row.user.time_zone):  # opened from the email, often signed out
        return render(request, "accounts/report_sign_in.html", ctx)
