"""Times named with their zone: emails are written in the recipient's time zone (send_email
activates it), pages in the signed-in user's (UserTimeZoneMiddleware)."""

from __future__ import annotations

from datetime import datetime, tzinfo
from functools import lru_cache

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


@lru_cache(maxsize=128)
def zone_label(zone: tzinfo, year: int) -> str:
    """The zone's names through the year, the smaller offset first: "CET/CEST", "EST/EDT",
    "GMT/IST"; "UTC-05" or "JST" where it has no daylight saving time. A header over times
    from all seasons must not be today's name only ("CET" over July's CEST times)."""
    names = set()
    for month in range(1, 13):
        local = datetime(year, month, 1, 12, tzinfo=zone)
        names.add((local.utcoffset(), zone_name(local)))
    ordered = [name for _offset, name in sorted(names)]
    return "/".join(dict.fromkeys(ordered))


@register.filter
def zoned(value, format_name: str = "DATETIME_FORMAT") -> str:
    """ "21. November 2026 17:13 (CET)": the active time zone, named as at that moment, so a
    reader in another zone (or a forwarded email) is not misled."""
    if not value:
        return ""
    local = timezone.localtime(value)
    return f"{formats.date_format(local, format_name)} ({zone_name(local)})"


@register.simple_tag
def current_zone() -> str:
    """The active time zone's name for a column of times or a page's note: "CET/CEST", the
    same in winter and in summer (``zone_label``)."""
    return zone_label(timezone.get_current_timezone(), timezone.now().year)
