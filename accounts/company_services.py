"""What security managers (and provider staff) do with a company's accounts.

Every function here that changes an account writes the security log through
``services.record_event`` with the acting manager as ``actor``, and sends email only through
``accounts.emails``. Scoping lives in ``employees_visible_to`` (every manager view starts there)
and ``employees_of``, the company's employees without provider staff.
"""

from __future__ import annotations

import csv
import io
import secrets
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.core import signing
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import BooleanField, Case, F, Q, QuerySet, When
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django_otp import devices_for_user

from mfa.services import (
    forget_authenticator_state,
    has_authenticator_q,
    has_sufficient_authenticator_q,
)

from . import roles
from .emails import send_email, send_email_to_user
from .models import Company, SecurityEvent, SecurityManagerRequest, User
from .services import password_reset_url, record_event

Kind = SecurityEvent.Kind

INITIAL_PASSWORD_LIFETIME = timedelta(days=7)
ACTIVATION_MAX_AGE = 24 * 3600
ACTIVATION_SALT = "accounts.company_services.activation"
REQUEST_STATUS_SALT = "accounts.company_services.manager_request_status"
PASSWORD_EXPIRING_WITHIN = timedelta(days=14)
USERNAME_SUFFIXES = "abcdefghijklmnopqrstuvwxyz0123456789"


# --- Scoping -------------------------------------------------------------------------------


def employees_of(company: Company | int) -> QuerySet[User]:
    """The company's employees: its accounts, never provider staff who happen to have it."""
    return User.objects.filter(company=company, is_staff=False, is_superuser=False)


def employees_visible_to(manager: User) -> QuerySet[User]:
    """The accounts a security manager may list, see and act on: their company's employees."""
    if not roles.is_security_manager(manager):
        return User.objects.none()
    return employees_of(manager.company_id).select_related("company")


# An event about a provider staff member's own account (a policy changed in the admin; both
# ids are empty once the staff account is deleted): the company's log names no account there.
_PROVIDERS_OWN_ACCOUNT = Q(done_by_provider=True) & (
    Q(user=F("actor")) | Q(user__isnull=True, actor__isnull=True)
)


def events_visible_to(manager: User) -> QuerySet[SecurityEvent]:
    """The company's security log, each event annotated ``account_hidden``: the log shows no
    account for it, and its search must not find one either."""
    if not roles.is_security_manager(manager):
        return SecurityEvent.objects.none()
    return SecurityEvent.objects.filter(company_id=manager.company_id).annotate(
        account_hidden=Case(
            When(_PROVIDERS_OWN_ACCOUNT, then=True),
            default=False,
            output_field=BooleanField(),
        )
    )


def with_states(users: QuerySet[User]) -> QuerySet[User]:
    """Annotate ``has_mfa``: whether the account's authenticators are enough for its role, as
    the enforcement decides (mfa.services.has_sufficient_authenticator_q): backup codes left
    without one are none, and email codes alone are none for a Security Manager. And
    ``has_authenticator``: whether it has any (something a reset would remove)."""
    return users.annotate(
        has_mfa=has_sufficient_authenticator_q(), has_authenticator=has_authenticator_q()
    )


def password_state_filter(company: Company, state: str, now=None) -> Q:
    """``expired`` / ``expiring`` (within 14 days) / ``ok`` against the company's maximum age."""
    now = now or timezone.now()
    max_age = company.effective_password_max_age_days
    if not max_age:
        return Q(pk__in=[]) if state in ("expired", "expiring") else Q()
    expired_before = now - timedelta(days=max_age)
    expiring_before = expired_before + PASSWORD_EXPIRING_WITHIN
    if state == "expired":
        return Q(password_changed_at__lte=expired_before)
    if state == "expiring":
        return Q(password_changed_at__gt=expired_before, password_changed_at__lte=expiring_before)
    if state == "ok":
        return Q(password_changed_at__gt=expiring_before) | Q(password_changed_at__isnull=True)
    return Q()


