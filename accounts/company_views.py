"""The security manager pages at /manage/: one company only, the manager's own.

Every view is wrapped in ``security_manager_required`` and starts its lookups from
``company_services.employees_visible_to`` / ``events_visible_to``: another company's ids are 404.
"""

from __future__ import annotations

from datetime import datetime, time
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from mfa.decorators import strong_second_factor_required

from . import company_services as cs
from . import roles
from .company_forms import (
    ActionResult,
    CompanyPolicyForm,
    EmployeeActionForm,
    EmployeeEditForm,
    EmployeeFilterForm,
    ImportConfirmForm,
    ImportUploadForm,
    NewEmployeeForm,
    SecurityLogFilterForm,
)

PAGE_SIZE = 25
IMPORT_SESSION_KEY = "manage_import"


def security_manager_required(view):
    """Signed in, a security manager of a company, and verified with a strong second factor."""

    guarded = strong_second_factor_required(view)

    @never_cache
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not roles.is_security_manager(request.user):
            raise PermissionDenied
        return guarded(request, *args, **kwargs)

    return wrapper


def _status(form) -> int:
    return 400 if form.is_bound and form.errors else 200


def _querystring(request, **changes) -> str:
    params = request.GET.copy()
    for key, value in changes.items():
        params.pop(key, None)
        if value is not None:
            params[key] = value
    return params.urlencode()


def _filtered_employees(manager, form: EmployeeFilterForm):
    users = cs.with_states(cs.employees_visible_to(manager))
    data = form.cleaned_data if form.is_valid() else {}
    if q := data.get("q"):
        users = users.filter(
            Q(username__icontains=q)
            | Q(first_name__icontains=q)
            | Q(last_name__icontains=q)
            | Q(email__icontains=q)
        )
    state = data.get("state")
    if state == "active":
        users = users.filter(is_active=True, blocked_at__isnull=True)
    elif state == "blocked":
        users = users.filter(blocked_at__isnull=False)
    elif state == "inactive":
        users = users.filter(is_active=False)
    if data.get("password"):
        users = users.filter(cs.password_state_filter(manager.company, data["password"]))
    if data.get("mfa") == "yes":
        users = users.filter(has_mfa=True)
    elif data.get("mfa") == "no":
        users = users.filter(has_mfa=False)
    if data.get("never_signed_in"):
        users = users.filter(last_login__isnull=True)
    return users.order_by(data.get("sort") or "username", "pk")


@security_manager_required
def employees(request):
    return _employees_page(request)


