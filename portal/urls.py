from django.contrib import admin
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from accounts import views as account_views

from . import errors, health


def favicon(request):
    """Browsers ask for it on pages that name no icon (the admin's): the portal's own."""
    return redirect(static("img/favicon.svg"))


urlpatterns = [
    path("", account_views.home, name="home"),
    path("dashboard/", account_views.dashboard, name="dashboard"),
    path("language/", account_views.switch_language, name="switch_language"),
    path("healthz", health.healthz, name="healthz"),
    path("healthz/live", health.live, name="healthz_live"),
    path("account/", include("accounts.urls")),
    path("", include("mfa.urls")),
    path("tickets/", include("tickets.urls")),
    path("support/", include("tickets.support_urls")),
    path("manage/", include("accounts.company_urls")),
    path("access/", include("accounts.access_urls")),
    path("admin/", admin.site.urls),
    # The addresses of the provider's previous self-service portal, which its help pages and
    # emails still print: permanent redirects, so that those links keep working.
    re_path(
        r"^login/login-help/?$",
        RedirectView.as_view(pattern_name="accounts:login_help", permanent=True),
    ),
    re_path(
        r"^login/?$",
        RedirectView.as_view(pattern_name="accounts:login", permanent=True, query_string=True),
    ),
    path("favicon.ico", favicon),
]

handler400 = errors.bad_request
handler403 = errors.permission_denied
handler404 = errors.page_not_found
handler500 = errors.server_error
