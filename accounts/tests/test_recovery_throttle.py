"""Public recovery forms send email: one client may send only so many requests per hour."""

from __future__ import annotations

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

pytestmark = pytest.mark.django_db

FORMS = [
    ("/account/password/forgot/", {"identifier": "someone@example.org"}),
    ("/account/username/forgot/", {"email": "someone@example.org"}),
    ("/account/unblock/", {"identifier": "c10001.xx"}),
]


@override_settings(RECOVERY_IP_LIMIT=3)
def test_the_fourth_recovery_request_from_one_address_is_refused_with_429(client, mailoutbox):
    with time_machine.travel(timezone.now(), tick=False):
        # The limit is shared by the three forms.
        for path, data in FORMS:
            assert client.post(path, data).status_code == 302
        path, data = FORMS[0]
        sent = len(mailoutbox)

        response = client.post(path, data)

    assert response.status_code == 429
    assert response["Retry-After"] == "3600"
    assert "too many requests from your network" in response.text
    assert len(mailoutbox) == sent
    # Reading the forms is not limited, and another network is not affected.
    assert client.get(path).status_code == 200
    assert client.post(path, data, REMOTE_ADDR="198.51.100.7").status_code == 302


@override_settings(RECOVERY_IP_LIMIT=3, RECOVERY_IP_WINDOW=3600)
@pytest.mark.parametrize(("path", "data"), FORMS)
def test_the_429_says_the_time_left_and_keeps_what_was_typed(client, path, data):
    typed = {name: f"typed.{value}" for name, value in data.items()}
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as traveller:
        for other_path, other_data in FORMS:
            assert client.post(other_path, other_data).status_code == 302
        traveller.shift(1000)
        response = client.post(path, typed)
        assert response.status_code == 429
        assert response["Retry-After"] == "2600"  # what is left of the hour, not the hour
        text = response.text
        assert (
            "There were too many requests from your network. Please try again in 44 minutes."
        ) in text
        for name, value in typed.items():
            assert f'name="{name}" value="{value}"' in text
        traveller.shift(2600)
        assert client.post(path, data).status_code == 302


@override_settings(RECOVERY_IP_LIMIT=1)
def test_forms_sent_back_for_correction_do_not_use_up_the_limit(client):
    path = "/account/password/forgot/"
    for _mistake in range(3):
        assert client.post(path, {"identifier": "someone@"}).status_code == 400
    assert client.post(path, {"identifier": "someone@example.org"}).status_code == 302
    assert client.post(path, {"identifier": "someone@example.org"}).status_code == 429


@override_settings(RECOVERY_IP_LIMIT=3, RECOVERY_IP_WINDOW=3600)
def test_no_burst_gets_through_around_the_end_of_the_hour(client):
    """One request, then two in the last second of its hour: the next second lets one more
    through, as the first has left, but not three (a fixed hour started anew there)."""
    path, data = FORMS[0]
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as traveller:
        assert client.post(path, data).status_code == 302
        traveller.shift(3599)
        assert client.post(path, data).status_code == 302
        assert client.post(path, data).status_code == 302
        traveller.shift(1)
        assert client.post(path, data).status_code == 302
        response = client.post(path, data)
        assert response.status_code == 429
        assert response["Retry-After"] == "3599"  # when the two of second 3599 leave
