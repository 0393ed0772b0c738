"""Forms of the security manager pages (/manage/) and of the public access requests (/access/).

Manager forms take the company through ``__init__`` and declare only the fields a manager may
set: posted ``is_staff``, ``is_superuser``, ``company`` or group fields are never read.
"""

from __future__ import annotations

from typing import NamedTuple

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy, pgettext_lazy

from mfa.services import TYPE_LABELS
from portal.durations import try_again_in
from portal.forms import MarksOptionalFields, RateLimited, is_database_id
from portal.throttle import count_hit, seconds_until_allowed

from .forms import NewPasswordForm, PhoneField
from .models import Company, SecurityEvent, SecurityManagerRequest, User

AUTHENTICATOR_TYPES = [(code, TYPE_LABELS[code]) for code in ("totp", "push", "email")]


class AuthenticatorTypesField(forms.MultipleChoiceField):
    """A company's allow-list of authenticator types, in the order of AUTHENTICATOR_TYPES;
    none chosen allows every type. The managers' policy page and the admin share it."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Allowed authenticator types"))
        kwargs.setdefault("help_text", _("Choose none to allow every type."))
        super().__init__(
            choices=AUTHENTICATOR_TYPES,
            required=False,
            widget=forms.CheckboxSelectMultiple,
            **kwargs,
        )

    def clean(self, value) -> list[str]:
        chosen = super().clean(value)
        return [code for code, _label in AUTHENTICATOR_TYPES if code in chosen]


MANAGER_REQUEST_LIMIT = 5  # per IP address and hour
MANAGER_REQUEST_WINDOW = 3600


class EmployeeForm(MarksOptionalFields, forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    email = forms.EmailField(
        label=_("Personal email"),
        max_length=254,
        required=False,
        help_text=_(
            "The employee receives a link to set their own password. Without an email address "
            "you get an initial password to hand over, valid for 7 days."
        ),
    )
    phone = PhoneField(label=_("Phone"), required=False)
    language = forms.ChoiceField(
        label=_("Language"),
        choices=User.Language.choices,
        initial=settings.LANGUAGE_CODE,
        # Typed in an imported file, where Django's "not one of the available choices" does
        # not say which are.
        error_messages={
            "invalid_choice": _("“%(value)s” is no language of the portal: use en, de or es.")
        },
    )

    def __init__(
        self, *args, company: Company, emails_in_use: dict[str, str] | None = None, **kwargs
    ):
        """``emails_in_use``: the user name of the company's account for each lower-cased
        address, when known (the CSV import looks them up once for the whole file)."""
        self.company = company
        self.emails_in_use = emails_in_use
        super().__init__(*args, **kwargs)

    def clean_first_name(self) -> str:
        return self.cleaned_data["first_name"].strip()

    def clean_last_name(self) -> str:
        return self.cleaned_data["last_name"].strip()

    def _account_with_email(self, email: str) -> str | None:
        """The user name of the company's account with this address: the manager sees their
        company's accounts anyway, so the error can say which one it is."""
        if self.emails_in_use is not None:
            return self.emails_in_use.get(email.lower())
        users = User.objects.filter(company=self.company, email__iexact=email)
        return users.values_list("username", flat=True).first()

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        username = self._account_with_email(email) if email else None
        if username:
            raise forms.ValidationError(
                _("%(username)s, an account of your company, already uses this email address."),
                code="taken",
                params={"username": username},
            )
        return email


class NewEmployeeForm(EmployeeForm):
    """One employee at /manage/employees/new/. Someone who looks like an active employee of the
    company already (``company_services.active_namesakes``, which the CSV import asks as well)
    is created only once "Create anyway" is ticked; the box shows with the warning."""

    create_anyway = forms.BooleanField(
        label=_("Create anyway"), required=False, widget=forms.HiddenInput
    )

    def clean(self):
        from .company_services import active_namesakes

        cleaned = super().clean()
        # Not an account field: the view hands cleaned_data to create_employee.
        confirmed = cleaned.pop("create_anyway", False)
        if not {"first_name", "last_name", "email"} <= cleaned.keys():
            return cleaned  # a field has an error (a taken address says so on its own)
        [namesakes] = active_namesakes(self.company, [cleaned])
        if namesakes:
            self.fields["create_anyway"].widget = forms.CheckboxInput()
            if not confirmed:
                raise forms.ValidationError(
                    _(
                        "An employee with this name already exists: %(usernames)s. If this is "
                        "someone else, tick “Create anyway”."
                    ),
                    code="namesake",
                    params={"usernames": ", ".join(namesakes)},
                )
        return cleaned


