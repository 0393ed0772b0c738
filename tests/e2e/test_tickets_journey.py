"""A customer reports an incident, support triages it, the customer resolves it."""

from __future__ import annotations

import re

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from conftest import PASSWORD, make_user
from tests.e2e.layout import assert_no_sideways_scrolling
from tickets.models import DEFAULT_CATEGORY_LABELS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


@pytest.fixture
def reference_data(transactional_db):
    """Rows of data migrations (role groups, categories), which an earlier transactional
    test's flush may have removed."""
    from django.contrib.auth.models import Group

    from accounts import roles
    from tickets.models import Category

    for name in roles.ALL_GROUPS:
        Group.objects.get_or_create(name=name)
    for position, (code, label) in enumerate(DEFAULT_CATEGORY_LABELS.items()):
        Category.objects.get_or_create(
            code=code, defaults={"name": str(label), "position": position}
        )


def sign_in(page: Page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/account/login/")
    page.locator("#id_identify-username").fill(username)
    page.get_by_role("button", name="Next").click()
    page.locator("#id_auth-password").fill(PASSWORD)
    page.get_by_role("button", name="Next").click()
    device = TOTPDevice.objects.filter(user__username=username, confirmed=True).first()
    if device is not None:  # agents must have a strong second factor
        code = str(totp(device.bin_key, device.step, device.t0, device.digits)).zfill(6)
        page.locator("#id_token-otp_token").fill(code)
        page.locator("#second-factor-submit").click()
    expect(page).to_have_url(re.compile("/dashboard/"))


def test_incident_journey(reference_data, page: Page, live_server, employee_a, agent, tmp_path):
    base = live_server.url
    screenshot = tmp_path / "screenshot.png"

    # The customer reports an incident with a screenshot attached.
    sign_in(page, base, employee_a.username)
    page.get_by_role("link", name="New incident").first.click()
    page.get_by_label("Subject").fill("Cloud desktop shows a black screen")
    page.get_by_label("Category").select_option(label="Cloud desktop")
    page.get_by_label("Description").fill("Since this morning the desktop stays black.")
    page.get_by_label("Only me").check()
    page.get_by_label("I cannot work at all").check()
    page.get_by_label("Attachments").set_input_files(
        files=[{"name": "black.png", "mimeType": "image/png", "buffer": PNG}]
    )
    page.set_viewport_size({"width": 360, "height": 800})
    page.screenshot(path=str(screenshot), full_page=True)
    page.get_by_role("button", name="Create incident").click()
    expect(page.locator(".messages")).to_contain_text("was created")
    reference = re.search(r"INC-\d{6}", page.locator("h1").inner_text()).group(0)
    # The screenshot is listed once, under the description; the conversation has not begun.
    expect(page.get_by_role("link", name="black.png")).to_have_count(1)
    expect(page.locator(".ticket-main > .card").first.get_by_role("link")).to_have_text("black.png")
    expect(page.get_by_text("Since this morning the desktop stays black.")).to_have_count(1)
    expect(page.locator(".conversation")).to_contain_text("No messages yet.")

    # On a phone, the queue shows its rows as cards: no sideways scrolling, the first one on
    # the first screen, with status, assignee and due in view; the filters start folded.
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, base, agent.username)
    page.goto(f"{base}/support/")
    expect(page.locator("details.filters")).not_to_have_attribute("open", "")
    assert_no_sideways_scrolling(page, ".queue-table")
    assert page.locator(".queue-table tbody tr").first.bounding_box()["y"] < 844

    # The agent finds it in the queue and takes it with one button; the timeline names them.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{base}/support/")
    expect(page.locator("details.filters")).to_have_attribute("open", "")
    page.get_by_label("Search").fill(reference)
    page.get_by_role("button", name="Apply", exact=True).click()
    page.get_by_role("link", name=reference).click()
    expect(page.get_by_role("link", name="black.png")).to_have_count(1)
    page.get_by_role("button", name="Assign to me").click()
    expect(page.locator(".messages")).to_contain_text(f"{reference} is assigned to you")
    expect(page.get_by_role("button", name="Assign to me")).to_have_count(0)
    expect(page.locator(".timeline")).to_contain_text(f"— → {agent.get_full_name()}")
    expect(page.locator(".ticket-main .badge").first).to_have_text("New")

    # Its first public reply starts the work: the form proposes "In progress".
    expect(page.get_by_label("After sending")).to_have_value("in_progress")
    page.get_by_label("Your message").fill("We restarted your desktop. Please try again.")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".ticket-main .badge").first).to_have_text("In progress")

    # An internal note keeps the status; a note cannot make the customer wait.
    page.get_by_label("Your message").fill("Customer's VM is on host 7; checking the GPU driver.")
    page.get_by_label(re.compile("Internal note")).check()
    page.get_by_label("After sending").select_option(label="Waiting for customer")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".errorlist")).to_contain_text("An internal note is not sent")
    page.get_by_label("After sending").select_option(label="Keep the status (In progress)")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".internal-note")).to_contain_text("host 7")

    # A question to the customer and "Waiting for customer" are one step.
    page.get_by_label("Your message").fill("Does it still stay black after the restart?")
    page.get_by_label("After sending").select_option(label="Waiting for customer")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".ticket-main .badge").first).to_have_text("Waiting for customer")
    expect(page.locator(".timeline")).to_contain_text("In progress → Waiting for customer")

    # The customer sees the reply but not the note, and resolves the ticket.
    sign_in(page, base, employee_a.username)
    page.get_by_role("link", name="My incidents").first.click()
    page.get_by_role("link", name=reference).click()
    expect(page.locator(".conversation")).to_contain_text("We restarted your desktop")
    expect(page.locator("body")).not_to_contain_text("host 7")
    expect(page.locator("body")).not_to_contain_text("Internal note")
    page.get_by_role("button", name="My problem is solved").click()
    expect(page.locator(".messages")).to_contain_text("resolved")
    expect(page.locator(".ticket-main .badge").first).to_have_text("Resolved")


