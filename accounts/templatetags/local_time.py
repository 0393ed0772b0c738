"""Times named with their zone: emails are written in the recipient's time zone (send_email
activates it), pages in the signed-in user's (UserTimeZoneMiddleware)."""

from __future__ import annotations

from django import template
from django.utils import formats, timezone

register = template.Library()


def zone_name(local) -> str:
    """ "CET", "EST", "UTC"; "UTC-05" where the zone has no abbreviation (America/Bogota)."""
    name = local.strftime("%Z")
    if name and name[0] not in "+-":
        return name
    offset = local.strftime("%z")  # -0500, +0530
    return f"UTC{offset[:3]}" + (f":{offset[3:]}" if offset[3:] != "00" else "")


@register.filter
def zoned(value, format_name: str = "DATETIME_FORMAT") -> str:
    """ "21. November 2026 17:13 (CET)": the active time zone, named, so a reader in another
    zone (or a forwarded email) is not misled."""
    if not value:
        return ""
    local = timezone.localtime(value)
    return f"{formats.date_format(local, format_name)} ({zone_name(local)})"


@register.simple_tag
def current_zone() -> str:
    """The active time zone's name, for a column of times: "CET"."""
    return zone_name(timezone.localtime())
