from __future__ import annotations

import zoneinfo
from functools import cache


@cache
def time_zone_choices() -> list[str]:
    return sorted(
        tz
        for tz in zoneinfo.available_timezones()
        if "/" in tz and not tz.startswith(("Etc/", "SystemV/"))
    ) + ["UTC"]