# --- User names and passwords ----------------------------------------------------------------


def _initial(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    letters = [c for c in folded if "a" <= c <= "z"]
    return letters[0] if letters else "x"


def username_candidates(company: Company, first_name: str, last_name: str):
    """c + customer number + . + initials, then the same with one disambiguating character."""
    base = f"c{company.customer_number}.{_initial(first_name)}{_initial(last_name)}"
    yield base
    for suffix in USERNAME_SUFFIXES:
        yield base + suffix


class UserNamesExhausted(Exception):
    """Every user name for these initials is taken (37 accounts with the same initials)."""


def _generate_password() -> str:
    # Four groups of five from an alphabet without look-alikes: easy to read out, ~100 bits.
    alphabet = "abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789"
    groups = ["".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4)]
    return "-".join(groups)


def _set_initial_password(user: User) -> str:
    password = _generate_password()
    user.set_password(password)
    user.must_change_password = True
    user.initial_password_expires_at = timezone.now() + INITIAL_PASSWORD_LIFETIME
    return password


# --- Activation links ------------------------------------------------------------------------


def _activation_state(user: User) -> str:
    """Changes as soon as the password is set or the account is deactivated: the link dies."""
    value = f"{user.pk}|{user.password}|{user.last_login}|{user.is_active}"
    return salted_hmac(ACTIVATION_SALT, value).hexdigest()


def make_activation_token(user: User) -> str:
    return signing.dumps([user.pk, _activation_state(user)], salt=ACTIVATION_SALT)


def _activation_link_account(token: str) -> tuple[User, str] | None:
    """The active account of a genuine, unexpired activation link, with the state it was
    made for."""
    try:
        pk, state = signing.loads(token, salt=ACTIVATION_SALT, max_age=ACTIVATION_MAX_AGE)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    user = User.objects.filter(pk=pk, is_active=True).first()
    return (user, str(state)) if user is not None else None


def user_for_activation_token(token: str) -> User | None:
    found = _activation_link_account(token)
    if found is None or not constant_time_compare(found[1], _activation_state(found[0])):
        return None
    return found[0]


def activation_link_was_used(token: str) -> User | None:
    """The account of a genuine, unexpired activation link whose password is set since: the
    link did its work (a second click, the email opened again), which is not an error."""
    found = _activation_link_account(token)
    if found is None or not found[0].has_usable_password():
        return None
    return found[0]


def activation_url(user: User) -> str:
    path = reverse("access:activate", args=[make_activation_token(user)])
    return f"{settings.SITE_URL}{path}"


def send_activation_email(user: User, *, security_manager: bool = False) -> None:
    """``security_manager``: the account is for the nominee of an approved request, created
    by provider staff, not by the company: the email says so."""
    context = {
        "activation_url": activation_url(user),
        "hours": ACTIVATION_MAX_AGE // 3600,
        "security_manager": security_manager,
    }
    send_email_to_user(user, "employee_activation", context)


def activate_account(request, user: User, password: str) -> None:
    """The employee sets their first password from the activation link."""
    user.set_password(password)
    user.must_change_password = False
    user.initial_password_expires_at = None
    user.email_verified = True  # the link reached them at this address
    user.save()
    record_event(Kind.EMAIL_VERIFIED, user, request=request, via="activation")
    record_event(Kind.PASSWORD_CHANGED, user, request=request, via="activation")


# --- Creating employees ----------------------------------------------------------------------


@dataclass
class CreatedEmployee:
    user: User
    initial_password: str | None = None


