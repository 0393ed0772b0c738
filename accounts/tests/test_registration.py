from __future__ import annotations

import re

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.utils import timezone

from accounts import services
from accounts.models import Company, PendingRegistration, SecurityEvent, User
from conftest import make_user

from .helpers import link_in, page_text

URL = "/account/register/"
GOOD = {
    "first_name": "Jane",
    "last_name": "Doe",
    "email": "jane.doe@example.org",
    "phone": "+49 30 1234567",
    "password1": "a-long-and-fine-passphrase",
    "password2": "a-long-and-fine-passphrase",
    "accept_terms": "on",
}

pytestmark = pytest.mark.django_db


def test_it_shows_the_form_with_a_terms_link(client):
    response = client.get(URL)
    assert response.status_code == 200
    assert b'href="/account/terms/"' in response.content
    assert (
        response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]
    )


def test_the_form_lists_the_password_rules_under_the_password(client):
    html = client.get(URL).content.decode()
    assert "<function" not in html
    assert "at least" in html  # the minimum-length rule, as the other password forms show it


def test_the_terms_page_shows_the_current_version(client):
    response = client.get("/account/terms/")
    assert response.status_code == 200
    assert settings.TERMS_VERSION in response.content.decode()


def test_it_creates_an_unverified_account_with_a_generated_user_name(client, mailoutbox):
    response = client.post(URL, GOOD)
    assert response.status_code == 302
    assert response["Location"] == "/account/register/check-email/"
    user = User.objects.get(email="jane.doe@example.org")
    assert re.fullmatch(r"c\d{5}\.jd", user.username)
    assert not user.email_verified
    assert user.check_password(GOOD["password1"])
    assert user.terms_version == settings.TERMS_VERSION
    assert user.terms_accepted_at is not None
    assert user.phone.as_e164 == "+49301234567"
    assert SecurityEvent.objects.filter(user=user, kind="registered").exists()
    assert len(mailoutbox) == 1
    assert mailoutbox[0].subject == "Verify email"
    assert link_in(mailoutbox[0], "/account/verify/")


def test_it_does_not_sign_the_new_user_in_before_verification(client):
    client.post(URL, GOOD)
    assert "_auth_user_id" not in client.session


def test_the_verification_page_asks_to_check_inbox_and_spam(client):
    response = client.post(URL, GOOD, follow=True)
    text = response.content.decode()
    assert "Email verification" in text
    assert "jane.doe@example.org" in text
    assert "spam folder" in text