LONG_SUBJECT = (
    "Druckerwarteschlangenverwaltungsdienst reagiert nach der Betriebssystemaktualisierung "
    "nicht mehr auf Druckaufträge der Buchhaltungsabteilung"
)


def _report(requester, subject: str, code: str = "login_identity"):
    from tickets import services
    from tickets.models import Category

    return services.create_ticket(
        requester=requester,
        category=Category.objects.get(code=code),
        subject=subject,
        description="Seit heute Morgen.",
        impact="low",
        urgency="low",
        notify=False,
    )


def test_my_incidents_fit_a_phone_as_cards(reference_data, page: Page, live_server, company_a):
    customer = make_user(
        "c10001.ms",
        company=company_a,
        first_name="Maximiliane-Alexandra",
        last_name="Schwarzenberg-Oberhäuslerová",
        preferred_language="de",
    )
    _report(customer, LONG_SUBJECT)
    _report(customer, "Anmeldung am Wochenende nicht möglich", code="cloud_desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server.url, customer.username)
    page.goto(f"{live_server.url}/tickets/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Meine Vorfälle")
    assert_no_sideways_scrolling(page, ".ticket-table")
    # Each cell says what it is: the header row is only for screen readers on a phone.
    first = page.locator(".ticket-table tbody tr").first
    for caption in ("Kategorie", "Status", "Erstellt"):
        assert first.locator(f'td[data-label^="{caption}"]').is_visible()
    expect(first.get_by_role("link", name=re.compile(r"INC-\d{6}"))).to_be_visible()


def test_the_queue_filter_summary_never_starts_a_line_with_a_separator(
    reference_data, page: Page, live_server, agent, company_a
):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server.url, agent.username)
    page.goto(
        f"{live_server.url}/support/?status=waiting&priority=4&company={company_a.pk}"
        "&assignee=mine&overdue=on&q=Druckerwarteschlange+Buchhaltung&sort=-updated"
    )
    summary = page.locator("details.filters summary")
    # At every width the items wrap at, no line begins with a "·": each item is a box that
    # ends with its own separator (a no-break space before it).
    starts = summary.evaluate(
        r"""(summary) => {
            const active = summary.querySelector('.filters-active');
            const items = [...active.children];
            const found = [];
            for (let width = 160; width <= 360; width += 2) {
                summary.style.width = width + 'px';
                const walker = document.createTreeWalker(active, NodeFilter.SHOW_TEXT);
                let previousTop = null;
                for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                    for (let i = 0; i < node.length; i++) {
                        const range = document.createRange();
                        range.setStart(node, i);
                        range.setEnd(node, i + 1);
                        const rect = range.getClientRects()[0];
                        if (!rect) continue;
                        const lineStart = previousTop !== null && rect.top > previousTop + 2;
                        if (lineStart && node.data[i] === '·') found.push(width);
                        if (!/\s/.test(node.data[i])) previousTop = rect.top;
                    }
                }
            }
            summary.style.width = '';
            const separators = items.slice(0, -1).map(
                (item) => [getComputedStyle(item).display, getComputedStyle(item, '::after').content]);
            return {found, separators, last: getComputedStyle(items.at(-1), '::after').content};
        }"""
    )
    assert starts["found"] == []
    assert starts["separators"] == [["inline-block", '"\u00a0·"']] * 5
    assert starts["last"] == "none"
    # The order is not a filter: it is named apart.
    expect(summary.locator(".filters-active")).not_to_contain_text("Sort")
    expect(summary.locator(".filters-sort")).to_have_text("Sort: Recently updated")


