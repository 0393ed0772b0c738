"""Public pages at /access/: need access, authorize a Security Manager, status, activation."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts import company_services as cs
from accounts.models import SecurityManagerRequest, User

from .helpers import both_parts, link_in

pytestmark = pytest.mark.django_db
REQUEST_URL = "/access/security-manager/"
VALID = {
    "company_name": "Gamma GmbH",
    "customer_number": "30003",
    "nominee_first_name": "Nina",
    "nominee_last_name": "Nominee",
    "nominee_email": "nina@gamma.example",
    "nominee_phone": "+49 30 1234567",
    "requester_name": "Rita Requester",
    "requester_role": "CEO",
    "requester_email": "rita@gamma.example",
    "entitled_confirmed": "on",
}


def test_need_access_page_points_to_the_security_manager_and_the_form(client):
    content = client.get("/access/").content.decode()
    assert "contact the Security Manager in your company" in content
    assert 'href="/access/security-manager/"' in content


def test_login_help_links_to_the_need_access_page(client):
    assert 'href="/access/"' in client.get("/account/login/help/").content.decode()


def test_request_is_stored_and_emailed_to_the_order_desk_and_requester(
    client, mailoutbox, settings
):
    settings.ORDER_EMAIL = "orders@provider.example"
    response = client.post(REQUEST_URL, VALID)
    assert response.status_code == 302
    assert response["Location"] == "/access/security-manager/sent/"
    stored = SecurityManagerRequest.objects.get()
    assert stored.is_pending and stored.entitled_confirmed
    assert stored.ip_address == "127.0.0.1"
    order, receipt = mailoutbox
    assert order.to == ["orders@provider.example"]
    assert "Gamma GmbH" in order.body and "/admin/accounts/securitymanagerrequest/" in order.body
    assert receipt.to == ["rita@gamma.example"]
    status_url = re.search(
        r"http://portal.test(/access/security-manager/status/\S+/)", receipt.body
    )
    page = client.get(status_url.group(1))
    assert page.status_code == 200
    assert "Pending" in page.content.decode()
    assert "no-store" in page["Cache-Control"]


@pytest.mark.parametrize(
    "change",
    [
        {"entitled_confirmed": ""},
        {"customer_number": "123"},
        {"nominee_email": "nope"},
        {"requester_email": ""},
        {"company_name": ""},
    ],
)
def test_bad_input_is_a_400_and_nothing_is_stored(client, change, mailoutbox):
    response = client.post(REQUEST_URL, {**VALID, **change})
    assert response.status_code == 400
    assert not SecurityManagerRequest.objects.exists()
    assert mailoutbox == []


def test_an_unticked_confirmation_says_what_ticking_it_confirms(client):
    response = client.post(REQUEST_URL, {**VALID, "entitled_confirmed": ""})
    assert response.status_code == 400
    content = response.content.decode()
    assert (
        '<ul class="errorlist" id="id_entitled_confirmed_error"><li>Please confirm that you are '
        "entitled to sign for this company.</li></ul>"
    ) in content
    assert "This field is required." not in content


def test_requests_are_throttled_per_ip(client):
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as traveller:
        for _ in range(5):
            assert client.post(REQUEST_URL, VALID).status_code == 302
            traveller.shift(60)
        traveller.shift(900)
        response = client.post(REQUEST_URL, {**VALID, "company_name": "Delta AG"})
        assert response.status_code == 429
        # The hour began with the first request, 1,200 s ago: what is left, not the hour.
        assert response["Retry-After"] == "2400"
        text = response.content.decode()
        assert (
            "There were too many requests from your network. Please try again in 40 minutes."
        ) in text
        assert 'value="Delta AG"' in text and 'value="rita@gamma.example"' in text
        assert SecurityManagerRequest.objects.count() == 5
        traveller.shift(2400)
        assert client.post(REQUEST_URL, VALID).status_code == 302
    assert SecurityManagerRequest.objects.count() == 6


@pytest.mark.parametrize("token", ["1", "abc", "MQ:1abc:def"])
def test_a_guessed_status_link_is_404(client, token):
    assert client.get(f"/access/security-manager/status/{token}/").status_code == 404


# --- Activation -----------------------------------------------------------------------------


def activation_path(user) -> str:
    return cs.activation_url(user).removeprefix("http://portal.test")


@pytest.fixture
def new_employee(company_a):
    return cs.create_employee(
        company_a, first_name="Jana", last_name="Doe", email="jana@example.com"
    ).user


def test_activation_link_opens_a_page_and_only_post_sets_the_password(client, new_employee):
    path = activation_path(new_employee)
    response = client.get(path)
    assert response.status_code == 200
    assert new_employee.username in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    new_employee.refresh_from_db()
    assert not new_employee.has_usable_password()

    response = client.post(
        path, {"new_password1": "Fresh-Password-2026", "new_password2": "Fresh-Password-2026"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/account/login/?user={new_employee.username}"
    new_employee.refresh_from_db()
    assert new_employee.check_password("Fresh-Password-2026")
    assert new_employee.email_verified and not new_employee.must_change_password
    # Single use: opened again, it says the account is ready and offers the sign-in.
    response = client.get(path, follow=True)
    assert response.redirect_chain[-1][0] == f"/account/login/?user={new_employee.username}"
    assert "Your account is already activated." in response.content.decode()
    response = client.post(
        path, {"new_password1": "Other-Password-2026x", "new_password2": "Other-Password-2026x"}
    )
    assert response.status_code == 302  # nothing set a second time
    new_employee.refresh_from_db()
    assert new_employee.check_password("Fresh-Password-2026")


def test_activation_with_mismatched_passwords_is_a_400(client, new_employee):
    response = client.post(
        activation_path(new_employee),
        {"new_password1": "Fresh-Password-2026", "new_password2": "x"},
    )
    assert response.status_code == 400


def test_activation_link_of_a_deactivated_account_is_dead(client, new_employee, manager_a):
    path = activation_path(new_employee)
    cs.deactivate_employees([new_employee], actor=manager_a)
    assert client.get(path).status_code == 400


def test_activated_employee_signs_in(client, new_employee, sign_in):
    client.post(
        activation_path(new_employee),
        {"new_password1": "Fresh-Password-2026", "new_password2": "Fresh-Password-2026"},
    )
    response = sign_in(User.objects.get(pk=new_employee.pk), password="Fresh-Password-2026")
    assert response.status_code == 302 and response["Location"] == "/dashboard/"


def test_the_activation_email_says_what_to_do_when_its_link_expired(new_employee, mailoutbox):
    [mail] = mailoutbox
    assert mail.subject == "Activate your account"
    for part in both_parts(mail):
        assert "Your company Alpha AG has created an account for you." in part
        assert "the link works once, for 24 hours" in part
        assert (
            "Link expired? Ask for a new one on “Forgot your password?” with this email address:"
            in part
        )
        assert "http://portal.test/account/password/forgot/" in part
        assert "Your company's Security Manager can also send you a new link." in part


def test_after_the_activation_link_expired_forgot_password_sets_the_password(
    client, new_employee, mailoutbox
):
    path = activation_path(new_employee)
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        expired = client.get(path)
        assert expired.status_code == 400
        assert 'href="/account/password/forgot/"' in expired.text  # the page shows the way too
        mailoutbox.clear()
        client.post("/account/password/forgot/", {"identifier": "jana@example.com"})
        reset = link_in(mailoutbox[-1], "/account/password/reset/")
        password = {"new_password1": "Fresh-Password-2026", "new_password2": "Fresh-Password-2026"}
        assert client.post(reset, password)["Location"] == "/dashboard/"
    new_employee.refresh_from_db()
    assert new_employee.check_password("Fresh-Password-2026")
