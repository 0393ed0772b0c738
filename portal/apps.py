from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The project package as an app: management commands that span the apps, and the
    checks of settings that several apps rely on."""

    name = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        from django.core import checks

        from .throttle import check_rate_limit_cache

        checks.register(check_rate_limit_cache, checks.Tags.caches)
