"""Browser journeys for two-factor sign-in, with the reference authenticator as the phone."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from django_otp.plugins.otp_email.models import EmailDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from conftest import PASSWORD
from mfa import authenticator
from mfa.models import BackupCode, digest

pytestmark = pytest.mark.e2e


@pytest.fixture
def portal(live_server, settings):
    # Enrollment URIs and API URLs point at the live server.
    settings.SITE_URL = live_server.url
    return live_server.url


def sign_in_to_second_factor(page, portal, user):
    page.goto(f"{portal}/account/login/")
    page.fill("#id_identify-username", user.username)
    page.click("button[type=submit]:has-text('Next')")
    page.fill("#id_auth-password", PASSWORD)
    page.click("button[type=submit]:has-text('Next')")


def _unused_code(uri: str, user) -> str:
    """A code the portal accepts next: never the activation code again (django-otp refuses a
    time step it has seen), and within its window, which it moves by the drift it learnt at
    activation (-1 when the code was made just before a 30 s boundary and checked after)."""
    device = TOTPDevice.objects.get(user=user)
    step = max(device.last_t + 1, int(time.time() // device.step) + device.drift)
    return authenticator.totp_code(uri, at=step * device.step + 1)


def sign_out(page):
    page.click("details.user-menu summary")
    page.click("button:has-text('Log out')")


def test_totp_enrolment_then_sign_in_with_a_code_from_the_reference_authenticator(
    page, portal, employee_a
):
    sign_in_to_second_factor(page, portal, employee_a)
    page.goto(f"{portal}/account/security/")
    page.click("text=Manage two-factor authentication")
    page.click("text=Add authenticator")
    page.click("text=Add authenticator app")
    page.fill("#id_name", "TOTP")
    page.click("button:has-text('Continue')")
    page.set_viewport_size({"width": 360, "height": 800})
    page.screenshot(path="test-results/mfa-totp-setup-360.png", full_page=True)
    key = page.inner_text("#totp-secret").strip()
    uri = f"otpauth://totp/Portal:{employee_a.username}?secret={key}&issuer=Portal"
    page.fill("#id_code", authenticator.totp_code(uri))
    page.click("button:has-text('Activate')")
    expect(page.locator("table")).to_contain_text("TOTP")
    page.screenshot(path="test-results/mfa-index-360.png", full_page=True)
    sign_out(page)

    sign_in_to_second_factor(page, portal, employee_a)
    expect(page.locator("#id_token-otp_token")).to_have_attribute("autocomplete", "one-time-code")
    page.fill("#id_token-otp_token", _unused_code(uri, employee_a))
    page.click("#second-factor-submit")
    expect(page).to_have_url(re.compile(r"/dashboard/$"))


def _enrol_push(page, portal, user, keys):
    sign_in_to_second_factor(page, portal, user)
    page.goto(f"{portal}/account/security/two-factor/setup/push/")
    page.fill("#id_name", "push")
    page.click("button:has-text('Show QR code')")
    expect(page.locator("#push-waiting")).to_be_visible()
    page.screenshot(path="test-results/mfa-push-setup.png", full_page=True)
    uri = page.locator("#push-uri").text_content().strip()
    authenticator.enroll(uri, "push", str(keys))
    # The page completes by itself (polling) once the phone has enrolled.
    expect(page).to_have_url(re.compile(r"/two-factor/$"), timeout=10_000)
    expect(page.locator("table")).to_contain_text("Smartphone push")
    sign_out(page)


def test_push_enrolment_and_sign_in_approved_with_the_matching_number(
    page, portal, employee_a, tmp_path
):
    keys = tmp_path / "keys.json"
    _enrol_push(page, portal, employee_a, keys)
    sign_in_to_second_factor(page, portal, employee_a)
    number = int(page.inner_text("#push-number strong"))
    page.screenshot(path="test-results/mfa-push-sign-in.png", full_page=True)
    challenges = authenticator.pending(str(keys))
    assert number in challenges[0]["choices"]
    assert authenticator.approve(number, str(keys)) == "approved"
    expect(page).to_have_url(re.compile(r"/dashboard/$"), timeout=10_000)


def test_push_sign_in_with_the_wrong_number_is_refused(page, portal, employee_a, tmp_path):
    keys = tmp_path / "keys.json"
    _enrol_push(page, portal, employee_a, keys)
    sign_in_to_second_factor(page, portal, employee_a)
    number = int(page.inner_text("#push-number strong"))
    choices = authenticator.pending(str(keys))[0]["choices"]
    wrong = next(n for n in choices if n != number)
    assert authenticator.approve(wrong, str(keys)) == "denied"
    expect(page.get_by_role("alert")).to_contain_text("denied on your phone", timeout=10_000)
    assert "/dashboard/" not in page.url


def test_email_code_sign_in(page, portal, employee_a, mailoutbox):
    EmailDevice.objects.create(
        user=employee_a, name="Email", email=employee_a.email, confirmed=True
    )
    sign_in_to_second_factor(page, portal, employee_a)
    expect(page.locator("#id_token-otp_token")).to_be_visible()
    code = re.search(r"\b(\d{6})\b", mailoutbox[-1].body).group(1)
    page.fill("#id_token-otp_token", code)
    page.click("#second-factor-submit")
    expect(page).to_have_url(re.compile(r"/dashboard/$"))


def test_on_a_phone_the_user_name_and_not_you_are_not_broken_inside_a_word(
    page, portal, employee_a
):
    EmailDevice.objects.create(user=employee_a, name="Mail", email=employee_a.email, confirmed=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.context.add_cookies([{"name": "django_language", "value": "de", "url": portal}])
    page.goto(f"{portal}/account/login/")
    page.fill("#id_identify-username", employee_a.username)
    page.click("button[type=submit]:has-text('Weiter')")
    page.fill("#id_auth-password", PASSWORD)
    page.click("button[type=submit]:has-text('Weiter')")
    line = page.locator(".signing-in-as")
    expect(line).to_contain_text(employee_a.username)
    page.screenshot(path="test-results/mfa-signing-in-as-390-de.png")
    one_line = r"""(el) => el.getBoundingClientRect().height
        < 1.5 * parseFloat(getComputedStyle(el).lineHeight)"""
    assert line.locator("strong").evaluate(one_line)  # "c10001.e" / "a" was seen
    assert line.get_by_role("button", name="Nicht Sie?").evaluate(one_line)  # "Nicht Si" / "e?"


def _create_backup_codes(page, portal, user) -> list[str]:
    """Sign in with an app code and create backup codes; the codes the page shows."""
    device = TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)
    sign_in_to_second_factor(page, portal, user)
    page.fill("#id_token-otp_token", _unused_code(device.config_url, user))
    page.click("#second-factor-submit")
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    page.goto(f"{portal}/account/security/two-factor/backup-codes/")
    page.click("button:has-text('Create backup codes')")
    codes = page.locator("#backup-codes code").all_inner_texts()
    assert len(codes) >= 5
    return codes


def test_backup_codes_can_be_downloaded_as_a_text_file(page, portal, employee_a):
    codes = _create_backup_codes(page, portal, employee_a)
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download as a text file").click()
    download = download_info.value
    assert (
        download.suggested_filename
        == f"cloud-service-portal-{employee_a.username}-backup-codes.txt"
    )
    text = Path(download.path()).read_text(encoding="utf-8")
    assert f"Backup codes for {employee_a.username}" in text
    assert all(code in text for code in codes)


def test_reloading_the_new_backup_codes_keeps_them_valid(page, portal, employee_a):
    """The codes are shown once, in answer to the POST that made them. A reload (or back and
    forward) must not post again: that would replace the codes just written down."""
    codes = _create_backup_codes(page, portal, employee_a)
    page.wait_for_load_state("load")  # after the page's deferred scripts

    page.reload()
    expect(page.locator("#backup-codes")).to_have_count(0)
    kept = BackupCode.objects.filter(device__user=employee_a).values_list("digest", flat=True)
    assert sorted(kept) == sorted(digest(code.replace("-", "")) for code in codes)


def _header_shows_only_what_a_required_enrolment_allows(page) -> None:
    header = page.locator("header.site-header")
    expect(header.locator("nav")).to_have_count(0)  # no dashboard, incidents, …
    expect(header.locator("a")).to_have_count(0)  # the name of the portal links nowhere either
    expect(page.locator("#language-select")).to_be_visible()
    page.click("details.user-menu summary")
    menu = page.locator(".user-menu-panel")
    expect(menu.get_by_role("button", name="Log out")).to_be_visible()
    expect(menu.locator("a")).to_have_count(0)  # no profile or security page
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    page.keyboard.press("Escape")


@pytest.mark.parametrize("width", [390, 1280])
def test_a_required_enrolment_shows_only_the_header_items_that_work(
    page, portal, employee_a, width
):
    employee_a.company.mfa_required = True
    employee_a.company.save()
    page.set_viewport_size({"width": width, "height": 844 if width < 640 else 800})
    sign_in_to_second_factor(page, portal, employee_a)
    expect(page).to_have_url(re.compile(r"/two-factor/setup/$"))
    _header_shows_only_what_a_required_enrolment_allows(page)
    page.screenshot(path=f"test-results/mfa-required-enrolment-{width}.png", full_page=True)
    # What is left works: the language, the help in the footer, signing out.
    page.select_option("#language-select", "de")
    expect(page.get_by_role("heading", level=1)).to_have_text("Authentifikator hinzufügen")
    expect(page).to_have_url(re.compile(r"/two-factor/setup/$"))
    page.select_option("#language-select", "en")
    page.get_by_role("link", name="Help").click()
    expect(page).to_have_url(re.compile(r"/account/login/help/$"))
    _header_shows_only_what_a_required_enrolment_allows(page)
    sign_out(page)
    expect(page.get_by_role("banner").get_by_role("link", name="Sign in")).to_be_visible()


def test_the_authenticator_actions_stay_in_their_row_and_on_one_line(
    page, portal, employee_a, mailoutbox
):
    """The actions are a cell of the table like the others (a flex cell lost its row's
    height and borders at desktop width) and, on a phone, one line of buttons, not three
    (the phone layout's ``display: block`` for cells overrode the flex box)."""
    EmailDevice.objects.create(
        user=employee_a, name="Email", email=employee_a.email, confirmed=True
    )
    TOTPDevice.objects.create(user=employee_a, name="Phone", confirmed=True)
    sign_in_to_second_factor(page, portal, employee_a)
    page.fill("#id_token-otp_token", re.search(r"\b(\d{6})\b", mailoutbox[-1].body).group(1))
    page.click("#second-factor-submit")
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    page.goto(f"{portal}/account/security/two-factor/")
    row = page.locator(".mfa-table tbody tr").nth(1)  # not the default: three actions
    actions = row.locator("td").last
    buttons = actions.locator("a, button")
    expect(buttons).to_have_count(3)
    page.set_viewport_size({"width": 1280, "height": 844})
    assert actions.evaluate("(cell) => getComputedStyle(cell).display") == "table-cell"
    row_box, cell_box = row.bounding_box(), actions.bounding_box()
    assert abs(cell_box["y"] + cell_box["height"] - (row_box["y"] + row_box["height"])) <= 1
    page.set_viewport_size({"width": 390, "height": 844})
    tops = {round(button.bounding_box()["y"]) for button in buttons.all()}
    assert len(tops) == 1, tops


def test_an_app_code_pasted_with_its_space_signs_in(page, portal, employee_a):
    """Authenticator apps show "123 456": pasted as it is, the browser keeps all of it (a
    maxlength of six kept "123 45") and the portal reads the six digits."""
    device = TOTPDevice.objects.create(user=employee_a, name="Phone", confirmed=True)
    sign_in_to_second_factor(page, portal, employee_a)
    code = _unused_code(device.config_url, employee_a)
    page.locator("#id_token-otp_token").focus()
    page.keyboard.insert_text(f"{code[:3]} {code[3:]}")
    expect(page.locator("#id_token-otp_token")).to_have_value(f"{code[:3]} {code[3:]}")
    page.click("#second-factor-submit")
    expect(page).to_have_url(re.compile(r"/dashboard/$"))


def test_a_long_authenticator_name_wraps_on_a_phone(page, portal, employee_a):
    """A name is the user's own text, up to 64 characters and maybe one word: it wraps
    inside the page instead of widening it sideways."""
    name = "JonasDietrichsDienstlichesIPhone15ProMitMicrosoftAuthenticator"
    device = TOTPDevice.objects.create(user=employee_a, name=name, confirmed=True)
    EmailDevice.objects.create(user=employee_a, name=name, email=employee_a.email, confirmed=True)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in_to_second_factor(page, portal, employee_a)
    expect(page.locator("main")).to_contain_text(name)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.fill("#id_token-otp_token", _unused_code(device.config_url, employee_a))
    page.click("#second-factor-submit")
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    for path in (
        "/account/security/two-factor/",
        f"/account/security/two-factor/totp-{device.pk}/remove/",
    ):
        page.goto(f"{portal}{path}")
        expect(page.locator("main")).to_contain_text(name[:20])
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path


def test_new_backup_codes_stand_level_in_two_columns_with_one_way_out(page, portal, employee_a):
    """On a phone the second column sat 4 px above the first (the column break dropped its
    first code's top margin), and "Done" and "Back" both just left the page."""
    page.set_viewport_size({"width": 390, "height": 844})
    _create_backup_codes(page, portal, employee_a)
    page.screenshot(path="test-results/mfa-backup-codes-390.png", full_page=True)
    boxes = [code.bounding_box() for code in page.locator("#backup-codes li").all()]
    columns = sorted({round(box["x"]) for box in boxes})
    assert len(columns) == 2, columns
    tops = [[box["y"] for box in boxes if round(box["x"]) == x] for x in columns]
    assert tops[0] == tops[1], tops
    main = page.locator("main")
    expect(main.get_by_role("link", name="Done")).to_be_visible()
    expect(main.get_by_role("link", name="Back")).to_have_count(0)


def test_the_add_authenticator_button_keeps_clear_of_the_table(page, portal, employee_a):
    device = TOTPDevice.objects.create(user=employee_a, name="Phone", confirmed=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in_to_second_factor(page, portal, employee_a)
    page.fill("#id_token-otp_token", _unused_code(device.config_url, employee_a))
    page.click("#second-factor-submit")
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    page.goto(f"{portal}/account/security/two-factor/")
    page.screenshot(path="test-results/mfa-index-1280.png", full_page=True)
    table = page.locator(".mfa-table").bounding_box()
    button = page.get_by_role("link", name="Add authenticator").bounding_box()
    assert button["y"] - (table["y"] + table["height"]) >= 12, (table, button)
