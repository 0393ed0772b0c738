from __future__ import annotations

from datetime import datetime
from functools import partial

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from phonenumber_field.modelfields import PhoneNumberField

from .company_forms import AuthenticatorTypesField
from .forms import PhoneField
from .models import Company, PasswordReminder, SecurityEvent, User, UserSession
from .services import record_event

# The portal's one phone example, in the admin's forms too.
PHONE_FIELDS = {PhoneNumberField: {"form_class": PhoneField}}

# What an admin may change on an account that decides who can do what.
ROLE_FIELDS = {"is_staff", "is_superuser", "groups", "user_permissions", "company"}


def _account_state(user: User, form) -> dict:
    """The values of the form's fields, to the second (the admin's widgets drop the rest)."""
    state = {}
    for name in form.fields:
        if name == "password":
            continue
        value = getattr(user, name)
        if hasattr(value, "all"):  # a many-to-many manager
            value = frozenset(value.values_list("pk", flat=True))
        elif isinstance(value, datetime):
            value = value.replace(microsecond=0)
        state[name] = value
    return state


class CompanyAdminForm(forms.ModelForm):
    """The allow-list as the managers' policy page offers it: a choice of known types, not
    free JSON (anything but a list of them would break enrolment for the whole company)."""

    allowed_authenticator_types = AuthenticatorTypesField()

    class Meta:
        model = Company
        fields = "__all__"  # noqa: DJ007 -- the admin shows every field; this form only retypes one


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    form = CompanyAdminForm
    list_display = ["name", "customer_number", "mfa_required", "password_max_age_days"]
    search_fields = ["name", "customer_number"]
    list_filter = ["mfa_required", "trust_browser_allowed"]

    def save_model(self, request, obj, form, change):
        """Policy changes here reach the company's security log, as a manager's do."""
        super().save_model(request, obj, form, change)
        if change and form.changed_data:
            changes = {
                name: [_loggable(form.initial.get(name)), _loggable(form.cleaned_data.get(name))]
                for name in form.changed_data
            }
            record_event(
                SecurityEvent.Kind.POLICY_CHANGED,
                request.user,
                request=request,
                actor=request.user,
                company=obj,
                via="admin",
                changes=changes,
            )


