from __future__ import annotations

import uuid
from datetime import timedelta
from functools import cached_property

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from portal.choices import ChoiceLabelsMixin
from portal.prepared import PreparedQuery

USERNAME_PATTERN = r"^c\d{5}\.[a-z]{2}[a-z0-9]?$"


class Company(models.Model):
    """A customer company; its security policies apply to all its employees."""

    name = models.CharField(_("name"), max_length=200)
    customer_number = models.CharField(
        _("customer number"),
        max_length=5,
        unique=True,
        validators=[RegexValidator(r"^\d{5}$", _("Enter five digits."))],
        help_text=_("Five digits; employee user names start with c and this number."),
    )
    mfa_required = models.BooleanField(_("two-factor authentication required"), default=False)
    allowed_authenticator_types = models.JSONField(
        _("allowed authenticator types"),
        default=list,
        blank=True,
        help_text=_("Empty means every type is allowed."),
    )
    password_max_age_days = models.PositiveIntegerField(
        _("maximum password age (days)"),
        null=True,
        blank=True,
        help_text=_("Empty uses the portal default; 0 means passwords never expire."),
    )
    trust_browser_allowed = models.BooleanField(_("“trust this browser” allowed"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.customer_number})"

    @property
    def effective_password_max_age_days(self) -> int:
        if self.password_max_age_days is None:
            return settings.PASSWORD_MAX_AGE_DAYS
        return self.password_max_age_days


def _by_identifier(users, by_email: bool, value: str):
    # LOWER(...) = lower(identifier): the expression the indexes below are built on, so
    # sign-in never scans the user table (iexact's UPPER() would).
    if by_email:
        return users.alias(email_ci=Lower("email")).filter(email_ci=value).order_by("date_joined")
    return users.alias(username_ci=Lower("username")).filter(username_ci=value).order_by("pk")


def _locked_by_identifier(by_email: bool) -> PreparedQuery:
    return PreparedQuery(
        lambda value: _by_identifier(
            User._default_manager.select_related("company").select_for_update(of=("self",)),
            by_email,
            value,
        )[:1],
        value=str,
    )


_LOCKED_BY_EMAIL = _locked_by_identifier(by_email=True)
_LOCKED_BY_USERNAME = _locked_by_identifier(by_email=False)


class PortalUserManager(UserManager):
    def get_by_natural_key(self, username):
        return self.get(username__iexact=username)

    def security_managers_of(self, company_id: int):
        """The company's Security Managers who can act now: active and not blocked."""
        from .roles import SECURITY_MANAGERS

        return self.filter(
            company_id=company_id,
            groups__name=SECURITY_MANAGERS,
            is_active=True,
            blocked_at__isnull=True,
        ).order_by("last_name", "first_name", "pk")

    def find_by_identifier(self, identifier: str, *, lock: bool = False):
        """The user an identifier (user name or email, any case) names, or None.

        ``lock`` (inside a transaction) locks the user's row and loads the company with it:
        the sign-in's password check finds and locks the account in one query.
        """
        identifier = (identifier or "").strip()
        if not identifier:
            return None
        by_email = "@" in identifier
        if lock:
            # Every sign-in runs it: compiled once (portal.prepared), same SQL as below.
            locked_by = _LOCKED_BY_EMAIL if by_email else _LOCKED_BY_USERNAME
            found = locked_by(value=identifier.lower())
            return found[0] if found else None
        return _by_identifier(self, by_email, identifier.lower()).first()


