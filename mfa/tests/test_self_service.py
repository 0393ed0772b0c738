from __future__ import annotations

import re

import pytest
from django.test import Client

from accounts.models import SecurityEvent
from accounts.tests.manage_helpers import sign_in_verified
from mfa import services
from mfa.tests.conftest import current_code

Kind = SecurityEvent.Kind
INDEX = "/account/security/two-factor/"


def test_anonymous_users_are_sent_to_sign_in(client):
    assert client.get(INDEX).status_code == 302


def test_it_lists_the_users_authenticators_with_type_name_and_dates(
    client, employee_a, employee_a2, totp_device, email_device, django_assert_max_num_queries
):
    totp_device(employee_a, name="Phone app")
    email_device(employee_a, name="Mailbox")
    totp_device(employee_a2, name="Colleague's app")
    client.force_login(employee_a)
    with django_assert_max_num_queries(19):
        response = client.get(INDEX)
    body = response.content.decode()
    assert "Phone app" in body and "Mailbox" in body
    assert "Colleague" not in body
    assert "Authenticator app (TOTP)" in body
    assert response["Cache-Control"].count("no-store")


def test_the_security_page_links_to_it(client, employee_a):
    client.force_login(employee_a)
    assert INDEX in client.get("/account/security/").content.decode()


def test_rename_changes_the_name_and_logs(client, employee_a, totp_device):
    device = totp_device(employee_a)
    client.force_login(employee_a)
    url = f"{INDEX}totp-{device.pk}/rename/"
    assert client.get(url).status_code == 200
    assert client.post(url, {"name": ""}).status_code == 400
    assert client.post(url, {"name": "Authy"}).status_code == 302
    device.refresh_from_db()
    assert device.name == "Authy"
    assert SecurityEvent.objects.filter(user=employee_a, kind=Kind.AUTHENTICATOR_CHANGED).exists()


def test_another_users_authenticator_is_a_404(client, employee_a, employee_b, totp_device):
    device = totp_device(employee_b)
    client.force_login(employee_a)
    for action in ("rename", "remove"):
        assert client.get(f"{INDEX}totp-{device.pk}/{action}/").status_code in (302, 404)
    assert client.post(f"{INDEX}totp-{device.pk}/default/").status_code == 404
    assert client.get(f"{INDEX}bogus-1/rename/").status_code == 404


def test_make_default_is_post_only_and_changes_the_default(
    client, employee_a, totp_device, email_device
):
    first = totp_device(employee_a)
    second = email_device(employee_a)
    client.force_login(employee_a)
    url = f"{INDEX}email-{second.pk}/default/"
    assert client.get(url).status_code == 405
    assert services.default_device(employee_a) == first
    client.post(url)
    assert services.default_device(employee_a) == second


def test_remove_requires_a_recent_password_then_removes_and_notifies(
    client, employee_a, totp_device, password, mailoutbox
):
    device = totp_device(employee_a)
    client.force_login(employee_a)
    url = f"{INDEX}totp-{device.pk}/remove/"
    response = client.get(url)
    assert response.status_code == 302
    assert "confirm-password" in response["Location"]
    reauth = response["Location"]
    assert client.post(reauth, {"password": "wrong", "next": url}).status_code == 400
    assert client.post(reauth, {"password": password, "next": url})["Location"] == url
    assert client.post(url).status_code == 302
    assert not type(device).objects.filter(pk=device.pk).exists()
    assert SecurityEvent.objects.filter(user=employee_a, kind=Kind.AUTHENTICATOR_REMOVED).exists()
    assert "was removed" in mailoutbox[-1].body


def test_recent_auth_lapses_after_five_minutes(client, employee_a, totp_device, recent_auth):
    import time

    import time_machine

    device = totp_device(employee_a)
    client.force_login(employee_a)
    recent_auth()
    url = f"{INDEX}totp-{device.pk}/remove/"
    assert client.get(url).status_code == 200
    with time_machine.travel(time.time() + 301):
        assert client.get(url).status_code == 302


def test_the_last_authenticator_cannot_be_removed_when_mfa_is_required(
    client, employee_a, totp_device, recent_auth
):
    employee_a.company.mfa_required = True
    employee_a.company.save()
    device = totp_device(employee_a)
    client.force_login(employee_a)
    recent_auth()
    assert client.post(f"{INDEX}totp-{device.pk}/remove/").status_code == 409
    assert type(device).objects.filter(pk=device.pk).exists()


