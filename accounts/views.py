from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import user_has_device
from two_factor.views import LoginView

from mfa.login import SecondFactorLoginMixin

from . import roles, services
from .forms import IdentifyForm, PasswordStepForm, ProfileForm, RequiredPasswordChangeForm
from .models import SecurityEvent


def _form_status(form) -> int:
    """Bad input is answered with 400 and the form showing what is wrong."""
    return 400 if form.is_bound and form.errors else 200


class PortalLoginView(SecondFactorLoginMixin, LoginView):
    """Identifier-first sign-in: user → password → second factor (when the user has one).

    Built on django-two-factor-auth's wizard so that the MFA steps slot in after the password.
    """

    IDENTIFY_STEP = "identify"
    FIRST_STEP = IDENTIFY_STEP
    template_name = "accounts/login.html"
    form_list = (
        (IDENTIFY_STEP, IdentifyForm),
        (LoginView.AUTH_STEP, PasswordStepForm),
        *LoginView.form_list[1:],
    )

    def get_prefix(self, request, *args, **kwargs):
        return "login_view"

    def step_requires_authentication(self, step):
        return step not in (self.IDENTIFY_STEP, self.AUTH_STEP)

    def get_form_kwargs(self, step=None):
        kwargs = super().get_form_kwargs(step)
        if step == self.AUTH_STEP:
            kwargs["identifier"] = self.storage.data.get("identifier", "")
        return kwargs

    def post(self, *args, **kwargs):
        if self.steps.current == self.AUTH_STEP and "wizard_goto_step" not in self.request.POST:
            retry_after = services.ip_retry_after(self.request)
            if retry_after:
                response = render(self.request, "accounts/too_many_attempts.html", status=429)
                response["Retry-After"] = str(retry_after)
                return response
        return super().post(*args, **kwargs)

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
        return context

    def render(self, form=None, **kwargs):
        response = super().render(form, **kwargs)
        if form is not None and form.is_bound and form.errors:
            response.status_code = 400  # bad input is a 4xx, with the message on the form
        return response

    def done(self, form_list, **kwargs):
        user = self.get_user()
        response = super().done(form_list, **kwargs)
        services.record_sign_in(self.request, user)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            user.preferred_language,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
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
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    if check_for_language(language) and language in dict(settings.LANGUAGES):
        if request.user.is_authenticated and request.user.preferred_language != language:
            request.user.preferred_language = language
            request.user.save(update_fields=["preferred_language"])
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
    return response


def home(request):
    if request.user.is_authenticated:
        return redirect("dashboard")
    return render(request, "home.html", {"registration_open": settings.REGISTRATION_OPEN})


@login_required
def dashboard(request):
    user = request.user
    ctx = {
        "role": roles.role_label(user),
        "recent_events": user.security_events.order_by("-created_at")[:5],
    }
    return render(request, "accounts/dashboard.html", ctx)


def login_help(request):
    return render(request, "accounts/login_help.html")


@login_required
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        services.record_event(SecurityEvent.Kind.PROFILE_CHANGED, request.user, request=request)
        messages.success(request, _("Your profile has been saved."))
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form}, status=_form_status(form))


@login_required
def security(request):
    user = request.user
    ctx = {
        "events": user.security_events.order_by("-created_at")[:20],
        "has_second_factor": user_has_device(user),
    }
    return render(request, "accounts/security.html", ctx)


@login_required
def change_initial_password(request):
    """The required action of an account with an initial, expired or compromised password."""
    user = request.user
    if not services.password_change_required(user):
        return redirect("dashboard")
    form = RequiredPasswordChangeForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.change_password(request, user, form.cleaned_data["new_password1"])
        messages.success(request, _("Password changed. You can now use the portal."))
        return redirect("dashboard")
    return render(
        request, "accounts/change_initial_password.html", {"form": form}, status=_form_status(form)
    )