class User(AbstractUser):
    class Language(models.TextChoices):
        ENGLISH = "en", "English"
        GERMAN = "de", "Deutsch"
        SPANISH = "es", "Español"

    class BlockReason(models.TextChoices):
        # Who may lift the block: the user (unblock link, password reset) or only staff.
        LOCKOUT = "lockout", _("too many failed sign-ins")
        MANAGER = "manager", _("by a Security Manager")
        STAFF = "staff", _("by our staff")

    class DeactivatedBy(models.TextChoices):
        # Who may reactivate the account: the company's Security Manager, or only staff.
        MANAGER = "manager", _("by a Security Manager")
        STAFF = "staff", _("by our staff")

    email = models.EmailField(_("email address"), blank=True, db_index=True)
    email_verified = models.BooleanField(_("email verified"), default=False)
    phone = PhoneNumberField(_("phone"), blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=8, choices=Language.choices, default=Language.ENGLISH
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Berlin")
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    password_changed_at = models.DateTimeField(_("password changed"), null=True, blank=True)
    must_change_password = models.BooleanField(_("must change password"), default=False)
    password_compromised = models.BooleanField(
        _("password compromised"),
        default=False,
        help_text=_("Forces a password change at the next sign-in."),
    )
    initial_password_expires_at = models.DateTimeField(
        _("initial password expires"), null=True, blank=True
    )
    failed_login_count = models.PositiveIntegerField(_("failed sign-ins in a row"), default=0)
    blocked_at = models.DateTimeField(_("blocked since"), null=True, blank=True)
    blocked_reason = models.CharField(
        _("reason for the block"), max_length=16, choices=BlockReason.choices, blank=True
    )
    deactivated_by = models.CharField(
        _("deactivated by"), max_length=16, choices=DeactivatedBy.choices, blank=True
    )
    terms_version = models.CharField(_("accepted terms version"), max_length=20, blank=True)
    terms_accepted_at = models.DateTimeField(_("terms accepted"), null=True, blank=True)

    objects = PortalUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("username"), name="user_username_ci_unique"),
        ]
        indexes = [models.Index(Lower("email"), name="user_email_ci_idx")]

    def __str__(self) -> str:
        return self.username

    @property
    def is_blocked(self) -> bool:
        return self.blocked_at is not None

    @property
    def is_locked_out(self) -> bool:
        """Blocked after failed sign-ins: the user may lift it (unblock link, password reset)."""
        return self.blocked_at is not None and self.blocked_reason == self.BlockReason.LOCKOUT

    @property
    def blocked_by_staff(self) -> bool:
        """Blocked by provider staff rather than the company's Security Manager: what the
        emails and pages tell the owner to do differs. Accounts without a company have no
        Security Manager, so any person's block on them is staff's."""
        return self.is_blocked_by_manager and (
            self.blocked_reason == self.BlockReason.STAFF or not self.company_id
        )

    @property
    def is_blocked_by_manager(self) -> bool:
        """Blocked by a Security Manager or provider staff: only they can lift it. A block of
        unknown origin (blocked_at set without a reason) counts as one: the safe side."""
        return self.blocked_at is not None and not self.is_locked_out

    @cached_property
    def security_managers_to_ask(self) -> list[str]:
        """Names of the colleagues who can lift a Security Manager's block or deactivation
        (at most five), for the emails to this account's own address; cached, as an email's
        text and HTML parts both show them. Names only: their email address is a personal
        one and their phone is not published, and nothing says which of them acted."""
        if not self.company_id:
            return []
        managers = (
            User.objects.security_managers_of(self.company_id)
            .exclude(pk=self.pk)
            .exclude(first_name="", last_name="")
        )
        return [manager.get_full_name() for manager in managers[:5]]

    @property
    def deactivated_by_staff(self) -> bool:
        """Deactivated by provider staff: only they may reactivate it. Unlike a block, a
        deactivation of unknown origin counts as staff's, the safe side: the manager may
        reactivate only what the company deactivated."""
        return not self.is_active and not (
            self.deactivated_by == self.DeactivatedBy.MANAGER and self.company_id
        )

    @property
    def password_max_age_days(self) -> int:
        if self.company_id is None:
            return settings.PASSWORD_MAX_AGE_DAYS
        return self.company.effective_password_max_age_days

    @property
    def password_expires_at(self):
        max_age = self.password_max_age_days
        if not max_age or self.password_changed_at is None:
            return None
        return self.password_changed_at + timedelta(days=max_age)

    def password_has_expired(self, now=None) -> bool:
        expires = self.password_expires_at
        return expires is not None and (now or timezone.now()) >= expires

    def password_expires_soon(self, now=None) -> bool:
        """Within the first reminder's window (PASSWORD_EXPIRY_REMINDER_DAYS): the pages
        warn from the day the emails start."""
        expires = self.password_expires_at
        if expires is None:
            return False
        window = timedelta(days=max(settings.PASSWORD_EXPIRY_REMINDER_DAYS, default=0))
        return expires - (now or timezone.now()) <= window

    def set_password(self, raw_password):
        super().set_password(raw_password)
        self.password_changed_at = timezone.now()


