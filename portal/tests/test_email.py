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


@pytest.mark.django_db
def test_subject_and_text_are_not_html_escaped_but_the_html_part_is(employee_a, mailoutbox):
    # A reply or a name with ' & < > reads as written in the text part, not as &#x27; …
    employee_a.first_name, employee_a.last_name = "Siobhán", "O'Brien & <Sons>"
    ticket = type("T", (), {"reference": "INC-1", "subject": "Can't reach R&D <VPN>"})()
    message = type("M", (), {"body": 'Don\'t restart "db-1" & <db-2>'})()
    context = {"name": employee_a.get_full_name(), "ticket": ticket, "message": message}
    send_email_to_user(employee_a, "ticket_reply", context)
    sent = mailoutbox[0]
    assert "Hello Siobhán O'Brien & <Sons>," in sent.body
    assert "“Can't reach R&D <VPN>”" in sent.body
    assert 'Don\'t restart "db-1" & <db-2>' in sent.body
    assert "&#x27;" not in sent.body and "&amp;" not in sent.body
    html = sent.alternatives[0][0]
    assert "O&#x27;Brien &amp; &lt;Sons&gt;" in html
    assert "<db-2>" not in html
