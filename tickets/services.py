"""Ticket operations with side effects: conversation, attachments, timeline and emails."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Count, F, OuterRef, Q, QuerySet, Subquery, Value, When, Window
from django.db.models.functions import Left, RowNumber
from django.utils import timezone, translation
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from accounts import roles
from accounts.emails import send_email, send_email_to_user
from portal.prepared import PreparedQuery

from .forms import agents_queryset, label_assignees, person_labels
from .models import (
    ALL,
    COMPANY,
    HIGH_PRIORITIES,
    LOGIN_CATEGORY_CODE,
    OWN,
    Attachment,
    Category,
    Impact,
    Message,
    Status,
    Ticket,
    TicketEvent,
    Urgency,
    WorkflowError,
    check_reply_status,
    forget_status_counts,
    priority_for,
    visibility_filter,
    visibility_scope,
)

# --- Emails ------------------------------------------------------------------------------


def _ticket_url(ticket: Ticket) -> str:
    from django.urls import reverse

    return settings.SITE_URL + reverse("tickets:detail", args=[ticket.pk])


def _notify_requester(ticket: Ticket, template: str, *, by=None, **context) -> None:
    """Only public content ever reaches this function: internal notes are never emailed.
    Nobody is emailed about their own action: ``by`` is who acted (None: the system)."""
    if by is not None and ticket.requester_id == by.pk:
        return
    context = {
        "ticket": ticket,
        "ticket_url": _ticket_url(ticket),
        "reopen_days": settings.TICKET_REOPEN_DAYS,
        "name": ticket.requester_label,
        **context,
    }
    if ticket.requester_id:
        send_email_to_user(ticket.requester, template, context)
    elif ticket.contact_email:
        send_email(template, ticket.contact_email, context, ticket.contact_language or None)


def _support_agents(*, besides):
    """The support agents, who hear of tickets nobody has taken yet; ``besides`` (a user or
    None) is left out: nobody is emailed about their own action."""
    agents = agents_queryset().filter(groups__name=roles.SUPPORT_AGENTS)
    return agents.exclude(pk=besides.pk) if besides is not None else agents


def _notify_agents_of_new_ticket(ticket: Ticket) -> None:
    if ticket.priority not in HIGH_PRIORITIES:
        return
    for agent in _support_agents(besides=ticket.requester):
        send_email_to_user(
            agent, "ticket_new_high_priority", {"ticket": ticket, "ticket_url": _ticket_url(ticket)}
        )


def _unannounced_replies():
    """Customers' public replies that came in after support's last email about their ticket
    (Ticket.support_notified_at): what the next email counts."""
    return Message.objects.filter(
        is_internal=False,
        is_description=False,
        created_at__gt=F("ticket__support_notified_at"),
    ).exclude(roles.provider_staff_filter("author__"))


def _replies_unannounced(ticket: Ticket, message: Message) -> int:
    """How many customer replies before ``message`` support was not emailed about. One query,
    only when an email goes out."""
    return _unannounced_replies().filter(ticket=ticket).exclude(pk=message.pk).count()


def _announce_unassigned_reply(ticket: Ticket, message: Message, reopened: bool) -> int | None:
    """Whether the support agents are emailed about a customer's reply on an unassigned ticket:
    at most once per TICKET_REPLY_NOTICE_WINDOW, or ten replies in a row would send each agent
    ten emails. The window runs from the last email; a reply at its end or later is emailed,
    with the number of earlier replies it was not about (returned; None: no email). A reply
    that reopens the ticket is always news. A reply held back marks the window's end
    (support_notice_due_at): if no reply comes then, announce_held_back_replies emails it.

    The times are kept on the ticket's row, which add_reply holds locked: every web and worker
    process sees them, and two replies at once cannot both start a window."""
    last = ticket.support_notified_at
    window = timedelta(seconds=settings.TICKET_REPLY_NOTICE_WINDOW)
    if last is not None and message.created_at < last + window and not reopened:
        if ticket.support_notice_due_at is None:
            ticket.support_notice_due_at = last + window
            ticket.save(update_fields=["support_notice_due_at"])
        return None
    earlier = 0 if last is None else _replies_unannounced(ticket, message)
    ticket.support_notified_at = message.created_at
    ticket.support_notice_due_at = None
    ticket.save(update_fields=["support_notified_at", "support_notice_due_at"])
    return earlier


def _end_reply_window(ticket: Ticket) -> list[str]:
    """Support answered the customer: with a public reply, or by resolving or closing the
    ticket (which tells the customer it is done, who may reopen it by replying). The replies
    the window held back are answered, so nobody is emailed about them any more, and the
    customer's next reply is news again, counting none of them. Returns the fields to save."""
    if ticket.support_notified_at is None and ticket.support_notice_due_at is None:
        return []
    ticket.support_notified_at = ticket.support_notice_due_at = None
    return ["support_notified_at", "support_notice_due_at"]


