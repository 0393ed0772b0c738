from __future__ import annotations

from functools import lru_cache

from django import template
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.sessions_service import describe_user_agent

register = template.Library()


@lru_cache(maxsize=1024)
def _label(user_agent: str, language: str | None) -> str:
    """Parsing a User-Agent is slow: cached per header and language (the label is translated)."""
    browser, os_name = describe_user_agent(user_agent)
    if browser and os_name:
        return _("%(browser)s on %(os)s") % {"browser": browser, "os": os_name}
    return browser or os_name


@register.filter
def browser_label(user_agent: str) -> str:
    """ "Firefox 128 on Ubuntu" for a User-Agent header ("" when unknown)."""
    return _label(user_agent, get_language()) if user_agent else ""


@register.simple_tag(takes_context=True)
def idle_limits(context) -> dict:
    """The idle limit, when its notice shows and the time left before the absolute limit, in
    seconds, for static/js/idle-timeout.js."""
    from django.conf import settings

    from accounts.sessions_service import seconds_left
    from portal.durations import duration_text

    timeout = settings.SESSION_IDLE_TIMEOUT
    request = context.get("request")
    return {
        "timeout": timeout,
        "warning": min(settings.SESSION_IDLE_WARNING, timeout // 2),
        "absolute_left": seconds_left(request) if request is not None else None,
        "absolute_limit": duration_text(settings.SESSION_ABSOLUTE_TIMEOUT),
    }