def test_assign_selected_to_me_leaves_tickets_taken_meanwhile(
    reference_data, page: Page, live_server, agent, employee_a
):
    """Two agents share a full name: the bulk bar tells them apart. One of them takes a
    ticket while the queue is open: "Assign selected to me" leaves it to her and says so."""
    from accounts import roles

    ana = make_user("support.ana", group=roles.SUPPORT_AGENTS, first_name="Ana", last_name="Ruiz")
    make_user("support.aruiz", group=roles.SUPPORT_AGENTS, first_name="Ana", last_name="Ruiz")
    free = _report(employee_a, "VPN drops every hour")
    grabbed = _report(employee_a, "Shared drive is read-only")
    sign_in(page, live_server.url, agent.username)
    page.goto(f"{live_server.url}/support/")
    bar = page.locator("#bulk-form")
    options = bar.get_by_label("Assign to").locator("option")
    expect(options).to_contain_text(["Ana Ruiz (support.ana)", "Ana Ruiz (support.aruiz)"])
    expect(options.filter(has_text=agent.get_full_name())).to_have_text(agent.get_full_name())

    page.get_by_label(f"Select {free.reference}").check()
    page.get_by_label(f"Select {grabbed.reference}").check()
    grabbed.assign(ana, ana)  # while the page is open
    bar.get_by_role("button", name="Assign selected to me").click()
    messages = page.locator(".messages")
    expect(messages).to_contain_text("1 ticket updated.")
    expect(messages).to_contain_text(
        "1 ticket was taken by someone else meanwhile: "
        f"{grabbed.reference} (Ana Ruiz (support.ana))."
    )
    rows = page.locator(".queue-table tbody tr")
    expect(rows.filter(has_text=free.reference)).to_contain_text(agent.get_full_name())
    expect(rows.filter(has_text=grabbed.reference)).to_contain_text("Ana Ruiz")


