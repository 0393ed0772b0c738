from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import Company, SecurityEvent, User


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
    list_filter = ["is_active", "is_staff", "company", "email_verified", "must_change_password"]
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