def create_employee(
    company: Company,
    *,
    first_name: str,
    last_name: str,
    email: str = "",
    phone: str = "",
    language: str = "en",
    actor: User | None = None,
    request=None,
    security_manager: bool = False,
) -> CreatedEmployee:
    """Create an account with a generated user name; activation email, or an initial password
    (returned to be shown once) when there is no email address. ``security_manager``: for the
    nominee of an approved request (send_activation_email)."""
    for candidate in username_candidates(company, first_name, last_name):
        if User.objects.filter(username__iexact=candidate).exists():
            continue
        user = User(
            username=candidate,
            company=company,
            first_name=first_name,
            last_name=last_name,
            email=email,
            phone=phone or "",
            preferred_language=language,
        )
        if actor is not None and actor.company_id == company.pk:
            # Usually where their Security Manager is; their profile offers their device's zone.
            user.time_zone = actor.time_zone
        initial_password = None
        if email:
            user.set_unusable_password()
            user.password_changed_at = None
        else:
            initial_password = _set_initial_password(user)
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            continue  # taken in the meantime by a parallel request: next candidate
        break
    else:
        raise UserNamesExhausted(company.customer_number)

    record_event(
        Kind.ACCOUNT_CREATED,
        user,
        actor=actor,
        request=request,
        delivery="email" if email else "initial_password",
    )
    if email:
        send_activation_email(user, security_manager=security_manager)
    return CreatedEmployee(user=user, initial_password=initial_password)


# --- Editing an employee -----------------------------------------------------------------------

EDITABLE_FIELDS = ("first_name", "last_name", "phone")


def update_employee(employee: User, values: dict, *, actor: User, request=None) -> list[str]:
    """Save a manager's corrections of the employee's name and phone; returns and logs the
    fields that changed. The user name stays: the employee signs in with it."""
    changed = [name for name in EDITABLE_FIELDS if getattr(employee, name) != values[name]]
    if not changed:
        return []
    for name in changed:
        setattr(employee, name, values[name])
    employee.save(update_fields=changed)
    record_event(Kind.PROFILE_CHANGED, employee, actor=actor, request=request, fields=changed)
    return changed


# --- Actions on one or many employees --------------------------------------------------------


def end_sessions(users) -> int:
    """Sign these users out everywhere (their tracked sessions end and are refused)."""
    from .sessions_service import end_all_sessions

    return sum(end_all_sessions(user, "ended_by_manager") for user in users)


# What provider staff did, only staff may undo (its owner was told to ask our support): the
# action that would undo it, and the User property that tells.
STAFF_ONLY_ACTIONS = {"unblock": "blocked_by_staff", "reactivate": "deactivated_by_staff"}


def left_to_staff(action: str, user: User) -> bool:
    """Whether ``action`` would undo on ``user`` what provider staff did."""
    flag = STAFF_ONLY_ACTIONS.get(action)
    return bool(flag) and getattr(user, flag)


def applicable_actions(employee: User) -> list[str]:
    """The employee actions that change something for this account, in the order of
    EmployeeActionForm.ACTIONS; ``employee`` comes from with_states (``has_authenticator``)."""
    blocked_by_person = employee.is_blocked_by_manager
    usable = {
        "block": employee.is_active and not blocked_by_person,
        "unblock": employee.is_blocked,
        "send_password_reset": employee.is_active
        and bool(employee.email)
        and not blocked_by_person,
        "initial_password": employee.is_active and not blocked_by_person,
        "reset_mfa": bool(getattr(employee, "has_authenticator", True)),
        "deactivate": employee.is_active,
        "reactivate": not employee.is_active,
    }
    return [a for a, ok in usable.items() if ok and not left_to_staff(a, employee)]


def acted_by_staff(actor: User) -> bool:
    """Provider staff acting from the admin, not the company's Security Manager: the emails
    say who it was, and whom to ask."""
    return roles.is_provider_staff(actor) or actor.is_staff