def test_backup_codes_are_shown_once_stored_hashed_and_regenerable(
    client, employee_a, totp_device, recent_auth, mailoutbox
):
    totp_device(employee_a)
    client.force_login(employee_a)
    recent_auth()
    response = client.post(f"{INDEX}backup-codes/")
    codes = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", response.content.decode())
    assert len(codes) == 10
    from mfa.models import BackupCode

    stored = list(BackupCode.objects.values_list("digest", flat=True))
    assert not any(code.replace("-", "") in d for d in stored for code in codes)
    page = client.get(f"{INDEX}backup-codes/").content.decode()
    assert codes[0] not in page and "10 codes left" in page
    client.post(f"{INDEX}backup-codes/")
    device = services.backup_device(employee_a)
    assert not device.use_code(codes[0])  # the old set stopped working
    assert "backup codes" in mailoutbox[-1].subject.lower()


def test_totp_setup_shows_qr_and_key_and_activates_after_a_valid_code(
    client, employee_a, recent_auth, mailoutbox
):
    client.force_login(employee_a)
    recent_auth()
    url = f"{INDEX}setup/totp/"
    assert client.post(url, {"name": "Authy"}).status_code == 302
    page = client.get(url)
    body = page.content.decode()
    assert "<svg" in body and page.context["secret"] in body
    uri = page.context["uri"]
    assert uri.startswith("otpauth://totp/") and "issuer=" in uri and employee_a.username in uri
    device = page.context["device"]
    assert not device.confirmed
    assert client.post(url, {"code": "000000"}).status_code == 400
    type(device).objects.filter(pk=device.pk).update(throttling_failure_count=0)
    assert client.post(url, {"code": current_code(device)}).status_code == 302
    device.refresh_from_db()
    assert device.confirmed and device.name == "Authy"
    assert "was added" in mailoutbox[-1].body


def test_email_setup_confirms_the_address_by_code(client, employee_a, recent_auth, mailoutbox):
    client.force_login(employee_a)
    recent_auth()
    url = f"{INDEX}setup/email/"
    assert client.get(url).context["start_form"].initial["email"] == employee_a.email
    client.post(url, {"name": "Private", "email": "private@example.org"})
    assert mailoutbox[-1].to == ["private@example.org"]
    code = re.search(r"\b(\d{6})\b", mailoutbox[-1].body).group(1)
    client.post(url, {"resend": "1"})
    assert len(mailoutbox) == 1  # cooldown
    assert services.authenticators(employee_a) == []
    assert client.post(url, {"code": code}).status_code == 302
    assert [d.name for d in services.authenticators(employee_a)] == ["Private"]


def test_push_setup_shows_the_enrollment_uri_and_completes_when_the_phone_enrolled(
    client, employee_a, recent_auth
):
    client.force_login(employee_a)
    recent_auth()
    url = f"{INDEX}setup/push/"
    client.post(url, {"name": "push"})
    page = client.get(url)
    uri = page.context["uri"]
    assert uri.startswith("http://portal.test/mfa/api/push/enrol?token=")
    assert client.get(f"{INDEX}setup/push-status/").json()["done"] is False
    token = uri.split("token=")[1]
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from mfa import protocol

    services.enrol_push_device(
        None, token, "ignored", protocol.public_pem(ed25519.Ed25519PrivateKey.generate())
    )
    assert client.get(f"{INDEX}setup/push-status/").json()["done"] is True
    response = client.get(url)  # the no-JS "Check" button
    assert response.status_code == 302 and response["Location"] == INDEX


def test_the_smartphone_is_named_in_words_until_the_user_names_it(client, employee_a, recent_auth):
    client.force_login(employee_a)
    recent_auth()
    response = client.get(f"{INDEX}setup/push/", HTTP_ACCEPT_LANGUAGE="de")
    assert response.context["form"]["name"].value() == "Smartphone"  # was the technical "push"


def test_a_required_push_enrolment_ends_on_the_dashboard(client, employee_a, recent_auth):
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from mfa import protocol

    employee_a.company.mfa_required = True
    employee_a.company.save()
    client.force_login(employee_a)
    recent_auth()
    url = f"{INDEX}setup/push/"
    client.post(url, {"name": "push"})
    token = client.get(url).context["uri"].split("token=")[1]
    services.enrol_push_device(
        None, token, "ignored", protocol.public_pem(ed25519.Ed25519PrivateKey.generate())
    )
    response = client.get(url)
    assert response.status_code == 302 and response["Location"] == "/dashboard/"


