from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin
from django.shortcuts import redirect
from django.urls import reverse
from django_otp.admin import OTPAdminSite

from portal.admin_forms import with_refused_form_status
from portal.admin_lookups import with_checked_lookups

from . import services
from .decorators import strong_factor_page


class PortalAdminSite(OTPAdminSite):
    """Staff must have signed in with a strong second factor (not an emailed code); anyone
    else is sent to the portal's own sign-in rather than the admin's login form."""

    def has_permission(self, request):
        return super().has_permission(request) and services.verified_with_strong_factor(
            request.user
        )

    def login(self, request, extra_context=None):
        user = request.user
        if user.is_active and user.is_staff and not services.verified_with_strong_factor(user):
            # Signed in, but not strongly enough: the sign-in page would only lead back here.
            return strong_factor_page(request)
        next_url = request.GET.get("next") or reverse("admin:index")
        return redirect(f"{reverse('accounts:login')}?{urlencode({'next': next_url})}")

    def register(self, model_or_iterable, admin_class=None, **options):
        """Every model admin gets the changelist that refuses impossible filters, and answers
        a form it refuses with 400."""
        admin_class = with_checked_lookups(admin_class or admin.ModelAdmin)
        admin_class = with_refused_form_status(admin_class)
        super().register(model_or_iterable, admin_class, **options)