def _hand_over_held_back_replies(ticket: Ticket, message: Message) -> int:
    """The number of replies held back while nobody was assigned, for the assignee's email
    about ``message`` to count: nobody was emailed about them. The window's end then has
    nothing left to announce (announce_held_back_replies would tell the assignee again)."""
    if ticket.support_notice_due_at is None:
        return 0
    earlier = _replies_unannounced(ticket, message)
    ticket.support_notice_due_at = None
    ticket.save(update_fields=["support_notice_due_at"])
    return earlier


def _email_support_of_reply(
    ticket: Ticket, message: Message, recipients, *, earlier: int, reopened: bool = False
) -> None:
    """The one email support gets about customer replies: about ``message``, with the number
    of ``earlier`` replies nobody was emailed about. Nobody hears of their own reply."""
    context = {
        "ticket": ticket,
        "message": message,
        "author": message.author,
        "ticket_url": _ticket_url(ticket),
        "reopened": reopened,
        "unassigned": not ticket.assignee_id,
        "earlier_replies": earlier,
    }
    for recipient in recipients:
        if recipient.pk != message.author_id:
            send_email_to_user(recipient, "ticket_customer_reply", context)


def _notify_support_of_customer_reply(ticket: Ticket, message: Message, reopened: bool) -> None:
    """The assignee hears of the customer's reply; while nobody is assigned, every support
    agent does (the ones a new ticket is announced to), or the reply would go unread."""
    if ticket.assignee_id:
        earlier = _hand_over_held_back_replies(ticket, message)
        recipients = [ticket.assignee]
    else:
        earlier = _announce_unassigned_reply(ticket, message, reopened)
        if earlier is None:
            return
        recipients = _support_agents(besides=message.author)
    _email_support_of_reply(ticket, message, recipients, earlier=earlier, reopened=reopened)


# Tickets whose held-back replies one run of announce_held_back_replies emails per transaction.
NOTICE_BATCH_SIZE = 500


def _announce_held_back_batch(now: datetime) -> int:
    """One batch of announce_held_back_replies in four queries, whatever its size: the due
    tickets (locked; those a reply or another run holds are skipped, and are no longer due
    once it commits), the last held-back reply of each with their number, the tickets' update
    and the agents. The emails are queued in the same transaction."""
    with transaction.atomic():
        batch = list(
            Ticket.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(support_notice_due_at__lte=now)
            .select_related("assignee")
            .order_by("support_notice_due_at", "id")[:NOTICE_BATCH_SIZE]
        )
        if not batch:
            return 0
        # Read once the rows are locked: no reply can be stored on them meanwhile.
        latest = {
            message.ticket_id: message
            for message in _unannounced_replies()
            .filter(ticket__in=batch)
            .select_related("author__company")
            .annotate(
                held=Window(Count("pk"), partition_by=F("ticket_id")),
                position=Window(
                    RowNumber(),
                    partition_by=F("ticket_id"),
                    order_by=(F("created_at").desc(), F("id").desc()),
                ),
            )
            .filter(position=1)
        }
        Ticket.objects.filter(pk__in=[ticket.pk for ticket in batch]).update(
            support_notice_due_at=None,
            # The window runs from the agents' email; an assignee's is no email to them.
            support_notified_at=Case(
                When(assignee__isnull=True, then=Value(now)), default=F("support_notified_at")
            ),
        )
        agents = list(_support_agents(besides=None))
        for ticket in batch:
            message = latest.get(ticket.pk)
            if message is None:  # none left: a due time is cleared once its replies are told
                continue
            recipients = [ticket.assignee] if ticket.assignee_id else agents
            _email_support_of_reply(ticket, message, recipients, earlier=message.held - 1)
    return len(batch)