class SecurityEvent(ChoiceLabelsMixin, models.Model):
    """One entry of the security log: what happened to whose account, by whom, from where."""

    class Kind(models.TextChoices):
        REGISTERED = "registered", _("Account registered")
        EMAIL_VERIFIED = "email_verified", _("Email address verified")
        SIGNED_IN = "signed_in", _("Signed in")
        SIGNED_OUT = "signed_out", _("Signed out")
        SIGN_IN_FAILED = "sign_in_failed", _("Failed sign-in")
        BLOCKED = "blocked", _("Account blocked")
        UNBLOCKED = "unblocked", _("Account unblocked")
        PASSWORD_CHANGED = "password_changed", _("Password changed")
        PASSWORD_RESET = "password_reset", _("Password reset")
        PASSWORD_RESET_REQUESTED = "password_reset_requested", _("Password reset requested")
        USERNAME_REMINDER = "username_reminder", _("User name reminder sent")
        ACCOUNT_CHECKED = "account_checked", _("Account status report sent")
        EMAIL_CHANGED = "email_changed", _("Email address changed")
        PROFILE_CHANGED = "profile_changed", _("Profile changed")
        SESSION_ENDED = "session_ended", _("Session ended")
        SESSION_EXPIRED = "session_expired", _("Signed out after inactivity")
        AUTHENTICATOR_ADDED = "authenticator_added", _("Authenticator added")
        AUTHENTICATOR_REMOVED = "authenticator_removed", _("Authenticator removed")
        AUTHENTICATOR_CHANGED = "authenticator_changed", _("Authenticator changed")
        SECOND_FACTOR_FAILED = "second_factor_failed", _("Wrong second-factor code")
        BACKUP_CODES_CREATED = "backup_codes_created", _("Backup codes created")
        BACKUP_CODE_USED = "backup_code_used", _("Backup code used")
        PUSH_DENIED = "push_denied", _("Push sign-in denied")
        ACCOUNT_CREATED = "account_created", _("Account created")
        ACCOUNT_DEACTIVATED = "account_deactivated", _("Account deactivated")
        ACCOUNT_REACTIVATED = "account_reactivated", _("Account reactivated")
        ROLE_CHANGED = "role_changed", _("Role changed")
        POLICY_CHANGED = "policy_changed", _("Company policy changed")
        PASSWORD_COMPROMISED = "password_compromised", _("Password marked as compromised")
        EMAIL_CHANGE_REQUESTED = "email_change_requested", _("Email address change requested")
        SIGN_IN_REPORTED = "sign_in_reported", _("Sign-in reported as not me")
        REAUTHENTICATED = "reauthenticated", _("Identity confirmed again")
        TRUSTED_BROWSERS_FORGOTTEN = "trusted_browsers_forgotten", _("Trusted browsers forgotten")

    # The log outlives the account: deleting a user keeps their events, with the user name.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="security_events",
    )
    username = models.CharField(_("username"), max_length=150, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Kept like ``username``: deleting the account that acted must not turn its actions into
    # the user's own (with its browser and address) in the user's log. The database's own
    # default lets the processes still running the code before it write the log while the
    # migrations run (and until they restart): their INSERTs do not name it.
    actor_username = models.CharField(
        _("done by (user name)"), max_length=150, blank=True, default="", db_default=""
    )
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="security_events",
    )
    # Done by provider staff (or someone outside the event's company): the company's log names
    # neither them nor their browser and address. Decided when recorded (record_event), so that
    # it outlives the actor, whose deletion empties ``actor``.
    done_by_provider = models.BooleanField(_("done by the provider"), default=False)
    kind = models.CharField(_("event"), max_length=40, choices=Kind.choices)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("security event")
        verbose_name_plural = _("security events")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            models.Index(fields=["company", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.user_id or self.username})"

    @property
    def done_by_someone_else(self) -> str:
        """Who did it, for the user's own log, when it was not the user ("" otherwise). Their
        browser and address are then not the user's: the log must not show them as such."""
        if self.actor_id is not None and self.actor_id == self.user_id:
            return ""
        if self.done_by_provider:  # also when the staff member's account is deleted since
            return gettext("by the provider")
        # An actor deleted since leaves only its name; it was not the user, whose log this is.
        if self.actor_id is None and not self.actor_username:
            return ""
        return gettext("by your company's Security Manager")


# --- Accounts II: password reminders, sessions, email changes ---------------------------------


