"""One name for one thing across pages: what the audits found named two ways."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


def _badges(html: str) -> list[str]:
    return re.findall(r'<span class="badge[^"]*">([^<]+)</span>', html)


def test_two_factor_state_reads_set_up_or_not_set_up(client, sign_in, employee_a):
    sign_in(employee_a)
    badges = _badges(client.get("/account/security/").content.decode())
    assert "not set up" in badges
    assert "off" not in badges and "on" not in badges