@pytest.mark.parametrize("kind", ["totp", "email", "push"])
def test_setup_pages_need_a_recent_password(client, employee_a, kind):
    client.force_login(employee_a)
    assert "confirm-password" in client.get(f"{INDEX}setup/{kind}/")["Location"]


def test_unknown_setup_kind_is_404(client, employee_a):
    client.force_login(employee_a)
    assert client.get(f"{INDEX}setup/sms/").status_code == 404


def test_the_list_says_which_address_an_email_authenticator_sends_codes_to(
    client, employee_a, email_device
):
    email_device(employee_a, name="Mailbox")
    employee_a.email = "new@example.com"  # the profile's address changed since
    employee_a.save()
    client.force_login(employee_a)
    body = client.get(INDEX).content.decode()
    device = services.authenticators(employee_a)[0]
    assert services.email_address(device) != "new@example.com"
    assert services.email_address(device) in body


def test_email_setup_sends_no_code_to_a_new_address_during_the_cooldown(
    client, employee_a, recent_auth, mailoutbox
):
    """The form takes any address: without the sign-in codes' cooldown, a signed-in user
    could have the portal email anyone without end."""
    from zoneinfo import ZoneInfo

    import time_machine
    from django.utils import timezone

    client.force_login(employee_a)
    recent_auth()
    url = f"{INDEX}setup/email/"
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client.post(url, {"name": "Private", "email": "first@example.org"})
        traveller.shift(20)
        response = client.post(url, {"name": "Other", "email": "victim@example.org"})
        assert response.status_code == 429
        assert response["Retry-After"] == "40"
        assert [m.to for m in mailoutbox] == [["first@example.org"]]
        text = response.content.decode()
        when = timezone.now() + timezone.timedelta(seconds=40)
        expected = timezone.localtime(when, ZoneInfo(employee_a.time_zone))
        assert f"a new code can be sent at {expected:%H:%M:%S}" in text
        assert 'value="victim@example.org"' in text and 'value="Other"' in text
        traveller.shift(41)
        assert client.post(url, {"name": "Other", "email": "victim@example.org"}).status_code == 302
    assert [m.to for m in mailoutbox] == [["first@example.org"], ["victim@example.org"]]
    code = re.search(r"\b(\d{6})\b", mailoutbox[-1].body).group(1)
    assert client.post(url, {"code": code}).status_code == 302
    assert [d.email for d in services.authenticators(employee_a)] == ["victim@example.org"]


def test_email_setup_resend_says_when_a_new_code_can_be_sent(
    client, employee_a, recent_auth, mailoutbox
):
    """The same sentence as the first send's and the sign-in's, in the user's time zone."""
    from zoneinfo import ZoneInfo

    import time_machine
    from django.utils import timezone

    employee_a.time_zone = "Asia/Kolkata"
    employee_a.save(update_fields=["time_zone"])
    client.force_login(employee_a)
    recent_auth()
    url = f"{INDEX}setup/email/"
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client.post(url, {"name": "Private", "email": "private@example.org"})
        traveller.shift(15)
        response = client.post(url, {"resend": "1"}, follow=True)
        assert len(mailoutbox) == 1
        when = timezone.now() + timezone.timedelta(seconds=45)
        expected = timezone.localtime(when, ZoneInfo("Asia/Kolkata"))
        assert f"a new code can be sent at {expected:%H:%M:%S}." in response.content.decode()
        traveller.shift(46)
        client.post(url, {"resend": "1"})
        assert len(mailoutbox) == 2


