from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from tickets import services
from tickets.models import Category

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"


def docx_bytes(with_content_types: bool = True) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if with_content_types:
            archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def upload(name: str = "screen.png", content: bytes = PNG) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


@pytest.fixture
def category(db) -> Category:
    return Category.objects.get(code="email")


@pytest.fixture
def make_ticket(db):
    def _make(requester, **fields):
        fields.setdefault("category", Category.objects.get(code="email"))
        fields.setdefault("subject", "Mail is down")
        fields.setdefault("description", "Outlook says disconnected.")
        fields.setdefault("impact", "low")
        fields.setdefault("urgency", "low")
        fields.setdefault("notify", False)
        return services.create_ticket(requester=requester, **fields)

    return _make


@pytest.fixture
def ticket_a(make_ticket, employee_a):
    return make_ticket(employee_a)


# Customer replies at seconds after START: the reply window's tests.
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def customer_replies(ticket_a, employee_a, mailoutbox, django_capture_on_commit_callbacks):
    """reply(seconds after START, who=employee_a) -> the emails that reply sent."""

    def reply(seconds: int, who=employee_a, body: str = "One more thing") -> list:
        before = len(mailoutbox)
        with (
            time_machine.travel(START + timedelta(seconds=seconds), tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            services.add_reply(ticket_a, who, body)
        return mailoutbox[before:]

    return reply
