"""The profile's time-zone drop-down: places grouped by region with their current offset."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.utils import translation

from accounts.timezones import grouped_time_zone_choices, place_name

from .test_email_change import PROFILE

pytestmark = pytest.mark.django_db


def _options(html: str) -> dict[str, str]:
    select = re.search(r'<select name="time_zone".*?</select>', html, re.S)[0]
    return dict(re.findall(r'<option value="([^"]+)"[^>]*>([^<]+)</option>', select))


def test_places_are_grouped_by_region_and_show_the_offset_of_today(client, sign_in, employee_a):
    sign_in(employee_a)
    with time_machine.travel(datetime(2026, 1, 15, 12, tzinfo=UTC), tick=False):
        winter = _options(client.get("/account/profile/").text)
    with time_machine.travel(datetime(2026, 7, 15, 12, tzinfo=UTC), tick=False):
        html = client.get("/account/profile/").text
        summer = _options(html)
    assert winter["Europe/Berlin"] == "Berlin (UTC+01:00)"
    assert summer["Europe/Berlin"] == "Berlin (UTC+02:00)"
    assert summer["America/Argentina/Buenos_Aires"] == "Buenos Aires, Argentina (UTC-03:00)"
    assert summer["Asia/Kolkata"] == "Kolkata (UTC+05:30)"
    assert summer["UTC"] == "UTC"
    groups = re.findall(r'<optgroup label="([^"]+)"', html)
    assert groups[:2] == ["Europe", "Americas"] and "Pacific Ocean" in groups
    # Old alias names are not offered next to the real place.
    assert "America/Buenos_Aires" not in summer and "US/Eastern" not in summer
    assert 'value="Europe/Berlin" selected' in html


def test_the_region_names_are_translated(client, sign_in, employee_a):
    employee_a.preferred_language = "de"
    employee_a.save(update_fields=["preferred_language"])
    sign_in(employee_a)
    html = client.get("/account/profile/", HTTP_ACCEPT_LANGUAGE="de").text
    assert '<optgroup label="Europa">' in html


def test_places_are_sorted_by_name_within_their_region():
    with translation.override("en"):
        groups = {str(label): zones for label, zones in grouped_time_zone_choices()[1:]}
    europe = [label for _value, label in groups["Europe"]]
    assert europe == sorted(europe, key=str.casefold)
    assert place_name("America/Indiana/Indianapolis") == "Indianapolis, Indiana"


def test_an_account_with_an_old_alias_keeps_it_when_saving_the_profile(client, sign_in, employee_a):
    employee_a.time_zone = "US/Eastern"
    employee_a.save(update_fields=["time_zone"])
    sign_in(employee_a)
    html = client.get("/account/profile/").text
    assert re.search(r'<option value="US/Eastern" selected>US/Eastern \(UTC-0[45]:00\)', html)
    response = client.post(
        "/account/profile/", {**PROFILE, "email": employee_a.email, "time_zone": "US/Eastern"}
    )
    assert response.status_code == 302
    employee_a.refresh_from_db()
    assert employee_a.time_zone == "US/Eastern"


def test_a_zone_that_is_not_a_time_zone_is_refused_on_the_form(client, sign_in, employee_a):
    sign_in(employee_a)
    response = client.post(
        "/account/profile/",
        {**PROFILE, "email": employee_a.email, "time_zone": "Mars/Olympus_Mons"},
    )
    assert response.status_code == 400
    assert "Choose a time zone from the list." in response.text
