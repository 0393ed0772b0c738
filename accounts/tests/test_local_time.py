"""Zone names beside times: a header or a page's note names the zone the same way all year,
a single time (``|zoned``, in emails) the zone as at that moment."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.template import Context, Template
from django.utils import timezone, translation

from accounts.templatetags.local_time import zone_label, zoned

JULY_NOON_UTC = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "label"),
    [
        ("Europe/Berlin", "CET/CEST"),
        ("America/New_York", "EST/EDT"),
        ("Australia/Sydney", "AEST/AEDT"),  # summer in January: still the smaller offset first
        ("Europe/Dublin", "GMT/IST"),  # "daylight saving" in winter in the zone data
        ("America/Santiago", "UTC-04/UTC-03"),
        ("America/Bogota", "UTC-05"),
        ("Asia/Kolkata", "IST"),
        ("UTC", "UTC"),
    ],
)
def test_a_zone_is_labelled_with_its_standard_and_its_summer_name(zone, label):
    assert zone_label(ZoneInfo(zone), 2026) == label


@pytest.mark.parametrize("today", ["2026-01-15 12:00Z", "2026-07-15 12:00Z"])
def test_the_label_over_a_column_of_times_is_the_same_in_winter_and_in_summer(today):
    with time_machine.travel(today, tick=False), timezone.override("Europe/Berlin"):
        rendered = Template("{% load local_time %}{% current_zone %}").render(Context())
    assert rendered == "CET/CEST"


def test_a_single_time_still_names_the_zone_of_its_moment():
    """A July time read in January is CEST, not the header's "CET/CEST"."""
    with (
        time_machine.travel("2026-01-15 12:00Z", tick=False),
        timezone.override("Europe/Berlin"),
        translation.override("en"),
    ):
        assert zoned(JULY_NOON_UTC) == "July 15, 2026, 2 p.m. (CEST)"