class EmployeeEditForm(MarksOptionalFields, forms.Form):
    """A manager corrects an employee's name or phone. Neither the user name (the employee
    signs in with it) nor the personal email (the employee's own, changed with confirmation
    from their profile) is a field here. Not a model form: validating would already write the
    values into the account, and the service compares them with the saved ones."""

    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    phone = PhoneField(
        label=_("Phone"),
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )

    def __init__(self, *args, employee: User, **kwargs):
        initial = {name: getattr(employee, name) for name in ("first_name", "last_name", "phone")}
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["last_name"].help_text = _(
            "The user name stays %(username)s: the employee signs in with it."
        ) % {"username": employee.username}

    def clean_first_name(self) -> str:
        return self.cleaned_data["first_name"].strip()

    def clean_last_name(self) -> str:
        return self.cleaned_data["last_name"].strip()


class EmployeeFilterForm(forms.Form):
    # The states are the accounts' (Spanish "cuentas": "Todas", "Activas", as the list's badges
    # say "activa"), so "All" is a message of its own: the security log's is "Todos" (eventos).
    STATES = [
        ("", pgettext_lazy("accounts", "All")),
        ("active", _("Active")),
        ("blocked", _("Blocked")),
        ("inactive", _("Deactivated")),
    ]
    PASSWORD = [
        ("", _("Any")),
        ("expired", _("Expired")),
        ("expiring", _("Expiring within 14 days")),
        ("ok", _("Valid")),
    ]
    MFA = [("", _("Any")), ("yes", _("Set up")), ("no", _("Not set up"))]
    SORTS = [
        ("username", _("User name")),
        ("last_name", _("Last name")),
        ("-last_login", _("Last sign-in, newest first")),
        ("last_login", _("Last sign-in, oldest first")),
        ("-date_joined", _("Newest accounts first")),
    ]

    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    state = forms.ChoiceField(label=_("State"), choices=STATES, required=False)
    password = forms.ChoiceField(label=_("Password"), choices=PASSWORD, required=False)
    mfa = forms.ChoiceField(label=_("Two-factor"), choices=MFA, required=False)
    never_signed_in = forms.BooleanField(label=_("Never signed in"), required=False)
    sort = forms.ChoiceField(label=_("Sort by"), choices=SORTS, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update(
            {"type": "search", "placeholder": _("Name, user name, email")}
        )


class IdListField(forms.Field):
    """A list of account ids; resolving them (inside the manager's company) is the view's job."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        if not value:
            return []
        try:
            ids = sorted({int(item) for item in value})
        except (TypeError, ValueError) as error:
            raise forms.ValidationError(
                _("Choose employees from the list."), code="invalid"
            ) from error
        if not all(is_database_id(pk) for pk in ids):
            raise forms.ValidationError(_("Choose employees from the list."), code="invalid")
        return ids


class ActionResult(NamedTuple):
    """What an action did, in words: to one named employee (``%(name)s``) or counted over
    several (``%(count)d``); "skipped" is for those it did not apply to."""

    done_one: str
    done_many: str
    skipped_one: str
    skipped_many: str


class EmployeeActionForm(forms.Form):
    ACTIONS = [
        ("block", _("Block")),
        ("unblock", _("Unblock")),
        ("send_password_reset", _("Send password reset email")),
        ("initial_password", _("Issue new initial password")),
        ("reset_mfa", _("Reset two-factor authentication")),
        ("deactivate", _("Deactivate (offboarding)")),
        ("reactivate", _("Reactivate")),
    ]
    # Asked about first in the browser: they lock someone out or take away what they set up.
    CONFIRM = {"block", "initial_password", "reset_mfa", "deactivate"}
    # The message after each action; "initial_password" shows the passwords on a page instead.
    RESULTS = {
        "block": ActionResult(
            _("%(name)s is blocked."),
            ngettext_lazy("%(count)d employee blocked.", "%(count)d employees blocked.", "count"),
            _("%(name)s was already blocked."),
            ngettext_lazy(
                "%(count)d employee was already blocked and was skipped.",
                "%(count)d employees were already blocked and were skipped.",
                "count",
            ),
        ),
        "unblock": ActionResult(
            _("%(name)s is unblocked."),
            ngettext_lazy(
                "%(count)d employee unblocked.", "%(count)d employees unblocked.", "count"
            ),
            _("%(name)s was not blocked."),
            ngettext_lazy(
                "%(count)d employee was not blocked and was skipped.",
                "%(count)d employees were not blocked and were skipped.",
                "count",
            ),
        ),
        "send_password_reset": ActionResult(
            _("A password reset email has been sent to %(name)s."),
            ngettext_lazy(
                "A password reset email has been sent to %(count)d employee.",
                "A password reset email has been sent to %(count)d employees.",
                "count",
            ),
            _(
                "No email was sent to %(name)s: the account has no email address or is blocked "
                "or deactivated."
            ),
            ngettext_lazy(
                "%(count)d employee was skipped: no email address, blocked or deactivated.",
                "%(count)d employees were skipped: no email address, blocked or deactivated.",
                "count",
            ),
        ),
        "reset_mfa": ActionResult(
            _("Two-factor authentication has been reset for %(name)s."),
            ngettext_lazy(
                "Two-factor authentication has been reset for %(count)d employee.",
                "Two-factor authentication has been reset for %(count)d employees.",
                "count",
            ),
            _("%(name)s had no authenticator to reset."),
            ngettext_lazy(
                "%(count)d employee had no authenticator and was skipped.",
                "%(count)d employees had no authenticator and were skipped.",
                "count",
            ),
        ),
        "deactivate": ActionResult(
            _("%(name)s is deactivated."),
            ngettext_lazy(
                "%(count)d employee deactivated.", "%(count)d employees deactivated.", "count"
            ),
            _("%(name)s was already deactivated."),
            ngettext_lazy(
                "%(count)d employee was already deactivated and was skipped.",
                "%(count)d employees were already deactivated and were skipped.",
                "count",
            ),
        ),
        "reactivate": ActionResult(
            _("%(name)s is active again."),
            ngettext_lazy(
                "%(count)d employee reactivated.", "%(count)d employees reactivated.", "count"
            ),
            _("%(name)s was already active."),
            ngettext_lazy(
                "%(count)d employee was already active and was skipped.",
                "%(count)d employees were already active and were skipped.",
                "count",
            ),
        ),
    }
    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    ids = IdListField(
        label=_("Employees"), error_messages={"required": _("Select at least one employee.")}
    )


class CompanyPolicyForm(forms.Form):
    mfa_required = forms.BooleanField(
        label=_("Two-factor authentication required for every employee"), required=False
    )
    allowed_authenticator_types = AuthenticatorTypesField()
    password_max_age_days = forms.IntegerField(
        label=_("Maximum password age (days)"),
        required=False,
        min_value=0,
        max_value=3650,
        help_text=_("Empty uses the portal default; 0 means passwords never expire."),
    )
    trust_browser_allowed = forms.BooleanField(
        label=_("Employees may choose “trust this browser”"), required=False
    )

    def __init__(self, *args, company: Company, **kwargs):
        self.company = company
        initial = {
            "mfa_required": company.mfa_required,
            "allowed_authenticator_types": company.allowed_authenticator_types,
            "password_max_age_days": company.password_max_age_days,
            "trust_browser_allowed": company.trust_browser_allowed,
        }
        super().__init__(*args, initial=initial, **kwargs)

    def clean(self):
        cleaned = super().clean()
        allowed = cleaned.get("allowed_authenticator_types")
        if cleaned.get("mfa_required") and allowed == ["email"]:
            # Email alone is not a strong factor for managers (see roles.requires_strong_second_factor).
            raise forms.ValidationError(
                _("When two-factor authentication is required, allow the app or push as well."),
                code="weak_only",
            )
        return cleaned


class SecurityLogFilterForm(forms.Form):
    # Named as the column it searches (the account's user name or last name), not "User".
    q = forms.CharField(label=_("Account"), required=False, max_length=100)
    kind = forms.ChoiceField(
        label=_("Event"), required=False, choices=[("", _("All")), *SecurityEvent.Kind.choices]
    )
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        # Swapped dates would match nothing: say so rather than answer "No matching events."
        if date_from and date_to and date_to < date_from:
            self.add_error("date_to", _("“To” is before “From”: choose a later date."))
        return cleaned


class ImportUploadForm(forms.Form):
    MAX_BYTES = 512 * 1024
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "First line: first_name,last_name,email,phone,language. Comma or semicolon "
            "separated, as Excel saves it (UTF-8 or Windows), at most 500 employees."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError(_("The file is too large (at most 512 KB)."))
        from .company_services import read_employee_csv

        try:
            self.rows = read_employee_csv(upload.read())
        except ValueError as error:
            raise forms.ValidationError(str(error)) from error
        return upload


class ImportConfirmForm(forms.Form):
    """The manager's answer on the import preview: import the valid rows despite others' errors,
    and which rows that look like an existing employee to create anyway (by line)."""

    only_valid = forms.BooleanField(required=False)
    create_anyway = forms.TypedMultipleChoiceField(coerce=int, required=False)

    def __init__(self, *args, lines: range, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["create_anyway"].choices = [(line, line) for line in lines]


class ActivationForm(NewPasswordForm):
    """The employee's first password, from the activation link."""


class ManagerRequestForm(RateLimited, MarksOptionalFields, forms.ModelForm):
    """'Authorize a Security Manager': stored, then sent to the provider's order desk."""

    entitled_confirmed = forms.BooleanField(
        label=_("I confirm that I am entitled to sign for this company."),
        error_messages={
            "required": _("Please confirm that you are entitled to sign for this company.")
        },
    )

    class Meta:
        model = SecurityManagerRequest
        fields = [
            "company_name",
            "customer_number",
            "nominee_first_name",
            "nominee_last_name",
            "nominee_email",
            "nominee_phone",
            "requester_name",
            "requester_role",
            "requester_email",
            "entitled_confirmed",
        ]
        widgets = {
            "company_name": forms.TextInput(attrs={"autocomplete": "organization"}),
            "customer_number": forms.TextInput(attrs={"inputmode": "numeric", "pattern": r"\d{5}"}),
            "nominee_phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
            "requester_email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "requester_name": forms.TextInput(attrs={"autocomplete": "name"}),
        }
        field_classes = {"nominee_phone": PhoneField}

    def __init__(self, *args, request=None, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)
        self.fields["customer_number"].help_text = _(
            "The five digits on your contract or invoices."
        )

    def _throttle_key(self) -> str:
        from .services import client_ip

        return f"manager-request:{client_ip(self.request) or 'unknown'}"

    def clean(self):
        cleaned = super().clean()
        limit, window = MANAGER_REQUEST_LIMIT, MANAGER_REQUEST_WINDOW
        wait = seconds_until_allowed(self._throttle_key(), limit=limit, window=window)
        if wait:
            self.refuse(wait, try_again_in(wait))
        return cleaned

    def count_submission(self) -> None:
        limit, window = MANAGER_REQUEST_LIMIT, MANAGER_REQUEST_WINDOW
        count_hit(self._throttle_key(), limit=limit, window=window)


class RejectManagerRequestForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (sent to the requester)"), widget=forms.Textarea, max_length=2000
    )