def announce_held_back_replies(now: datetime | None = None) -> int:
    """Email support about the customer replies the reply window held back, once it has
    ended and no later reply did: the agents while nobody is assigned, else the assignee,
    who heard of none of them. Returns the number of tickets; safe to run twice at once.

    Support's answer ends the window (_end_reply_window): a public reply, or resolving or
    closing the ticket, whichever way (ticket page, bulk bar). Those replies were handled,
    so they are never announced, nor counted by the email about the next reply, which
    reopens the ticket. A ticket resolved or closed otherwise (by the customer, or the
    waiting rule) still has its replies announced, nobody in support having been told of
    them; the email says the ticket's status now.

    Beat runs it every minute rather than a task per window queued with a countdown: such a
    task waits unacknowledged in a worker until it is due, so a crashed worker's comes back
    only after Redis's visibility timeout (an hour), and one due later than that is delivered
    twice. The due time on the ticket's row survives any restart, and any run finds it."""
    now = now or timezone.now()
    announced = 0
    while batch := _announce_held_back_batch(now):
        announced += batch
        if batch < NOTICE_BATCH_SIZE:
            break
    return announced


# --- Customers ---------------------------------------------------------------------------


def _save_attachments(message: Message, files: list) -> None:
    for upload, content_type in files:
        Attachment.objects.create(
            message=message,
            file=upload,
            original_name=upload.name[:200],
            content_type=content_type,
            size=upload.size,
        )


@transaction.atomic
def create_ticket(
    *,
    requester,
    category: Category,
    subject: str,
    description: str,
    impact: str,
    urgency: str,
    files: list | None = None,
    now: datetime | None = None,
    notify: bool = True,
    **contact,
) -> Ticket:
    now = now or timezone.now()
    ticket = Ticket(
        requester=requester,
        company_id=getattr(requester, "company_id", None),
        category=category,
        subject=subject,
        description=description,
        impact=impact,
        urgency=urgency,
        priority=priority_for(impact, urgency),
        created_at=now,
        updated_at=now,
        **contact,
    )
    ticket.set_service_levels()
    ticket.save()
    ticket.assign_reference()
    forget_status_counts()
    ticket.record(TicketEvent.Kind.CREATED, requester, at=now)
    if files:
        message = Message.objects.create(
            ticket=ticket, author=requester, body=description, created_at=now, is_description=True
        )
        _save_attachments(message, files)
    if notify:
        _notify_agents_of_new_ticket(ticket)
    return ticket


def create_sign_in_help_ticket(*, name: str, email: str, username: str, description: str):
    """A request from someone who cannot sign in; never tells whether the account exists.
    Emails to the contact are written in the language of the request."""
    return create_ticket(
        requester=None,
        category=Category.objects.get(code=LOGIN_CATEGORY_CODE),
        # Someone who forgot their user name too leaves it empty: the address names them then.
        subject=_("Cannot sign in: %(username)s") % {"username": username[:150] or email},
        description=description,
        impact=Impact.LOW,
        urgency=Urgency.HIGH,
        contact_name=name,
        contact_email=email,
        contact_username=username,
        contact_language=translation.get_language() or "",
    )


