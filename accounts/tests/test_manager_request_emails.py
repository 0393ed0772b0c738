"""The emails of a request to authorize a Security Manager: what they say, and how."""

from __future__ import annotations

import pytest

from accounts import company_services as cs
from accounts.models import SecurityManagerRequest

pytestmark = pytest.mark.django_db


def _bodies(mail) -> list[str]:
    return [mail.subject, mail.body, *(content for content, _type in mail.alternatives)]


@pytest.fixture
def acme_request(db) -> SecurityManagerRequest:
    # A company name that ends with its own dot, and a phone number as stored (E.164).
    return cs.submit_manager_request(
        SecurityManagerRequest(
            company_name="Acme S.L.",
            customer_number="40004",
            nominee_first_name="Anna",
            nominee_last_name="Berg",
            nominee_email="anna@acme.example",
            nominee_phone="+49301234567",
            requester_name="Rita Requester",
            requester_role="CEO",
            requester_email="rita@acme.example",
            entitled_confirmed=True,
        )
    )


def test_the_phone_number_is_shown_in_international_format(acme_request, mailoutbox):
    order, receipt = mailoutbox
    for mail in (order, receipt):
        for text in _bodies(mail)[1:]:
            assert "+49 30 1234567" in text
            assert "+49301234567" not in text


def test_a_company_name_ending_with_a_dot_gets_no_second_dot(
    acme_request, provider_admin, mailoutbox
):
    cs.approve_manager_request(acme_request, actor=provider_admin)
    rejected = SecurityManagerRequest.objects.get(pk=acme_request.pk)
    rejected.status = SecurityManagerRequest.Status.PENDING  # decide it again, the other way
    cs.reject_manager_request(rejected, "Not signed.", actor=provider_admin)
    texts = [text for mail in mailoutbox for text in _bodies(mail)]
    assert any("is now the Security Manager of Acme S.L. (40004)." in t for t in texts)
    assert any("a Security Manager for Acme S.L. (40004)." in t for t in texts)
    assert not [t for t in texts if "S.L.." in t]
