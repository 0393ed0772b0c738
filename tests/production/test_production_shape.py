"""The portal in its production shape, with real components (README "Production").

Every other test runs Celery tasks eagerly in the test process and keeps email in Django's
outbox. These start gunicorn (the repository's configuration, two workers), a Celery worker
and beat as separate processes with DEBUG=False, on the test database in PostgreSQL and a
Redis database of their own, and an SMTP server in the test process (tests/production/
stack.py). The journeys go over HTTP through gunicorn, so they show what only this shape can:
tasks survive JSON serialization over the broker, the worker finds the rows of the request
that queued its task and sends the email over SMTP, emailed links use SITE_URL, and a
session works on every gunicorn worker.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.auth.hashers import make_password

from accounts.models import SecurityEvent
from conftest import PASSWORD, make_user
from tests.production.stack import Browser, wait_until

pytestmark = [
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql"
        or not settings.REDIS_URL,
        reason="the production shape runs on PostgreSQL and Redis: set DATABASE_URL and REDIS_URL",
    ),
    # Committed rows, which the processes see; the migrations' rows come back first
    # (conftest._migration_rows), as earlier transactional tests flush them.
    pytest.mark.django_db(transaction=True),
]

NEW_PASSWORD = "Lantern-orbit-velvet-73"


def make_customer(username: str, email: str):
    """A customer whose password the processes can check: the test settings hash with MD5,
    which production does not know."""
    from accounts.hashers import PortalArgon2PasswordHasher

    user = make_user(username, email=email)
    user.password = make_password(PASSWORD, hasher=PortalArgon2PasswordHasher())
    user.save(update_fields=["password"])
    return user


def sign_in(browser: Browser, username: str, password: str):
    """The identifier-first sign-in, with the field names the wizard's pages render."""
    page = browser.get("/account/login/")
    assert page.status == 200
    (username_field,) = page.form("text").inputs["text"]
    response = browser.submit(page, {username_field: username}, "text")
    assert (response.status, response.location) == (303, "/account/login/?step=auth")
    page = browser.get(response.location)
    assert page.status == 200, page.text
    (password_field,) = page.form("password").inputs["password"]
    return browser.submit(page, {password_field: password}, "password")


def assert_signed_in_on_both_workers(stack, browser: Browser, username: str) -> None:
    """One session, served by each of gunicorn's two workers (sessions live in Redis)."""
    held = browser.held_request("/dashboard/")  # the worker that takes it waits for the rest
    other = browser.get("/dashboard/")  # so another worker serves this one
    held_response = held.finish()
    for response in (other, held_response):
        assert response.status == 200
        assert username in response.text
    assert stack.worker_pid(other.request_id) != stack.worker_pid(held.request_id)


def emailed_link(mail, path: str, site_url: str) -> str:
    (link,) = [url for url in mail.links() if path in url]
    assert link.startswith(site_url + path), f"{link} should start with SITE_URL {site_url}"
    return link


def deliveries(stack) -> int:
    """The emails the Celery worker has delivered, by its log (gunicorn only queues them)."""
    succeeded = r"Task accounts\.tasks\.deliver_email\[\S+\] succeeded"
    return len(re.findall(succeeded, stack.worker.output()))


def wait_for_deliveries(stack, count: int) -> None:
    """The worker logs its success just after the SMTP server has the message."""
    wait_until(lambda: deliveries(stack) >= count, 10, f"{count} deliveries by the worker")


def test_healthz_reports_database_cache_and_broker(stack):
    response = Browser(stack).get("/healthz")

    assert response.status == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok", "broker": "ok"}
    assert all(service.alive() for service in stack.services), "gunicorn, worker and beat run"