def tickets_requested_by(user) -> QuerySet[Ticket]:
    """Every ticket ``user`` (a user, an id, or an expression such as OuterRef("pk")) opened,
    whatever its state: accounts' retention never deletes an account that has one."""
    return Ticket.objects.filter(requester=user)


def open_help_requests_from(email) -> QuerySet[Ticket]:
    """Open requests made without signing in from ``email`` (an address, or an expression
    such as OuterRef("email")), in any category: triage may change it. Accounts' retention
    keeps the account of an address support is still helping, in the query that selects the
    accounts it deletes."""
    return Ticket.objects.open().filter(requester__isnull=True, contact_email__iexact=email)


@transaction.atomic
def add_reply(
    ticket: Ticket,
    author,
    body: str,
    *,
    files: list | None = None,
    internal: bool = False,
    status: str | None = None,
) -> Message:
    """A message on a ticket, with its side effects on status, timeline and emails.

    Support staff move the ticket along with their message: to ``status`` ("": it keeps its
    own; None: Ticket.default_reply_status() for a public reply), by the workflow's rules
    (WorkflowError, and nothing is saved)."""
    staff = roles.is_provider_staff(author)
    internal = internal and staff
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    # Once the row is locked: replies are stored, and the reply window's times set, in the
    # order of their times (_replies_unannounced counts those after the last email).
    now = timezone.now()
    if not staff:
        status = ""
    elif status is None:
        status = "" if internal else ticket.default_reply_status()
    check_reply_status(status, internal=internal)
    reopened = not staff and not ticket.is_open
    if reopened:
        if not ticket.can_reopen_by_reply(now):
            raise WorkflowError(_("This incident is closed. Please report a new incident instead."))
        ticket.move_to(Status.IN_PROGRESS, author, now=now)
    message = Message.objects.create(
        ticket=ticket, author=author, body=body, is_internal=internal, created_at=now
    )
    _save_attachments(message, files or [])
    ticket.record(TicketEvent.Kind.NOTE if internal else TicketEvent.Kind.REPLY, author, at=now)
    ticket.updated_at = now
    fields = ["updated_at"]
    if staff and not internal and ticket.first_responded_at is None:
        ticket.first_responded_at = now
        fields.append("first_responded_at")
    if staff and not internal:
        fields += _end_reply_window(ticket)
    ticket.save(update_fields=fields)
    old = ticket.status
    if status:
        ticket.move_to(status, author, now=now)
    elif not staff and ticket.status == Status.WAITING:
        ticket.move_to(Status.IN_PROGRESS, None, now=now)
    if internal:
        return message
    if staff:
        # Resolved with this reply: one email, the resolution's, which quotes the reply.
        resolved = ticket.status == Status.RESOLVED and old != Status.RESOLVED
        template = "ticket_resolved" if resolved else "ticket_reply"
        _notify_requester(ticket, template, by=author, message=message)
        return message
    if ticket.requester_id and ticket.requester_id != author.pk:
        # A colleague who sees the incident (their Security Manager) answered on it.
        _notify_requester(ticket, "ticket_reply", by=author, message=message, colleague=author)
    _notify_support_of_customer_reply(ticket, message, reopened)
    return message


def _move(ticket: Ticket, status: str, by) -> None:
    """change_status on a ticket whose row the caller holds locked."""
    old = ticket.status
    ticket.move_to(status, by)
    if ticket.status == old:
        return
    staff = by is not None and roles.is_provider_staff(by)
    if staff and not ticket.is_open and (fields := _end_reply_window(ticket)):
        ticket.save(update_fields=fields)
    if ticket.status == Status.RESOLVED:
        _notify_requester(ticket, "ticket_resolved", by=by)


@transaction.atomic
def change_status(ticket: Ticket, status: str, by) -> None:
    """Move along the workflow (raises WorkflowError); the requester hears of a resolution
    unless they made it themselves."""
    _move(Ticket.objects.select_for_update().get(pk=ticket.pk), status, by)