def test_the_bulk_bar_answers_bad_input_on_the_page_the_agent_was_on(
    reference_data, page: Page, live_server, agent, employee_a
):
    """A bar sent without the new status comes back as the same queue (its sort kept), with
    the error at the bar and the selection and the action as they were: choosing the status
    is all that is left to do."""
    first = _report(employee_a, "VPN drops every hour")
    second = _report(employee_a, "Shared drive is read-only")
    other = _report(employee_a, "Printer offline")
    sign_in(page, live_server.url, agent.username)
    page.goto(f"{live_server.url}/support/?sort=-created")
    page.get_by_label(f"Select {first.reference}").check()
    page.get_by_label(f"Select {second.reference}").check()
    bar = page.locator("#bulk-form")
    bar.get_by_label("Action").select_option(label="Change status")
    with page.expect_response(re.compile(r"/support/\?sort=-created$")) as answer:
        bar.get_by_role("button", name="Apply to selected").click()
    assert answer.value.status == 400
    expect(page).to_have_url(re.compile(r"/support/\?sort=-created$"))
    expect(page.locator(".filters-sort")).to_have_text("Sort: Newest")
    expect(bar.get_by_role("alert")).to_contain_text("Please correct the bulk action.")
    expect(bar.locator(".field-invalid")).to_contain_text("Choose the new status.")
    expect(bar.get_by_label("Action")).to_have_value("status")
    expect(page.get_by_label(f"Select {first.reference}")).to_be_checked()
    expect(page.get_by_label(f"Select {second.reference}")).to_be_checked()
    expect(page.get_by_label(f"Select {other.reference}")).not_to_be_checked()

    bar.get_by_label("New status").select_option(label="In progress")
    bar.get_by_role("button", name="Apply to selected").click()
    expect(page.locator(".messages")).to_contain_text("2 tickets updated.")
    expect(page).to_have_url(re.compile(r"/support/\?sort=-created$"))
    rows = page.locator(".queue-table tbody tr")
    expect(rows.filter(has_text=first.reference)).to_contain_text("In progress")
    expect(rows.filter(has_text=other.reference)).to_contain_text("New")


# Every ticket reference in the page's messages: how many line boxes it takes (a reference
# split at its hyphen takes two), at each width of the messages from 200 to 390 px.
_REFERENCE_LINES = r"""(messages) => {
    const broken = [];
    for (let width = 200; width <= 390; width += 2) {
        messages.style.width = width + 'px';
        const walker = document.createTreeWalker(messages, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (const match of node.data.matchAll(/INC-\d{6}/g)) {
                const range = document.createRange();
                range.setStart(node, match.index);
                range.setEnd(node, match.index + match[0].length);
                if (range.getClientRects().length > 1) broken.push([width, match[0]]);
            }
        }
    }
    messages.style.width = '';
    return broken;
}"""


def test_ticket_references_in_messages_never_break_at_the_hyphen(
    reference_data, page: Page, live_server, agent, employee_a, tmp_path
):
    """On a phone, the bulk bar's long messages wrap between references, never inside one
    ("INC-" at the end of a line, "000001" on the next)."""
    from accounts import roles

    maxi = make_user(
        "support.maxi",
        group=roles.SUPPORT_AGENTS,
        first_name="Maximiliane-Alexandra",
        last_name="Schwarzenberg-Oberhäuslerová",
    )
    tickets = [_report(employee_a, f"VPN drops, site {n}") for n in range(6)]
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server.url, agent.username)
    page.goto(f"{live_server.url}/support/")
    for ticket in tickets:
        page.get_by_label(f"Select {ticket.reference}").check()
    for ticket in tickets[1:]:
        ticket.assign(maxi, maxi)  # while the page is open
    page.locator("#bulk-form").get_by_role("button", name="Assign selected to me").click()
    messages = page.locator(".messages")
    expect(messages).to_contain_text("5 tickets were taken by someone else meanwhile")
    page.screenshot(path=str(tmp_path / "messages-390.png"))
    assert messages.evaluate(_REFERENCE_LINES) == []
