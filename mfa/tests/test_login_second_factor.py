from __future__ import annotations

import re
import time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from accounts.models import SecurityEvent
from accounts.tests.helpers import assert_title_is_the_heading
from conftest import PASSWORD, sign_in_step
from mfa import services
from mfa.tests.conftest import LOGIN, choose_device, current_code, token_post

Kind = SecurityEvent.Kind


def _signed_in(client) -> bool:
    return client.get("/dashboard/").status_code == 200


def test_it_asks_for_a_code_after_the_password_when_the_user_has_any_authenticator(
    client, employee_a, totp_device, to_token_step
):
    totp_device(employee_a, name="My phone app")
    response = to_token_step(employee_a)
    assert response.status_code == 200
    body = response.content.decode()
    assert "My phone app" in body
    assert 'autocomplete="one-time-code"' in body
    assert 'inputmode="numeric"' in body
    assert not _signed_in(client)


def test_it_signs_in_without_a_code_when_the_user_has_no_authenticator(client, employee_a, sign_in):
    response = sign_in(employee_a)
    assert response.status_code == 302
    assert _signed_in(client)


def test_a_valid_totp_code_signs_in_and_verifies_the_session(
    client, employee_a, totp_device, to_token_step
):
    device = totp_device(employee_a)
    to_token_step(employee_a)
    response = token_post(client, current_code(device))
    assert response.status_code == 302
    assert _signed_in(client)
    assert client.session["otp_device_id"] == device.persistent_id
    device.refresh_from_db()
    assert device.last_used_at is not None


@pytest.mark.parametrize("layout", ["{} {}", " {}  {} ", "{}\u00a0{}"])
def test_a_code_pasted_as_the_app_shows_it_in_two_groups_signs_in(
    client, employee_a, totp_device, to_token_step, layout
):
    """Authenticator apps show "123 456"; a copy of it is the same code, not a wrong one
    that counts toward the lockout."""
    device = totp_device(employee_a)
    to_token_step(employee_a)
    code = current_code(device)
    response = token_post(client, layout.format(code[:3], code[3:]))
    assert response.status_code == 302
    assert _signed_in(client)


def test_the_code_input_takes_a_code_with_its_space(client, employee_a, totp_device, to_token_step):
    """The browser cuts what is typed or pasted at the input's maxlength: six would keep
    "123 45" of "123 456"."""
    totp_device(employee_a)
    html = to_token_step(employee_a).content.decode()
    field = re.search(r'<input[^>]*name="token-otp_token"[^>]*>', html).group(0)
    assert int(re.search(r'maxlength="(\d+)"', field).group(1)) >= len("123 456")


def test_a_used_totp_code_is_refused_on_replay(client, employee_a, totp_device, to_token_step):
    device = totp_device(employee_a)
    code = current_code(device)
    to_token_step(employee_a)
    assert token_post(client, code).status_code == 302
    client.post("/account/logout/")
    to_token_step(employee_a)
    response = token_post(client, code)
    assert response.status_code == 400
    assert "not valid" in response.content.decode()
    assert not _signed_in(client)


def test_the_same_totp_code_is_accepted_only_once_by_the_verifier(employee_a, totp_device):
    device = totp_device(employee_a)
    code = current_code(device)
    results = [services.verify_code(device, code), services.verify_code(device, code)]
    assert results == [True, False]


def test_wrong_codes_are_throttled_and_logged_and_count_toward_the_lockout(
    client, employee_a, totp_device, to_token_step, settings
):
    device = totp_device(employee_a)
    to_token_step(employee_a)
    token_post(client, "000000")
    employee_a.refresh_from_db()
    assert employee_a.failed_login_count == 1
    assert SecurityEvent.objects.filter(user=employee_a, kind=Kind.SECOND_FACTOR_FAILED).exists()
    # Within the throttle delay even the right code is refused.
    response = token_post(client, current_code(device))
    assert "Too many wrong codes" in response.content.decode()
    assert not _signed_in(client)


