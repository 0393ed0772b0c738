"""request.user is the user object itself once the middleware ran, not lazy wrappers."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils.functional import LazyObject, SimpleLazyObject

from accounts.middleware import ResolvedUserMiddleware


def _seen_user(request):
    seen = {}

    def view(req):
        seen["user"] = req.user
        return HttpResponse()

    ResolvedUserMiddleware(view)(request)
    return seen["user"]


def test_nested_lazy_wrappers_are_resolved(employee_a):
    request = RequestFactory().get("/")
    inner = SimpleLazyObject(lambda: employee_a)
    request.user = SimpleLazyObject(lambda: inner)  # auth's wrapper inside django-otp's

    user = _seen_user(request)

    assert user is employee_a
    assert not isinstance(user, LazyObject)


def test_anonymous_requests_get_the_anonymous_user():
    request = RequestFactory().get("/")
    request.user = SimpleLazyObject(AnonymousUser)

    assert isinstance(_seen_user(request), AnonymousUser)


@pytest.mark.django_db
def test_views_and_templates_see_the_resolved_user_with_otp_fields(client, sign_in, employee_a):
    sign_in(employee_a)
    response = client.get("/dashboard/")

    assert response.status_code == 200
    user = response.wsgi_request.user
    assert not isinstance(user, LazyObject)
    assert user.pk == employee_a.pk
    assert user.otp_device is None and callable(user.is_verified)
    assert response.context["user"] is user
