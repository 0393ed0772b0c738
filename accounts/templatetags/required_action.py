"""Links in page content while an action is required (accounts.middleware)."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import conditional_escape, format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def page_link(context, url_name: str, label, query: str = "", css: str = "") -> str:
    """A link to a portal page; its label alone while an action is required: every page but
    that action's leads back to it, as the layout's hidden navigation already says."""
    if getattr(context.get("request"), "required_action", None):
        return conditional_escape(label)
    attrs = format_html(' class="{}"', css) if css else ""
    return format_html('<a{} href="{}{}">{}</a>', attrs, reverse(url_name), query, label)
