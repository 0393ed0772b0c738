"""/support/ needs a session verified with a strong second factor (TOTP, push), as /manage/
and the admin do: an emailed code is never enough for provider staff."""

from __future__ import annotations

import pytest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_email.models import EmailDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db

POST_URLS = ["/support/", "/support/tickets/{pk}/triage/"]


def _verified_by(client, device):
    client.force_login(device.user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def _email_device(user) -> EmailDevice:
    return EmailDevice.objects.create(user=user, name="Mail", email=user.email, confirmed=True)


def _requests(client, ticket):
    yield client.get("/support/")
    for url in POST_URLS:
        yield client.post(url.format(pk=ticket.pk), {})


def test_staff_signed_in_without_a_second_factor_are_told_to_use_one(client, agent, ticket_a):
    client.force_login(agent)
    for response in _requests(client, ticket_a):
        assert response.status_code == 403
        assert "Second factor required" in response.content.decode()


@pytest.mark.parametrize("role", ["agent", "provider_admin"])
def test_staff_verified_by_an_emailed_code_are_told_it_is_not_enough(
    client, request, ticket_a, role
):
    _verified_by(client, _email_device(request.getfixturevalue(role)))
    strong_required = "/account/security/two-factor/strong-factor-required/"
    for response in _requests(client, ticket_a):
        assert response["Location"] == strong_required
    # The ticket page too: staff see every company's tickets.
    assert client.get(f"/tickets/{ticket_a.pk}/")["Location"] == strong_required
    assert "A code sent by email is not enough." in client.get(strong_required).text


def test_staff_verified_by_totp_open_the_queue(client, agent):
    _verified_by(client, TOTPDevice.objects.get(user=agent))
    assert client.get("/support/").status_code == 200


def test_customers_still_get_403_before_any_second_factor_question(client, employee_a):
    client.force_login(employee_a)
    response = client.get("/support/")
    assert response.status_code == 403
    assert "Second factor required" not in response.content.decode()