def _employees_page(request, status: int = 200):
    form = EmployeeFilterForm(request.GET or None)
    page = Paginator(_filtered_employees(request.user, form), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    ctx = {
        "company": request.user.company,
        "filter_form": form,
        "page": page,
        "actions": EmployeeActionForm.ACTIONS,
        "querystring": _querystring(request, page=None),
    }
    return render(request, "manage/employees.html", ctx, status=status)


@security_manager_required
def employee_detail(request, pk: int):
    employee = get_object_or_404(cs.with_states(cs.employees_visible_to(request.user)), pk=pk)
    applicable = cs.applicable_actions(employee)
    ctx = {
        "employee": employee,
        "actions": [
            (code, label, code in EmployeeActionForm.CONFIRM)
            for code, label in EmployeeActionForm.ACTIONS
            if code in applicable
        ],
        "events": cs.events_visible_to(request.user).filter(user=employee)[:20],
        "is_self": employee.pk == request.user.pk,
    }
    return render(request, "manage/employee_detail.html", ctx)


@security_manager_required
def employee_edit(request, pk: int):
    employee = get_object_or_404(cs.employees_visible_to(request.user), pk=pk)
    form = EmployeeEditForm(request.POST or None, employee=employee)
    if request.method == "POST" and form.is_valid():
        if cs.update_employee(employee, form.cleaned_data, actor=request.user, request=request):
            messages.success(request, _("The employee’s details have been saved."))
        else:
            messages.info(request, _("Nothing changed."))
        return redirect("manage:employee_detail", pk=employee.pk)
    ctx = {"form": form, "employee": employee}
    return render(request, "manage/employee_edit.html", ctx, status=_status(form))


@security_manager_required
def employee_create(request):
    company = request.user.company
    # The employee's language starts as the one the manager works in, not the portal default.
    initial = {"language": translation.get_language()}
    form = NewEmployeeForm(request.POST or None, company=company, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            result = cs.create_employee(
                company, **form.cleaned_data, actor=request.user, request=request
            )
        except cs.UserNamesExhausted:
            form.add_error(None, _("No free user name is left for these initials."))
        else:
            if result.initial_password:
                # Shown once, in this response only; never stored in clear.
                ctx = {"issued": [result], "created": True}
                return render(request, "manage/initial_passwords.html", ctx)
            messages.success(
                request,
                _("%(username)s has been created; the activation email is on its way.")
                % {"username": result.user.username},
            )
            return redirect("manage:employee_detail", pk=result.user.pk)
    return render(request, "manage/employee_form.html", {"form": form}, status=_status(form))


def _run_action(request, action: str, users):
    """Apply one action; returns a response for actions that show a result page, else None."""
    kwargs = {"actor": request.user, "request": request}
    if action == "initial_password":
        ctx = {"issued": cs.issue_initial_passwords(users, **kwargs)}
        return render(request, "manage/initial_passwords.html", ctx)
    done = {
        "block": cs.block_employees,
        "unblock": cs.unblock_employees,
        "send_password_reset": cs.send_password_resets,
        "reset_mfa": cs.reset_mfa,
        "deactivate": cs.deactivate_employees,
        "reactivate": cs.reactivate_employees,
    }[action](users, **kwargs)
    _report_result(request, EmployeeActionForm.RESULTS[action], users, done)
    return None


def _report_result(request, result: ActionResult, users: list, done: int) -> None:
    """Name the employee when there is one; else count those done and those skipped (the
    services change only the accounts an action applies to and return how many)."""
    if len(users) == 1:
        user = users[0]
        full_name = user.get_full_name()
        name = f"{full_name} ({user.username})" if full_name else user.username
        if done:
            messages.success(request, result.done_one % {"name": name})
        else:
            messages.info(request, result.skipped_one % {"name": name})
        return
    if done:
        messages.success(request, result.done_many % {"count": done})
    if skipped := len(users) - done:
        messages.info(request, result.skipped_many % {"count": skipped})


# What the bulk actions say when they leave accounts to provider staff (cs.left_to_staff).
_LEFT_TO_STAFF = {
    "unblock": gettext_lazy(
        "Accounts blocked by our staff were left out: only our support team can unblock them."
    ),
    "reactivate": gettext_lazy(
        "Accounts deactivated by our staff were left out: only our support team can "
        "reactivate them."
    ),
}


@require_POST
@security_manager_required
def employee_action(request):
    form = EmployeeActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return _employees_page(request, status=400)
    ids = form.cleaned_data["ids"]
    users = list(cs.employees_visible_to(request.user).filter(pk__in=ids))
    if len(users) != len(ids):
        raise Http404  # at least one id is not an account of the manager's company
    if any(user.pk == request.user.pk for user in users):
        users = [user for user in users if user.pk != request.user.pk]
        messages.warning(request, _("Your own account was left out: ask another manager."))
    action = form.cleaned_data["action"]
    if any(cs.left_to_staff(action, user) for user in users):
        users = [user for user in users if not cs.left_to_staff(action, user)]
        messages.warning(request, _LEFT_TO_STAFF[action])
    response = _run_action(request, action, users)
    if response is not None:
        return response
    if len(ids) == 1:
        return redirect("manage:employee_detail", pk=ids[0])
    return redirect("manage:employees")


def _import_button_labels() -> dict[str, str]:
    """The preview's import button in words, for import-preview.js, which counts the rows that
    will be created as "Create anyway" boxes are ticked; "{count}" stands for the number. A file
    holds at most 500 rows, and below a million only 1 takes the singular in our languages."""

    def label(n: int, count) -> str:
        return ngettext("Import %(counter)s row", "Import %(counter)s rows", n) % {"counter": count}

    return {"one": label(1, 1), "other": label(2, "{count}")}


@security_manager_required
def employee_import(request):
    company = request.user.company
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        rows = cs.validate_import_rows(company, form.rows)
        request.session[IMPORT_SESSION_KEY] = {
            "company": company.pk,
            "rows": form.rows,
            "id": cs.new_import_id(),
        }
        ctx = {
            "rows": rows,
            "valid_count": sum(row.valid for row in rows),
            "ready_count": sum(row.valid and not row.needs_confirmation for row in rows),
            "flagged_count": sum(row.needs_confirmation for row in rows),
            "error_count": sum(not row.valid for row in rows),
            "import_labels": _import_button_labels(),
        }
        return render(request, "manage/import_preview.html", ctx)
    return render(request, "manage/import_upload.html", {"form": form}, status=_status(form))


@require_POST
@security_manager_required
def employee_import_confirm(request):
    company = request.user.company
    pending = request.session.get(IMPORT_SESSION_KEY)
    if not pending or pending.get("company") != company.pk:
        messages.error(request, _("Upload the file again: the preview has expired."))
        return redirect("manage:employee_import")
    if not cs.claim_import(pending.get("id", "")):
        messages.info(
            request,
            _(
                "This file has already been imported. If you missed an initial password, "
                "issue a new one to that employee."
            ),
        )
        return redirect("manage:employees")
    lines = range(2, len(pending["rows"]) + 2)
    form = ImportConfirmForm(request.POST, lines=lines)
    choices = form.cleaned_data if form.is_valid() else {}  # a forged line: none confirmed
    result = cs.import_employees(
        company,
        pending["rows"],
        actor=request.user,
        request=request,
        only_valid=choices.get("only_valid", False),
        confirmed_lines=choices.get("create_anyway", []),
    )
    if result is None:
        messages.error(request, _("The file has errors; nothing was imported."))
        return redirect("manage:employee_import")
    del request.session[IMPORT_SESSION_KEY]
    ctx = {
        "created": result.created,
        "issued": [item for item in result.created if item.initial_password],
        "skipped": result.skipped,
    }
    return render(request, "manage/import_done.html", ctx)


@security_manager_required
def policies(request):
    company = request.user.company
    form = CompanyPolicyForm(request.POST or None, company=company)
    if request.method == "POST" and form.is_valid():
        changes = cs.update_company_policies(
            company, form.cleaned_data, actor=request.user, request=request
        )
        if changes:
            messages.success(request, _("The company policies have been saved."))
        else:
            messages.info(request, _("Nothing changed."))
        return redirect("manage:policies")
    ctx = {
        "form": form,
        "company": company,
        "without_authenticator": cs.count_without_authenticator(company),
    }
    return render(request, "manage/policies.html", ctx, status=_status(form))


def _day_bound(day, end: bool) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.max if end else time.min))


@security_manager_required
def security_log(request):
    form = SecurityLogFilterForm(request.GET or None)
    events = cs.events_visible_to(request.user)
    data = form.cleaned_data if form.is_valid() else {}
    if q := data.get("q"):
        # Only the accounts the page shows: not the user names of provider staff.
        matches = Q(username__icontains=q) | Q(user__last_name__icontains=q)
        events = events.filter(matches, account_hidden=False)
    if data.get("kind"):
        events = events.filter(kind=data["kind"])
    if data.get("date_from"):
        events = events.filter(created_at__gte=_day_bound(data["date_from"], end=False))
    if data.get("date_to"):
        events = events.filter(created_at__lte=_day_bound(data["date_to"], end=True))
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    ctx = {
        "filter_form": form,
        "page": page,
        "querystring": _querystring(request, page=None),
        "company": request.user.company,
    }
    return render(request, "manage/security_log.html", ctx, status=_status(form))