def _taken_meanwhile(ticket: Ticket, assignee, assignee_seen: int | None) -> bool:
    """Whether someone else than the page showed holds ``ticket`` now, whom assigning it to
    ``assignee`` (None: nobody) would take it from unseen. One who let go of it since leaves
    it to nobody: taking it then takes it from no one."""
    return ticket.assignee_id not in (None, assignee_seen, assignee.pk if assignee else None)


@transaction.atomic
def take_ticket(ticket: Ticket, agent, *, assignee_seen: int | None) -> None:
    """ "Assign to me" from a page that showed ``assignee_seen`` (None: unassigned). If someone
    took the ticket since, raise WorkflowError rather than take it over unseen: two agents who
    click at once would otherwise both read "assigned to you"."""
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if _taken_meanwhile(ticket, agent, assignee_seen):
        # Named as the assignee lists name them: agents who share a full name are told apart.
        label_assignees([ticket], agents_queryset())
        raise WorkflowError(
            _("%(name)s took this ticket a moment ago.") % {"name": ticket.assignee_label}
        )
    ticket.assign(agent, agent)


def triage(ticket: Ticket, by, *, assignee, priority: int, category, status: str) -> None:
    """Apply a support agent's triage form; an invalid status move raises WorkflowError.

    On the ticket's row as it is now, locked: the page's copy may be minutes old, and a
    customer's reply meanwhile changed it (its status, the reply window's times)."""
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        ticket.assign(assignee, by)
        ticket.set_priority(priority, by)
        ticket.set_category(category, by)
    change_status(ticket, status, by)


class BulkResult(NamedTuple):
    """What the bulk bar did: how many tickets changed, how many already had what was asked,
    the tickets whose move the workflow refused, and those left alone because they changed
    since the page showed them (with their ``assignee`` and ``status`` now)."""

    changed: int
    unchanged: int
    refused: list[Ticket]
    lost: list[Ticket]


@transaction.atomic
def bulk_update(
    tickets, by, *, action: str, seen: dict, assignee=None, status: str = ""
) -> BulkResult:
    """The queue's bulk bar: assign many tickets to ``assignee`` (None: nobody; "Assign
    selected to me" is an assignment to ``by``) or move them to ``status``.

    ``seen`` maps a ticket's id to the (assignee id, status) the page showed (missing: an
    unassigned ticket in no status). A ticket changed since is left alone rather than changed
    unseen: for an assignment, one someone else took meanwhile (take_ticket's rule); for a
    status move, one moved to another status. A ticket that already has the assignee or
    status is not counted as changed. The tickets are read and locked in one query."""
    locked = (
        Ticket.objects.filter(pk__in=[ticket.pk for ticket in tickets])
        # Only the tickets' rows: PostgreSQL refuses to lock the nullable side of the join.
        .select_for_update(of=("self",))
        .select_related("assignee", "requester")
        .order_by("pk")  # two agents' selections lock their common tickets in one order
    )
    changed, unchanged, refused, lost = 0, 0, [], []
    for ticket in locked:
        assignee_seen, status_seen = seen.get(ticket.pk, (None, None))
        if action == "assign":
            if _taken_meanwhile(ticket, assignee, assignee_seen):
                lost.append(ticket)
                continue
            if ticket.assignee_id == (assignee.pk if assignee else None):
                unchanged += 1
                continue
            ticket.assign(assignee, by)
        else:
            if ticket.status not in (status_seen, status):
                lost.append(ticket)
                continue
            if ticket.status == status:
                unchanged += 1
                continue
            try:
                _move(ticket, status, by)
            except WorkflowError:  # raised before anything is written
                refused.append(ticket)
                continue
        changed += 1
    return BulkResult(changed, unchanged, refused, lost)


# --- Reading -----------------------------------------------------------------------------


DASHBOARD_CARD_SIZE = 5


def _scope_ids(scope: str | None) -> tuple[str, ...]:
    """The ids a prepared query of a visibility scope takes (None: staff's own tickets)."""
    if scope == ALL:
        return ()
    if scope == COMPANY:
        return ("user_id", "company_id")
    return ("user_id",)


