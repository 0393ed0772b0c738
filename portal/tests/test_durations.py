"""Durations in words: one wording for the session limits and for "try again in", shared
by every app (portal.durations), with the catalogues' translations."""

from __future__ import annotations

import pytest
from django.utils import translation

from portal.durations import TOO_MANY_REQUESTS, duration_text, try_again_in, wait_text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (2 * 3600, "two hours"),
        (12 * 3600, "twelve hours"),
        (3600, "one hour"),
        (30 * 60, "30 minutes"),
        (5, "five seconds"),
        (45, "45 seconds"),
    ],
)
def test_a_duration_is_said_in_its_largest_whole_unit(seconds, text):
    assert duration_text(seconds) == text


def test_a_wait_of_more_than_a_minute_is_rounded_up_to_whole_minutes():
    assert wait_text(60) == "one minute"
    assert wait_text(61) == "two minutes"
    assert wait_text(599) == "ten minutes"
    assert wait_text(59) == "59 seconds"


def test_try_again_in_says_the_wait_in_the_default_message_or_the_one_given():
    assert try_again_in(2580) == (
        "There were too many requests from your network. Please try again in 43 minutes."
    )
    assert try_again_in(10, "Wait %(duration)s.") == "Wait ten seconds."
    assert try_again_in(3600, TOO_MANY_REQUESTS).endswith("Please try again in one hour.")


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("de", "zehn Minuten"),
        ("es", "diez minutos"),
    ],
)
def test_the_catalogues_still_translate_the_moved_wording(language, text):
    with translation.override(language):
        message = try_again_in(600)
    assert text in message
    assert "too many requests" not in message


def test_apps_take_the_wording_from_the_portal_not_from_accounts_forms():
    from accounts import company_forms, forms, views
    from tickets import forms as ticket_forms

    assert ticket_forms.try_again_in is try_again_in
    assert company_forms.try_again_in is try_again_in
    assert forms.try_again_in is try_again_in
    assert views.wait_text is wait_text
