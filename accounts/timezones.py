"""The time zones a user can choose, and how the profile's drop-down presents them.

A list of several hundred raw names ("America/Argentina/Buenos_Aires") is hard to scan, so
the drop-down groups the zones by region and shows each as its place and current offset:
"Buenos Aires, Argentina (UTC-03:00)". The places offered are
those of the time zone database's zone.tab (one entry per zone and country, the list
operating systems show); old alias names (US/Eastern, Europe/Belfast) stay valid values, so
an account that has one keeps it, but they are not offered.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from pathlib import Path

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# The IANA database's regions, in the order a person scans them.
REGIONS = {
    "Europe": _("Europe"),
    "America": _("Americas"),
    "Africa": _("Africa"),
    "Asia": _("Asia"),
    "Australia": _("Australia"),
    "Pacific": _("Pacific Ocean"),
    "Atlantic": _("Atlantic Ocean"),
    "Indian": _("Indian Ocean"),
    "Antarctica": _("Antarctica"),
    "Arctic": _("Arctic"),
}


@cache
def time_zone_choices() -> frozenset[str]:
    """Every value the profile accepts."""
    return frozenset(
        tz
        for tz in zoneinfo.available_timezones()
        if "/" in tz and not tz.startswith(("Etc/", "SystemV/"))
    ) | {"UTC"}


@cache
def offered_time_zones() -> frozenset[str]:
    """zone.tab's zones; every zone of a region where the database has no zone.tab."""
    valid = time_zone_choices()
    for directory in zoneinfo.TZPATH:
        try:
            with open(Path(directory) / "zone.tab", encoding="utf-8") as table:
                lines = [line.split("\t") for line in table if not line.startswith("#")]
        except OSError:
            continue
        listed = {fields[2].strip() for fields in lines if len(fields) >= 3}
        return frozenset(listed & valid) | {"UTC"}
    return frozenset(tz for tz in valid if tz == "UTC" or tz.split("/", 1)[0] in REGIONS)


def place_name(tz: str) -> str:
    """ "Europe/Berlin" -> "Berlin"; "America/Argentina/Buenos_Aires" -> "Buenos Aires, Argentina"."""
    parts = [part.replace("_", " ") for part in tz.split("/")[1:]]
    return ", ".join(reversed(parts)) if parts else tz


def utc_offset(offset: timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


def grouped_time_zone_choices(current: str = "") -> list:
    """Choices for a Select: UTC, then one group per region sorted by place name.

    ``current`` is the value the account holds: offered (in its own group) even when it is
    an alias that the list no longer shows, so that saving the profile does not change it.
    """
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    groups = _groups_at(hour)
    if current and current in time_zone_choices() and not _is_offered(current):
        groups = [
            *groups,
            (pgettext_lazy("time zones", "Other"), [(current, _label(current, hour))]),
        ]
    return groups


def _is_offered(tz: str) -> bool:
    return tz in offered_time_zones() and (tz == "UTC" or tz.split("/", 1)[0] in REGIONS)


@lru_cache(maxsize=2)
def _groups_at(hour: datetime) -> list:
    """Offsets change with daylight saving time, so the labels are those of this hour."""
    by_region: dict[str, list[tuple[str, str]]] = {region: [] for region in REGIONS}
    for tz in offered_time_zones():
        region = tz.split("/", 1)[0]
        if region in by_region:
            by_region[region].append((tz, _label(tz, hour)))
    groups: list = [("UTC", "UTC")]
    for region, label in REGIONS.items():
        zones = sorted(by_region[region], key=lambda choice: choice[1].casefold())
        groups.append((label, zones))
    return groups


def _label(tz: str, at: datetime) -> str:
    if tz == "UTC":
        return "UTC"
    offset = at.astimezone(zoneinfo.ZoneInfo(tz)).utcoffset() or timedelta(0)
    place = place_name(tz) if tz.split("/", 1)[0] in REGIONS else tz
    return f"{place} ({utc_offset(offset)})"
