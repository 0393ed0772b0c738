from __future__ import annotations

import re

from django.test import Client

from accounts.models import SecurityEvent, UserSession

from .helpers import both_parts


def report_path(mailoutbox) -> str:
    mail = next(m for m in mailoutbox if "was this you" in m.subject)
    return re.search(r"http://portal\.test(/account/sign-in/report/\S+/)", mail.body).group(1)


def test_the_first_sign_in_ever_sends_no_alert(client, sign_in, employee_a, mailoutbox):
    sign_in(employee_a)
    assert mailoutbox == []


def test_the_same_browser_again_sends_no_alert(client, sign_in, employee_a, mailoutbox):
    sign_in(employee_a)
    client.post("/account/logout/")
    sign_in(employee_a)
    assert mailoutbox == []


def test_a_new_browser_sends_was_this_you(client, sign_in, employee_a, mailoutbox):
    sign_in(employee_a)
    sign_in(employee_a, c=Client(HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"))
    [mail] = mailoutbox
    assert mail.to == [employee_a.email]
    assert mail.subject == "New sign-in to your account: was this you?"
    assert "Firefox" in mail.body
    assert "/account/sign-in/report/" in mail.body


def test_this_wasnt_me_ends_all_sessions_and_sends_a_reset(client, sign_in, employee_a, mailoutbox):
    sign_in(employee_a)
    intruder = Client()
    sign_in(employee_a, c=intruder)
    path = report_path(mailoutbox)
    mailoutbox.clear()
    anonymous = Client()
    page = anonymous.get(path)
    assert page.status_code == 200
    assert intruder.get("/dashboard/").status_code == 200  # GET changes nothing
    response = anonymous.post(path)
    assert response.status_code == 200
    assert intruder.get("/dashboard/").status_code == 302
    assert client.get("/dashboard/").status_code == 302
    assert UserSession.objects.filter(user=employee_a, ended_at=None).count() == 0
    [mail] = mailoutbox
    assert mail.subject == "Choose a new password for your account"
    # Accounts I builds accounts:password_reset_confirm; until then the help page is linked.
    assert re.search(r"http://portal\.test/account/(password/reset/\S+|login/help/)", mail.body)
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SIGN_IN_REPORTED).count() == 1
    # Single use: a second POST does nothing more.
    assert "already been reported" in anonymous.get(path).text
    anonymous.post(path)
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SIGN_IN_REPORTED).count() == 1


def test_this_wasnt_me_turns_the_known_password_off_until_the_owner_chooses_one(
    client, sign_in, employee_a, password, mailoutbox
):
    from mfa import services as mfa_services

    sign_in(employee_a)
    intruder = Client(HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0")
    sign_in(employee_a, c=intruder)
    employee_a.refresh_from_db()
    trusted = mfa_services.trust_cookie_value(employee_a)
    path = report_path(mailoutbox)
    mailoutbox.clear()
    Client().post(path)

    employee_a.refresh_from_db()
    assert not employee_a.has_usable_password()
    assert trusted != mfa_services.trust_cookie_value(employee_a)  # trusted browsers forgotten
    assert sign_in(employee_a, c=intruder).status_code == 400  # the password they know
    [mail] = mailoutbox
    assert "turned its password off" in mail.body
    reset = re.search(r"http://portal\.test(/account/password/reset/\S+/)", mail.body).group(1)
    form = Client().get(reset, follow=True)
    assert form.status_code == 200
    assert "new_password1" in form.content.decode()


def test_a_forged_report_link_is_404(client, db):
    assert client.get("/account/sign-in/report/forged:token/").status_code == 404


def test_the_alert_says_what_happened_when_where_and_what_to_do(
    client, sign_in, employee_a, mailoutbox
):
    sign_in(employee_a)
    firefox = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"
    sign_in(employee_a, c=Client(HTTP_USER_AGENT=firefox, REMOTE_ADDR="203.0.113.9"))
    [mail] = mailoutbox
    path = report_path(mailoutbox)
    for part in both_parts(mail):
        assert (
            "Someone just signed in to your account c10001.ea from a browser we have not "
            "seen before:" in part
        )
        assert "Time: " in part
        assert "IP address: 203.0.113.9" in part
        assert "Browser: Firefox 128 on Linux" in part
        assert "If this was you, you can ignore this email." in part
        assert "If it was not you, choose “This wasn't me” now: we sign out every session" in part
        assert f"http://portal.test{path}" in part


def test_the_report_page_shows_the_sign_in_time_in_the_account_holders_zone(
    client, sign_in, employee_a, mailoutbox
):
    employee_a.time_zone = "Asia/Kolkata"  # UTC+05:30 all year, abbreviated IST
    employee_a.save(update_fields=["time_zone"])
    sign_in(employee_a)
    sign_in(employee_a, c=Client())
    page = Client().get(report_path(mailoutbox)).text  # opened from the email, signed out
    assert "(IST)" in page


def test_the_reset_email_describes_the_sign_in_as_the_alert_did(
    client, sign_in, employee_a, mailoutbox
):
    """Time, IP address and browser come from the one partial (emails/_event_origin), in the
    account holder's time zone, in both parts: the same lines as the alert that was answered."""
    employee_a.time_zone = "Asia/Kolkata"  # UTC+05:30 all year, abbreviated IST
    employee_a.save(update_fields=["time_zone"])
    sign_in(employee_a)
    firefox = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"
    sign_in(employee_a, c=Client(HTTP_USER_AGENT=firefox, REMOTE_ADDR="203.0.113.9"))
    [alert] = mailoutbox
    Client().post(report_path(mailoutbox))
    reset = mailoutbox[-1]
    assert reset.subject == "Choose a new password for your account"

    def origin(part: str) -> list[str]:
        text = re.sub(r"<[^>]+>", "", part)  # the HTML part's lines without their tags
        return re.findall(r"^(?:Time|IP address|Browser): .*$", text, re.M)

    for alert_part, reset_part in zip(both_parts(alert), both_parts(reset), strict=True):
        lines = origin(reset_part)
        assert lines == origin(alert_part)
        assert lines[0].startswith("Time: ") and lines[0].endswith(" (IST)")
        assert lines[1:] == ["IP address: 203.0.113.9", "Browser: Firefox 128 on Linux"]


def test_this_wasnt_me_kills_a_push_enrolment_the_intruder_started(
    client, sign_in, employee_a, mailoutbox
):
    """An enrolment code shown in the intruder's session must not add a phone (within its ten
    minutes) once the owner has reported the sign-in."""
    import json

    from cryptography.hazmat.primitives.asymmetric import ed25519

    from mfa import protocol
    from mfa.models import PushDevice
    from mfa.services import start_push_enrollment

    sign_in(employee_a)
    sign_in(employee_a, c=Client())
    _enrollment, token = start_push_enrollment(employee_a, "Intruder's phone")
    assert Client().post(report_path(mailoutbox)).status_code == 200
    key = ed25519.Ed25519PrivateKey.generate()
    body = {"token": token, "name": "Pixel", "public_key": protocol.public_pem(key)}
    response = Client().post(
        "/mfa/api/push/enrol", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 403
    assert not PushDevice.objects.filter(user=employee_a).exists()