def _loggable(value):
    """A form value as the log's JSON can hold it."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        return sorted(str(item) for item in value)
    return str(value)


class PortalUserChangeForm(UserChangeForm):
    def clean(self):
        """Provider staff belong to no company. Its Security Manager would otherwise see them
        as an employee (block, deactivate, reset), and its log would show their sign-ins."""
        from .roles import PROVIDER_ADMINS, SUPPORT_AGENTS

        data = super().clean()
        groups = {group.name for group in data.get("groups") or ()}
        staff = (
            data.get("is_staff")
            or data.get("is_superuser")
            or groups & {SUPPORT_AGENTS, PROVIDER_ADMINS}
        )
        if data.get("company") and staff:
            raise forms.ValidationError(
                _(
                    "Provider staff belong to no company: clear the company, or remove the staff "
                    "status and the provider groups."
                ),
                code="staff_with_company",
            )
        return data


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = PortalUserChangeForm
    formfield_overrides = PHONE_FIELDS
    list_display = [
        "username",
        "first_name",
        "last_name",
        "email",
        "company",
        "is_active",
        "blocked_at",
    ]
    list_filter = [
        "is_active",
        "is_staff",
        "company",
        "email_verified",
        "must_change_password",
        "password_compromised",
    ]
    search_fields = ["username", "first_name", "last_name", "email"]
    list_select_related = ["company"]
    fieldsets = DjangoUserAdmin.fieldsets + (
        (
            _("Portal"),
            {
                "fields": (
                    "company",
                    "email_verified",
                    "phone",
                    "preferred_language",
                    "time_zone",
                    "password_changed_at",
                    "must_change_password",
                    "password_compromised",
                    "initial_password_expires_at",
                    "failed_login_count",
                    "blocked_at",
                    "blocked_reason",
                    "deactivated_by",
                    "terms_version",
                    "terms_accepted_at",
                )
            },
        ),
    )

    # Blocks come and go through the Block and Unblock actions, which record who and why.
    readonly_fields = ["blocked_at", "blocked_reason", "deactivated_by"]

    def save_model(self, request, obj, form, change):
        # Before the save: what the account was, to log what really changed. On the form,
        # not on this admin, which all requests share.
        form.security_before = _account_state(User.objects.get(pk=obj.pk), form) if change else {}
        if "is_active" in form.changed_data:
            # Unticked here, by staff: only staff may reactivate it (deactivate_employees).
            obj.deactivated_by = "" if obj.is_active else User.DeactivatedBy.STAFF
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        """Changes made here go to the security log like those made anywhere else.

        After the many-to-many fields are saved, so that a new group counts."""
        super().save_related(request, form, formsets, change)
        user, Kind = form.instance, SecurityEvent.Kind
        log = partial(record_event, user=user, request=request, actor=request.user, via="admin")
        if not change:
            log(Kind.ACCOUNT_CREATED)
            return
        after = _account_state(user, form)
        changed = {name for name, value in after.items() if form.security_before[name] != value}
        if "is_active" in changed:
            log(Kind.ACCOUNT_REACTIVATED if user.is_active else Kind.ACCOUNT_DEACTIVATED)
        if changed & ROLE_FIELDS:
            log(Kind.ROLE_CHANGED, fields=sorted(changed & ROLE_FIELDS))
        if others := sorted(changed - ROLE_FIELDS - {"is_active"}):
            log(Kind.PROFILE_CHANGED, fields=others)

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        refused = getattr(response, "context_data", None) and response.context_data["form"].errors
        if request.method == "POST" and refused:
            response.status_code = 400  # as the other forms of the admin (portal.admin_forms)
        if request.method == "POST" and response.status_code == 302:
            user = self.get_object(request, id)
            record_event(
                SecurityEvent.Kind.PASSWORD_CHANGED,
                user,
                request=request,
                actor=request.user,
                via="admin",
            )
        return response


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "user", "actor", "company", "ip_address"]
    list_filter = ["kind", "company"]
    search_fields = ["user__username", "user__email", "ip_address"]
    list_select_related = ["user", "actor", "company"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Accounts II -----------------------------------------------------------------------------


class UsableEmailFilter(admin.SimpleListFilter):
    """Users who get no reminders or recovery emails: no address, or one never verified."""

    title = _("usable email")
    parameter_name = "usable_email"

    def lookups(self, request, model_admin):
        return [("no", _("No usable email")), ("yes", _("Usable email"))]

    def queryset(self, request, queryset):
        from .reminders import USABLE_EMAIL

        if self.value() == "no":
            return queryset.exclude(USABLE_EMAIL)
        if self.value() == "yes":
            return queryset.filter(USABLE_EMAIL)
        return queryset


@admin.action(description=_("Mark password as compromised (forces a change at next sign-in)"))
def mark_password_compromised(modeladmin, request, queryset):
    from . import services

    count = 0
    for user in queryset.filter(password_compromised=False):
        services.mark_password_compromised(user, request=request, actor=request.user)
        count += 1
    modeladmin.message_user(
        request,
        ngettext(
            "%(count)d account must change its password at the next sign-in.",
            "%(count)d accounts must change their password at the next sign-in.",
            count,
        )
        % {"count": count},
    )


UserAdmin.list_filter = [*UserAdmin.list_filter, UsableEmailFilter]
UserAdmin.actions = [*(UserAdmin.actions or []), mark_password_compromised]


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PasswordReminder)
class PasswordReminderAdmin(_ReadOnlyAdmin):
    list_display = ["created_at", "user", "threshold_days", "expires_at"]
    list_filter = ["threshold_days"]
    search_fields = ["user__username", "user__email"]
    list_select_related = ["user"]


@admin.register(UserSession)
class UserSessionAdmin(_ReadOnlyAdmin):
    list_display = [
        "user",
        "browser",
        "os",
        "ip_address",
        "created_at",
        "last_activity_at",
        "ended_at",
    ]
    list_filter = ["end_reason"]
    search_fields = ["user__username", "ip_address"]
    list_select_related = ["user"]
    exclude = ["session_key_hash", "browser_key_hash"]


# --- Companies and Security Managers (provider staff) ----------------------------------------

from django.contrib import messages  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.shortcuts import redirect  # noqa: E402
from django.template.response import TemplateResponse  # noqa: E402

from . import company_services, roles  # noqa: E402
from .company_forms import RejectManagerRequestForm  # noqa: E402
from .models import SecurityManagerRequest  # noqa: E402


class RoleFilter(admin.SimpleListFilter):
    title = _("role")
    parameter_name = "role"

    def lookups(self, request, model_admin):
        return [
            ("manager", _("Security Manager")),
            ("agent", _("Support agent")),
            ("admin", _("Provider admin")),
            ("employee", _("Employee")),
        ]

    def queryset(self, request, queryset):
        group = {
            "manager": roles.SECURITY_MANAGERS,
            "agent": roles.SUPPORT_AGENTS,
            "admin": roles.PROVIDER_ADMINS,
        }.get(self.value())
        if group:
            return queryset.filter(groups__name=group)
        if self.value() == "employee":
            return queryset.filter(company__isnull=False).exclude(groups__name__in=roles.ALL_GROUPS)
        return queryset


class StateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("active", _("Active")),
            ("blocked", _("Blocked")),
            ("inactive", _("Deactivated")),
            ("never", _("Never signed in")),
        ]

    def queryset(self, request, queryset):
        return {
            "active": lambda: queryset.filter(is_active=True, blocked_at__isnull=True),
            "blocked": lambda: queryset.filter(blocked_at__isnull=False),
            "inactive": lambda: queryset.filter(is_active=False),
            "never": lambda: queryset.filter(last_login__isnull=True),
        }.get(self.value(), lambda: queryset)()


def _user_action(service, description):
    """An admin action on users that calls the same service a security manager uses."""

    def action(modeladmin, request, queryset):
        users = list(queryset.exclude(pk=request.user.pk))
        done = service(users, actor=request.user, request=request)
        count = len(done) if isinstance(done, list) else done
        changed = ngettext("%(count)d account changed.", "%(count)d accounts changed.", count)
        modeladmin.message_user(request, changed % {"count": count})

    action.__name__ = service.__name__
    action.short_description = description
    return action


def _issue_initial_passwords(modeladmin, request, queryset):
    issued = company_services.issue_initial_passwords(
        list(queryset.exclude(pk=request.user.pk)), actor=request.user, request=request
    )
    return TemplateResponse(
        request,
        "admin/accounts/user/initial_passwords.html",
        {**modeladmin.admin_site.each_context(request), "issued": issued},
    )


_issue_initial_passwords.short_description = _("Issue new initial passwords")

UserAdmin.list_filter = [RoleFilter, StateFilter, *UserAdmin.list_filter]
UserAdmin.list_display = [*UserAdmin.list_display, "last_login"]
UserAdmin.search_fields = [*UserAdmin.search_fields, "company__name", "company__customer_number"]
UserAdmin.actions = [
    *(UserAdmin.actions or []),
    _user_action(company_services.block_employees, _("Block")),
    _user_action(company_services.unblock_employees, _("Unblock")),
    _user_action(company_services.send_password_resets, _("Send password reset email")),
    _issue_initial_passwords,
    _user_action(company_services.reset_mfa, _("Reset two-factor authentication")),
    _user_action(company_services.deactivate_employees, _("Deactivate (offboarding)")),
    _user_action(company_services.reactivate_employees, _("Reactivate")),
]
CompanyAdmin.list_display = [*CompanyAdmin.list_display, "trust_browser_allowed", "user_count"]


def _company_queryset(self, request):
    return admin.ModelAdmin.get_queryset(self, request).annotate(user_total=Count("users"))


@admin.display(description=_("users"), ordering="user_total")
def _company_user_count(self, obj):
    return obj.user_total


CompanyAdmin.get_queryset = _company_queryset
CompanyAdmin.user_count = _company_user_count
SecurityEventAdmin.list_filter = ["kind", "company", "created_at"]
SecurityEventAdmin.search_fields = [*SecurityEventAdmin.search_fields, "actor_username"]


@admin.register(SecurityManagerRequest)
class SecurityManagerRequestAdmin(admin.ModelAdmin):
    formfield_overrides = PHONE_FIELDS
    list_display = [
        "created_at",
        "company_name",
        "customer_number",
        "nominee_email",
        "requested_by",
        "status",
        "decided_by",
    ]
    list_filter = ["status", "created_at"]
    search_fields = [
        "company_name",
        "customer_number",
        "nominee_email",
        "nominee_last_name",
        "requester_email",
        "requester_name",
    ]
    list_select_related = ["decided_by"]
    date_hierarchy = "created_at"
    actions = ["approve", "reject"]
    readonly_fields = [
        "status",
        "company",
        "nominee",
        "decided_by",
        "decided_at",
        "created_at",
        "ip_address",
        "language",
        "rejection_reason",
        "entitled_confirmed",
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # The model's labels speak to the requester on the public form ("Your name"); here the
    # provider's staff read about someone else.
    REQUESTER_LABELS = {
        "requester_name": _("Requested by"),
        "requester_role": _("Requester's role in the company"),
        "requester_email": _("Requester's email"),
    }

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        for name, label in self.REQUESTER_LABELS.items():
            if name in form.base_fields:
                form.base_fields[name].label = label
        return form

    @admin.display(description=_("Requested by"), ordering="requester_name")
    def requested_by(self, obj: SecurityManagerRequest) -> str:
        return obj.requester_name

    @admin.action(description=_("Approve: make the nominee Security Manager"))
    def approve(self, request, queryset):
        for manager_request in queryset.filter(status=SecurityManagerRequest.Status.PENDING):
            nominee = company_services.approve_manager_request(
                manager_request, actor=request.user, request=request
            )
            self.message_user(
                request,
                # Not starting with the user name: the admin capitalises a message's first letter.
                _("New Security Manager of %(company)s: %(user)s.")
                % {"user": nominee.username, "company": manager_request.company},
                messages.SUCCESS,
            )

    @admin.action(description=_("Reject with a reason"))
    def reject(self, request, queryset):
        pending = queryset.filter(status=SecurityManagerRequest.Status.PENDING)
        form = RejectManagerRequestForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            for manager_request in pending:
                company_services.reject_manager_request(
                    manager_request, form.cleaned_data["reason"], actor=request.user
                )
            self.message_user(request, _("The requests have been rejected."), messages.SUCCESS)
            return redirect(request.get_full_path())
        ctx = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "requests": pending,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "title": _("Reject requests"),
        }
        return TemplateResponse(request, "admin/accounts/securitymanagerrequest/reject.html", ctx)
