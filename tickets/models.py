"""Incident tickets: the ticket, its conversation, its attachments and its timeline."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from functools import partial
from pathlib import PurePath

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import Storage
from django.db import models, transaction
from django.db.models import Count, Q
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import roles
from portal.choices import ChoiceLabelsMixin

logger = logging.getLogger(__name__)

REFERENCE_PREFIX = "INC-"


class Impact(models.TextChoices):
    HIGH = "high", _("Many people or the whole company")
    MEDIUM = "medium", _("A team or several people")
    LOW = "low", _("Only me")


class Urgency(models.TextChoices):
    HIGH = "high", _("I cannot work at all")
    MEDIUM = "medium", _("My work is severely hindered")
    LOW = "low", _("I can work around it")


class Priority(models.IntegerChoices):
    # Lower numbers sort first: the queue's "most urgent first" is an ascending sort.
    CRITICAL = 1, _("Critical")
    HIGH = 2, _("High")
    MEDIUM = 3, _("Medium")
    LOW = 4, _("Low")


# The impact × urgency matrix: the one place where a priority follows from both.
PRIORITY_MATRIX: dict[tuple[str, str], int] = {
    (Impact.HIGH, Urgency.HIGH): Priority.CRITICAL,
    (Impact.HIGH, Urgency.MEDIUM): Priority.HIGH,
    (Impact.HIGH, Urgency.LOW): Priority.MEDIUM,
    (Impact.MEDIUM, Urgency.HIGH): Priority.HIGH,
    (Impact.MEDIUM, Urgency.MEDIUM): Priority.MEDIUM,
    (Impact.MEDIUM, Urgency.LOW): Priority.LOW,
    (Impact.LOW, Urgency.HIGH): Priority.MEDIUM,
    (Impact.LOW, Urgency.MEDIUM): Priority.LOW,
    (Impact.LOW, Urgency.LOW): Priority.LOW,
}
HIGH_PRIORITIES = (Priority.CRITICAL, Priority.HIGH)


def priority_for(impact: str, urgency: str) -> int:
    return PRIORITY_MATRIX[(Impact(impact), Urgency(urgency))]


class Status(models.TextChoices):
    NEW = "new", _("New")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING = "waiting", _("Waiting for customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = (Status.NEW, Status.IN_PROGRESS, Status.WAITING)
OPEN_STATUS_VALUES = [status.value for status in OPEN_STATUSES]  # for index conditions
# Service-level clocks run while the provider has to act.
ACTIVE_STATUSES = (Status.NEW, Status.IN_PROGRESS)

# The status workflow for support staff; customers have their own, narrower rule below.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.NEW: (Status.IN_PROGRESS, Status.WAITING, Status.RESOLVED),
    Status.IN_PROGRESS: (Status.WAITING, Status.RESOLVED),
    Status.WAITING: (Status.IN_PROGRESS, Status.RESOLVED),
    Status.RESOLVED: (Status.CLOSED, Status.IN_PROGRESS),
    Status.CLOSED: (Status.IN_PROGRESS,),
}


class WorkflowError(Exception):
    """An invalid status move; its message is shown to the person who tried it."""


# The statuses an internal note may set ("": none). Only a public reply tells the customer
# why their incident waits for them (whose reminders repeat support's last public message)
# or is resolved.
NOTE_STATUSES = ("", Status.IN_PROGRESS)


def check_reply_status(status: str, *, internal: bool) -> None:
    """Support's choice of a status to set with a message: raises WorkflowError."""
    if internal and status not in NOTE_STATUSES:
        raise WorkflowError(
            _(
                "An internal note is not sent to the customer: to wait for their answer or to "
                "resolve the ticket, send a public reply."
            )
        )


# Categories created by the data migration: their names are translated through their code.
DEFAULT_CATEGORY_LABELS = {
    "login_identity": _("Login and identity"),
    "cloud_desktop": _("Cloud desktop"),
    "email": _("Email"),
    "applications": _("Applications"),
    "other": _("Other"),
}
LOGIN_CATEGORY_CODE = "login_identity"


class Category(models.Model):
    code = models.SlugField(
        _("code"),
        max_length=40,
        unique=True,
        help_text=_("Stable identifier; the five default codes show translated names."),
    )
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=100)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return str(self.label)

    @property
    def label(self) -> str:
        return DEFAULT_CATEGORY_LABELS.get(self.code, self.name)


def service_targets(priority: int) -> tuple[timedelta, timedelta]:
    """First-response and resolution targets of a priority, from TICKET_SERVICE_LEVELS."""
    hours = settings.TICKET_SERVICE_LEVELS[Priority(priority).name.lower()]
    return timedelta(hours=hours["first_response"]), timedelta(hours=hours["resolution"])