def test_an_existing_address_gets_the_same_page_and_a_notice_email(client, mailoutbox, outsider):
    data = {**GOOD, "email": outsider.email.upper()}
    existing = client.post(URL, data, follow=True)
    new = client.post(URL, {**GOOD, "email": "someone.new@example.org"}, follow=True)
    assert existing.status_code == new.status_code == 200
    assert existing.templates[0].name == new.templates[0].name
    assert page_text(existing, outsider.email.upper()) == page_text(new, "someone.new@example.org")
    assert User.objects.filter(email__iexact=outsider.email).count() == 1
    notice = [m for m in mailoutbox if m.to == [outsider.email]]
    assert len(notice) == 1
    assert notice[0].subject == "You already have an account"
    assert outsider.username in notice[0].body


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"first_name": ""}, "first_name"),
        ({"email": "not-an-email"}, "email"),
        ({"phone": "0301234"}, "phone"),
        ({"password2": "something-else-entirely"}, "password2"),
        ({"password1": "short", "password2": "short"}, "password1"),
        ({"password1": "qwerty123456", "password2": "qwerty123456"}, "password1"),
        ({"accept_terms": ""}, "accept_terms"),
    ],
)
def test_bad_input_is_a_form_error_keeping_what_was_entered(client, change, field, mailoutbox):
    data = {**GOOD, **change}
    response = client.post(URL, data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    text = response.content.decode()
    if field != "first_name":
        assert 'value="Jane"' in text
    assert GOOD["password1"] not in text
    assert not User.objects.filter(email="jane.doe@example.org").exists()
    assert mailoutbox == []


def test_registrations_per_network_are_limited_and_mistakes_do_not_count(
    client, settings, mailoutbox
):
    settings.REGISTRATION_IP_LIMIT, settings.REGISTRATION_IP_WINDOW = 2, 3600
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as traveller:
        for _mistake in range(3):
            assert client.post(URL, {**GOOD, "accept_terms": ""}).status_code == 400
        for number in range(2):
            response = client.post(URL, {**GOOD, "email": f"person{number}@example.org"})
            assert response.status_code == 302
        traveller.shift(1500)
        response = client.post(URL, {**GOOD, "email": "person2@example.org"})
        assert response.status_code == 429
        assert response["Retry-After"] == "2100"  # what is left of the hour, not the hour
        text = response.content.decode()
        assert (
            "Too many accounts were registered from your network. Please try again in 35 minutes."
        ) in text
        assert 'value="person2@example.org"' in text  # nothing typed is lost
        assert 'value="Jane"' in text and 'value="Doe"' in text
        assert GOOD["password1"] not in text
        assert not User.objects.filter(email="person2@example.org").exists()
        assert len(mailoutbox) == 2
        other_network = client.post(
            URL, {**GOOD, "email": "person3@example.org"}, REMOTE_ADDR="198.51.100.7"
        )
        assert other_network.status_code == 302
        traveller.shift(2100)
        assert client.post(URL, {**GOOD, "email": "person2@example.org"}).status_code == 302


def test_a_password_like_the_name_is_refused(client):
    data = {**GOOD, "password1": "jane.doe@example.org", "password2": "jane.doe@example.org"}
    response = client.post(URL, data)
    assert response.status_code == 400
    assert "password1" in response.context["form"].errors


def test_registration_can_be_switched_off(client, settings):
    settings.REGISTRATION_OPEN = False
    assert client.get(URL).status_code == 404
    assert client.post(URL, GOOD).status_code == 404
    assert "/account/register/" not in client.get("/").content.decode()
    assert not User.objects.exists()


def test_the_home_and_sign_in_pages_link_to_registration(client):
    assert b'href="/account/register/"' in client.get("/").content
    assert b'href="/account/register/"' in client.get("/account/login/").content


def test_a_signed_in_user_is_sent_to_the_dashboard(client, outsider, sign_in):
    sign_in(outsider)
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"


def test_resend_sends_the_verification_again_and_is_throttled(client, mailoutbox):
    client.post(URL, GOOD)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        first = client.post("/account/register/check-email/", follow=True)
        traveller.shift(20)
        second = client.post("/account/register/check-email/")
    assert "We have sent the email again." in first.content.decode()
    assert second.status_code == 429
    assert second["Retry-After"] == "40"  # what is left of the minute
    text = second.content.decode()
    assert "Please wait 40 seconds before asking again." in text
    assert "Resend the email" in text and "jane.doe@example.org" in text
    assert [m.subject for m in mailoutbox] == ["Verify email", "Verify email"]


def test_resend_says_when_the_hourly_limit_lets_the_next_email_go(client, mailoutbox):
    client.post(URL, GOOD)
    url = "/account/register/check-email/"
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as traveller:
        for _ in range(services.REGISTRATION_RESEND_PER_HOUR):
            assert client.post(url).status_code == 302
            traveller.shift(61)
        response = client.post(url)  # past the minute, not past the hour
        assert response.status_code == 429
        hour_left = 3600 - 61 * services.REGISTRATION_RESEND_PER_HOUR
        assert response["Retry-After"] == str(hour_left)
        assert "Please wait 55 minutes before asking again." in response.content.decode()
        traveller.shift(10)  # within the minute of that refusal too: the hour ends last
        assert client.post(url)["Retry-After"] == str(hour_left - 10)
        traveller.shift(hour_left - 10)
        assert client.post(url).status_code == 302
    assert len(mailoutbox) == 1 + services.REGISTRATION_RESEND_PER_HOUR + 1


def test_resend_without_a_registration_in_this_session_sends_nothing(client, mailoutbox):
    response = client.post("/account/register/check-email/")
    assert response.status_code == 302
    assert mailoutbox == []


def test_generated_user_names_follow_the_provider_format():
    assert re.fullmatch(r"c\d{5}\.zo", services.generate_username("Żaneta", "Öztürk"))
    assert re.fullmatch(r"c\d{5}\.xx", services.generate_username("李", "王"))


def test_generated_user_names_avoid_taken_names_and_customer_numbers(monkeypatch):
    Company.objects.create(name="Taken", customer_number="00001")
    make_user("c00002.jd")
    draws = iter([1, 2, 3])
    monkeypatch.setattr("secrets.randbelow", lambda n: next(draws))
    assert services.generate_username("Jane", "Doe") == "c00003.jd"


def test_the_new_account_takes_the_language_of_the_page(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    client.post(URL, GOOD)
    assert User.objects.get(email=GOOD["email"]).preferred_language == "de"


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("America/Bogota", "America/Bogota"),
        ("Etc/UTC", "UTC"),
        ("Mars/Olympus_Mons", "Europe/Berlin"),
        ("", "Europe/Berlin"),
    ],
)
def test_a_new_account_starts_in_the_devices_time_zone_when_it_is_a_known_one(
    client, mailoutbox, sent, kept
):
    response = client.post(URL, {**GOOD, "time_zone": sent})
    assert response.status_code == 302
    assert User.objects.get(email=GOOD["email"]).time_zone == kept


def test_the_form_carries_a_field_for_the_devices_time_zone(client):
    html = client.get(URL).content.decode()
    assert re.search(r'<input type="hidden" name="time_zone"[^>]*data-device-time-zone', html)


