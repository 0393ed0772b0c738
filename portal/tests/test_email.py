from __future__ import annotations

import pytest
from django.core import mail

from accounts.emails import send_email, send_email_to_user


@pytest.mark.django_db
def test_emails_are_rendered_in_the_recipients_language_with_text_and_html(employee_a, mailoutbox):
    employee_a.preferred_language = "de"
    send_email_to_user(employee_a, "password_changed")
    message = mailoutbox[0]
    assert message.to == [employee_a.email]
    assert message.subject != "Your password was changed"  # translated
    assert employee_a.username in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "http://portal.test/account/login/help/" in html


@pytest.mark.django_db
def test_links_use_site_url_never_the_request_host(employee_a, mailoutbox, settings):
    settings.SITE_URL = "https://portal.example.com"
    send_email_to_user(employee_a, "password_changed")
    assert "https://portal.example.com/account/login/help/" in mailoutbox[0].body


def test_nothing_is_sent_without_an_address(mailoutbox):
    send_email("password_changed", "", {})
    assert mailoutbox == []


def test_the_embedded_backend_prints_and_keeps_a_copy(settings, tmp_path, capsys):
    from portal.mail import ConsoleAndFileEmailBackend

    settings.MAIL_DIR = tmp_path / "mail"
    message = mail.EmailMessage("Hello there", "Body text", to=["a@example.com"])
    assert ConsoleAndFileEmailBackend().send_messages([message]) == 1
    files = list((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 1
    assert "Body text" in files[0].read_text()
    assert "Hello there" in capsys.readouterr().out
