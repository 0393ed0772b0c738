"""Role checks for templates; the decisions stay in accounts.roles."""

from __future__ import annotations

from django import template

from accounts import roles

register = template.Library()


@register.filter
def is_security_manager(user) -> bool:
    return roles.is_security_manager(user)


@register.simple_tag(takes_context=True)
def nav_variant(context) -> str:
    """Everything the navigation shows depends on, as one key for the layout's fragment cache:
    signed in or not, a required action (accounts.middleware: no links then), the roles that
    add links, and the current page (which link is marked)."""
    request = context.get("request")
    user = context.get("user")
    match = getattr(request, "resolver_match", None)
    page = f"{match.view_name}|{match.app_name}" if match else ""
    if user is None or not user.is_authenticated:
        return f"anonymous|{page}"
    if getattr(request, "required_action", None):
        return f"required_action|{page}"
    return (
        f"staff={roles.is_provider_staff(user):d}|"
        f"manager={roles.is_security_manager(user):d}|{page}"
    )
