from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    """The Django admin, reachable only with a verified second factor."""

    default_site = "mfa.admin_site.PortalAdminSite"
