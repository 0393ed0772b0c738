from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import roles
from mfa.decorators import strong_second_factor_required
from portal.forms import answer_rate_limited
from portal.pagination import CappedPaginator
from portal.redirects import safe_next

from . import services
from .forms import (
    BulkForm,
    CannotSignInForm,
    MyTicketsFilterForm,
    QueueFilterForm,
    ReplyForm,
    TicketForm,
    TriageForm,
    agents_queryset,
    is_assignable,
    label_assignees,
    person_labels,
)
from .models import (
    Attachment,
    Status,
    Ticket,
    WorkflowError,
    sees_only_own_tickets,
    status_counts,
)

PAGE_SIZE = 25


def staff_required(view):
    """Signed in, provider staff, and verified with a strong second factor."""

    guarded = strong_second_factor_required(view)

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not roles.is_provider_staff(request.user):
            raise PermissionDenied
        return guarded(request, *args, **kwargs)

    return wrapper


def _visible_ticket(request, pk: int) -> Ticket:
    ticket = services.visible_ticket(request.user, pk)
    if ticket is None:
        raise Http404
    return ticket


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _render_detail(request, ticket: Ticket, *, reply_form=None, triage_form=None, status=200):
    staff = roles.is_provider_staff(request.user)
    ctx = {
        "ticket": ticket,
        "staff": staff,
        "conversation": services.conversation(ticket, staff=staff),
        "reply_form": reply_form or ReplyForm(staff=staff, ticket=ticket),
        "can_resolve": Status.RESOLVED in ticket.allowed_moves(request.user) and ticket.is_open,
        "can_reply": staff or ticket.is_open or ticket.can_reopen_by_reply(),
        "overdue": ticket.is_overdue(),
    }
    if staff:
        agents = list(agents_queryset())
        label_assignees([ticket], agents)
        ctx["can_take"] = any(agent.pk == request.user.pk for agent in agents)
        ctx["triage_form"] = triage_form or TriageForm(
            agents=agents,
            initial={
                "assignee": ticket.assignee_id,
                "priority": ticket.priority,
                "category": ticket.category_id,
                "status": ticket.status,
            },
        )
        ctx["events"] = services.timeline(ticket, agents)
    return render(request, "tickets/ticket_detail.html", ctx, status=status)


def _reference(ticket: Ticket) -> SafeString:
    """A ticket's reference in a message, kept on one line (portal.css): a phone broke
    "INC-000001" at its hyphen."""
    return format_html('<span class="reference">{}</span>', ticket.reference)


def _html(text: str, **values) -> SafeString:
    """``text % values`` for a message holding markup (_reference): the text and each value
    not marked safe are escaped; numbers are left for %d."""
    escaped = {
        name: value if isinstance(value, int) else conditional_escape(value)
        for name, value in values.items()
    }
    # Safe: every part is escaped above (format_html cannot take the %-style translations).
    return mark_safe(conditional_escape(text) % escaped)  # noqa: S308


def _references(tickets: list[Ticket]) -> SafeString:
    return format_html_join(", ", "{}", ((_reference(ticket),) for ticket in tickets))


def _tickets_with(tickets: list[Ticket], now: list[str]) -> SafeString:
    """Each ticket with whom or what it has: "INC-000001 (Kim Lee), INC-000002 (Resolved)"."""
    return format_html_join(
        ", ",
        "{}",
        (
            (_html(_("%(reference)s (%(name)s)"), reference=_reference(ticket), name=name),)
            for ticket, name in zip(tickets, now, strict=True)
        ),
    )


def _changed_meanwhile_messages(
    lost: list[Ticket], agents: list, action: str, me
) -> list[SafeString]:
    """Names the tickets the bulk bar left alone because they changed since the page showed
    them, with whom or what they have now. Those assigned to the agent meanwhile (in another
    tab, or by a colleague) are told apart: "taken by someone else" would name the agent."""
    if action != "assign":
        now = [ticket.get_status_display() for ticket in lost]
        text = ngettext(
            "%(count)d ticket changed its status meanwhile: %(tickets)s.",
            "%(count)d tickets changed their status meanwhile: %(tickets)s.",
            len(lost),
        )
        return [_html(text, count=len(lost), tickets=_tickets_with(lost, now))]
    others = [ticket for ticket in lost if ticket.assignee_id != me.pk]
    mine = [ticket for ticket in lost if ticket.assignee_id == me.pk]
    texts = []
    if others:
        label_assignees(others, agents)
        now = [ticket.assignee_label for ticket in others]
        text = ngettext(
            "%(count)d ticket was taken by someone else meanwhile: %(tickets)s.",
            "%(count)d tickets were taken by someone else meanwhile: %(tickets)s.",
            len(others),
        )
        texts.append(_html(text, count=len(others), tickets=_tickets_with(others, now)))
    if mine:
        text = ngettext(
            "%(count)d ticket was assigned to you meanwhile: %(tickets)s.",
            "%(count)d tickets were assigned to you meanwhile: %(tickets)s.",
            len(mine),
        )
        texts.append(_html(text, count=len(mine), tickets=_references(mine)))
    return texts


