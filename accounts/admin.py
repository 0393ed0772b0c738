from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import Company, PasswordReminder, SecurityEvent, User, UserSession


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "customer_number", "mfa_required", "password_max_age_days"]
    search_fields = ["name", "customer_number"]
    list_filter = ["mfa_required", "trust_browser_allowed"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
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
                    "terms_version",
                    "terms_accepted_at",
                )
            },
        ),
    )


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