def test_enough_wrong_codes_block_the_account(
    client, employee_a, totp_device, to_token_step, settings, mailoutbox
):
    settings.LOGIN_FAILURE_LIMIT = 3
    device = totp_device(employee_a)
    to_token_step(employee_a)
    for _ in range(3):
        device.refresh_from_db()
        type(device).objects.filter(pk=device.pk).update(throttling_failure_count=0)
        token_post(client, "000000")
    employee_a.refresh_from_db()
    assert employee_a.is_blocked
    type(device).objects.filter(pk=device.pk).update(throttling_failure_count=0)
    response = token_post(client, current_code(device))
    assert "blocked" in response.content.decode()
    assert not _signed_in(client)


def test_the_half_signed_in_state_expires_after_ten_minutes(
    client, employee_a, totp_device, to_token_step
):
    device = totp_device(employee_a)
    to_token_step(employee_a)
    with time_machine.travel(time.time() + 601, tick=False):
        response = token_post(client, current_code(device))
    assert response.status_code == 200
    assert "timed out" in response.content.decode()
    assert not _signed_in(client)


def test_reloading_the_code_step_after_ten_minutes_says_the_sign_in_timed_out(
    client, employee_a, totp_device, to_token_step
):
    totp_device(employee_a)
    to_token_step(employee_a)
    assert 'name="token-otp_token"' in client.get(f"{LOGIN}?step=token").content.decode()
    with time_machine.travel(time.time() + 601, tick=False):
        content = client.get(f"{LOGIN}?step=token").content.decode()
    assert 'name="identify-username"' in content
    assert "timed out" in content


def test_it_offers_the_users_default_and_lets_them_switch(
    client, employee_a, totp_device, email_device, to_token_step, mailoutbox
):
    totp = totp_device(employee_a, name="App")
    email = email_device(employee_a, name="Mailbox")
    services.mfa_settings(employee_a).__class__.objects.filter(user=employee_a).update(
        default_device=email.persistent_id
    )
    response = to_token_step(employee_a)
    assert "emailed" in response.content.decode()
    assert len(mailoutbox) == 1
    response = choose_device(client, totp)
    assert "authenticator application “App”" in response.content.decode()
    assert token_post(client, current_code(totp)).status_code == 302


def test_email_code_signs_in_once_and_resend_respects_the_cooldown(
    client, employee_a, email_device, to_token_step, mailoutbox
):
    # Not the server's UTC: the step has no signed-in user whose zone a middleware activates.
    employee_a.time_zone = "America/Bogota"
    employee_a.save(update_fields=["time_zone"])
    device = email_device(employee_a)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        to_token_step(employee_a)
        assert len(mailoutbox) == 1
        code = re.search(r"\b(\d{6})\b", mailoutbox[0].body).group(1)
        traveller.shift(20)
        response = choose_device(client, device)  # "Send a new code" within 60 s
        assert len(mailoutbox) == 1
        when = timezone.localtime(timezone.now() + timezone.timedelta(seconds=40))
        bogota = timezone.localtime(when, ZoneInfo("America/Bogota"))
        assert f"a new code can be sent at {bogota:%H:%M:%S}." in response.content.decode()
    assert token_post(client, code).status_code == 302
    client.post("/account/logout/")
    to_token_step(employee_a)  # the old code is used: the cooldown does not hold back a new one
    assert len(mailoutbox) == 2
    assert token_post(client, code).status_code == 400


def test_the_code_email_speaks_the_language_of_the_sign_in_page(
    client, employee_a, email_device, to_token_step, mailoutbox
):
    """A language picked on the sign-in pages becomes the user's preference once signed in;
    the code asked for before that comes in the language of the page waiting for it."""
    employee_a.preferred_language = "es"
    employee_a.save(update_fields=["preferred_language"])
    email_device(employee_a)
    client.post("/language/", {"language": "de", "next": "/account/login/"})
    to_token_step(employee_a)
    [mail] = mailoutbox
    assert mail.subject.startswith("Ihr Anmeldecode")


