"""Small helpers shared by the account tests."""

from __future__ import annotations

import html
import re

from django.core import mail

LINK = re.compile(r"http://portal\.test(/account/[\w/-]+/)")


def link_in(message, prefix: str) -> str:
    """The path of the first portal link in an email starting with ``prefix``."""
    for path in LINK.findall(message.body):
        if path.startswith(prefix):
            return path
    raise AssertionError(f"No {prefix} link in: {message.body}")


def both_parts(message) -> list[str]:
    """The text part and the HTML part (entities decoded) of an email, to check that both
    say the same thing."""
    return [message.body, html.unescape(message.alternatives[0][0])]


def sent_to(address: str) -> list:
    return [m for m in mail.outbox if address in m.to]


CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def page_text(response, *replace: str) -> str:
    """The page without its per-response CSRF token and with ``replace`` strings blanked,
    for comparing the answers for an existing and an unknown account."""
    text = CSRF.sub("", response.content.decode())
    for value in replace:
        text = text.replace(value, "X")
    return text


def title_and_heading(response) -> tuple[str, str]:
    """A page's tab title (without the site name) and its h1, as text."""
    html = response.content.decode()
    title = re.search(r"<title>(.*?) · ", html, re.S)[1]
    heading = re.sub(r"<[^>]+>", "", re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)[1])
    return " ".join(title.split()), " ".join(heading.split())


def assert_title_is_the_heading(response, name: str = "") -> str:
    """The tab title is the page's heading. Where one heading serves several steps or flows
    ("Sign in", "Check your inbox"), the title adds which one after a colon ("Sign in:
    password"), so that tabs and the history tell them apart. Returns the title."""
    title, heading = title_and_heading(response)
    assert title == heading or title.startswith(f"{heading}: "), (name, title, heading)
    return title


def manager_request(**fields):
    """A stored request to authorize a Security Manager, with plausible details."""
    from accounts.models import SecurityManagerRequest

    details = {
        "company_name": "Gamma GmbH",
        "customer_number": "30003",
        "nominee_first_name": "Nina",
        "nominee_last_name": "Nominee",
        "nominee_email": "nina@gamma.example",
        "requester_name": "Rita",
        "requester_role": "CEO",
        "requester_email": "rita@gamma.example",
    }
    return SecurityManagerRequest.objects.create(**{**details, **fields})


def pending_registration(password: str = "a-long-and-fine-passphrase", **fields):
    """A registration as the request stores it for its task (services.register_account)."""
    from django.conf import settings
    from django.contrib.auth.hashers import make_password

    from accounts.models import PendingRegistration

    details = {
        "first_name": "Lena",
        "last_name": "Newcomer",
        "email": "lena.newcomer@example.org",
        "terms_version": settings.TERMS_VERSION,
        "password_hash": make_password(password),
        "language": "en",
    }
    return PendingRegistration.objects.create(**{**details, **fields})


TIMING_BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"


def recovery_request_work(client, url: str, identifier: str, *, sent: str) -> tuple:
    """What one recovery request ("forgot password", "check and unblock") did: queries,
    templates rendered, log entries written. It must not depend on whether the identifier
    names an account, or its timing would tell."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import SecurityEvent

    events_before = SecurityEvent.objects.count()
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url, {"identifier": identifier}, HTTP_USER_AGENT=TIMING_BROWSER)
    assert (response.status_code, response["Location"]) == (302, sent)
    templates = sorted(t.name for t in response.templates)
    return len(queries), templates, SecurityEvent.objects.count() - events_before