def sees_only_own_tickets(user) -> bool:
    """Everybody but support staff and security managers sees only the tickets they reported."""
    return not (roles.is_provider_staff(user) or roles.is_security_manager(user))


# Which tickets a signed-in user sees: ALL (support staff), COMPANY (a security manager: the
# company's and their own) or OWN (everybody else: the ones they reported).
ALL, COMPANY, OWN = "all", "company", "own"


def visibility_scope(user) -> str:
    if sees_only_own_tickets(user):
        return OWN
    return ALL if roles.is_provider_staff(user) else COMPANY


def visibility_filter(scope: str, user_id: int, company_id: int | None) -> Q:
    """The rule of visible_to, from ids: prepared queries build it from placeholders."""
    if scope == OWN:
        return Q(requester_id=user_id)
    if scope == COMPANY:
        return Q(company_id=company_id) | Q(requester_id=user_id)
    return Q()


class TicketQuerySet(models.QuerySet):
    def visible_to(self, user) -> TicketQuerySet:
        """Support staff see every ticket, security managers their company's, others their own."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(visibility_filter(visibility_scope(user), user.pk, user.company_id))

    def open(self) -> TicketQuerySet:
        return self.filter(status__in=OPEN_STATUSES)

    def overdue(self, now: datetime | None = None) -> TicketQuerySet:
        now = now or timezone.now()
        return self.filter(status__in=ACTIVE_STATUSES).filter(
            Q(resolution_due__lt=now)
            | Q(first_responded_at__isnull=True, first_response_due__lt=now)
        )

    def search(self, text: str) -> TicketQuerySet:
        text = text.strip()
        if not text:
            return self
        return self.filter(
            Q(reference__iexact=text) | Q(subject__icontains=text) | Q(description__icontains=text)
        )


STATUS_COUNTS_KEY = "tickets:status-counts"
STATUS_COUNTS_MAX_AGE = 60


def status_counts() -> list[tuple[str, str, int]]:
    """(status, label, number of tickets) for every status.

    Counting every ticket costs time in proportion to their number, so the counts are
    cached: creating a ticket or moving its status drops them (forget_status_counts), and
    they are never older than STATUS_COUNTS_MAX_AGE seconds, whatever races with a change
    (or a deletion in the admin).
    """
    counts = cache.get(STATUS_COUNTS_KEY)
    if counts is None:
        counts = Ticket.objects.order_by().aggregate(
            **{value: Count("pk", filter=Q(status=value)) for value in Status.values}
        )
        cache.set(STATUS_COUNTS_KEY, counts, STATUS_COUNTS_MAX_AGE)
    return [(value, label, counts[value]) for value, label in Status.choices]


def forget_status_counts() -> None:
    """Called wherever a ticket is created or changes status."""
    cache.delete(STATUS_COUNTS_KEY)


class Ticket(ChoiceLabelsMixin, models.Model):
    reference = models.CharField(
        _("reference"), max_length=20, unique=True, null=True, blank=True, editable=False
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requester"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    company = models.ForeignKey(
        "accounts.Company",
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    # Contact details of a request made without signing in.
    contact_name = models.CharField(_("contact name"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    contact_username = models.CharField(_("user name given"), max_length=150, blank=True)
    # The language of the request's page: emails to the contact are written in it.
    contact_language = models.CharField(_("contact language"), max_length=8, blank=True)

    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="tickets"
    )
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"))
    impact = models.CharField(_("impact"), max_length=10, choices=Impact.choices)
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.NEW
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )

    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    first_response_due = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    first_responded_at = models.DateTimeField(_("first response"), null=True, blank=True)
    waiting_since = models.DateTimeField(_("waiting since"), null=True, blank=True)
    reminder_sent_at = models.DateTimeField(_("reminder sent"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    # When the support agents were last emailed about a customer's reply while nobody was
    # assigned: they are, at most once per TICKET_REPLY_NOTICE_WINDOW (services).
    support_notified_at = models.DateTimeField(_("support notified"), null=True, blank=True)
    # While that window holds customer replies back: its end, when they are due to be emailed
    # (by the next reply, or else by the task announce_held_back_replies). None: none held.
    support_notice_due_at = models.DateTimeField(_("support notice due"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["status", "priority", "created_at", "id"], name="ticket_queue_idx"
            ),
            models.Index(fields=["priority", "created_at", "id"], name="ticket_priority_idx"),
            models.Index(fields=["created_at"], name="ticket_created_idx"),
            models.Index(fields=["updated_at"], name="ticket_updated_idx"),
            models.Index(fields=["status", "resolution_due"], name="ticket_due_idx"),
            models.Index(fields=["status", "first_response_due"], name="ticket_first_due_idx"),
            models.Index(fields=["assignee", "status"], name="ticket_assignee_idx"),
            models.Index(fields=["company", "status"], name="ticket_company_idx"),
            models.Index(fields=["category", "status"], name="ticket_category_idx"),
            models.Index(fields=["requester", "status"], name="ticket_requester_idx"),
            models.Index(fields=["status", "waiting_since"], name="ticket_waiting_idx"),
            # The minutely search for held-back replies that are due: only the few tickets
            # holding some are in this index, however many tickets there are.
            models.Index(
                fields=["support_notice_due_at", "id"],
                condition=Q(support_notice_due_at__isnull=False),
                name="ticket_notice_due_idx",
            ),
            # The support queue shows open tickets (a fifth of them, or less) in one of these
            # orders: partial indexes let it read the first page in order, at any table size.
            models.Index(
                fields=["priority", "created_at", "id"],
                condition=Q(status__in=OPEN_STATUS_VALUES),
                name="ticket_open_priority_idx",
            ),
            models.Index(
                fields=["resolution_due", "id"],
                condition=Q(status__in=OPEN_STATUS_VALUES),
                name="ticket_open_due_idx",
            ),
            models.Index(
                fields=["-created_at", "-id"],
                condition=Q(status__in=OPEN_STATUS_VALUES),
                name="ticket_open_created_idx",
            ),
            models.Index(
                fields=["-updated_at", "-id"],
                condition=Q(status__in=OPEN_STATUS_VALUES),
                name="ticket_open_updated_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    # --- Derived values ---------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, now: datetime | None = None) -> bool:
        if self.status not in ACTIVE_STATUSES:
            return False
        now = now or timezone.now()
        if self.resolution_due and self.resolution_due < now:
            return True
        return bool(
            self.first_responded_at is None
            and self.first_response_due
            and self.first_response_due < now
        )

    @property
    def requester_label(self) -> str:
        if self.requester_id:
            return self.requester.get_full_name() or self.requester.username
        return self.contact_name or self.contact_email

    def can_reopen_by_reply(self, now: datetime | None = None) -> bool:
        if self.status != Status.RESOLVED or self.resolved_at is None:
            return False
        now = now or timezone.now()
        return now - self.resolved_at <= timedelta(days=settings.TICKET_REOPEN_DAYS)

    def default_reply_status(self) -> str:
        """The status a public reply of support staff moves the ticket to unless they choose
        another ("": it keeps its status): answering a new ticket means working on it."""
        return Status.IN_PROGRESS if self.status == Status.NEW else ""

    def set_service_levels(self) -> None:
        first, resolution = service_targets(self.priority)
        self.first_response_due = self.created_at + first
        self.resolution_due = self.created_at + resolution

    # --- State changes: each records itself on the timeline -----------------------------------

    def assign_reference(self) -> None:
        """Give a freshly inserted ticket its reference, derived from its unique primary key."""
        self.reference = f"{REFERENCE_PREFIX}{self.pk:06d}"
        Ticket.objects.filter(pk=self.pk).update(reference=self.reference)

    def allowed_moves(self, by) -> tuple[str, ...]:
        """The statuses ``by`` may move this ticket to: THE workflow rule."""
        if by is None or roles.is_provider_staff(by):
            return TRANSITIONS[self.status]
        # Customers may declare their problem solved, or reopen a recently resolved ticket.
        if self.is_open:
            return (Status.RESOLVED,)
        if self.can_reopen_by_reply():
            return (Status.IN_PROGRESS,)
        return ()

    def move_to(self, status: str, by=None, *, now: datetime | None = None) -> None:
        """Move along the workflow or raise WorkflowError; ``by=None`` is the system."""
        status = Status(status)
        if status == self.status:
            return
        if status not in self.allowed_moves(by):
            raise WorkflowError(
                _("The status cannot change from “%(old)s” to “%(new)s”.")
                % {"old": self.get_status_display(), "new": status.label}
            )
        now = now or timezone.now()
        old = self.status
        self.status = status
        self.waiting_since = now if status == Status.WAITING else None
        self.reminder_sent_at = None
        if status == Status.RESOLVED:
            self.resolved_at = now
        elif status == Status.CLOSED:
            self.closed_at = now
        else:
            self.resolved_at = self.closed_at = None
        self.updated_at = now
        self.save()
        forget_status_counts()
        reopened = old in (Status.RESOLVED, Status.CLOSED) and status in OPEN_STATUSES
        kind = TicketEvent.Kind.REOPENED if reopened else TicketEvent.Kind.STATUS
        self.record(kind, by, at=now, old=old, new=status)

    def assign(self, assignee, by, *, now: datetime | None = None) -> None:
        if assignee == self.assignee:
            return
        now = now or timezone.now()
        old = self.assignee.username if self.assignee else ""
        self.assignee = assignee
        self.updated_at = now
        self.save(update_fields=["assignee", "updated_at"])
        self.record(
            TicketEvent.Kind.ASSIGNED,
            by,
            at=now,
            old=old,
            new=assignee.username if assignee else "",
        )

    def set_priority(self, priority: int, by) -> None:
        priority = Priority(int(priority))
        if priority == self.priority:
            return
        old = self.priority
        self.priority = priority
        self.set_service_levels()
        self.updated_at = timezone.now()
        fields = ["priority", "first_response_due", "resolution_due", "updated_at"]
        self.save(update_fields=fields)  # only these: a reply stored meanwhile keeps its own
        self.record(TicketEvent.Kind.PRIORITY, by, old=old, new=int(priority))

    def set_category(self, category: Category, by) -> None:
        if category.pk == self.category_id:
            return
        old = self.category.code
        self.category = category
        self.updated_at = timezone.now()
        self.save(update_fields=["category", "updated_at"])
        self.record(TicketEvent.Kind.CATEGORY, by, old=old, new=category.code)

    def record(self, kind: str, actor, *, at: datetime | None = None, **data) -> TicketEvent:
        """A timeline entry; ``at`` when the change is dated (a reply's time, demo data)."""
        return TicketEvent.objects.create(
            ticket=self, kind=kind, actor=actor, data=data, created_at=at or timezone.now()
        )


class Message(models.Model):
    """One entry of the conversation: a public reply or an internal note of support staff."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="messages"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    body = models.TextField(_("message"))
    is_internal = models.BooleanField(_("internal note"), default=False)
    # The files of the incident's report hang on a message (an attachment belongs to one),
    # which repeats the description: pages show its files under the description instead.
    is_description = models.BooleanField(_("holds the description's files"), default=False)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="message_ticket_idx")]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.body[:40]}"


def attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name never contains what the uploader typed.
    suffix = PurePath(filename).suffix.lower()[:10]
    return f"tickets/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix}"


class Attachment(models.Model):
    message = models.ForeignKey(
        Message, verbose_name=_("message"), on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    created_at = models.DateTimeField(_("uploaded"), default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.original_name


def _remove_file(storage: Storage, name: str) -> None:
    try:
        storage.delete(name)
    except OSError:  # the row is gone either way: a file left behind is no reason to fail
        logger.exception("Could not delete the attachment file %s", name)


# A signal, against our habit, because it is the one hook every deletion of an attachment
# passes: the admin's, and the cascades from a ticket or a message (Django's deletion
# collector, the retention job's batches), which call no method of ours. Without it each
# path deleted the rows and left their files in storage.
@receiver(post_delete, sender=Attachment, dispatch_uid="tickets.attachment_file")
def delete_attachment_file(sender, instance: Attachment, using: str, **kwargs) -> None:
    """Remove the file of a deleted attachment once the deletion has committed: a rollback
    keeps the row, which must keep its file."""
    if instance.file.name:
        transaction.on_commit(
            partial(_remove_file, instance.file.storage, instance.file.name), using=using
        )


class TicketEvent(ChoiceLabelsMixin, models.Model):
    """The timeline: who changed what on a ticket, when."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Ticket created")
        STATUS = "status", _("Status changed")
        REOPENED = "reopened", _("Ticket reopened")
        ASSIGNED = "assigned", _("Assignee changed")
        PRIORITY = "priority", _("Priority changed")
        CATEGORY = "category", _("Category changed")
        REPLY = "reply", _("Public reply")
        NOTE = "note", _("Internal note")
        REMINDER = "reminder", _("Reminder sent to the customer")

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    kind = models.CharField(_("event"), max_length=20, choices=Kind.choices)
    data = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="event_ticket_idx")]

    # How the people of an assignment are named: user name -> label, set by the page that
    # shows the timeline (services.timeline); the user name stands in for anyone not in it.
    person_labels: dict[str, str] = {}

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.kind}"

    @property
    def change(self) -> str:
        """The change in words, e.g. “New → In progress”."""
        old, new = self.data.get("old"), self.data.get("new")
        if self.kind in (self.Kind.STATUS, self.Kind.REOPENED):
            old, new = Status(old).label, Status(new).label
        elif self.kind == self.Kind.PRIORITY:
            old, new = Priority(old).label, Priority(new).label
        elif self.kind == self.Kind.CATEGORY:
            old = DEFAULT_CATEGORY_LABELS.get(old, old)
            new = DEFAULT_CATEGORY_LABELS.get(new, new)
        elif self.kind == self.Kind.ASSIGNED:
            old, new = self.person_labels.get(old, old), self.person_labels.get(new, new)
        else:
            return ""
        return f"{old or '—'} → {new or '—'}"
