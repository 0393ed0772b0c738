"""The second factor of the sign-in wizard (accounts.views.PortalLoginView).

Users name their authenticators, so two_factor's "device named default" rule is replaced by
the user's own default choice: any confirmed authenticator triggers the token step, and the
user may switch to any other of theirs. Roles that need a strong factor are offered (and
accepted) only their TOTP and push authenticators (services.sign_in_authenticators).
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from two_factor.views import LoginView

from . import services
from .forms import BackupCodeForm

TOKEN_STEP = LoginView.TOKEN_STEP
BACKUP_STEP = LoginView.BACKUP_STEP


class SecondFactorLoginMixin:
    condition_dict = {
        TOKEN_STEP: lambda view: view.has_token_step(),
        BACKUP_STEP: lambda view: view.has_backup_step(),
    }

    def _authenticators(self):
        user = self.get_user()
        if not user:
            return []
        cached = getattr(self, "_authenticators_cache", None)
        if cached is None or cached[0] != user.pk:
            cached = self._authenticators_cache = (user.pk, services.sign_in_authenticators(user))
        return cached[1]

    @property
    def trusted_browser(self) -> bool:
        user = self.get_user()
        return bool(user) and services.browser_is_trusted(self.request, user)

    def has_token_step(self) -> bool:
        # The wizard asks for its step conditions several times per request: answer once
        # per user and request, and fetch the devices themselves only when a step needs them.
        user = self.get_user()
        if not user:
            return False
        cached = getattr(self, "_token_step_cache", None)
        if cached is None or cached[0] != user.pk:
            needed = services.has_authenticator(user) and not self.trusted_browser
            cached = self._token_step_cache = (user.pk, needed)
        return cached[1]

    def has_backup_step(self) -> bool:
        return bool(
            self.has_token_step()
            and TOKEN_STEP not in self.storage.validated_step_data
            and services.backup_device(self.get_user()) is not None
        )

    def get_devices(self):
        return self._authenticators()

    def get_device(self, step=None):
        if step == BACKUP_STEP or (step is None and self.steps.current == BACKUP_STEP):
            return services.backup_device(self.get_user())
        if not self.device_cache:
            chosen = self.request.POST.get("challenge_device") or self.storage.data.get(
                "challenge_device"
            )
            devices = self._authenticators()
            # Only among the devices offered: a crafted choice of any other falls back.
            self.device_cache = next(
                (d for d in devices if chosen and d.persistent_id == chosen), None
            ) or services.default_device(self.get_user(), devices)
        return self.device_cache

    def get_other_devices(self, main_device):
        main_id = getattr(main_device, "persistent_id", None)
        return [d for d in self._authenticators() if d.persistent_id != main_id]

    def get_form(self, step=None, **kwargs):
        if (step or self.steps.current) == BACKUP_STEP:
            self.form_list[BACKUP_STEP] = BackupCodeForm
        return super().get_form(step=step, **kwargs)

    def process_step(self, form):
        step = self.steps.current  # read first: the auth step resets the wizard's storage
        result = super().process_step(form)
        if step == LoginView.AUTH_STEP:
            services.new_login_attempt(self.request)
        return result

    def get_template_names(self):
        if self.steps.current in (TOKEN_STEP, BACKUP_STEP):
            return ["mfa/login_second_factor.html"]
        return super().get_template_names()

    def render(self, form=None, **kwargs):
        # Replaces LoginView.render's device.generate_challenge(): email codes go through our
        # email function (with the 60 s cooldown), push challenges are bound to this attempt.
        self.challenge_note = ""
        if self.steps.current == TOKEN_STEP and not (form and form.is_bound and form.errors):
            self._send_challenge(self.get_device())
        return super(LoginView, self).render(form, **kwargs)

    def _send_challenge(self, device) -> None:
        kind = services.type_of(device)
        if kind == "email":
            if not services.send_email_code(device, language=translation.get_language()):
                self.challenge_note = "cooldown"
                self.cooldown_message = services.email_code_wait_message(
                    self.get_user(), services.email_code_wait(device)
                )
        elif kind == "push":
            try:
                services.start_push_challenge(self.request, self.get_user(), device)
            except services.PushLimitReached:
                self.challenge_note = "push_limit"

    def get_context_data(self, form, **kwargs):
        context = super().get_context_data(form, **kwargs)
        if self.steps.current in (TOKEN_STEP, BACKUP_STEP):
            user = self.get_user()
            backup = services.backup_device(user)
            device = self.get_device(TOKEN_STEP)
            context.update(
                device=device,
                device_type=services.type_of(device),
                other_devices=self.get_other_devices(device),
                backup_tokens=backup.remaining() if backup else 0,
                challenge_note=getattr(self, "challenge_note", ""),
                cooldown_message=getattr(self, "cooldown_message", ""),
                login_timeout_minutes=settings.TWO_FACTOR_LOGIN_TIMEOUT // 60,
            )
            if context["device_type"] == "push":
                challenge = services.current_push_challenge(self.request, user)
                if challenge and challenge.status == challenge.Status.PENDING:
                    context["push_number"] = challenge.number
        return context

    def done(self, form_list, **kwargs):
        user = self.get_user()
        validated = self.storage.validated_step_data
        remember = any(bool(validated.get(step, {}).get("remember")) for step in validated)
        trusted = not getattr(user, "otp_device", None) and self.trusted_browser
        if trusted:
            user.otp_device = services.default_device(user, self._authenticators())
        response = super().done(form_list, **kwargs)
        self.request.session.pop(services.LOGIN_ATTEMPT_SESSION_KEY, None)
        if remember and getattr(user, "otp_device", None) and services.trust_allowed(user):
            response.set_cookie(
                services.TRUST_COOKIE,
                services.trust_cookie_value(user),
                max_age=services.TRUST_DAYS * 86400,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response