def test_signing_in_again_within_a_minute_emails_a_new_code_as_the_last_one_was_used(
    client, employee_a, email_device, to_token_step, mailoutbox
):
    email_device(employee_a)
    to_token_step(employee_a)
    code = re.search(r"\b(\d{6})\b", mailoutbox[0].body).group(1)
    assert token_post(client, code).status_code == 302
    client.post("/account/logout/")
    response = to_token_step(employee_a)
    assert len(mailoutbox) == 2
    assert "less than a minute" not in response.content.decode()
    new_code = re.search(r"\b(\d{6})\b", mailoutbox[1].body).group(1)
    assert token_post(client, new_code).status_code == 302


def test_an_email_code_expires_after_five_minutes(
    client, employee_a, email_device, to_token_step, mailoutbox
):
    email_device(employee_a)
    to_token_step(employee_a)
    code = re.search(r"\b(\d{6})\b", mailoutbox[0].body).group(1)
    with time_machine.travel(timezone.now() + timezone.timedelta(seconds=301)):
        response = token_post(client, code)
    assert response.status_code == 400
    assert not _signed_in(client)


def test_a_backup_code_signs_in_once_and_is_logged_and_notified(
    client, employee_a, totp_device, to_token_step, mailoutbox
):
    totp_device(employee_a)
    codes = services.regenerate_backup_codes(None, employee_a)
    mailoutbox.clear()
    to_token_step(employee_a)
    sign_in_step(client, LOGIN, {"login_view-current_step": "token", "wizard_goto_step": "backup"})
    response = token_post(client, codes[0], step="backup")
    assert response.status_code == 302
    assert SecurityEvent.objects.filter(user=employee_a, kind=Kind.BACKUP_CODE_USED).exists()
    assert "backup code was just used" in mailoutbox[-1].body
    client.post("/account/logout/")
    to_token_step(employee_a)
    sign_in_step(client, LOGIN, {"login_view-current_step": "token", "wizard_goto_step": "backup"})
    assert token_post(client, codes[0], step="backup").status_code == 400


def test_push_sign_in_needs_the_matching_number_and_is_single_use(
    client, employee_a, phone, to_token_step
):
    handset = phone(employee_a)
    response = to_token_step(employee_a)
    number = response.context["push_number"]
    assert f"<strong>{number}</strong>" in response.content.decode()
    # Not approved yet: "I approved it" is refused.
    assert token_post(client, "").status_code == 400
    challenge = handset.pending(client).json()["challenges"][0]
    assert number in challenge["choices"]
    assert handset.answer(
        client, challenge["id"], {"decision": "approve", "number": number}
    ).json() == {"status": "approved"}
    assert client.get("/mfa/push/sign-in-status/").json() == {"status": "approved"}
    response = sign_in_step(client, LOGIN, {"login_view-current_step": "token"})
    assert response.status_code == 302
    assert _signed_in(client)
    assert client.get("/mfa/push/sign-in-status/").json() == {"status": "none"}


def test_a_wrong_number_refuses_the_sign_in_logs_and_emails(
    client, employee_a, phone, to_token_step, mailoutbox
):
    handset = phone(employee_a)
    response = to_token_step(employee_a)
    number = response.context["push_number"]
    challenge = handset.pending(client).json()["challenges"][0]
    wrong = next(n for n in challenge["choices"] if n != number)
    answer = handset.answer(client, challenge["id"], {"decision": "approve", "number": wrong})
    assert answer.json() == {"status": "denied"}
    response = sign_in_step(client, LOGIN, {"login_view-current_step": "token"})
    assert "denied on your phone" in response.content.decode()
    assert not _signed_in(client)
    assert SecurityEvent.objects.filter(user=employee_a, kind=Kind.PUSH_DENIED).exists()
    assert "denied from your phone" in mailoutbox[-1].subject


def test_an_approval_of_another_attempt_does_not_sign_this_browser_in(
    client, employee_a, phone, to_token_step, django_user_model
):
    from django.test import Client

    handset = phone(employee_a)
    attacker = Client()
    to_token_step(employee_a, c=attacker)
    response = to_token_step(employee_a)
    number = response.context["push_number"]
    # Pick this browser's challenge by its attempt (the attacker's choices may hold the number).
    from mfa.models import PushChallenge, digest

    attempt = client.session[services.LOGIN_ATTEMPT_SESSION_KEY]
    mine_id = PushChallenge.objects.get(attempt_digest=digest(f"attempt:{attempt}")).public_id
    mine = next(c for c in handset.pending(client).json()["challenges"] if c["id"] == mine_id)
    handset.answer(client, mine["id"], {"decision": "approve", "number": number})
    assert sign_in_step(attacker, LOGIN, {"login_view-current_step": "token"}).status_code == 400
    assert attacker.get("/dashboard/").status_code == 302


