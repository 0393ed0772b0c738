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