def test_email_setup_sends_codes_to_at_most_five_addresses_in_any_hour(
    client, employee_a, recent_auth, mailoutbox
):
    """The last 60 minutes, not the clock hour: five addresses just before the full hour
    leave none free just after it (the clock hour let ten through around it)."""
    from zoneinfo import ZoneInfo

    import time_machine
    from django.utils import timezone

    client.force_login(employee_a)
    url = f"{INDEX}setup/email/"
    zone = ZoneInfo(employee_a.time_zone)
    first = timezone.now().replace(minute=55, second=0, microsecond=0)

    def add(address: str):
        # Confirmed on the travelled clock: the five minutes without asking for the
        # password again must not run out, whatever the real time.
        recent_auth()
        return client.post(url, {"name": "Mail", "email": address})

    with time_machine.travel(first, tick=False) as traveller:
        for n in range(services.EMAIL_SETUP_ADDRESSES_PER_HOUR):
            assert add(f"a{n}@example.org").status_code == 302
            traveller.shift(61)  # the cooldown of the code just sent
        assert timezone.now().minute == 0  # the clock hour has turned
        response = add("one-more@example.org")
        assert response.status_code == 429
        assert response["Retry-After"] == str(3600 - 61 * services.EMAIL_SETUP_ADDRESSES_PER_HOUR)
        expected = timezone.localtime(first + timezone.timedelta(hours=1), zone)
        assert f"a new code can be sent at {expected:%H:%M:%S}" in response.content.decode()
        assert len(mailoutbox) == services.EMAIL_SETUP_ADDRESSES_PER_HOUR
        traveller.move_to(first + timezone.timedelta(hours=1, seconds=-1))
        assert add("one-more@example.org").status_code == 429
        traveller.move_to(first + timezone.timedelta(hours=1, seconds=1))
        response = add("one-more@example.org")
        assert (response.status_code, response["Location"]) == (302, url)
    assert [m.to for m in mailoutbox][-2:] == [["a4@example.org"], ["one-more@example.org"]]


def test_email_setup_offers_a_different_address_while_a_code_waits(
    client, employee_a, recent_auth, mailoutbox
):
    """A mistyped address was a dead end: the page only asked for the code sent there."""
    client.force_login(employee_a)
    recent_auth()
    url = f"{INDEX}setup/email/"
    client.post(url, {"name": "Private", "email": "typo@example.org"})
    page = client.get(url).content.decode()
    assert 'href="?change=1"' in page
    form = client.get(f"{url}?change=1")
    assert form.status_code == 200 and 'name="email"' in form.content.decode()
    assert form.context["start_form"].initial["email"] == "typo@example.org"
    response = client.post(url, {"name": "Private", "email": "right@example.org"})
    assert response.status_code == 429  # the cooldown, with when a code can be sent
    assert "a new code can be sent at" in response.content.decode()


def test_new_backup_codes_are_logged_as_such_not_as_a_changed_authenticator(
    client, employee_a, manager_a, totp_device, recent_auth
):
    """The activity and the company log told new backup codes from a renamed authenticator
    by nothing: both read "Authenticator changed"."""
    device = totp_device(employee_a)
    client.force_login(employee_a)
    recent_auth()
    client.post(f"{INDEX}backup-codes/")
    client.post(f"{INDEX}totp-{device.pk}/rename/", {"name": "Authy"})
    kinds = list(SecurityEvent.objects.filter(user=employee_a).values_list("kind", flat=True))
    assert kinds[:2] == [Kind.AUTHENTICATOR_CHANGED, Kind.BACKUP_CODES_CREATED]
    activity = client.get("/account/security/").content.decode()
    assert "Backup codes created" in activity and "Authenticator changed" in activity
    manager = sign_in_verified(Client(), manager_a)
    company_log = manager.get("/manage/log/", {"kind": Kind.BACKUP_CODES_CREATED})
    assert company_log.status_code == 200
    assert [event.username for event in company_log.context["page"].object_list] == [
        employee_a.username
    ]
    assert "Backup codes created" in company_log.content.decode()


@pytest.mark.parametrize("kind", ["totp", "email"])
def test_the_code_that_activates_an_authenticator_is_no_use_of_it(
    client, employee_a, recent_auth, mailoutbox, kind
):
    """ "Last used" said the activation's time for an app or email code, but "never" for a
    phone, which enrols without a code: now it means a sign-in with it, for every type."""
    client.force_login(employee_a)
    recent_auth()
    url = f"{INDEX}setup/{kind}/"
    if kind == "totp":
        client.post(url, {"name": "Authy"})
        code = current_code(client.get(url).context["device"])
    else:
        client.post(url, {"name": "Private", "email": "private@example.org"})
        code = re.search(r"\b(\d{6})\b", mailoutbox[-1].body).group(1)
    assert client.post(url, {"code": code}).status_code == 302
    [device] = services.authenticators(employee_a)
    assert device.confirmed and device.last_used_at is None
    assert '<td data-label="Last used">never</td>' in client.get(INDEX).content.decode()
