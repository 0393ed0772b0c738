"""Browser journeys of the self-service account flows (Playwright in Chromium)."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from accounts.tests.helpers import link_in
from conftest import PASSWORD, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "journey-new-passphrase-5"
SCREENSHOTS = os.environ.get("E2E_SCREENSHOTS", "")


def _shot(page: Page, name: str) -> None:
    """With E2E_SCREENSHOTS=dir, keep a 360 px wide picture of the page for a human look."""
    if SCREENSHOTS:
        page.set_viewport_size({"width": 360, "height": 800})
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 800})


def _sign_in(page: Page, base: str, identifier: str, password: str) -> None:
    page.goto(f"{base}/account/login/")
    page.get_by_label("User").fill(identifier)
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Next").click()


@pytest.mark.browser_context_args(timezone_id="America/Bogota")
def test_register_verify_and_land_signed_in(live_server, page: Page, mailoutbox):
    page.goto(live_server.url)
    page.get_by_role("link", name="Register").click()
    page.get_by_label("First name").fill("Erika")
    page.get_by_label("Last name").fill("Mustermann")
    page.get_by_label("Personal email").fill("erika@example.org")
    page.get_by_label("Phone (optional)").fill("+49 30 1234567")
    page.get_by_label(re.compile(r"^Password:?$")).fill("violet-harbour-lantern-73")
    page.get_by_label("Confirm password").fill("violet-harbour-lantern-73")
    page.get_by_label("I accept the Terms of Service.").check()
    _shot(page, "register")
    page.get_by_role("button", name="Register").click()

    expect(page.get_by_role("heading", name="Email verification")).to_be_visible()
    expect(page.get_by_text("spam folder")).to_be_visible()
    _shot(page, "verification_sent")

    page.goto(live_server.url + link_in(mailoutbox[0], "/account/verify/"))
    _shot(page, "verify_email")
    page.get_by_role("button", name="Verify email").click()

    erika = User.objects.get(email="erika@example.org")
    username = erika.username
    assert erika.time_zone == "America/Bogota"  # the browser's, not the default
    expect(page.get_by_role("heading", name="Email address verified")).to_be_visible()
    expect(page.locator("strong.username")).to_have_text(username)
    _shot(page, "email_verified")
    page.get_by_role("link", name="Continue").click()
    expect(page.get_by_role("heading", name="Hello, Erika")).to_be_visible()
    assert any(username in m.body for m in mailoutbox if "Welcome" in m.subject)


def test_forgotten_password_by_user_name(live_server, page: Page, mailoutbox):
    user = make_user("c88888.fu", email="forgetful-user@example.org")
    page.goto(f"{live_server.url}/account/password/forgot/")
    page.get_by_label("User name or email address").fill(user.username)
    page.get_by_role("button", name="Reset password").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    expect(
        page.get_by_text("If the account exists and has an email address on file")
    ).to_be_visible()
    expect(page.get_by_text("forgetful-user@example.org")).to_have_count(0)
    assert [m.to for m in mailoutbox] == [["forgetful-user@example.org"]]


def test_forgotten_password_end_to_end(live_server, page: Page, mailoutbox):
    user = make_user("c88888.fp", email="forgetful@example.org")
    page.goto(f"{live_server.url}/account/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("User name or email address").fill("forgetful@example.org")
    _shot(page, "password_reset")
    page.get_by_role("button", name="Reset password").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    _shot(page, "check_inbox")

    page.goto(live_server.url + link_in(mailoutbox[0], "/account/password/reset/"))
    expect(page.get_by_role("heading", name="Reset password")).to_be_visible()
    page.get_by_label(re.compile(r"^New password:?$")).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    _shot(page, "password_reset_confirm")
    page.get_by_role("button", name="Reset password").click()
    expect(page.get_by_text("Your password has been changed. You are signed in.")).to_be_visible()

    page.locator("summary").click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You have been signed out.")).to_be_visible()
    _sign_in(page, live_server.url, user.email, NEW_PASSWORD)
    expect(page).to_have_url(re.compile(r"/dashboard/$"))


def test_five_wrong_passwords_block_then_unblock_from_the_email(
    live_server, page: Page, mailoutbox
):
    user = make_user("c88888.bl", email="blocked@example.org")
    page.goto(f"{live_server.url}/account/login/")
    page.get_by_label("User").fill(user.username)
    page.get_by_role("button", name="Next").click()
    for attempt in range(5):
        page.get_by_label("Password").fill(f"wrong-password-{attempt}")
        page.get_by_role("button", name="Next").click()
        expect(page.get_by_text("Invalid user name or password.")).to_be_visible()
    user.refresh_from_db()
    assert user.is_blocked

    # The right password is refused while blocked, with the same message.
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text("Invalid user name or password.")).to_be_visible()

    blocked_mail = next(m for m in mailoutbox if m.subject == "Your account has been blocked")
    page.goto(live_server.url + link_in(blocked_mail, "/account/unblock/"))
    _shot(page, "unblock_account")
    page.get_by_role("button", name="Unblock my account").click()
    expect(page.get_by_text("Your account is unblocked.")).to_be_visible()

    _sign_in(page, live_server.url, user.username, PASSWORD)
    expect(page).to_have_url(re.compile(r"/dashboard/$"))


def test_initial_password_change(live_server, page: Page):
    user = make_user("c88888.ip", email="initial@example.org", must_change_password=True)
    _sign_in(page, live_server.url, user.username, PASSWORD)
    expect(page.get_by_role("heading", name="Change the initial password")).to_be_visible()
    _shot(page, "change_initial_password")
    page.goto(f"{live_server.url}/dashboard/")  # nothing else is reachable
    expect(page.get_by_role("heading", name="Change the initial password")).to_be_visible()

    page.get_by_label(re.compile(r"^New password:?$")).fill(PASSWORD)
    page.get_by_label("Confirm new password").fill(PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("must differ")).to_be_visible()

    page.get_by_label(re.compile(r"^New password:?$")).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("heading", name="Password changed")).to_be_visible()
    _shot(page, "password_changed")
    page.get_by_role("link", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))


def test_help_pages_at_phone_width(live_server, page: Page):
    for name, path in [
        ("login", "/account/login/"),
        ("login_help", "/account/login/help/"),
        ("check_account", "/account/unblock/"),
        ("username_reminder", "/account/username/forgot/"),
    ]:
        page.goto(live_server.url + path)
        page.set_viewport_size({"width": 360, "height": 800})
        # No horizontal scrolling on a phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        _shot(page, name)


@pytest.mark.browser_context_args(timezone_id="America/Bogota")
def test_the_profile_offers_the_devices_time_zone(live_server, page: Page):
    user = make_user("c88888.tz", email="zone@example.org", time_zone="Europe/Berlin")
    _sign_in(page, live_server.url, user.username, PASSWORD)
    page.goto(f"{live_server.url}/account/profile/")
    hint = page.get_by_text("This device is set to")
    expect(hint).to_be_visible()
    expect(hint).to_contain_text("Bogota (UTC-05:00)")
    use_it = page.get_by_role("button", name="Use this time zone")
    # A portal button (white with a blue border and text), not the browser's grey one.
    expect(use_it).to_have_css("background-color", "rgb(255, 255, 255)")
    expect(use_it).to_have_css("border-color", "rgb(11, 92, 173)")
    use_it.click()
    expect(page.get_by_label("Time zone")).to_have_value("America/Bogota")
    expect(page.get_by_label("Time zone")).to_be_focused()
    expect(hint).to_be_hidden()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your profile has been saved.")).to_be_visible()
    user.refresh_from_db()
    assert user.time_zone == "America/Bogota"
    # Once the zones agree there is nothing to offer.
    page.goto(f"{live_server.url}/account/profile/")
    expect(page.get_by_label("Time zone")).to_have_value("America/Bogota")
    expect(page.get_by_text("This device is set to")).to_be_hidden()


def test_back_and_reload_during_and_after_sign_in_ask_nothing(live_server, page: Page):
    """Each sign-in step is answered with a redirect to a page of its own: reloading a step
    shows it again, and the back button after signing in asks no "Confirm form
    resubmission" (the browser's error page) but shows the dashboard."""
    make_user("c10001.bk", first_name="Berta", last_name="Koch")
    page.goto(f"{live_server.url}/account/login/")
    page.get_by_label("User").fill("c10001.bk")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_label("Password")).to_be_visible()

    page.reload()
    expect(page.get_by_label("Password")).to_be_visible()
    expect(page.get_by_text("c10001.bk")).to_be_visible()

    # A wrong password is shown again on the page that answers the POST; that page must not
    # be posted again later either.
    page.get_by_label("Password").fill("not-the-password-1")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text("Invalid user name or password.")).to_be_visible()
    page.wait_for_load_state("load")  # after the page's deferred scripts
    page.reload()
    expect(page.get_by_label("Password")).to_be_visible()
    expect(page.get_by_text("Invalid user name or password.")).to_have_count(0)

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Next").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))

    for _entry in range(2):  # the password page, then the one with the error
        page.go_back()
        expect(page).to_have_url(re.compile(r"/dashboard/$"))
        expect(page.get_by_role("heading", level=1)).to_be_visible()