def _unchanged_message(count: int, data: dict, agents: list, me) -> str:
    """Counts the selected tickets that already had what the bar asked for. Not named: there
    is nothing to look at (as the employee list's "already blocked and skipped")."""
    if data["action"] != "assign":
        text = ngettext(
            "%(count)d ticket already had the status “%(status)s”.",
            "%(count)d tickets already had the status “%(status)s”.",
            count,
        )
        return text % {"count": count, "status": Status(data["status"]).label}
    assignee = data["assignee"]
    if assignee is None:
        text = ngettext(
            "%(count)d ticket was already unassigned.",
            "%(count)d tickets were already unassigned.",
            count,
        )
    elif assignee.pk == me.pk:
        text = ngettext(
            "%(count)d ticket was already assigned to you.",
            "%(count)d tickets were already assigned to you.",
            count,
        )
    else:
        text = ngettext(
            "%(count)d ticket was already assigned to %(name)s.",
            "%(count)d tickets were already assigned to %(name)s.",
            count,
        )
    name = person_labels(agents)[assignee.username] if assignee else ""
    return text % {"count": count, "name": name}


def _apply_bulk(request, data: dict, agents: list) -> None:
    """Carry out the bulk bar's valid form and tell the agent how it went: the tickets it
    could not change are named, so that the agent knows which to look at."""
    changed, unchanged, refused, lost = services.bulk_update(
        data["tickets"],
        request.user,
        action=data["action"],
        seen=data["seen"],
        assignee=data["assignee"],
        status=data["status"],
    )
    if changed or not (unchanged or refused or lost):  # no green "0 tickets updated."
        messages.success(
            request,
            ngettext("%(count)d ticket updated.", "%(count)d tickets updated.", changed)
            % {"count": changed},
        )
    if unchanged:
        messages.info(request, _unchanged_message(unchanged, data, agents, request.user))
    if refused:
        now = [ticket.get_status_display() for ticket in refused]
        text = ngettext(
            "%(count)d ticket cannot move to “%(status)s”: %(tickets)s.",
            "%(count)d tickets cannot move to “%(status)s”: %(tickets)s.",
            len(refused),
        )
        messages.error(
            request,
            _html(
                text,
                count=len(refused),
                status=Status(data["status"]).label,
                tickets=_tickets_with(refused, now),
            ),
        )
    for text in _changed_meanwhile_messages(lost, agents, data["action"], request.user):
        messages.error(request, text)


# --- Customers ---------------------------------------------------------------------------