def _scope_values(scope: str | None, user) -> dict:
    ids = {"user_id": user.pk, "company_id": user.company_id}
    return {name: ids[name] for name in _scope_ids(scope)}


def _dashboard_card_query(scope: str | None) -> PreparedQuery:
    """The card's open tickets (with their total as a window count, computed before LIMIT, so
    the landing page of every sign-in needs no COUNT query), compiled once per thread:
    building and compiling this query cost several times more than running it."""

    def build(user_id: int, company_id: int = 0):
        tickets = Ticket.objects.open()
        if scope is None:  # support staff: the tickets assigned to them
            tickets = tickets.filter(assignee_id=user_id)
        else:
            tickets = tickets.filter(visibility_filter(scope, user_id, company_id))
        return (
            tickets.select_related("category")
            .annotate(open_total=Window(Count("pk")))
            .order_by("priority", "-created_at")[:DASHBOARD_CARD_SIZE]
        )

    return PreparedQuery(build, **dict.fromkeys(_scope_ids(scope), int))


_DASHBOARD_CARD = {scope: _dashboard_card_query(scope) for scope in (None, OWN, COMPANY)}


def dashboard_tickets(user) -> dict:
    """Open tickets for the dashboard card, and how many there are: one query."""
    staff = roles.is_provider_staff(user)
    scope = None if staff else visibility_scope(user)
    first = _DASHBOARD_CARD[scope](**_scope_values(scope, user))
    return {
        "tickets": first,
        "count": first[0].open_total if first else 0,
        "staff": staff,
    }


# The ticket page's reads, compiled once per thread (the ticket with three related rows costs
# 1.8 ms to build and compile and 0.3 ms to run).


def _visible_ticket_query(scope: str) -> PreparedQuery:
    def build(pk: int, user_id: int = 0, company_id: int = 0):
        return Ticket.objects.filter(
            visibility_filter(scope, user_id, company_id), pk=pk
        ).select_related("category", "requester", "assignee")

    return PreparedQuery(build, pk=int, **dict.fromkeys(_scope_ids(scope), int))


_VISIBLE_TICKET = {scope: _visible_ticket_query(scope) for scope in (ALL, COMPANY, OWN)}


_CONVERSATION = {
    staff: PreparedQuery(
        lambda ticket_id, staff=staff: Message.objects.filter(
            ticket_id=ticket_id, is_description=False, **({} if staff else {"is_internal": False})
        ).select_related("author"),
        ticket_id=int,
    )
    for staff in (True, False)
}
_ATTACHMENTS = {
    staff: PreparedQuery(
        lambda ticket_id, staff=staff: Attachment.objects.filter(
            message__ticket_id=ticket_id, **({} if staff else {"message__is_internal": False})
        ).annotate(on_description=F("message__is_description")),
        ticket_id=int,
    )
    for staff in (True, False)
}
_TIMELINE = PreparedQuery(
    lambda ticket_id: TicketEvent.objects.filter(ticket_id=ticket_id).select_related("actor"),
    ticket_id=int,
)


def visible_ticket(user, pk: int) -> Ticket | None:
    """The ticket if ``user`` may see it (the rule of Ticket.objects.visible_to), with its
    category, requester and assignee."""
    if not user.is_authenticated:
        return None
    scope = visibility_scope(user)
    found = _VISIBLE_TICKET[scope](pk=pk, **_scope_values(scope, user))
    return found[0] if found else None


# The roles shown beside an author's name in the conversation.
SUPPORT_ROLE, SECURITY_MANAGER_ROLE = "support", "security_manager"


def _author_role(message: Message, ticket: Ticket) -> str:
    author = message.author
    if author is None:
        return ""
    if roles.is_provider_staff(author):
        return SUPPORT_ROLE
    if roles.is_security_manager(author) and author.company_id == ticket.company_id:
        return SECURITY_MANAGER_ROLE  # of the ticket's company: the requester's colleague
    return ""


