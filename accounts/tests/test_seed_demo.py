from __future__ import annotations

import re

import pytest
from django.core.management import call_command

from accounts import roles
from accounts.models import USERNAME_PATTERN, Company, User


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_prints_the_sign_ins(capsys):
    call_command("seed_demo")
    first = (User.objects.count(), Company.objects.count())
    call_command("seed_demo")
    assert (User.objects.count(), Company.objects.count()) == first
    out = capsys.readouterr().out
    assert "c10234.jd" in out and "support.agent" in out and "Password" in out
    # Each sign-in names its role as the portal does, not the group behind it.
    assert re.search(r"c10234\.sm +Security Manager +Nordwind", out)
    assert re.search(r"support\.agent +Support agent +Provider", out)
    assert "Security managers  " not in out


@pytest.mark.django_db
def test_seed_demo_creates_the_demo_world():
    call_command("seed_demo")
    assert Company.objects.count() == 2
    customers = User.objects.filter(company__isnull=False)
    assert all(re.match(USERNAME_PATTERN, u.username) for u in customers)
    managers = [u for u in customers if roles.is_security_manager(u)]
    assert {m.company.customer_number for m in managers} == {"10234", "20417"}
    assert roles.is_support_agent(User.objects.get(username="support.agent"))
    assert roles.is_provider_admin(User.objects.get(username="portal.admin"))
    assert User.objects.filter(must_change_password=True).exists()


@pytest.mark.django_db
def test_seed_demo_gives_strong_roles_a_totp_authenticator(capsys):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    call_command("seed_demo")
    call_command("seed_demo")
    for username in ("c10234.sm", "c20417.mg", "support.agent", "portal.admin"):
        assert TOTPDevice.objects.filter(user__username=username, confirmed=True).count() == 1
    assert "python -m mfa.authenticator totp 'otpauth://totp/" in capsys.readouterr().out


@pytest.mark.django_db
def test_seed_demo_names_the_configured_address(capsys, settings):
    settings.SITE_URL = "http://127.0.0.1:8160"
    call_command("seed_demo")
    assert "Sign in at http://127.0.0.1:8160/ with:" in capsys.readouterr().out
