"""Ticket links and cards for the shared hook templates (navigation, dashboard)."""

from __future__ import annotations

from django import template

from accounts import roles

from .. import services

register = template.Library()

STATUS_BADGES = {
    "new": "badge-new",
    "in_progress": "badge-warn",
    "waiting": "badge-wait",
    "resolved": "badge-ok",
    "closed": "",
}


@register.inclusion_tag("tickets/_nav_links.html", takes_context=True)
def tickets_nav(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    match = getattr(request, "resolver_match", None)
    return {
        "show": bool(user and user.is_authenticated),
        "staff": bool(user and roles.is_provider_staff(user)),
        "current": f"{match.namespace}:{match.url_name}" if match else "",
    }


@register.inclusion_tag("tickets/_dashboard_card.html", takes_context=True)
def tickets_dashboard_card(context):
    return services.dashboard_tickets(context["request"].user)


@register.filter
def status_badge(status: str) -> str:
    return STATUS_BADGES.get(status, "")


@register.filter
def quoted(text: str) -> str:
    """Plain-text quoting for emails: "> " before every line."""
    return "\n".join(f"> {line}".rstrip() for line in str(text).splitlines())