def conversation(ticket: Ticket, *, staff: bool) -> list[Message]:
    """The ticket's messages in order (internal notes only for staff), each with its
    ``attachment_list`` and ``author_role`` (SUPPORT_ROLE, SECURITY_MANAGER_ROLE or ""): three
    queries, whatever the number of messages. The files of the report are the ticket's
    ``attachment_list``: the message holding them is not part of the conversation."""
    messages = _CONVERSATION[staff](ticket_id=ticket.pk)
    roles.load_roles(message.author for message in messages)
    attachments = {}
    ticket.attachment_list = []
    for attachment in _ATTACHMENTS[staff](ticket_id=ticket.pk):
        if attachment.on_description:
            ticket.attachment_list.append(attachment)
        else:
            attachments.setdefault(attachment.message_id, []).append(attachment)
    for message in messages:
        message.attachment_list = attachments.get(message.pk, [])
        message.author_role = _author_role(message, ticket)
    return messages


def timeline(ticket: Ticket, agents: list) -> list[TicketEvent]:
    """The ticket's events, each with its ``actor_label``; assignments name the agents by
    their labels too. ``agents``, loaded for the page already, and the events' actors name
    everybody an assignment can mention: no query per event (a former agent, in neither,
    keeps their user name)."""
    events = _TIMELINE(ticket_id=ticket.pk)
    labels = person_labels([*agents, *(event.actor for event in events if event.actor)])
    for event in events:
        event.person_labels = labels
        event.actor_label = labels[event.actor.username] if event.actor else ""
    return events


# --- Waiting for the customer ------------------------------------------------------------


REMINDER_BATCH_SIZE = 500
# The reminder repeats support's last message, cut to this many characters.
QUESTION_CHARS = 1000
# Public messages of provider staff: what a waiting customer has been asked.
STAFF_MESSAGE = Q(is_internal=False) & roles.provider_staff_filter("author__")


def _due_reminders(remind_before: datetime):
    """Waiting tickets due for a reminder, with the requester and the start of support's last
    public message (``last_question``), in one query whatever their number."""
    question = (
        Message.objects.filter(STAFF_MESSAGE, ticket=OuterRef("pk"))
        .order_by("-created_at", "-id")
        .values(start=Left("body", QUESTION_CHARS + 1))[:1]
    )
    return (
        Ticket.objects.select_for_update(of=("self",))
        .filter(status=Status.WAITING, waiting_since__lte=remind_before)
        .filter(reminder_sent_at__isnull=True)
        .select_related("requester")
        .annotate(last_question=Subquery(question))
        .order_by("pk")
    )


def _send_waiting_reminders(now: datetime, remind_before: datetime) -> int:
    """One batch of reminders, in three queries: the tickets (locked), their reminder_sent_at
    and their timeline entries; the emails are queued in the same transaction."""
    with transaction.atomic():
        batch = list(_due_reminders(remind_before)[:REMINDER_BATCH_SIZE])
        if not batch:
            return 0
        Ticket.objects.filter(pk__in=[ticket.pk for ticket in batch]).update(reminder_sent_at=now)
        TicketEvent.objects.bulk_create(
            TicketEvent(ticket=ticket, kind=TicketEvent.Kind.REMINDER, created_at=now)
            for ticket in batch
        )
        resolve_after = timedelta(days=settings.TICKET_WAITING_AUTO_RESOLVE_DAYS)
        for ticket in batch:
            ticket.reminder_sent_at = now
            _notify_requester(
                ticket,
                "ticket_waiting_reminder",
                resolve_on=ticket.waiting_since + resolve_after,
                question=Truncator(ticket.last_question or "").chars(QUESTION_CHARS),
            )
    return len(batch)