def block_employees(users, *, actor: User, request=None) -> int:
    """Block sign-in until staff lift it. An account locked out after failed sign-ins gets
    the manager's block too: its owner could otherwise lift it with the lockout's link.
    Staff take over a Security Manager's block: then only staff may lift it."""
    by_staff = acted_by_staff(actor)
    changed = [
        user
        for user in users
        if not user.is_blocked_by_manager or (by_staff and not user.blocked_by_staff)
    ]
    now = timezone.now()
    for user in changed:
        user.blocked_at = now
        user.blocked_reason = User.BlockReason.STAFF if by_staff else User.BlockReason.MANAGER
        user.save(update_fields=["blocked_at", "blocked_reason"])
        record_event(Kind.BLOCKED, user, actor=actor, request=request, reason="manager")
    end_sessions(changed)
    return len(changed)


def unblock_employees(users, *, actor: User, request=None) -> int:
    """Lift blocks. A block by provider staff is theirs alone to lift (the owner was told to
    ask our support): a Security Manager's unblock leaves it in place."""
    from .services import unblock_user

    by_staff = acted_by_staff(actor)
    changed = [
        user
        for user in users
        if user.is_blocked and (by_staff or not left_to_staff("unblock", user))
    ]
    for user in changed:
        unblock_user(user, request=request, actor=actor)
    return len(changed)


def send_password_resets(users, *, actor: User, request=None) -> int:
    """Email a password reset link to each active employee with an address.

    Accounts blocked by a manager are left out, as deactivated ones: a reset does not lift
    that block and the link would be refused; unblock first. A lockout is lifted by the reset."""
    sent = 0
    for user in users:
        if not user.is_active or not user.email or user.is_blocked_by_manager:
            continue
        send_email_to_user(
            user,
            "employee_password_reset",
            {"reset_url": password_reset_url(user), "by_staff": acted_by_staff(actor)},
        )
        record_event(Kind.PASSWORD_RESET_REQUESTED, user, actor=actor, request=request)
        sent += 1
    return sent


def issue_initial_passwords(users, *, actor: User, request=None) -> list[CreatedEmployee]:
    """A new one-time password per employee, to be handed over by the manager; old sessions end."""
    issued = []
    for user in users:
        password = _set_initial_password(user)
        user.save()
        record_event(Kind.PASSWORD_RESET, user, actor=actor, request=request, initial=True)
        issued.append(CreatedEmployee(user=user, initial_password=password))
    end_sessions([item.user for item in issued])
    return issued


def reset_mfa(users, *, actor: User, request=None) -> int:
    """Remove every authenticator of the employees and tell them."""
    changed = 0
    for user in users:
        devices = list(devices_for_user(user, confirmed=None))
        if not devices:
            continue
        for device in devices:
            device.delete()
        forget_authenticator_state(user)
        record_event(
            Kind.AUTHENTICATOR_REMOVED, user, actor=actor, request=request, reset=len(devices)
        )
        send_email_to_user(user, "employee_mfa_reset", {"by_staff": acted_by_staff(actor)})
        changed += 1
    return changed


def deactivate_employees(users, *, actor: User, request=None) -> int:
    """Offboarding: sign-in impossible, sessions end; the account and its history stay.
    Staff take over a Security Manager's deactivation: then only staff may reactivate it."""
    by_staff = acted_by_staff(actor)
    changed = [
        user
        for user in users
        if (user.is_active or (by_staff and not user.deactivated_by_staff)) and user.pk != actor.pk
    ]
    by = User.DeactivatedBy.STAFF if by_staff else User.DeactivatedBy.MANAGER
    for user in changed:
        user.is_active = False
        user.deactivated_by = by
        user.save(update_fields=["is_active", "deactivated_by"])
        record_event(Kind.ACCOUNT_DEACTIVATED, user, actor=actor, request=request)
    end_sessions(changed)
    return len(changed)


def reactivate_employees(users, *, actor: User, request=None) -> int:
    """Undo deactivations. One by provider staff is theirs alone to undo: a Security
    Manager's reactivation leaves it in place."""
    by_staff = acted_by_staff(actor)
    changed = [
        user
        for user in users
        if not user.is_active and (by_staff or not left_to_staff("reactivate", user))
    ]
    for user in changed:
        user.is_active = True
        user.deactivated_by = ""
        user.save(update_fields=["is_active", "deactivated_by"])
        record_event(Kind.ACCOUNT_REACTIVATED, user, actor=actor, request=request)
    return len(changed)


