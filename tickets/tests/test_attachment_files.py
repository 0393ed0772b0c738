"""An attachment's file goes with its row, whichever way the row is deleted, and only once the
deletion has committed (tickets.models.delete_attachment_file). Files live under the test's
own MEDIA_ROOT (the root conftest)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import transaction

from tickets import services
from tickets.models import Attachment, Category, Message, Ticket

from .conftest import PDF, upload


def _files(**where) -> list[Path]:
    paths = [Path(a.file.path) for a in Attachment.objects.filter(**where)]
    assert paths and all(path.exists() for path in paths)
    return paths


@pytest.fixture
def ticket_with_files(make_ticket, employee_a, agent):
    """A ticket with a file on its report, one on a reply and one on an internal note."""
    ticket = make_ticket(employee_a, files=[(upload(), "image/png")])
    services.add_reply(ticket, employee_a, "Log", files=[(upload("a.pdf", PDF), "application/pdf")])
    services.add_reply(
        ticket, agent, "Note", internal=True, files=[(upload("n.pdf", PDF), "application/pdf")]
    )
    return ticket


def test_deleting_a_ticket_in_the_admin_deletes_its_files(
    admin_client_verified, ticket_with_files, make_ticket, employee_a
):
    other = make_ticket(employee_a, files=[(upload(), "image/png")])
    kept = _files(message__ticket=other)
    gone = _files(message__ticket=ticket_with_files)
    assert len(gone) == 3
    response = admin_client_verified.post(
        f"/admin/tickets/ticket/{ticket_with_files.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Ticket.objects.filter(pk=ticket_with_files.pk).exists()
    assert not any(path.exists() for path in gone)
    assert all(path.exists() for path in kept)


def test_the_admins_delete_selected_action_deletes_their_files(
    admin_client_verified, ticket_with_files
):
    gone = _files(message__ticket=ticket_with_files)
    admin_client_verified.post(
        "/admin/tickets/ticket/",
        {"action": "delete_selected", ACTION_CHECKBOX_NAME: [ticket_with_files.pk], "post": "yes"},
    )
    assert not Ticket.objects.exists()
    assert not any(path.exists() for path in gone)


def test_deleting_a_message_or_an_attachment_deletes_only_their_files(ticket_with_files):
    note = Message.objects.get(ticket=ticket_with_files, is_internal=True)
    [note_file] = _files(message=note)
    note.delete()
    assert not note_file.exists()

    attachment = Attachment.objects.get(message__is_description=True)
    [report_file] = _files(pk=attachment.pk)
    [reply_file] = _files(message__body="Log")
    attachment.delete()
    assert not report_file.exists()
    assert reply_file.exists()


def test_deleting_a_user_keeps_the_tickets_and_their_files(ticket_with_files, employee_a, agent):
    """Tickets and messages outlive their authors (SET_NULL): their files stay with them."""
    files = _files(message__ticket=ticket_with_files)
    employee_a.delete()
    agent.delete()
    assert Attachment.objects.count() == 3
    assert all(path.exists() for path in files)


# --- After the commit, never before ------------------------------------------------------
# These tests commit for real: transactional_db keeps transaction.on_commit as it is.


@pytest.fixture
def committed_ticket(transactional_db, employee_a):
    # An earlier transactional test's flush may have removed the migration's categories.
    category, _ = Category.objects.get_or_create(code="other", defaults={"name": "Other"})
    return services.create_ticket(
        requester=employee_a,
        category=category,
        subject="Black screen",
        description="Since this morning.",
        impact="low",
        urgency="low",
        notify=False,
        files=[(upload(), "image/png")],
    )


def test_a_deletion_rolled_back_keeps_the_file(committed_ticket):
    [path] = _files(message__ticket=committed_ticket)
    with pytest.raises(RuntimeError), transaction.atomic():
        Ticket.objects.filter(pk=committed_ticket.pk).delete()
        raise RuntimeError("the admin's next step fails")
    assert Attachment.objects.filter(message__ticket=committed_ticket).exists()
    assert path.exists()


def test_the_file_goes_when_the_deletion_commits(committed_ticket):
    [path] = _files(message__ticket=committed_ticket)
    with transaction.atomic():
        committed_ticket.delete()
        assert path.exists()  # the row could still come back
    assert not path.exists()


def test_a_file_already_missing_does_not_fail_the_deletion(committed_ticket):
    [path] = _files(message__ticket=committed_ticket)
    path.unlink()
    committed_ticket.delete()
    assert not Ticket.objects.exists()