def process_waiting_tickets(now: datetime | None = None) -> tuple[int, int]:
    """Remind, then resolve, tickets left waiting for the customer; safe to run twice.

    A reminder is recorded on the ticket (reminder_sent_at and a timeline entry) in the
    same transaction as its email is queued, under a lock of the ticket's row, so a second
    run finds nothing to send.
    """
    now = now or timezone.now()
    resolve_before = now - timedelta(days=settings.TICKET_WAITING_AUTO_RESOLVE_DAYS)
    remind_before = now - timedelta(days=settings.TICKET_WAITING_REMINDER_DAYS)
    waiting = Ticket.objects.filter(status=Status.WAITING)
    resolved = reminded = 0
    for pk in waiting.filter(waiting_since__lte=resolve_before).values_list("pk", flat=True):
        with transaction.atomic():
            ticket = Ticket.objects.select_for_update().get(pk=pk)
            if ticket.status == Status.WAITING and ticket.waiting_since <= resolve_before:
                ticket.move_to(Status.RESOLVED, None, now=now)
                _notify_requester(ticket, "ticket_resolved", automatic=True)
                resolved += 1
    while sent := _send_waiting_reminders(now, remind_before):
        reminded += sent
        if sent < REMINDER_BATCH_SIZE:
            break
    return reminded, resolved


# --- Demo data ---------------------------------------------------------------------------

DEMO_MARKER = "[Demo]"


def seed_demo_tickets() -> None:
    """Tickets in every state for the demo companies; does nothing once they exist."""
    from accounts.models import User

    if Ticket.objects.filter(subject__startswith=DEMO_MARKER).exists():
        return
    agent = User.objects.filter(username="support.agent").first()
    people = {u.username: u for u in User.objects.filter(company__isnull=False)}
    categories = {c.code: c for c in Category.objects.all()}
    now = timezone.now()
    plan = [
        ("c10234.jd", "cloud_desktop", "Cloud desktop freezes at login", "high", "high", []),
        ("c10234.jd", "email", "Shared mailbox missing", "medium", "medium", ["in_progress"]),
        (
            "c10234.sm",
            "applications",
            "ERP export fails",
            "high",
            "medium",
            ["in_progress", "waiting"],
        ),
        (
            "c10234.tw",
            "login_identity",
            "Authenticator lost",
            "low",
            "high",
            ["in_progress", "resolved"],
        ),
        (
            "c20417.cr",
            "other",
            "Printer mapping",
            "low",
            "low",
            ["in_progress", "resolved", "closed"],
        ),
        ("c20417.mg", "email", "Spam filter too strict", "medium", "low", ["waiting"]),
        ("c20417.al", "cloud_desktop", "Slow desktop in the afternoon", "medium", "high", []),
    ]
    for index, (username, code, subject, impact, urgency, moves) in enumerate(plan):
        requester = people.get(username)
        if requester is None:
            continue
        created = now - timedelta(days=len(plan) - index, hours=index)
        ticket = create_ticket(
            requester=requester,
            category=categories[code],
            subject=f"{DEMO_MARKER} {subject}",
            description=f"{subject}. Please help.",
            impact=impact,
            urgency=urgency,
            now=created,
            notify=False,
        )
        # Dated like real work on the ticket, not at seeding time: the timeline reads in order.
        if moves and agent:
            ticket.assign(agent, agent, now=created + timedelta(minutes=10))
            for minutes, body, internal in (
                (20, "Checked the logs, looks like a profile issue.", True),
                (30, "We are looking into it.", False),
            ):
                at = created + timedelta(minutes=minutes)
                Message.objects.create(
                    ticket=ticket, author=agent, body=body, is_internal=internal, created_at=at
                )
                kind = TicketEvent.Kind.NOTE if internal else TicketEvent.Kind.REPLY
                ticket.record(kind, agent, at=at)
            ticket.first_responded_at = created + timedelta(minutes=30)
            ticket.save(update_fields=["first_responded_at"])
        for step, status in enumerate(moves, start=1):
            ticket.move_to(status, agent, now=created + timedelta(hours=3 * step))