# --- Company policies ------------------------------------------------------------------------

POLICY_FIELDS = (
    "mfa_required",
    "allowed_authenticator_types",
    "password_max_age_days",
    "trust_browser_allowed",
)


def count_without_authenticator(company: Company) -> int:
    """Active employees without an authenticator that is enough for their role: a Security
    Manager whose only one sends email codes must set up another at their next sign-in, as
    must every employee without one while the company requires two-factor authentication
    (mfa.services.enrollment_required). Blocked accounts cannot sign in and are not counted,
    as the list behind "Show them" (state=active) leaves them out. One query."""
    return (
        employees_of(company)
        .filter(is_active=True, blocked_at__isnull=True)
        .exclude(has_sufficient_authenticator_q())
        .count()
    )


def update_company_policies(
    company: Company, values: dict, *, actor: User, request=None
) -> dict[str, list]:
    """Save the policy fields; returns and logs what changed as {field: [old, new]}."""
    changes = {}
    for name in POLICY_FIELDS:
        old, new = getattr(company, name), values[name]
        if old != new:
            changes[name] = [old, new]
            setattr(company, name, new)
    if changes:
        company.save(update_fields=list(changes))
        record_event(Kind.POLICY_CHANGED, actor, actor=actor, request=request, changes=changes)
    return changes


# --- CSV import ------------------------------------------------------------------------------

IMPORT_COLUMNS = ("first_name", "last_name", "email", "phone", "language")
IMPORT_MAX_ROWS = 500
# Column names people write in the header instead, in the portal's languages: a file made in
# a German or Spanish Excel says "Vorname;Nachname" or "Nombre;Apellidos". Compared after
# _header_key (case, spaces, hyphens and underscores do not count).
IMPORT_COLUMN_ALIASES = {
    "first_name": ("firstname", "givenname", "vorname", "nombre"),
    "last_name": ("lastname", "surname", "familyname", "nachname", "apellido", "apellidos"),
    "email": ("mail", "emailaddress", "emailadresse", "correo", "correoelectronico"),
    "phone": ("phonenumber", "telefon", "telefonnummer", "telefono", "movil"),
    "language": ("sprache", "idioma"),
}


def _header_key(name: str) -> str:
    folded = unicodedata.normalize("NFKD", (name or "").strip().casefold())
    return "".join(char for char in folded if char.isalnum())


_COLUMN_BY_HEADER = {
    key: column
    for column, aliases in IMPORT_COLUMN_ALIASES.items()
    for key in (_header_key(column), *aliases)
}


@dataclass
class ImportRow:
    line: int
    values: dict
    errors: list[str] = field(default_factory=list)
    # User names of active employees this row probably describes again (same name and, for a
    # row with an email address, the same address): created only if the manager confirms it.
    namesakes: list[str] = field(default_factory=list)
    # The first earlier valid line of the file that probably describes the same person, by the
    # same rule: the row is created only if the manager confirms it too.
    same_as_line: int | None = None

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def needs_confirmation(self) -> bool:
        return self.valid and (bool(self.namesakes) or self.same_as_line is not None)

    @property
    def warnings(self) -> list[str]:
        from django.utils.translation import gettext as _

        if not self.needs_confirmation:
            return []
        warnings = []
        if self.namesakes:
            warnings.append(
                _("An employee with this name already exists: %(usernames)s")
                % {"usernames": ", ".join(self.namesakes)}
            )
        if self.same_as_line is not None:
            warnings.append(
                _("This name appears more than once in the file: see line %(line)d.")
                % {"line": self.same_as_line}
            )
        return warnings


@dataclass
class ImportResult:
    created: list[CreatedEmployee]
    skipped: list[ImportRow]  # likely duplicates the manager did not confirm