@never_cache
@login_required
def ticket_list(request):
    form = MyTicketsFilterForm(request.GET)
    tickets = Ticket.objects.visible_to(request.user).select_related("category")
    if not sees_only_own_tickets(request.user):
        tickets = tickets.select_related("requester")  # rows of others' tickets name them
    if form.is_valid():
        status = form.cleaned_data["status"]
        if status == "open":
            tickets = tickets.open()
        elif status:
            tickets = tickets.filter(status=status)
        tickets = tickets.search(form.cleaned_data["q"])
    page = Paginator(tickets.order_by("-created_at", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    ctx = {"form": form, "page": page, "query": _query_without_page(request)}
    return render(request, "tickets/ticket_list.html", ctx)


@never_cache
@login_required
def ticket_create(request):
    form = TicketForm(
        request.POST or None, request.FILES or None, category_code=request.GET.get("category", "")
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ticket = services.create_ticket(
            requester=request.user,
            category=data["category"],
            subject=data["subject"],
            description=data["description"],
            impact=data["impact"],
            urgency=data["urgency"],
            files=data["attachments"],
        )
        messages.success(
            request,
            _html(_("Your incident %(reference)s was created."), reference=_reference(ticket)),
        )
        return redirect("tickets:detail", pk=ticket.pk)
    status = 400 if form.is_bound else 200
    # Browsers cannot refill a file input: say so, or the incident is sent without them.
    ctx = {"form": form, "files_to_choose_again": form.is_bound and bool(request.FILES)}
    return render(request, "tickets/ticket_create.html", ctx, status=status)


@never_cache
@login_required
@require_GET
def ticket_detail(request, pk: int):
    return _render_detail(request, _visible_ticket(request, pk))


@never_cache
@login_required
@require_POST
def ticket_reply(request, pk: int):
    ticket = _visible_ticket(request, pk)
    staff = roles.is_provider_staff(request.user)
    form = ReplyForm(request.POST, request.FILES, staff=staff, ticket=ticket)
    if not form.is_valid():
        return _render_detail(request, ticket, reply_form=form, status=400)
    try:
        services.add_reply(
            ticket,
            request.user,
            form.cleaned_data["body"],
            files=form.cleaned_data["attachments"],
            internal=form.cleaned_data.get("internal", False),
            status=form.cleaned_data.get("status"),
        )
    except WorkflowError as error:
        # The ticket changed meanwhile (another agent, the reopening period): the text stays.
        form.add_error(None, str(error))
        ticket.refresh_from_db()
        return _render_detail(request, ticket, reply_form=form, status=409)
    if form.cleaned_data.get("internal"):
        messages.success(request, _("Internal note added."))
    else:
        messages.success(request, _("Your message was sent."))
    return redirect("tickets:detail", pk=ticket.pk)


@login_required
@require_POST
def ticket_resolve(request, pk: int):
    """The customer's “my problem is solved”."""
    ticket = _visible_ticket(request, pk)
    try:
        services.change_status(ticket, Status.RESOLVED, request.user)
    except WorkflowError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Thank you. The incident is resolved."))
    return redirect("tickets:detail", pk=ticket.pk)


@never_cache
@login_required
@require_GET
def attachment_download(request, pk: int):
    attachments = Attachment.objects.filter(
        message__ticket__in=Ticket.objects.visible_to(request.user)
    )
    if not roles.is_provider_staff(request.user):
        attachments = attachments.filter(message__is_internal=False)
    attachment = get_object_or_404(attachments, pk=pk)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as error:
        raise Http404 from error
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@never_cache
def cannot_sign_in(request):
    """Help for people who know their credentials but cannot sign in; no sign-in needed."""
    form = CannotSignInForm(request.POST or None, request=request)
    if request.method == "POST":
        if form.is_valid():
            services.create_sign_in_help_ticket(**form.cleaned_data)
            return redirect("tickets:cannot_sign_in_sent")
        response = render(request, "tickets/cannot_sign_in.html", {"form": form}, status=400)
        return answer_rate_limited(response, form.retry_after)
    return render(request, "tickets/cannot_sign_in.html", {"form": form})


def cannot_sign_in_sent(request):
    return render(request, "tickets/cannot_sign_in_sent.html")


# --- Support staff -----------------------------------------------------------------------


def _selected_ids(form: BulkForm) -> set[int]:
    """The tickets the bar's bound ``form`` selected, to tick again on the page sent back."""
    if not form.is_bound:
        return set()
    return {int(value) for value in form.data.getlist("tickets") if value.isdigit()}


@never_cache
@staff_required
@require_http_methods(["GET", "POST"])
def queue(request):
    """The queue, and its bulk bar, which posts to the URL of the page it is on: bad input
    comes back as that page (filters, sort and page kept, the selection and the bar as they
    were, the error at the bar) with 400; carried out, the bar leads back to it."""
    agents = list(agents_queryset())
    bulk_form = BulkForm(
        request.POST if request.method == "POST" else None,
        agents=agents,
        me=request.user,
        auto_id="bulk_%s",  # its own ids: the filters have fields of the same names
    )
    if bulk_form.is_bound and bulk_form.is_valid():
        _apply_bulk(request, bulk_form.cleaned_data, agents)
        return redirect(request.get_full_path())
    form = QueueFilterForm(request.GET, agents=agents)
    now = timezone.now()
    if form.is_valid():
        tickets = form.filter(Ticket.objects.all(), request.user, now)
        active_filters, active_sort = form.active_filters(), form.active_sort()
    else:
        tickets, active_filters, active_sort = Ticket.objects.none(), [], None
    tickets = tickets.select_related("category", "company", "assignee", "requester")
    page = CappedPaginator(tickets, PAGE_SIZE).get_page(request.GET.get("page"))
    label_assignees(page, agents)
    ctx = {
        "form": form,
        "active_sort": active_sort,
        "active_filters": active_filters,
        "page": page,
        "rows": [(ticket, ticket.is_overdue(now)) for ticket in page],
        "status_counts": status_counts(),
        "query": _query_without_page(request),
        "bulk_form": bulk_form,
        "selected": _selected_ids(bulk_form),
    }
    status = 400 if form.errors or bulk_form.errors else 200
    return render(request, "tickets/queue.html", ctx, status=status)


@staff_required
@require_POST
def queue_bulk_moved(request):
    """The bulk bar's URL before it posted to the queue page itself: a queue page opened before
    a deploy still posts here. 307 keeps the method and the form, so the bar's action reaches
    the queue page it came from (its ``next``) as if posted there. Remove with the release
    after next."""
    response = redirect(safe_next(request, reverse("support:queue")))
    response.status_code = 307
    return response


@staff_required
@require_POST
def ticket_triage(request, pk: int):
    ticket = _visible_ticket(request, pk)
    form = TriageForm(request.POST, agents=list(agents_queryset()))
    if not form.is_valid():
        return _render_detail(request, ticket, triage_form=form, status=400)
    try:
        services.triage(ticket, request.user, **form.cleaned_data)
    except WorkflowError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Ticket updated."))
    return redirect("tickets:detail", pk=ticket.pk)


@staff_required
@require_POST
def ticket_assign_to_me(request, pk: int):
    ticket = _visible_ticket(request, pk)
    if not is_assignable(request.user):
        raise PermissionDenied
    seen = request.POST.get("assignee_seen", "")
    try:
        services.take_ticket(
            ticket, request.user, assignee_seen=int(seen) if seen.isdigit() else None
        )
    except WorkflowError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _html(_("%(reference)s is assigned to you."), reference=_reference(ticket))
        )
    return redirect("tickets:detail", pk=ticket.pk)