def test_registration_sends_the_verification_link_and_the_account_signs_in(stack):
    browser, delivered = Browser(stack), deliveries(stack)
    address = "nora.prod@example.com"
    page = browser.get("/account/register/")
    assert page.status == 200
    stylesheet = re.search(r'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', page.text)
    assert stylesheet, "pages link the hashed static files of collectstatic's manifest"
    assert browser.get(stylesheet.group(1)).status == 200

    response = browser.submit(
        page,
        {
            "first_name": "Nora",
            "last_name": "Prodtest",
            "email": address,
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "accept_terms": "on",
        },
        "password",
    )
    assert response.status == 302, response.text
    assert response.location == "/account/register/check-email/"

    mail = stack.smtp.wait_for(address, "Verify email")
    wait_for_deliveries(stack, delivered + 1)
    page = browser.get(emailed_link(mail, "/account/verify/", stack.site_url))
    assert page.status == 200
    response = browser.submit(page, {})
    assert (response.status, response.location) == (302, "/account/verify/done/")
    page = browser.get(response.location)
    assert page.status == 200
    username = re.search(r'<strong class="username">([^<]+)</strong>', page.text).group(1)

    signed_in = Browser(stack)
    response = sign_in(signed_in, username, NEW_PASSWORD)
    assert (response.status, response.location) == (302, "/dashboard/"), response.text
    session_cookie = next(c for c in signed_in.set_cookie_headers if c.startswith("sessionid="))
    assert "Secure" in session_cookie and "HttpOnly" in session_cookie
    # By the emailed link, then by password: each from its browser's address, which the
    # proxy's X-Forwarded-For gives (not 127.0.0.1, the proxy's own).
    sign_ins = SecurityEvent.objects.filter(
        user__username=username, kind=SecurityEvent.Kind.SIGNED_IN
    ).order_by("created_at")
    assert [e.ip_address for e in sign_ins] == [browser.address, signed_in.address]
    assert_signed_in_on_both_workers(stack, signed_in, username)


def test_a_forgotten_password_is_reset_by_the_emailed_link(stack):
    user = make_customer("c99998.pr", "petra.prod@example.com")
    browser, delivered = Browser(stack), deliveries(stack)
    page = browser.get("/account/password/forgot/")
    assert page.status == 200

    response = browser.submit(page, {"identifier": user.email}, "identifier")
    assert (response.status, response.location) == (302, "/account/password/forgot/sent/")

    mail = stack.smtp.wait_for(user.email, "Reset password")
    page = browser.get(emailed_link(mail, "/account/password/reset/", stack.site_url))
    assert page.status == 200
    response = browser.submit(
        page, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, "password"
    )
    assert (response.status, response.location) == (302, "/dashboard/"), response.text
    stack.smtp.wait_for(user.email, "Your password was changed")
    wait_for_deliveries(stack, delivered + 2)

    signed_in = Browser(stack)
    response = sign_in(signed_in, user.username, NEW_PASSWORD)
    assert (response.status, response.location) == (302, "/dashboard/"), response.text
    assert_signed_in_on_both_workers(stack, signed_in, user.username)


def test_a_locked_out_account_is_unblocked_by_the_link_the_worker_builds(stack):
    """ "Check and unblock" queues the identifier only: the worker looks the account up and
    writes the unblock link, so it needs the committed rows and SITE_URL of its own."""
    user = make_customer("c99997.lo", "lou.prod@example.com")
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        assert sign_in(Browser(stack), user.username, "not-the-password-1").status == 400
    user.refresh_from_db()
    assert user.is_locked_out

    browser = Browser(stack)
    page = browser.get("/account/unblock/")
    response = browser.submit(page, {"identifier": user.username}, "identifier")
    assert (response.status, response.location) == (302, "/account/unblock/sent/")

    mail = stack.smtp.wait_for(user.email, "Your account status")
    page = browser.get(emailed_link(mail, "/account/unblock/", stack.site_url))
    assert page.status == 200
    response = browser.submit(page, {})
    # The sign-in page, with the unblocked account's user name filled in.
    assert (response.status, response.location) == (302, f"/account/login/?user={user.username}")

    response = sign_in(Browser(stack), user.username, PASSWORD)
    assert (response.status, response.location) == (302, "/dashboard/"), response.text
