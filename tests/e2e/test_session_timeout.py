"""Idle logout in a real browser with a short SESSION_IDLE_TIMEOUT."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD


def _sign_in(page, live_server, user) -> None:
    page.goto(f"{live_server.url}/account/login/")
    page.get_by_label("User").fill(user.username)
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_an_idle_session_is_signed_out_and_says_why(page, live_server, settings, employee_a):
    settings.SESSION_IDLE_TIMEOUT = 6
    settings.SESSION_IDLE_WARNING = 4
    _sign_in(page, live_server, employee_a)
    notice = page.locator("#idle-notice")
    expect(notice).to_be_hidden()
    expect(notice).to_be_visible(timeout=5000)  # a few seconds before the limit
    page.set_viewport_size({"width": 360, "height": 740})
    page.screenshot(path="/tmp/accounts2_idle_notice_360.png")
    # Nothing happens: the script reloads after the limit and the server signs out.
    expect(page.get_by_text("You were signed out after six seconds of inactivity.")).to_be_visible(
        timeout=10000
    )
    assert "/account/login/" in page.url


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_stay_signed_in_keeps_the_session(page, live_server, settings, employee_a):
    settings.SESSION_IDLE_TIMEOUT = 6
    settings.SESSION_IDLE_WARNING = 4
    _sign_in(page, live_server, employee_a)
    page.get_by_role("button", name="Stay signed in").click(timeout=5000)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")
    page.get_by_role("button", name="Stay signed in").click(timeout=5000)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")
    assert "/dashboard/" in page.url


@pytest.mark.e2e
def test_without_javascript_the_server_still_signs_out(
    browser, live_server, settings, employee_a, transactional_db
):
    settings.SESSION_IDLE_TIMEOUT = 2
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    _sign_in(page, live_server, employee_a)
    page.wait_for_timeout(2500)
    page.goto(f"{live_server.url}/account/security/")
    expect(page.get_by_text("You were signed out after two seconds of inactivity.")).to_be_visible()
    context.close()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_security_pages_fit_a_phone(page, live_server, employee_a):
    page.set_viewport_size({"width": 360, "height": 740})
    _sign_in(page, live_server, employee_a)
    for name in ["security", "security/sessions", "security/password", "profile"]:
        page.goto(f"{live_server.url}/account/{name}/")
        width = page.evaluate("document.documentElement.scrollWidth")
        page.screenshot(path=f"/tmp/accounts2_{name.replace('/', '_')}_360.png", full_page=True)
        assert width <= 360, name


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_absolute_limit_is_announced_before_it_signs_out(
    page, live_server, settings, employee_a
):
    settings.SESSION_ABSOLUTE_TIMEOUT = 8
    settings.SESSION_IDLE_WARNING = 5
    _sign_in(page, live_server, employee_a)
    notice = page.locator("#session-end-notice")
    expect(notice).to_be_hidden()
    expect(notice).to_be_visible(timeout=6000)
    expect(notice).to_contain_text("Save what you are writing")
    expect(page.get_by_role("button", name="Stay signed in")).to_be_hidden()  # cannot extend
    expect(
        page.get_by_text("You were signed out because you had been signed in for eight seconds.")
    ).to_be_visible(timeout=10000)
