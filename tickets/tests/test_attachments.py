from __future__ import annotations

import pytest

from tickets import services
from tickets.forms import sniff_content_type
from tickets.models import Attachment

from .conftest import PDF, PNG, docx_bytes, upload


@pytest.fixture
def attachment(ticket_a, employee_a):
    services.add_reply(ticket_a, employee_a, "See file", files=[(upload(), "image/png")])
    return Attachment.objects.get()


@pytest.fixture
def internal_attachment(ticket_a, agent):
    services.add_reply(
        ticket_a, agent, "note", files=[(upload("n.pdf", PDF), "application/pdf")], internal=True
    )
    return Attachment.objects.get(message__is_internal=True)


def url(attachment) -> str:
    return f"/tickets/attachments/{attachment.pk}/"


def test_anonymous_is_sent_to_sign_in(client, attachment):
    assert client.get(url(attachment)).status_code == 302


def test_the_requester_downloads_it_safely(client, attachment, employee_a):
    client.force_login(employee_a)
    response = client.get(url(attachment))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment")
    assert 'filename="screen.png"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PNG


def test_another_customer_gets_404(client, attachment, employee_a2, employee_b, manager_b):
    for user in (employee_a2, employee_b, manager_b):
        client.force_login(user)
        assert client.get(url(attachment)).status_code == 404


def test_agents_download_every_attachment(client, attachment, internal_attachment, agent):
    client.force_login(agent)
    assert client.get(url(attachment)).status_code == 200
    assert client.get(url(internal_attachment)).status_code == 200


def test_attachments_of_internal_notes_are_404_for_customers(
    client, internal_attachment, employee_a, manager_a
):
    for user in (employee_a, manager_a):
        client.force_login(user)
        assert client.get(url(internal_attachment)).status_code == 404


def test_post_is_405(client, attachment, employee_a):
    client.force_login(employee_a)
    assert client.post(url(attachment)).status_code == 405


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("a.pdf", PDF, "application/pdf"),
        ("a.png", PNG, "image/png"),
        ("a.JPG", b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        ("a.gif", b"GIF89a\x01\x00", "image/gif"),
        ("a.txt", "Grüße, log line\n".encode(), "text/plain"),
        ("a.csv", b"a,b\n1,2\n", "text/csv"),
        ("a.docx", docx_bytes(), None),
    ],
)
def test_allowed_types_are_recognised_by_content(name, content, expected):
    result = sniff_content_type(upload(name, content))
    if name.endswith(".docx"):
        expected = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert result == expected


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("a.png", PDF),  # content and extension disagree
        ("a.exe", b"MZ\x90\x00"),
        ("a.html", b"<html><script>alert(1)</script>"),
        ("a.txt", b"\x00\x01\x02binary"),
        ("a.csv", b"\xff\xfe\xfa not utf-8"),
        ("a.docx", docx_bytes(with_content_types=False)),
        ("a.docx", b"PK\x03\x04 broken zip"),
        ("a.zip", docx_bytes()),
        ("noextension", PNG),
    ],
)
def test_other_content_is_refused(name, content):
    assert sniff_content_type(upload(name, content)) is None