def test_push_challenges_expire_after_two_minutes(client, employee_a, phone, to_token_step):
    handset = phone(employee_a)
    response = to_token_step(employee_a)
    number = response.context["push_number"]
    challenge = handset.pending(client).json()["challenges"][0]
    with time_machine.travel(timezone.now() + timezone.timedelta(seconds=121)):
        answer = handset.answer(client, challenge["id"], {"decision": "approve", "number": number})
    assert answer.status_code in (401, 409)


@pytest.mark.parametrize("allowed", [True, False])
def test_trust_this_browser_only_where_the_company_allows_it(
    client, employee_a, totp_device, to_token_step, allowed
):
    employee_a.company.trust_browser_allowed = allowed
    employee_a.company.save()
    device = totp_device(employee_a)
    response = to_token_step(employee_a)
    assert ("Trust this browser" in response.content.decode()) is allowed
    if not allowed:
        return
    response = client.post(
        LOGIN,
        {
            "login_view-current_step": "token",
            "token-otp_token": current_code(device),
            "token-remember": "on",
        },
    )
    assert services.TRUST_COOKIE in response.cookies
    client.post("/account/logout/")
    assert to_token_step(employee_a).status_code == 302  # no second factor asked
    # An authenticator change invalidates the trust.
    services.invalidate_trusted_browsers(employee_a)
    client.post("/account/logout/")
    assert to_token_step(employee_a).status_code == 200


def _sign_in_trusting_this_browser(client, user, totp_device, to_token_step):
    """Where the company allows it, sign in with "Trust this browser" ticked."""
    user.company.trust_browser_allowed = True
    user.company.save()
    device = totp_device(user)
    to_token_step(user)
    client.post(
        LOGIN,
        {
            "login_view-current_step": "token",
            "token-otp_token": current_code(device),
            "token-remember": "on",
        },
    )
    return device


def test_a_password_change_ends_the_trust(client, employee_a, totp_device, to_token_step):
    device = _sign_in_trusting_this_browser(client, employee_a, totp_device, to_token_step)
    client.post("/account/logout/")
    employee_a.set_password("another-long-password-7")
    employee_a.save()
    response = to_token_step(employee_a, password="another-long-password-7")
    assert response.status_code == 200
    assert response.context["device"] == device


def test_a_wrong_code_is_tied_to_the_code_field(client, employee_a, totp_device, to_token_step):
    """The error stays the form's (above it); the input points to it for screen readers."""
    totp_device(employee_a)
    to_token_step(employee_a)
    html = token_post(client, "000000").content.decode()
    field = re.search(r'<input[^>]*name="token-otp_token"[^>]*>', html)[0]
    assert 'aria-invalid="true"' in field
    error_id = re.search(r'aria-describedby="([\w-]+)', field)[1]
    assert re.search(rf'id="{error_id}"[^>]*>\s*<p>This code is not valid.</p>', html)


def test_every_sign_in_step_has_its_own_tab_title_under_the_heading_sign_in(
    client, employee_a, totp_device, email_device, phone
):
    app = totp_device(employee_a, name="App")
    mailbox = email_device(employee_a, name="Mailbox")
    handset = phone(employee_a)
    services.regenerate_backup_codes(None, employee_a)
    services.mfa_settings(employee_a).__class__.objects.filter(user=employee_a).update(
        default_device=app.persistent_id
    )
    steps = {"identify": client.get(LOGIN)}
    steps["password"] = sign_in_step(
        client,
        LOGIN,
        {"login_view-current_step": "identify", "identify-username": employee_a.username},
    )
    steps["app"] = sign_in_step(
        client, LOGIN, {"login_view-current_step": "auth", "auth-password": PASSWORD}
    )
    steps["email"] = choose_device(client, mailbox)
    steps["push"] = choose_device(client, handset.device)
    steps["backup"] = sign_in_step(
        client, LOGIN, {"login_view-current_step": "token", "wizard_goto_step": "backup"}
    )
    titles = {}
    for name, response in steps.items():
        assert response.status_code == 200, name
        assert "<h1>Sign in</h1>" in response.content.decode(), name
        titles[name] = assert_title_is_the_heading(response, name)
    assert titles == {
        "identify": "Sign in: user name or email",
        "password": "Sign in: password",
        "app": "Sign in: code from your app",
        "email": "Sign in: emailed code",
        "push": "Sign in: approval on your smartphone",
        "backup": "Sign in: backup code",
    }