def read_employee_csv(data: bytes) -> list[dict]:
    """Rows of the uploaded CSV as dicts of the known columns; raises ValueError when the file
    is not a CSV with the expected header."""
    from django.utils.translation import gettext as _

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel's plain "CSV" on a German or Spanish Windows writes Windows-1252; the preview
        # shows the names as read before anything is created.
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as error:
            raise ValueError(
                _("The file's characters cannot be read. In Excel, save it as “CSV UTF-8”.")
            ) from error
    sample = text[:2048]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    try:
        fieldnames = reader.fieldnames or []  # reads the first line: a field may be too long
    except csv.Error as error:
        raise ValueError(_("The file is not a readable CSV file.")) from error
    header = [_COLUMN_BY_HEADER.get(_header_key(name), (name or "").strip()) for name in fieldnames]
    missing = [name for name in ("first_name", "last_name") if name not in header]
    if missing:
        raise ValueError(
            _("The first line must name the columns: %(columns)s.")
            % {"columns": ", ".join(IMPORT_COLUMNS)}
        )
    reader.fieldnames = header
    rows = []
    try:
        for raw in reader:
            if len(rows) >= IMPORT_MAX_ROWS:
                raise ValueError(
                    _("A file may hold at most %(count)d employees.") % {"count": IMPORT_MAX_ROWS}
                )
            rows.append({name: (raw.get(name) or "").strip() for name in IMPORT_COLUMNS})
    except csv.Error as error:
        raise ValueError(_("The file is not a readable CSV file.")) from error
    if not rows:
        raise ValueError(_("The file holds no employees."))
    return rows


def _name_key(first_name: str, last_name: str) -> tuple[str, str]:
    return first_name.strip().lower(), last_name.strip().lower()


def _emails_in_use(company: Company, rows: list[dict]) -> dict[str, str]:
    """The file's addresses that an account of the company already has, with its user name:
    one query."""
    emails = {(values.get("email") or "").strip().lower() for values in rows} - {""}
    if not emails:
        return {}
    users = User.objects.filter(company=company).annotate(email_key=Lower("email"))
    return dict(users.filter(email_key__in=emails).values_list("email_key", "username"))


def _same_person(values: dict, first_name: str, last_name: str, email: str) -> bool:
    """Whether ``values`` (a row of the file, a new employee) probably describe again the person
    with these names and address: the same first and last name, case-insensitive, and, when the
    values have an email address, the same address."""
    wanted = (values.get("email") or "").strip().lower()
    return _name_key(values.get("first_name") or "", values.get("last_name") or "") == _name_key(
        first_name, last_name
    ) and (not wanted or wanted == email.strip().lower())


def active_namesakes(company: Company, people: list[dict]) -> list[list[str]]:
    """For each person (first_name, last_name, email), the user names of the company's active
    employees (not staff) they probably are already (``_same_person``). The CSV import asks for the whole
    file, the new-employee form for one person: one query either way."""
    last_names = {(values.get("last_name") or "").strip().lower() for values in people} - {""}
    if not last_names:
        return [[] for _values in people]
    found = (
        employees_of(company)
        .filter(is_active=True)
        .annotate(last_key=Lower("last_name"))
        .filter(last_key__in=last_names)
        .only("username", "first_name", "last_name", "email")
        .order_by("username")
    )
    by_name: dict[tuple[str, str], list[User]] = {}
    for user in found:
        by_name.setdefault(_name_key(user.first_name, user.last_name), []).append(user)
    return [
        [
            user.username
            for user in by_name.get(
                _name_key(values.get("first_name") or "", values.get("last_name") or ""), []
            )
            if _same_person(values, user.first_name, user.last_name, user.email)
        ]
        for values in people
    ]


