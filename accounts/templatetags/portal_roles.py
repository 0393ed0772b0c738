"""Role checks for templates; the decisions stay in accounts.roles."""

from __future__ import annotations

from django import template

from accounts import roles

register = template.Library()


@register.filter
def is_security_manager(user) -> bool:
    return roles.is_security_manager(user)
