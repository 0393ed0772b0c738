"""Error pages in the portal's look; never a stack trace or a version number."""

from __future__ import annotations

from django.shortcuts import render


def bad_request(request, exception=None):
    return render(request, "errors/400.html", status=400)


def permission_denied(request, exception=None):
    return render(request, "errors/403.html", status=403)


def page_not_found(request, exception=None):
    return render(request, "errors/404.html", status=404)


def server_error(request):
    # No context processors that could fail again: a plain render of a static page.
    from django.http import HttpResponseServerError
    from django.template import loader

    return HttpResponseServerError(loader.get_template("errors/500.html").render())


def csrf_failure(request, reason=""):
    return render(request, "errors/csrf.html", status=403)


class MethodNotAllowedPage:
    """Django answers a GET to a POST-only address (a bookmark, a reload, the back button)
    with an empty 405; people see the portal's page saying where to go instead."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 405 and not response.content and request.method == "GET":
            page = render(request, "errors/405.html", status=405)
            page["Allow"] = response.get("Allow", "")
            return page
        return response
