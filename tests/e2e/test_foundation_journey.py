"""A visitor switches languages, signs in with a demo-like account and signs out."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from conftest import PASSWORD, make_user

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
