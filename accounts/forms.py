from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm, SetPasswordMixin
from django.core.validators import validate_email
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField

from portal.durations import try_again_in
from portal.forms import FormErrorConcernsInput, MarksOptionalFields, RateLimited

from . import services
from .models import User
from .password_policy import password_rules_html
from .timezones import grouped_time_zone_choices, time_zone_choices

INVALID_CREDENTIALS = _("Invalid user name or password.")


# What the per-network limits of the sign-in and of registration say (portal.durations'
# try_again_in fills in the wait).
TOO_MANY_SIGN_IN_FAILURES = _(
    "There were too many failed sign-ins from your network. Please try again in %(duration)s."
)
TOO_MANY_REGISTRATIONS = _(
    "Too many accounts were registered from your network. Please try again in %(duration)s."
)


class PhoneField(PhoneNumberField):
    """Every phone field of the portal: one example, in the help text and in the error (the
    library's own error would show a US number)."""

    def __init__(self, **kwargs):
        # A model form passes the model field's empty help text: replace that too.
        kwargs["help_text"] = kwargs.get("help_text") or _(
            "International format, for example +49 30 1234567."
        )
        super().__init__(**kwargs)
        self.error_messages["invalid"] = _(
            "Enter the phone number in international format, for example +49 30 1234567."
        )


