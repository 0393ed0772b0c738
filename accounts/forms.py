from __future__ import annotations

from django import forms
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.utils.translation import gettext_lazy as _

from . import services
from .models import User
from .timezones import time_zone_choices

INVALID_CREDENTIALS = _("Invalid user name or password.")


class IdentifyForm(forms.Form):
    """Step 1 of the sign-in: who is signing in. Never tells whether the account exists."""

    username = forms.CharField(
        label=_("User"),
        max_length=254,
        help_text=_("Your user name (for example c10234.jd) or your email address."),
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autofocus": True, "autocapitalize": "none"}
        ),
    )

    def __init__(self, *args, request=None, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip()


class PasswordStepForm(forms.Form):
    """Step 2 of the sign-in; ``user_cache`` is the user once the password is right."""

    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )

    def __init__(self, *args, request=None, identifier: str = "", **kwargs):
        self.request = request
        self.identifier = identifier
        self.user_cache = None
        self.unverified_email = False
        super().__init__(*args, **kwargs)

    def clean(self):
        password = self.cleaned_data.get("password")
        if password is None:
            return self.cleaned_data
        result = services.check_sign_in_password(self.request, self.identifier, password)
        if result.user is None:
            raise forms.ValidationError(INVALID_CREDENTIALS, code="invalid_login")
        self.user_cache = result.user
        self.unverified_email = result.unverified_email
        return self.cleaned_data

    def get_user(self):
        return self.user_cache


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "phone", "preferred_language", "time_zone"]
        widgets = {
            "first_name": forms.TextInput(attrs={"autocomplete": "given-name"}),
            "last_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
            "time_zone": forms.Select(choices=[]),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["first_name"].required = True
        self.fields["last_name"].required = True
        self.fields["phone"].help_text = _("International format, for example +49 30 1234567.")
        self.fields["time_zone"].widget.choices = [(tz, tz) for tz in time_zone_choices()]

    def clean_time_zone(self) -> str:
        value = self.cleaned_data["time_zone"]
        if value not in time_zone_choices():
            raise forms.ValidationError(_("Choose a time zone from the list."))
        return value


class RequiredPasswordChangeForm(SetPasswordForm):
    """New password + confirmation; the new one must differ from the current one."""

    def clean_new_password1(self):
        password = self.cleaned_data.get("new_password1")
        if password and self.user.check_password(password):
            raise forms.ValidationError(
                _("The new password must differ from your current password."), code="same"
            )
        return password


# --- Accounts II: re-authentication, password change, profile email --------------------------


class ReauthenticationForm(forms.Form):
    """The password again, counted like a sign-in attempt (failures block the account)."""

    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )

    def __init__(self, *args, request, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        result = services.check_sign_in_password(self.request, self.request.user.username, password)
        if result.user is None or result.user.pk != self.request.user.pk:
            raise forms.ValidationError(_("Your password was not correct."), code="invalid")
        return password


class PortalPasswordChangeForm(PasswordChangeForm, RequiredPasswordChangeForm):
    """Current password, new password, confirmation; wrong current passwords are counted."""

    def __init__(self, user, *args, request=None, **kwargs):
        self.request = request
        super().__init__(user, *args, **kwargs)

    def clean_old_password(self) -> str:
        password = self.cleaned_data["old_password"]
        result = services.check_sign_in_password(self.request, self.user.username, password)
        if result.user is None or result.user.pk != self.user.pk:
            raise forms.ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            )
        return password


class ProfileWithEmailForm(ProfileForm):
    """The profile plus the personal email; a new email only applies once confirmed."""

    email = forms.EmailField(
        label=_("Personal email"),
        max_length=254,
        help_text=_(
            "Mandatory: we send password reminders and account recovery links here. "
            "A new address applies once you confirm it from the link we send to it."
        ),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    field_order = ["first_name", "last_name", "email"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].initial = self.instance.email

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip()

    @property
    def new_email(self) -> str | None:
        """The address to confirm, when it differs from the current one."""
        email = self.cleaned_data.get("email", "")
        if email and email.lower() != (self.instance.email or "").lower():
            return email
        return None
