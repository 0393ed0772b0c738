"""Findings of an accessibility audit (axe-core and the keyboard, WCAG 2.1 AA) that a page's
HTML or the style sheet decides; the browser journeys check the rest."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from accounts.tests.manage_helpers import sign_in_verified
from conftest import sign_in_step
from tickets import services
from tickets.models import Category

pytestmark = pytest.mark.django_db

CSS = (Path(settings.BASE_DIR) / "static" / "css" / "portal.css").read_text()


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _colour(value: str) -> str:
    variables = dict(re.findall(r"--([\w-]+): (#[0-9a-fA-F]{6}|#[0-9a-fA-F]{3})\b", CSS))
    match = re.fullmatch(r"var\(--([\w-]+)\)", value)
    colour = variables[match[1]] if match else value
    return "#" + "".join(c * 2 for c in colour[1:]) if len(colour) == 4 else colour


def test_focus_outline_and_field_borders_contrast_3_to_1_with_every_background():
    """WCAG 1.4.11: the focus ring and a field's only edge are what a user must see."""
    backgrounds = [_colour(f"var(--{name})") for name in ("white", "bg", "blue-light", "red-light")]
    focus = _colour(re.search(r":focus-visible \{ outline: 3px solid ([^;]+);", CSS)[1])
    border = re.search(r"select, textarea \{\n[^}]*border: 1px solid (#[0-9a-fA-F]{6})", CSS)[1]
    for background in backgrounds:
        assert _contrast(focus, background) >= 3, (focus, background)
        assert _contrast(border, background) >= 3, (border, background)


def test_the_user_menu_keeps_its_name_on_a_phone():
    """Hidden from sight at phone width, but not from a screen reader (axe summary-name)."""
    phone = re.search(r"@media \(max-width: 640px\) \{(.*?)\n\}", CSS, re.S)[1]
    rule = re.search(r"\.user-name \{([^}]*)\}", phone)[1]
    assert "display: none" not in rule and "clip" in rule


def test_messages_are_a_list_inside_a_live_region(client, sign_in, employee_a):
    sign_in(employee_a)
    client.post("/account/security/sessions/end-others/")
    html = client.get("/account/security/sessions/").text
    assert '<div role="status"><ul class="messages">' in html
    assert '<ul class="messages" role="status">' not in html


def test_scrolling_tables_can_be_reached_and_named_by_keyboard(client, sign_in, employee_a):
    sign_in(employee_a)
    html = client.get("/account/security/").text
    wrap = re.search(r'<div class="table-wrap"([^>]*)>', html)[1]
    assert 'tabindex="0"' in wrap and 'role="region"' in wrap
    assert 'aria-label="Recent security activity"' in wrap


def test_the_queue_has_unique_ids_and_names_a_wrong_filter(client, agent, employee_a):
    services.create_ticket(
        requester=employee_a,
        category=Category.objects.get(code="email"),
        subject="Mailbox full",
        description="Since today.",
        impact="low",
        urgency="low",
    )
    sign_in_verified(client, agent)
    html = client.get("/support/").text
    ids = Counter(re.findall(r'\sid="([^"]+)"', html))
    assert [name for name, count in ids.items() if count > 1] == []
    assert 'for="bulk_assignee"' in html and 'for="id_assignee"' in html
    wrong = client.get("/support/", {"priority": "99"})
    assert wrong.status_code == 400
    html = wrong.text
    described = re.search(r'<select name="priority"[^>]*aria-describedby="([^"]+)"', html)[1]
    for element_id in described.split():
        assert f'id="{element_id}"' in html
    assert "Select a valid choice." in html


def test_a_wrong_password_is_tied_to_the_password_field(client, employee_a):
    sign_in_step(
        client,
        "/account/login/",
        {"login_view-current_step": "identify", "identify-username": employee_a.username},
    )
    html = sign_in_step(
        client, "/account/login/", {"login_view-current_step": "auth", "auth-password": "wrong"}
    ).text
    field = re.search(r'<input type="password" name="auth-password"[^>]*>', html)[0]
    assert 'aria-invalid="true"' in field
    described = re.search(r'aria-describedby="([^"]+)"', field)[1]
    assert f'id="{described}"' in html
    assert "Invalid user name or password." in html.split(f'id="{described}"')[1][:200]


def test_a_radio_group_points_to_its_error(client, sign_in, employee_a):
    sign_in(employee_a)
    html = client.post("/tickets/new/", {"subject": "VPN"}).text
    fieldsets = re.findall(r'<fieldset aria-describedby="([^"]+)"><legend>', html)
    assert "id_impact_error" in " ".join(fieldsets)
    assert 'id="id_impact_error"' in html


def test_personal_data_fields_say_what_they_hold():
    """WCAG 1.3.5: the browser can fill them in."""
    html = Client().get("/tickets/cannot-sign-in/").text
    for name, purpose in (("name", "name"), ("email", "email"), ("username", "username")):
        field = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)[0]
        assert f'autocomplete="{purpose}"' in field
    html = Client().get("/access/security-manager/").text
    field = re.search(r'<input[^>]*name="company_name"[^>]*>', html)[0]
    assert 'autocomplete="organization"' in field


def test_optional_fields_say_so_in_their_label_and_required_ones_do_not(
    client, sign_in, employee_a
):
    """WCAG 3.3.2: the few optional fields of a mostly required form are marked."""
    html = Client().get("/account/register/").text
    assert re.search(
        r'<label for="id_phone">Phone <span class="optional">\(optional\)</span>', html
    )
    assert '<label for="id_first_name">First name</label>' in html
    html = Client().get("/tickets/cannot-sign-in/").text
    assert re.search(r'for="id_username">Your user name <span class="optional">', html)
    sign_in(employee_a)
    html = client.get("/tickets/new/").text
    assert re.search(r'for="id_attachments">[^<]*<span class="optional">', html)
    assert '<label for="id_subject">Subject</label>' in html
