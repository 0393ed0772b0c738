from __future__ import annotations

import codecs
import re
import zipfile
from collections import Counter
from pathlib import PurePath

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import slug_re
from django.template.defaultfilters import filesizeformat
from django.utils.functional import lazy
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from accounts import roles
from accounts.models import Company
from accounts.services import client_ip
from portal.durations import try_again_in
from portal.forms import MarksOptionalFields, ModelIdsField, RateLimited
from portal.throttle import retry_after

from .models import (
    Category,
    Impact,
    Priority,
    Status,
    Ticket,
    Urgency,
    WorkflowError,
    check_reply_status,
)

# "All" of the status filters stands for incidents (feminine in Spanish: "Todas"), unlike the
# security log's event filter's "All" ("Todos"); the employee state filter's has its own too.
ALL_INCIDENTS = pgettext_lazy("incidents", "All")

# --- Attachments: an allow-list checked by content ---------------------------------------

OFFICE_TYPES = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
MAGIC_TYPES = [
    (b"%PDF-", {".pdf": "application/pdf"}),
    (b"\x89PNG\r\n\x1a\n", {".png": "image/png"}),
    (b"\xff\xd8\xff", {".jpg": "image/jpeg", ".jpeg": "image/jpeg"}),
    (b"GIF87a", {".gif": "image/gif"}),
    (b"GIF89a", {".gif": "image/gif"}),
]
TEXT_TYPES = {".txt": "text/plain", ".log": "text/plain", ".csv": "text/csv"}
ALLOWED_EXTENSIONS = sorted(
    {ext for _magic, types in MAGIC_TYPES for ext in types} | set(OFFICE_TYPES) | set(TEXT_TYPES)
)


def _is_text(upload) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    upload.seek(0)
    for chunk in upload.chunks(64 * 1024):
        if b"\x00" in chunk:
            return False
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError:
            return False
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _is_office_zip(upload) -> bool:
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            return "[Content_Types].xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def sniff_content_type(upload) -> str | None:
    """The content type of an upload whose bytes match its extension, or None."""
    extension = PurePath(upload.name or "").suffix.lower()
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for magic, types in MAGIC_TYPES:
        if head.startswith(magic):
            return types.get(extension)
    if head.startswith(b"PK\x03\x04") and extension in OFFICE_TYPES:
        return OFFICE_TYPES[extension] if _is_office_zip(upload) else None
    if extension in TEXT_TYPES and _is_text(upload):
        return TEXT_TYPES[extension]
    return None


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


def _attachment_help() -> str:
    return gettext(
        "Up to %(count)s files of at most %(size)s each: PDF, PNG, JPEG, GIF, text, "
        "CSV, Word, Excel or PowerPoint."
    ) % {
        "count": settings.TICKET_ATTACHMENTS_PER_MESSAGE,
        "size": filesizeformat(settings.TICKET_ATTACHMENT_MAX_BYTES),
    }


class AttachmentsField(forms.FileField):
    """Up to TICKET_ATTACHMENTS_PER_MESSAGE files; cleans to a list of (upload, content type)."""

    widget = MultipleFileInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("Attachments"))
        # Fields are built at import time: translate the help text when it is shown.
        kwargs.setdefault("help_text", lazy(_attachment_help, str)())
        super().__init__(**kwargs)
        self.widget.attrs["accept"] = ",".join(ALLOWED_EXTENSIONS)

    def clean(self, data, initial=None):
        uploads = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if len(uploads) > settings.TICKET_ATTACHMENTS_PER_MESSAGE:
            raise ValidationError(
                _("Attach at most %(count)s files to one message."),
                code="too_many",
                params={"count": settings.TICKET_ATTACHMENTS_PER_MESSAGE},
            )
        cleaned, errors = [], []
        for upload in uploads:
            upload = super().clean(upload, initial)
            if upload.size > settings.TICKET_ATTACHMENT_MAX_BYTES:
                errors.append(
                    ValidationError(
                        _("%(name)s is larger than %(size)s."),
                        code="too_large",
                        params={
                            "name": upload.name,
                            "size": filesizeformat(settings.TICKET_ATTACHMENT_MAX_BYTES),
                        },
                    )
                )
                continue
            content_type = sniff_content_type(upload)
            if content_type is None:
                errors.append(
                    ValidationError(
                        _("%(name)s is not a file type we accept, or its content does not match."),
                        code="bad_type",
                        params={"name": upload.name},
                    )
                )
                continue
            cleaned.append((upload, content_type))
        if errors:
            raise ValidationError(errors)
        return cleaned


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Category) -> str:
        return obj.label


