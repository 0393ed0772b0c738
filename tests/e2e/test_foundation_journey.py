"""A visitor switches languages, signs in with a demo-like account and signs out."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from conftest import PASSWORD, make_user
from tests.e2e.layout import follows_in_reading_order, tab_walk

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_switch_language_sign_in_and_sign_out_from_the_user_menu(live_server, page: Page, tmp_path):
    make_user("c10234.jd", first_name="Jonas", last_name="Dietrich")
    page.goto(live_server.url)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")

    page.select_option("#language-select", "de")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    page.select_option("#language-select", "es")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.select_option("#language-select", "en")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.get_by_role("link", name="Sign in").first.click()
    page.get_by_label("User").fill("c10234.jd")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text("Signing in as")).to_be_visible()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Next").click()

    expect(page).to_have_url(f"{live_server.url}/dashboard/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello, Jonas")
    # In the row of three cards at 1280 px the address is not broken mid-word.
    page.set_viewport_size({"width": 1280, "height": 800})
    address = page.locator("dl.facts dd", has_text="@example.com").first
    assert (
        address.evaluate(
            "(el) => { const r = document.createRange(); r.selectNodeContents(el.firstChild);"
            " return r.getClientRects().length; }"
        )
        == 1
    ), address.inner_text()
    page.set_viewport_size({"width": 360, "height": 780})
    page.screenshot(path=str(tmp_path / "dashboard-phone.png"), full_page=True)

    page.locator("details.user-menu summary").click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You have been signed out.")).to_be_visible()
    page.goto(f"{live_server.url}/dashboard/")
    expect(page).to_have_url(f"{live_server.url}/account/login/?next=/dashboard/")


def test_the_language_switcher_works_without_javascript(live_server, browser, tmp_path):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url)
    page.select_option("#language-select", "es")
    page.get_by_role("button", name="Switch").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    context.close()


def test_the_keyboard_moves_through_languages_without_switching_until_enter(live_server, page):
    """WCAG 3.2.2: arrow keys only change the selection; Enter (or the button) applies it."""
    page.goto(live_server.url)
    page.locator("#language-select").focus()
    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(300)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="Switch")).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("lang", "de")


def test_the_user_menu_has_a_name_on_a_phone_and_closes_with_escape(live_server, page):
    make_user("c10234.jd", first_name="Jonas", last_name="Dietrich")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/account/login/")
    page.get_by_label("User").fill("c10234.jd")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Next").click()
    summary = page.locator("details.user-menu summary")
    # Only the initial is seen; the name stays in the accessibility tree.
    assert "Jonas Dietrich" in summary.evaluate("e => e.textContent")
    assert page.locator(".user-name").evaluate("e => getComputedStyle(e).display") != "none"
    summary.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".user-menu-panel").get_by_role("link", name="Profile")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator(".user-menu-panel").get_by_role("link", name="Profile")).to_be_hidden()
    expect(summary).to_be_focused()


@pytest.mark.parametrize("width", [390, 1280])
def test_the_keyboard_goes_through_the_header_in_the_order_it_is_seen(live_server, page, width):
    """WCAG 2.4.3: on a phone the navigation used to be drawn below the language and user
    menu (CSS order) but reached before them."""
    make_user("c10234.jd", first_name="Jonas", last_name="Dietrich", preferred_language="de")
    page.set_viewport_size({"width": width, "height": 844})
    page.goto(f"{live_server.url}/account/login/")
    page.get_by_label("User").fill("c10234.jd")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Jonas")
    page.reload()

    walk = tab_walk(page, ".site-header")
    names = [step["name"] for step in walk]
    assert names[:4] == ["Cloud Service Portal", "Übersicht", "Meine Vorfälle", "Neuer Vorfall"]
    assert names[4:] == ["language-select", "JJonas Dietrich"]  # the user menu
    for before, after in zip(walk, walk[1:]):
        assert follows_in_reading_order(before, after), (before, after)
    if width == 1280:  # the wide header is one line, as it was
        assert all(step["top"] < walk[0]["bottom"] for step in walk)
