"""The shared world of the tests: two companies, each with a security manager and employees,
a support agent, a provider admin and an outsider (a self-registered customer)."""

from __future__ import annotations

import os
import shutil

import pytest
from django.contrib.auth.models import Group

from accounts import roles
from accounts.models import Company, User

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Fixtures of the security manager tests (manager_client, admin_client_verified).
pytest_plugins = ["accounts.tests.manage_helpers"]

PASSWORD = "correct-horse-battery-42"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings, tmp_path):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        *settings.PASSWORD_HASHERS,
    ]
    settings.MAIL_DIR = tmp_path / "mail"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SITE_URL = "http://portal.test"
    from django.core.cache import cache, caches

    cache.clear()
    caches["fragments"].clear()


def make_user(username: str, *, company=None, group: str | None = None, **fields) -> User:
    fields.setdefault("email", f"{username.replace('.', '_')}@example.com")
    fields.setdefault("email_verified", True)
    fields.setdefault("first_name", username.split(".")[0].title())
    fields.setdefault("last_name", "Tester")
    user = User(username=username, company=company, **fields)
    user.set_password(PASSWORD)
    user.save()
    if group:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


def with_strong_factor(user: User) -> User:
    """Managers, provider staff and admins must have TOTP or push (mfa enforces it)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=user, name="TOTP", confirmed=True)
    return user


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def company_a(db) -> Company:
    return Company.objects.create(name="Alpha AG", customer_number="10001")


@pytest.fixture
def company_b(db) -> Company:
    return Company.objects.create(name="Beta SA", customer_number="20002")


@pytest.fixture
def manager_a(company_a) -> User:
    return with_strong_factor(
        make_user("c10001.ma", company=company_a, group=roles.SECURITY_MANAGERS)
    )


@pytest.fixture
def employee_a(company_a) -> User:
    return make_user("c10001.ea", company=company_a)


@pytest.fixture
def employee_a2(company_a) -> User:
    return make_user("c10001.eb", company=company_a)


@pytest.fixture
def manager_b(company_b) -> User:
    return with_strong_factor(
        make_user("c20002.mb", company=company_b, group=roles.SECURITY_MANAGERS)
    )


@pytest.fixture
def employee_b(company_b) -> User:
    return make_user("c20002.eb", company=company_b)


@pytest.fixture
def agent(db) -> User:
    return with_strong_factor(make_user("support.sam", group=roles.SUPPORT_AGENTS, is_staff=True))


@pytest.fixture
def provider_admin(db) -> User:
    return with_strong_factor(
        make_user("admin.alex", group=roles.PROVIDER_ADMINS, is_staff=True, is_superuser=True)
    )


@pytest.fixture
def outsider(db) -> User:
    return make_user("c99999.ou")


def sign_in_step(c, url: str, fields: dict):
    """POST one step of the sign-in wizard and, like a browser, follow its redirect to the
    next step (303). Signing in ends with a 302 to the portal, which is returned as it is."""
    response = c.post(url, fields)
    if response.status_code == 303:
        response = c.get(response["Location"])
    return response


@pytest.fixture
def sign_in(client):
    """Sign a user in through the real identifier-first flow."""

    def _sign_in(user: User, password: str = PASSWORD, c=None):
        c = c or client
        sign_in_step(
            c,
            "/account/login/",
            {"login_view-current_step": "identify", "identify-username": user.username},
        )
        response = sign_in_step(
            c,
            "/account/login/",
            {"login_view-current_step": "auth", "auth-password": password},
        )
        return response

    return _sign_in


# --- Browser journeys ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args():
    return {
        "executable_path": CHROMIUM,
        "args": [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


def pytest_collection_modifyitems(config, items):
    if os.path.exists(CHROMIUM):
        return
    skip = pytest.mark.skip(reason=f"Chromium not found at {CHROMIUM}: apt-get install -y chromium")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _run_on_commit_callbacks_immediately(request, monkeypatch):
    """Tests run inside a transaction that never commits; run on-commit work (emails, tasks)
    at once so tests see it. Tests with real commits (transaction=True, live_server) keep the
    real behaviour."""
    if {"transactional_db", "live_server"} & set(request.fixturenames):
        return
    from django.db import transaction

    monkeypatch.setattr(transaction, "on_commit", lambda func, using=None, robust=False: func())


@pytest.fixture
def verified_login(client):
    """Sign a user in with a verified second factor (a TOTP device is created if needed):
    what security managers, provider staff and the admin require."""

    def _login(user: User, c=None):
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        c = c or client
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="TOTP", confirmed=True)
        c.force_login(user)
        session = c.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return device

    return _login


@pytest.fixture
def admin_client(client, admin_user, verified_login):
    """pytest-django's admin_client, verified: the Django admin requires a second factor."""
    admin_user.email_verified = True
    admin_user.save(update_fields=["email_verified"])
    verified_login(admin_user)
    return client