def _row_errors(form, same_person: list[str]) -> list[str]:
    """The form's errors as "Label: message". An address taken by an employee of the same
    name is a row imported before: the message names the account."""
    from django.utils.translation import gettext as _

    messages = []
    for name, errors in form.errors.as_data().items():
        label = form.fields[name].label if name in form.fields else ""
        for error in errors:
            if name == "email" and error.code == "taken" and same_person:
                message = _(
                    "An employee with this name and email address already exists: %(usernames)s"
                ) % {"usernames": ", ".join(same_person)}
                messages.append(message)
            else:
                message = " ".join(error.messages)
                messages.append(f"{label}: {message}" if label else message)
    return messages


def validate_import_rows(company: Company, rows: list[dict]) -> list[ImportRow]:
    """Validate each row with the create-employee form. A row that probably describes someone
    again needs the manager's confirmation: an existing employee (``active_namesakes``) or an
    earlier row of the file, by the same rule. An address twice in the file is an error, as an
    address already in use is. The same number of queries whatever the number of rows."""
    from django.utils.translation import gettext as _

    from .company_forms import EmployeeForm

    emails_in_use = _emails_in_use(company, rows)
    namesakes = active_namesakes(company, rows)
    checked, seen_emails = [], {}  # address -> its first line
    earlier: dict[tuple[str, str], list[ImportRow]] = {}  # the valid rows so far, by name
    lines = range(2, len(rows) + 2)  # line 1 is the header
    for number, values, same_person in zip(lines, rows, namesakes, strict=True):
        values = dict(values)
        values["language"] = values.get("language") or settings.LANGUAGE_CODE
        form = EmployeeForm(values, company=company, emails_in_use=emails_in_use)
        row = ImportRow(line=number, values=values)
        email = (values.get("email") or "").strip().lower()
        if not form.is_valid():
            row.errors = _row_errors(form, same_person)
        else:
            row.values = {**values, **form.cleaned_data, "phone": str(form.cleaned_data["phone"])}
            row.namesakes = same_person
            if email and email in seen_emails:
                row.errors.append(
                    _("This email address appears twice in the file: see line %(line)d.")
                    % {"line": seen_emails[email]}
                )
            seen_emails.setdefault(email, number)
            if row.valid:
                name = _name_key(row.values["first_name"], row.values["last_name"])
                row.same_as_line = next(
                    (
                        other.line
                        for other in earlier.get(name, [])
                        if _same_person(
                            row.values,
                            other.values["first_name"],
                            other.values["last_name"],
                            other.values["email"],
                        )
                    ),
                    None,
                )
                earlier.setdefault(name, []).append(row)
        checked.append(row)
    return checked


def new_import_id() -> str:
    return secrets.token_urlsafe(16)


def claim_import(import_id: str) -> bool:
    """True once per previewed file: a second click on "Import" that left before the first one
    finished (or the preview open in a second tab) finds it claimed and creates nobody twice."""
    return bool(import_id) and cache.add(f"manage-import:{import_id}", True, 24 * 3600)


def import_employees(
    company: Company,
    rows: list[dict],
    *,
    actor: User,
    request=None,
    only_valid: bool = False,
    confirmed_lines: Collection[int] = (),
) -> ImportResult | None:
    """Create the employees of validated rows. Nothing is created when a row has errors unless
    ``only_valid``; returns None in that case. A row that looks like an existing employee is
    created only when its line is in ``confirmed_lines``."""
    checked = validate_import_rows(company, rows)
    if any(not row.valid for row in checked) and not only_valid:
        return None
    result = ImportResult(created=[], skipped=[])
    with transaction.atomic():
        for row in checked:
            if not row.valid:
                continue
            if row.needs_confirmation and row.line not in confirmed_lines:
                result.skipped.append(row)
                continue
            result.created.append(
                create_employee(
                    company,
                    first_name=row.values["first_name"],
                    last_name=row.values["last_name"],
                    email=row.values["email"],
                    phone=row.values["phone"],
                    language=row.values["language"],
                    actor=actor,
                    request=request,
                )
            )
    return result