# --- Customers ---------------------------------------------------------------------------


class TicketForm(MarksOptionalFields, forms.ModelForm):
    category = CategoryChoiceField(
        label=_("Category"), queryset=Category.objects.filter(is_active=True), empty_label=None
    )
    impact = forms.ChoiceField(
        label=_("Who is affected?"), choices=Impact.choices, widget=forms.RadioSelect
    )
    urgency = forms.ChoiceField(
        label=_("How much does it stop your work?"),
        choices=Urgency.choices,
        widget=forms.RadioSelect,
    )
    attachments = AttachmentsField()

    class Meta:
        model = Ticket
        fields = ["subject", "category", "description", "impact", "urgency"]
        help_texts = {
            "description": _("What happened, since when, and what you have tried already.")
        }

    def __init__(self, *args, category_code: str = "", **kwargs):
        """``category_code`` preselects a category: links to the form say what it is about."""
        super().__init__(*args, **kwargs)
        # Only a slug can be a code (a NUL byte would even break PostgreSQL's query).
        if category_code and not self.is_bound and slug_re.fullmatch(category_code[:50]):
            categories = self.fields["category"].queryset
            self.initial["category"] = categories.filter(code=category_code[:50]).first()


# The statuses support staff may set with a reply (then only those the workflow allows).
REPLY_STATUSES = (Status.IN_PROGRESS, Status.WAITING, Status.RESOLVED)


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("Your message"), widget=forms.Textarea, max_length=20000)
    attachments = AttachmentsField()
    internal = forms.BooleanField(
        label=_("Internal note (never shown to the customer)"), required=False
    )
    status = forms.ChoiceField(label=_("After sending"), required=False)

    def __init__(self, *args, staff: bool = False, ticket: Ticket | None = None, **kwargs):
        """Staff also choose the ``ticket``'s status after their message."""
        kwargs.setdefault("auto_id", "reply_%s")  # the triage form beside it has a status too
        super().__init__(*args, **kwargs)
        if not staff:
            del self.fields["internal"]
            del self.fields["status"]
            return
        keep = gettext("Keep the status (%(status)s)") % {"status": ticket.get_status_display()}
        moves = ticket.allowed_moves(None)  # the staff workflow
        self.fields["status"].choices = [
            ("", keep),
            *((status.value, status.label) for status in REPLY_STATUSES if status in moves),
        ]
        self.fields["status"].initial = ticket.default_reply_status()

    def clean_status(self) -> str | None:
        # None when the message came without the choice (not from this page): the default.
        return self.cleaned_data["status"] if "status" in self.data else None

    def clean(self):
        data = super().clean()
        try:
            check_reply_status(data.get("status") or "", internal=data.get("internal", False))
        except WorkflowError as error:
            self.add_error("status", str(error))
        return data


class MyTicketsFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", ALL_INCIDENTS), ("open", _("Open")), *Status.choices],
    )
    q = forms.CharField(label=_("Search"), required=False, max_length=200)