def test_the_code_step_says_where_to_turn_when_the_authenticator_is_lost(
    client, employee_a, totp_device, to_token_step
):
    totp_device(employee_a)
    body = to_token_step(employee_a).content.decode()
    assert 'href="/account/login/help/#lost-authenticator"' in body
    help_page = client.get("/account/login/help/").content.decode()
    assert 'id="lost-authenticator"' in help_page
    assert "reset your two-factor authentication" in help_page


def test_forgetting_the_trusted_browsers_makes_every_browser_ask_again(
    client, employee_a, totp_device, to_token_step
):
    _sign_in_trusting_this_browser(client, employee_a, totp_device, to_token_step)
    page = client.get("/account/security/two-factor/").content.decode()
    assert "Trusted browsers" in page and "This browser is one of them." in page
    assert client.get("/account/security/two-factor/trusted-browsers/forget/").status_code == 405
    response = client.post("/account/security/two-factor/trusted-browsers/forget/")
    assert response.status_code == 302
    assert SecurityEvent.objects.filter(
        user=employee_a, kind=SecurityEvent.Kind.TRUSTED_BROWSERS_FORGOTTEN
    ).exists()
    assert (
        "This browser is one of them."
        not in client.get("/account/security/two-factor/").content.decode()
    )
    client.post("/account/logout/")
    assert to_token_step(employee_a).status_code == 200  # the code is asked again


def test_trusted_browsers_are_not_mentioned_where_the_company_does_not_allow_them(
    client, employee_a, totp_device, to_token_step
):
    device = totp_device(employee_a)
    to_token_step(employee_a)
    sign_in_step(
        client, LOGIN, {"login_view-current_step": "token", "token-otp_token": current_code(device)}
    )
    assert "Trusted browsers" not in client.get("/account/security/two-factor/").content.decode()


def test_forward_after_back_from_the_code_page_keeps_the_account_named(
    client, employee_a, totp_device, to_token_step
):
    """Back (password page) then forward (the code page's address) started the sign-in over
    at the identifier page, dropping the account the visitor had named."""
    totp_device(employee_a)
    to_token_step(employee_a)
    assert client.get(f"{LOGIN}?step=auth").status_code == 200  # back
    forward = client.get(f"{LOGIN}?step=token")
    assert forward.status_code == 303 and forward["Location"] == f"{LOGIN}?step=auth"
    page = client.get(forward["Location"]).content.decode()
    assert employee_a.username in page and 'type="password"' in page


def test_after_a_denied_push_the_page_offers_a_new_request_not_i_approved_it(
    client, employee_a, phone, to_token_step
):
    """Once the phone denied (or the request expired) there is no number to choose and
    nothing to approve: "I approved it" would only show the same error again."""
    handset = phone(employee_a)
    response = to_token_step(employee_a)
    assert "I approved it" in response.content.decode()
    challenge = handset.pending(client).json()["challenges"][0]
    handset.answer(client, challenge["id"], {"decision": "deny"})
    response = sign_in_step(client, LOGIN, {"login_view-current_step": "token"})
    html = response.content.decode()
    assert "denied on your phone" in html
    assert "I approved it" not in html
    assert "choose the number shown here" not in html
    resend = re.search(
        r'<button class="([^"]*)" name="challenge_device"[^>]*>Send a new request', html
    )
    assert resend and "link-button" not in resend.group(1), resend