class IdentifyForm(forms.Form):
    """Step 1 of the sign-in: who is signing in. Never tells whether the account exists."""

    username = forms.CharField(
        label=_("User"),
        max_length=254,
        help_text=_("Your user name (for example c12345.ab) or your email address."),
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autofocus": True, "autocapitalize": "none"}
        ),
    )

    def __init__(self, *args, request=None, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip()


def refuse_over_sign_in_limit(form: RateLimited) -> None:
    """Refuse ``form`` before it checks a password while its network is over the limit of
    failed sign-ins: every form that checks one counts its failures there."""
    wait = services.ip_retry_after(form.request)
    if wait:
        form.refuse(wait, try_again_in(wait, TOO_MANY_SIGN_IN_FAILURES))


class PasswordStepForm(RateLimited, FormErrorConcernsInput, forms.Form):
    """Step 2 of the sign-in; ``user_cache`` is the user once the password is right.

    Refused without checking the password while the network is over its limit of failed
    sign-ins: the limit and the check are one, so no way through the wizard skips it."""

    error_input = "password"

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
        refuse_over_sign_in_limit(self)
        result = services.check_sign_in_password(self.request, self.identifier, password)
        if result.user is None:
            raise forms.ValidationError(INVALID_CREDENTIALS, code="invalid_login")
        self.user_cache = result.user
        self.unverified_email = result.unverified_email
        return self.cleaned_data

    def get_user(self):
        return self.user_cache


class ProfileForm(MarksOptionalFields, forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "phone", "preferred_language", "time_zone"]
        widgets = {
            "first_name": forms.TextInput(attrs={"autocomplete": "given-name"}),
            "last_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
            "time_zone": forms.Select(choices=[]),
        }
        field_classes = {"phone": PhoneField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["first_name"].required = True
        self.fields["last_name"].required = True
        self.fields["time_zone"].widget.choices = grouped_time_zone_choices(
            current=self.instance.time_zone
        )
        # portal.js shows it when the device is set to another zone of the list.
        self.fields["time_zone"].help_text = format_html(
            "<span data-device-time-zone-hint hidden>{} <strong></strong> "
            '<button type="button" class="button-small button-secondary">{}</button></span>',
            _("This device is set to"),
            _("Use this time zone"),
        )

    def clean_time_zone(self) -> str:
        value = self.cleaned_data["time_zone"]
        if value not in time_zone_choices():
            raise forms.ValidationError(_("Choose a time zone from the list."))
        return value


class NewPasswordForm(SetPasswordForm):
    """Every form that sets a new password: the labels the provider's help pages use."""

    new_password1, new_password2 = SetPasswordMixin.create_password_fields(
        label1=_("New password"), label2=_("Confirm new password")
    )
    # Django's own help reads in Spanish as "the same previous password" (the old one?).
    new_password2.help_text = _("Type the new password again, to rule out a typing mistake.")

    def __init__(self, user, *args, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.fields["new_password1"].help_text = password_rules_html(user)

    def validate_password_for_user(self, user, password_field_name="new_password2"):  # noqa: S107
        # The rules are about the new password: their errors go under it, not under its
        # confirmation, and come together with a mismatch rather than after it.
        if password_field_name == "new_password2":
            password_field_name = "new_password1"
        super().validate_password_for_user(user, password_field_name)


class RequiredPasswordChangeForm(NewPasswordForm):
    """New password + confirmation; the new one must differ from the current one."""

    def clean_new_password1(self):
        password = self.cleaned_data.get("new_password1")
        if password and self.user.check_password(password):
            raise forms.ValidationError(
                _("The new password must differ from your current password."), code="same"
            )
        return password


# --- Self-service: registration and recovery ---------------------------------------------------


class RegistrationForm(RateLimited, MarksOptionalFields, forms.Form):
    first_name = forms.CharField(
        label=_("First name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "given-name", "autofocus": True}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    email = forms.EmailField(
        label=_("Personal email"),
        max_length=254,
        help_text=_(
            "An address that only you read, such as your work address; not a shared mailbox. "
            "We send a link to verify it, later your password reminders and recovery links."
        ),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = PhoneField(
        label=_("Phone"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Confirm password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    accept_terms = forms.BooleanField(
        label=_("I accept the Terms of Service."),
        error_messages={"required": _("Please accept the Terms of Service to register.")},
    )
    # Filled in by the page's script from the device's settings; the profile can change it.
    time_zone = forms.CharField(
        required=False,
        max_length=64,
        widget=forms.HiddenInput(attrs={"data-device-time-zone": ""}),
    )

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.fields["password1"].help_text = password_rules_html(None)  # nobody has a company
        self.fields["accept_terms"].help_text = format_html(
            '<a href="{}">{}</a>',
            reverse("accounts:terms"),
            _("Read the Terms of Service (version %(version)s)")
            % {"version": settings.TERMS_VERSION},
        )

    def clean_first_name(self) -> str:
        return self.cleaned_data["first_name"].strip()

    def clean_last_name(self) -> str:
        return self.cleaned_data["last_name"].strip()

    def clean_time_zone(self) -> str:
        """The device's zone when it is one we know; otherwise the default, without a word:
        the person did not type it."""
        value = self.cleaned_data["time_zone"]
        if value in ("Etc/UTC", "Etc/GMT", "GMT", "Etc/Universal", "Universal"):
            return "UTC"
        return value if value in time_zone_choices() else ""

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords do not match."))
        if password1:  # the rules too, at once, not after the mismatch is fixed
            candidate = User(
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
                email=cleaned.get("email", ""),
            )
            try:
                password_validation.validate_password(password1, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        if not self.errors:  # counted once the form is right: typing mistakes cost nothing
            wait = services.registration_retry_after(self.request)
            if wait:
                self.refuse(wait, try_again_in(wait, TOO_MANY_REGISTRATIONS))
        return cleaned


class RecoveryRequestForm(RateLimited, forms.Form):
    """A public form that emails an address or an account: limited per IP address (the
    limit all of them share), counted once the form is right."""

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            wait = services.recovery_retry_after(self.request)
            if wait:
                self.refuse(wait, try_again_in(wait))
        return cleaned


class EmailAddressForm(RecoveryRequestForm):
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


class AccountIdentifierForm(RecoveryRequestForm):
    identifier = forms.CharField(
        label=_("User name or email address"),
        max_length=254,
        help_text=_("For example c12345.ab or your email address."),
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autofocus": True, "autocapitalize": "none"}
        ),
    )

    def clean_identifier(self) -> str:
        identifier = self.cleaned_data["identifier"].strip()
        if "@" in identifier:  # an address, never a user name: the email goes there
            validate_email(identifier)
        return identifier


# --- Accounts II: re-authentication, password change, profile email --------------------------


class ChecksCurrentPassword(RateLimited):
    """A signed-in form that asks for the account's password again, counted like a sign-in
    attempt (failures block the account) and refused like one, unchecked, while the network
    is over its limit of failed sign-ins: a session must not let anyone keep guessing past
    it. ``locked_out`` tells the view that the account is locked out (this failure or an
    earlier one locked it): it then signs the session out (reauth.sign_out_locked_out)."""

    locked_out = False

    def check_current_password(self, user: User, password: str, error: forms.ValidationError):
        refuse_over_sign_in_limit(self)
        result = services.check_sign_in_password(self.request, user.username, password)
        if result.user is None or result.user.pk != user.pk:
            self.locked_out = result.locked_out
            raise error


class ReauthenticationForm(ChecksCurrentPassword, forms.Form):
    """The password again, before a security page (reauth.reauthentication_required)."""

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
        error = forms.ValidationError(_("Your password was not correct."), code="invalid")
        self.check_current_password(self.request.user, password, error)
        return password


class PortalPasswordChangeForm(
    ChecksCurrentPassword, RequiredPasswordChangeForm, PasswordChangeForm
):
    """Current password, new password, confirmation; the current one is checked like a
    re-authentication (ChecksCurrentPassword)."""

    # "Current", as the portal's other messages say, not Django's "old" beside the new one.
    error_messages = {
        **PasswordChangeForm.error_messages,
        "password_incorrect": _("Your current password is not correct."),
    }

    def __init__(self, user, *args, request=None, **kwargs):
        self.request = request
        super().__init__(user, *args, **kwargs)
        self.fields["old_password"].label = _("Current password")

    def clean_old_password(self) -> str:
        password = self.cleaned_data["old_password"]
        error = forms.ValidationError(
            self.error_messages["password_incorrect"], code="password_incorrect"
        )
        self.check_current_password(self.user, password, error)
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