class CannotSignInForm(RateLimited, MarksOptionalFields, forms.Form):
    """A request for help from someone who cannot sign in; throttled per IP address."""

    name = forms.CharField(
        label=_("Your name"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("Your email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    username = forms.CharField(
        label=_("Your user name"),
        max_length=150,
        required=False,
        help_text=_(
            "Leave it empty if you do not know it: your name and email address help us find "
            "your account."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    description = forms.CharField(
        label=_("What happens when you try to sign in?"), widget=forms.Textarea, max_length=5000
    )

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request

    def clean(self):
        if self.errors:  # a form sent back to be corrected is not a request yet
            return super().clean()
        key = f"tickets-help-requests:{client_ip(self.request) or 'unknown'}"
        limit, window = settings.TICKET_HELP_REQUEST_LIMIT, settings.TICKET_HELP_REQUEST_WINDOW
        wait = retry_after(key, limit=limit, window=window)
        if wait:
            self.refuse(wait, try_again_in(wait))
        return super().clean()


# --- Support staff -----------------------------------------------------------------------


def agents_queryset():
    return (
        get_user_model()
        .objects.filter(
            is_active=True, groups__name__in=[roles.SUPPORT_AGENTS, roles.PROVIDER_ADMINS]
        )
        .distinct()
        .order_by("first_name", "username")
    )


def is_assignable(user) -> bool:
    """Whether tickets may be assigned to ``user``: one of agents_queryset(), whom every
    assignee list offers (a superuser outside the groups may work in /support/ but is none)."""
    return agents_queryset().filter(pk=user.pk).exists()


def person_labels(people) -> dict[str, str]:
    """User name -> how the page names the person: their full name, followed by the user
    name where two people share the full name (or the user name alone, without one)."""
    people = {person.username: person for person in people}
    shared = Counter(person.get_full_name() for person in people.values())
    labels = {}
    for username, person in people.items():
        name = person.get_full_name()
        if not name:
            labels[username] = username
        elif shared[name] > 1:
            labels[username] = f"{name} ({username})"
        else:
            labels[username] = name
    return labels


def agent_choices(agents: list) -> list[tuple[str, str]]:
    """(id, label) of each agent for an assignee select. Agents who share a full name are told
    apart by their user names, as the ticket's history names them (person_labels); the others
    keep the name alone, which is all the list needs to be read quickly."""
    labels = person_labels(agents)
    return [(str(agent.pk), labels[agent.username]) for agent in agents]


def label_assignees(tickets, agents: list) -> None:
    """Give each ticket its ``assignee_label``: the assignee as the assignee selects name
    them (agent_choices), from the agents the page loaded and the tickets' selected
    assignees, so no query per row; "" while nobody is assigned."""
    tickets = list(tickets)
    labels = person_labels([*agents, *(t.assignee for t in tickets if t.assignee_id)])
    for ticket in tickets:
        ticket.assignee_label = labels[ticket.assignee.username] if ticket.assignee_id else ""


class AgentChoiceField(forms.ModelChoiceField):
    """Validates against agents_queryset(); offers the agents the view loaded once.

    The queue shows two assignee selects and the filter, the ticket page one: they share one
    list (one query), instead of each select running agents_queryset() when it renders.
    """

    def __init__(self, **kwargs):
        super().__init__(queryset=None, **kwargs)

    def offer(self, agents: list) -> None:
        self.queryset = agents_queryset()
        self.choices = [("", self.empty_label), *agent_choices(agents)]


# Each order ends with the id: rows that tie on the rest would otherwise come in any order,
# and a row could show on two pages, or on none.
SORTS = {
    "priority": ("priority", "created_at", "id"),
    "-created": ("-created_at", "-id"),
    "created": ("created_at", "id"),
    "due": ("resolution_due", "id"),
    "-updated": ("-updated_at", "-id"),
}


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All open")), ("all", ALL_INCIDENTS), *Status.choices],
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        required=False,
        coerce=int,
        choices=[("", _("Any")), *Priority.choices],
    )
    category = CategoryChoiceField(
        label=_("Category"), required=False, queryset=Category.objects.all(), empty_label=_("Any")
    )
    company = forms.ModelChoiceField(
        label=_("Company"), required=False, queryset=Company.objects.all(), empty_label=_("Any")
    )
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            ("priority", _("Priority")),
            ("-created", _("Newest")),
            ("created", _("Oldest")),
            ("due", _("Due soonest")),
            ("-updated", _("Recently updated")),
        ],
    )

    def __init__(self, *args, agents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [
            ("", _("Anyone")),
            ("mine", _("Mine")),
            ("unassigned", _("Unassigned")),
            *agent_choices(agents),
        ]

    def active_filters(self) -> list[tuple[str, str]]:
        """(label, value) of every filter set to other than its default: the summary of the
        folded filters. The sort is not a filter: see active_sort(). Call after is_valid()."""
        return [
            (self.fields[name].label, self._shown(name, value))
            for name, value in self.cleaned_data.items()
            if name != "sort" and value not in (None, "", False)
        ]

    def active_sort(self) -> tuple[str, str] | None:
        """(label, value) of the sort when it is not the default (priority), else None."""
        sort = self.cleaned_data.get("sort")
        if sort in ("", "priority", None):
            return None
        return self.fields["sort"].label, self._shown("sort", sort)

    def _shown(self, name: str, value) -> str:
        field = self.fields[name]
        if isinstance(field, forms.BooleanField):
            return ""
        if isinstance(field, forms.ModelChoiceField):
            return field.label_from_instance(value)
        if isinstance(field, forms.ChoiceField):
            return dict(field.choices).get(value, value)
        return value

    def filter(self, tickets, user, now):
        data = self.cleaned_data
        status = data.get("status")
        if status == "":
            tickets = tickets.open()
        elif status != "all":
            tickets = tickets.filter(status=status)
        if data.get("priority"):
            tickets = tickets.filter(priority=data["priority"])
        if data.get("category"):
            tickets = tickets.filter(category=data["category"])
        if data.get("company"):
            tickets = tickets.filter(company=data["company"])
        assignee = data.get("assignee")
        if assignee == "mine":
            tickets = tickets.filter(assignee=user)
        elif assignee == "unassigned":
            tickets = tickets.filter(assignee__isnull=True)
        elif assignee:
            tickets = tickets.filter(assignee_id=int(assignee))
        if data.get("overdue"):
            tickets = tickets.overdue(now)
        tickets = tickets.search(data.get("q") or "")
        return tickets.order_by(*SORTS[data.get("sort") or "priority"])


class TriageForm(forms.Form):
    assignee = AgentChoiceField(label=_("Assignee"), required=False, empty_label=_("Unassigned"))
    priority = forms.TypedChoiceField(label=_("Priority"), coerce=int, choices=Priority.choices)
    # Every ticket has a category: no blank choice.
    category = CategoryChoiceField(
        label=_("Category"), queryset=Category.objects.all(), empty_label=None
    )
    status = forms.ChoiceField(label=_("Status"), choices=Status.choices)

    def __init__(self, *args, agents: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].offer(agents)


SEEN_ROW = re.compile(r"(\d{1,18}):(\d{0,18}):([a-z_]{1,20})")


class SeenField(forms.Field):
    """What the queue page showed of each row: "ticket id:assignee id:status" (nothing
    between the colons: unassigned). Cleans to {ticket id: (assignee id or None, status)}."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> dict[int, tuple[int | None, str]]:
        seen = {}
        for row in value or []:
            match = SEEN_ROW.fullmatch(str(row))
            if match is None or match[3] not in Status.values:
                raise ValidationError(
                    _("The queue page was out of date: check the selection and try again."),
                    code="invalid",
                )
            ticket, assignee, status = match.groups()
            seen[int(ticket)] = (int(assignee) if assignee else None, status)
        return seen


class BulkForm(forms.Form):
    """Nothing is preselected: an untouched "Assign to" must not unassign a whole selection,
    so "Unassigned" is a choice of its own."""

    ACTIONS = [("assign", _("Assign")), ("status", _("Change status"))]
    UNASSIGNED = "unassigned"

    # The queue shows these errors above the bar: the rows' boxes are outside the form.
    tickets = ModelIdsField(
        label=_("Tickets"),
        queryset=Ticket.objects.all(),
        widget=forms.MultipleHiddenInput,
        error_messages={
            "required": _("Select the tickets to change."),
            "invalid_choice": _("A selected ticket no longer exists."),
            "invalid_pk_value": _("A selected ticket no longer exists."),
        },
    )
    action = forms.ChoiceField(
        label=_("Action"), choices=ACTIONS, error_messages={"required": _("Choose an action.")}
    )
    assignee = forms.ChoiceField(
        label=_("Assign to"),
        required=False,
        # An agent the page offered who is none any more, or a forged value.
        error_messages={"invalid_choice": _("Tickets can be assigned to support agents only.")},
    )
    # A ticket never moves back to "new".
    status = forms.ChoiceField(
        label=_("New status"),
        required=False,
        choices=[("", "—"), *((v, label) for v, label in Status.choices if v != Status.NEW)],
    )

    # The bar's "Assign selected to me" button: an assignment to the agent who sends it.
    mine = forms.BooleanField(required=False, widget=forms.HiddenInput)
    # Each row's assignee and status as the page showed them: services.bulk_update leaves
    # alone the tickets changed since.
    seen = SeenField(required=False)

    def __init__(self, *args, agents: list, me=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.me = me
        self.agents = {str(agent.pk): agent for agent in agents}
        self.fields["assignee"].choices = [
            ("", "—"),
            (self.UNASSIGNED, _("Unassigned")),
            *agent_choices(agents),
        ]
        # "Assign selected to me" is an action of its own: the bar's choice is not needed.
        if self.is_bound and self.fields["mine"].to_python(self.data.get("mine")):
            self.fields["action"].required = False

    def clean(self):
        data = super().clean()
        if data.get("mine") and self.me is not None:
            if str(self.me.pk) not in self.agents:
                self.add_error(None, _("Tickets can be assigned to support agents only."))
                return data
            data.update(action="assign", assignee=self.me)
            return data
        if data.get("action") == "status" and not data.get("status"):
            self.add_error("status", _("Choose the new status."))
        if data.get("action") == "assign" and not data.get("assignee"):
            self.add_error("assignee", _("Choose whom to assign them to."))
        chosen = data.get("assignee")
        data["assignee"] = None if chosen in ("", self.UNASSIGNED, None) else self.agents[chosen]
        return data
