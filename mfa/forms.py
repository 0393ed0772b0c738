from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.forms import FormErrorConcernsInput, RateLimited

from . import services

CODE_ATTRS = {
    "autocomplete": "one-time-code",
    "inputmode": "numeric",
    "pattern": "[0-9 ]*",
    "autofocus": True,
}


class CodeField(forms.CharField):
    """Six digits, as typed or pasted: authenticator apps show "123 456", and the spaces of
    such a copy are no part of the code (nor a wrong code that counts toward the lockout)."""

    # The browser cuts input at maxlength: room for "123 456" with a stray space each side.
    INPUT_MAXLENGTH = 9

    def to_python(self, value) -> str:
        return "".join(super().to_python(value).split())

    def widget_attrs(self, widget) -> dict:
        return {**super().widget_attrs(widget), "maxlength": str(self.INPUT_MAXLENGTH)}


def code_field() -> forms.CharField:
    return CodeField(
        label=_("6-digit code"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs=CODE_ATTRS),
    )


class NameForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=64,
        help_text=_("So that you can tell your authenticators apart, for example “my phone”."),
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Enter a name."))
        return name


class EmailSetupForm(RateLimited, NameForm):
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        help_text=_("We send a 6-digit code there to confirm the address."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self):
        if self.errors:  # a form sent back to be corrected sends nothing yet
            return super().clean()
        wait = services.email_setup_retry_after(self.user)
        if wait:
            self.refuse(wait, services.email_code_wait_message(self.user, wait))
        return super().clean()


class CodeForm(forms.Form):
    """Confirms a new authenticator with its first code (throttled, single use)."""

    code = code_field()

    def __init__(self, *args, device=None, **kwargs):
        self.device = device
        super().__init__(*args, **kwargs)

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        if services.verify_is_throttled(self.device):
            raise forms.ValidationError(
                _("Too many wrong codes. Wait a moment and try again."), code="throttled"
            )
        if not services.verify_code(self.device, code):
            raise forms.ValidationError(_("This code is not valid."), code="invalid")
        return code


# --- Sign-in second factor (used by mfa.login.SecondFactorLoginMixin) -------------------------


class _SecondFactorForm(forms.Form):
    """Base of the token and backup steps: takes the wizard's user, device and request."""

    # The wizard must not re-validate a consumed code when it finishes.
    idempotent = False
    use_required_attribute = False

    def __init__(self, user, initial_device, request=None, **kwargs):
        super().__init__(**kwargs)
        self.user = user
        self.device = initial_device
        self.request = request
        if user and services.trust_allowed(user):
            self.fields["remember"] = forms.BooleanField(
                label=_("Trust this browser for 30 days"),
                required=False,
                help_text=_("Only on a personal device. Changing your password ends it."),
            )

    def _refuse_blocked(self) -> None:
        self.user.refresh_from_db(fields=["blocked_at", "is_active"])
        if self.user.is_blocked or not self.user.is_active:
            raise forms.ValidationError(
                _("Your account is blocked. Use “Help with signing in”."), code="blocked"
            )

    def _check_code(self, token: str) -> None:
        self._refuse_blocked()
        if self.device is None:
            raise forms.ValidationError(_("This code is not valid."), code="invalid")
        if services.verify_is_throttled(self.device):
            raise forms.ValidationError(
                _("Too many wrong codes. Wait a moment and try again."), code="throttled"
            )
        if not services.verify_sign_in_code(self.request, self.user, self.device, token):
            self._refuse_blocked()
            raise forms.ValidationError(_("This code is not valid."), code="invalid")
        self.user.otp_device = self.device


class SecondFactorTokenForm(FormErrorConcernsInput, _SecondFactorForm):
    error_input = "otp_token"
    otp_token = code_field()

    def clean(self):
        token = self.cleaned_data.get("otp_token")
        if token:
            self._check_code(token)
        return self.cleaned_data


class BackupCodeForm(FormErrorConcernsInput, _SecondFactorForm):
    error_input = "otp_token"
    otp_token = forms.CharField(
        label=_("Backup code"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )

    def clean(self):
        token = self.cleaned_data.get("otp_token")
        if token:
            self._check_code(token)
        return self.cleaned_data


class PushApprovalForm(_SecondFactorForm):
    """Completes when this sign-in attempt's push challenge was approved on the phone."""

    def clean(self):
        self._refuse_blocked()
        if services.consume_approved_push(self.request, self.user, self.device):
            self.user.otp_device = self.device
            return self.cleaned_data
        status = services.push_status(self.request)
        if status == "denied":
            message = _("The sign-in was denied on your phone. Send a new request to try again.")
        elif status == "expired":
            message = _("The request expired. Send a new request to try again.")
        else:
            message = _("Not approved yet. Choose the number shown here in your app.")
        raise forms.ValidationError(message, code=status)