class PasswordReminder(models.Model):
    """One expiry reminder sent (or being sent). The unique constraint is the idempotence:
    the row is inserted before the email is queued, so concurrent runs never send twice."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="password_reminders",
    )
    threshold_days = models.PositiveSmallIntegerField(_("days before expiry"))
    expires_at = models.DateTimeField(_("password expires"))
    run_id = models.UUIDField(_("run"), editable=False)
    created_at = models.DateTimeField(_("sent"), default=timezone.now)

    class Meta:
        verbose_name = _("password expiry reminder")
        verbose_name_plural = _("password expiry reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "threshold_days", "expires_at"], name="password_reminder_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.threshold_days} d before {self.expires_at:%Y-%m-%d}"


class UserSessionQuerySet(models.QuerySet):
    def active(self, now=None):
        """Sessions not ended and within the idle and absolute limits."""
        now = now or timezone.now()
        return self.filter(
            ended_at__isnull=True,
            last_activity_at__gte=now - timedelta(seconds=settings.SESSION_IDLE_TIMEOUT),
            created_at__gte=now - timedelta(seconds=settings.SESSION_ABSOLUTE_TIMEOUT),
        )


class UserSession(models.Model):
    """A signed-in session as the user sees it on "Active sessions".

    The session store stays the authority for the session's data; this row is the authority
    for whether it may still be used (``ended_at``), checked on every request, so that a
    session revoked while the store was unreachable never comes back.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="tracked_sessions",
    )
    # SHA-256 of the session key: a copy of this table cannot be used to hijack a session.
    session_key_hash = models.CharField(_("session key hash"), max_length=64, db_index=True)
    # SHA-256 of the long-lived browser cookie, to recognise browsers seen before.
    browser_key_hash = models.CharField(_("browser key hash"), max_length=64, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    browser = models.CharField(_("browser"), max_length=100, blank=True)
    os = models.CharField(_("operating system"), max_length=100, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    created_at = models.DateTimeField(_("signed in"), default=timezone.now)
    last_activity_at = models.DateTimeField(_("last activity"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    end_reason = models.CharField(_("end reason"), max_length=40, blank=True)
    reported_at = models.DateTimeField(_("reported as not me"), null=True, blank=True)

    objects = UserSessionQuerySet.as_manager()

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["-last_activity_at", "-id"]
        indexes = [
            models.Index(fields=["user", "ended_at"]),
            # For the retention job (accounts.retention.past_sign_in_records): the records
            # past their retention, and whether a user has a newer one in a known browser.
            models.Index(fields=["created_at"], name="usersession_created_idx"),
            models.Index(
                fields=["user", "id"],
                condition=~models.Q(browser_key_hash=""),
                name="usersession_known_browser_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.browser} / {self.os}"


class EmailChangeRequest(models.Model):
    """A pending change of a user's email; applies only when confirmed from the new address."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="email_change_requests",
    )
    new_email = models.EmailField(_("new email address"))
    key_hash = models.CharField(_("key hash"), max_length=64)
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    used_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    superseded = models.BooleanField(_("superseded"), default=False)

    class Meta:
        verbose_name = _("email change request")
        verbose_name_plural = _("email change requests")

    def __str__(self) -> str:
        return f"{self.user_id} → {self.new_email}"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        age = (now - self.created_at).total_seconds()
        return self.used_at is None and not self.superseded and age <= settings.EMAIL_CHANGE_TIMEOUT


class SecurityManagerRequest(ChoiceLabelsMixin, models.Model):
    """A public request to authorize a Security Manager for a company; decided by provider staff."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    company_name = models.CharField(_("company name"), max_length=200)
    customer_number = models.CharField(
        _("customer number"),
        max_length=5,
        validators=[RegexValidator(r"^\d{5}$", _("Enter five digits."))],
    )
    nominee_first_name = models.CharField(_("nominee's first name"), max_length=150)
    nominee_last_name = models.CharField(_("nominee's last name"), max_length=150)
    nominee_email = models.EmailField(_("nominee's email"))
    nominee_phone = PhoneNumberField(_("nominee's phone"), blank=True)
    requester_name = models.CharField(_("your name"), max_length=200)
    requester_role = models.CharField(_("your role in the company"), max_length=200)
    requester_email = models.EmailField(_("your email"))
    entitled_confirmed = models.BooleanField(_("entitled to sign for the company"), default=False)
    language = models.CharField(_("language"), max_length=8, default="en")
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    rejection_reason = models.TextField(_("reason for the rejection"), blank=True)
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="manager_requests",
    )
    nominee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("security manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    created_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("security manager request")
        verbose_name_plural = _("security manager requests")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.company_name} ({self.customer_number}): {self.nominee_email}"

    @property
    def nominee_name(self) -> str:
        return f"{self.nominee_first_name} {self.nominee_last_name}".strip()

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING


# --- Registration between the request and its task --------------------------------------------


class PendingRegistration(models.Model):
    """A registration the request took and its task (services.register_account) has not done.

    The request stores one for every address, with or without an account, so that its work
    tells nothing; the broker carries only the key, never the password hash. The task deletes
    the row in the transaction that creates the account or emails the owner: a second delivery
    finds nothing to do, a crash before the commit leaves the row for the next try. The key is
    random rather than a counter: it says nothing about how many people register, and a
    message left in Redis can never meet another registration's row (a restored database
    reuses counter values).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    first_name = models.CharField(_("first name"), max_length=150)
    last_name = models.CharField(_("last name"), max_length=150)
    email = models.EmailField(_("email address"))
    phone = PhoneNumberField(_("phone"), blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    terms_version = models.CharField(_("accepted terms version"), max_length=20)
    password_hash = models.CharField(_("password hash"), max_length=128)
    language = models.CharField(_("language"), max_length=8)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    # When the terms were accepted, too: the form was sent then.
    created_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("pending registration")
        verbose_name_plural = _("pending registrations")

    def __str__(self) -> str:
        return f"{self.email} ({self.created_at:%Y-%m-%d %H:%M})"