def _registration_work(client, email: str) -> tuple:
    """What one registration request did: queries, templates rendered, log entries written."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    events_before = SecurityEvent.objects.count()
    with CaptureQueriesContext(connection) as queries:
        response = client.post(URL, {**GOOD, "email": email})
    assert (response.status_code, response["Location"]) == (302, "/account/register/check-email/")
    templates = sorted(t.name for t in response.templates)
    return len(queries), templates, SecurityEvent.objects.count() - events_before


@pytest.fixture
def queued(monkeypatch):
    from accounts import tasks

    calls = []
    monkeypatch.setattr(tasks.register_account, "delay", lambda *args: calls.append(args))
    return calls


def test_the_request_does_the_same_work_whether_the_address_has_an_account(
    client, outsider, queued, mailoutbox
):
    """Its timing must not tell: the request hashes the password, stores the registration and
    queues one task for a new address and for an existing one alike; the account or the
    notice comes from the task."""
    _registration_work(client, "warm-up@example.org")  # the session exists from here on
    new = _registration_work(client, "someone.new@example.org")
    existing = _registration_work(client, outsider.email.upper())
    assert new == existing
    assert new[1] == [] and new[2] == 0  # nothing rendered, nothing logged
    assert mailoutbox == []
    assert not User.objects.filter(email__in=["warm-up@example.org", "someone.new@example.org"])
    pending = [PendingRegistration.objects.get(pk=args[0]) for args in queued]
    assert [row.email for row in pending] == [
        "warm-up@example.org",
        "someone.new@example.org",
        outsider.email.upper(),
    ]


def test_the_request_stores_the_registration_and_queues_only_its_key(client, queued):
    """The broker (Redis, its retries, the logs of failed tasks) never holds the hash."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    client.post(URL, GOOD, HTTP_USER_AGENT="Firefox")
    row = PendingRegistration.objects.get()
    assert queued == [(str(row.pk),)]
    assert row.password_hash not in repr(queued) and GOOD["password1"] not in repr(queued)
    assert check_password(GOOD["password1"], row.password_hash)
    assert (row.email, row.first_name, row.last_name) == (GOOD["email"], "Jane", "Doe")
    assert (row.phone, row.language) == ("+49301234567", "es")
    assert (row.terms_version, row.ip_address, row.user_agent) == (
        settings.TERMS_VERSION,
        "127.0.0.1",
        "Firefox",
    )


def test_the_task_creates_the_account_or_emails_the_owner(client, outsider, queued, mailoutbox):
    from accounts import tasks

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    client.post(URL, GOOD, HTTP_USER_AGENT="Firefox")
    client.post(URL, {**GOOD, "email": outsider.email.upper()})
    accepted_at = PendingRegistration.objects.get(email=GOOD["email"]).created_at
    for args in queued:
        tasks.register_account.run(*args)
    user = User.objects.get(email=GOOD["email"])
    assert user.check_password(GOOD["password1"])
    assert user.preferred_language == "de"
    assert (user.terms_version, user.terms_accepted_at) == (settings.TERMS_VERSION, accepted_at)
    event = SecurityEvent.objects.get(user=user, kind="registered")
    assert (event.ip_address, event.user_agent) == ("127.0.0.1", "Firefox")
    assert User.objects.filter(email__iexact=outsider.email).count() == 1
    assert sorted((m.to[0], m.subject) for m in mailoutbox) == sorted(
        [
            (GOOD["email"], "E-Mail-Adresse bestätigen"),
            (outsider.email, "You already have an account"),
        ]
    )
    assert not PendingRegistration.objects.exists()


@pytest.mark.parametrize("address", ["new", "existing"])
def test_running_the_task_again_changes_nothing(client, outsider, queued, mailoutbox, address):
    """A task delivered twice: one account and one verification email, or one notice."""
    from accounts import tasks

    email = GOOD["email"] if address == "new" else outsider.email
    client.post(URL, {**GOOD, "email": email})
    tasks.register_account.run(*queued[0])
    tasks.register_account.run(*queued[0])
    assert User.objects.filter(email=email).count() == 1
    assert len(mailoutbox) == 1
    assert SecurityEvent.objects.filter(kind="registered").count() == (address == "new")


def test_the_task_does_nothing_for_a_registration_it_does_not_find(mailoutbox):
    import uuid

    from accounts import tasks

    tasks.register_account.run(str(uuid.uuid4()))
    assert not User.objects.filter(email=GOOD["email"]).exists()
    assert mailoutbox == []


def test_a_task_that_fails_before_its_commit_is_done_by_the_next_run(
    client, queued, mailoutbox, monkeypatch
):
    """Account, audit event, email and the row's deletion commit together: a run that stops
    after saving the account leaves nothing but the row, and the next run does it all."""
    from accounts import tasks

    client.post(URL, GOOD)

    def crash(user):
        assert User.objects.filter(pk=user.pk).exists()  # after the account was saved
        raise RuntimeError("worker lost")

    with monkeypatch.context() as patched:
        patched.setattr(services, "send_verification_email", crash)
        with pytest.raises(RuntimeError):
            tasks.register_account.run(*queued[0])
    assert not User.objects.filter(email=GOOD["email"]).exists()
    assert PendingRegistration.objects.count() == 1
    assert mailoutbox == []

    tasks.register_account.run(*queued[0])
    assert User.objects.filter(email=GOOD["email"]).count() == 1
    assert [m.subject for m in mailoutbox] == ["Verify email"]
    assert not PendingRegistration.objects.exists()