# --- Requests to authorize a Security Manager -----------------------------------------------


def request_status_token(manager_request: SecurityManagerRequest) -> str:
    return signing.dumps(manager_request.pk, salt=REQUEST_STATUS_SALT)


def manager_request_for_token(token: str) -> SecurityManagerRequest | None:
    try:
        pk = signing.loads(token, salt=REQUEST_STATUS_SALT)
    except signing.BadSignature:
        return None
    return SecurityManagerRequest.objects.filter(pk=pk).first()


def request_status_url(manager_request: SecurityManagerRequest) -> str:
    path = reverse("access:request_status", args=[request_status_token(manager_request)])
    return f"{settings.SITE_URL}{path}"


def submit_manager_request(
    manager_request: SecurityManagerRequest, *, request=None
) -> SecurityManagerRequest:
    """Store a request; the provider's order desk and the requester get an email."""
    from .services import client_ip

    manager_request.ip_address = client_ip(request)
    manager_request.save()
    context = {
        "manager_request": manager_request,
        "status_url": request_status_url(manager_request),
    }
    admin_path = reverse("admin:accounts_securitymanagerrequest_change", args=[manager_request.pk])
    send_email(
        "manager_request_order",
        settings.ORDER_EMAIL,
        {**context, "admin_url": f"{settings.SITE_URL}{admin_path}"},
    )
    send_email(
        "manager_request_received",
        manager_request.requester_email,
        context,
        manager_request.language,
    )
    return manager_request


def approve_manager_request(
    manager_request: SecurityManagerRequest, *, actor: User, request=None
) -> User:
    """Make the nominee a Security Manager of the company (creating company and account when
    needed); the requester and the nominee are told."""
    if not manager_request.is_pending:
        raise ValueError("This request has already been decided.")
    with transaction.atomic():
        company, _ = Company.objects.get_or_create(
            customer_number=manager_request.customer_number,
            defaults={"name": manager_request.company_name},
        )
        nominee = (
            User.objects.filter(company=company, email__iexact=manager_request.nominee_email)
            .order_by("date_joined")
            .first()
        )
        created = nominee is None
        if created:
            nominee = create_employee(
                company,
                first_name=manager_request.nominee_first_name,
                last_name=manager_request.nominee_last_name,
                email=manager_request.nominee_email,
                phone=str(manager_request.nominee_phone or ""),
                language=manager_request.language,
                actor=actor,
                request=request,
                security_manager=True,
            ).user
        nominee.groups.add(Group.objects.get(name=roles.SECURITY_MANAGERS))
        record_event(
            Kind.ROLE_CHANGED,
            nominee,
            actor=actor,
            request=request,
            role=roles.SECURITY_MANAGERS,
            granted=True,
            manager_request=manager_request.pk,
        )
        manager_request.status = SecurityManagerRequest.Status.APPROVED
        manager_request.company = company
        manager_request.nominee = nominee
        manager_request.decided_by = actor
        manager_request.decided_at = timezone.now()
        manager_request.save()
    context = {
        "manager_request": manager_request,
        "nominee": nominee,
        "status_url": request_status_url(manager_request),
        "new_account": created,
    }
    send_email_to_user(nominee, "manager_request_appointed", context)
    send_email(
        "manager_request_approved",
        manager_request.requester_email,
        context,
        manager_request.language,
    )
    return nominee


def reject_manager_request(
    manager_request: SecurityManagerRequest, reason: str, *, actor: User
) -> None:
    if not manager_request.is_pending:
        raise ValueError("This request has already been decided.")
    manager_request.status = SecurityManagerRequest.Status.REJECTED
    manager_request.rejection_reason = reason
    manager_request.decided_by = actor
    manager_request.decided_at = timezone.now()
    manager_request.save()
    send_email(
        "manager_request_rejected",
        manager_request.requester_email,
        {"manager_request": manager_request, "status_url": request_status_url(manager_request)},
        manager_request.language,
    )
