"""Public pages at /access/: "I need access but have no login", the request to authorize a
Security Manager with its status page, and the employee's activation link."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from portal.forms import answer_rate_limited

from . import company_services as cs
from .company_forms import ActivationForm, ManagerRequestForm
from .views import link_page, sign_in_url, speak_link_language


def need_access(request):
    return render(request, "access/need_access.html")


def request_manager(request):
    form = ManagerRequestForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        form.count_submission()
        manager_request = form.save(commit=False)
        language = translation.get_language()
        manager_request.language = (
            language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        )
        cs.submit_manager_request(manager_request, request=request)
        return redirect("access:request_sent")
    status = 400 if form.errors else 200
    response = render(request, "access/request_manager.html", {"form": form}, status=status)
    return answer_rate_limited(response, form.retry_after)


def request_sent(request):
    return render(request, "access/request_sent.html")


@never_cache
@link_page
def request_status(request, token: str):
    manager_request = cs.manager_request_for_token(token)
    if manager_request is None:
        return render(request, "access/invalid_link.html", status=404)
    # The request's emails, with this link, speak the language it was made in.
    speak_link_language(request, manager_request.language)
    return render(request, "access/request_status.html", {"manager_request": manager_request})


@never_cache
@link_page
def activate(request, token: str):
    """The emailed link opens this page; the password is set on POST."""
    user = cs.user_for_activation_token(token)
    if user is None:
        activated = cs.activation_link_was_used(token)
        if activated is not None:
            speak_link_language(request, activated.preferred_language)
            messages.info(
                request,
                _("Your account is already activated. Sign in with your user name %(username)s.")
                % {"username": activated.username},
            )
            return redirect(sign_in_url(activated))
        return render(request, "access/invalid_link.html", status=400)
    speak_link_language(request, user.preferred_language)
    form = ActivationForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        cs.activate_account(request, user, form.cleaned_data["new_password1"])
        messages.success(
            request,
            _("Your password is set. Sign in with your user name %(username)s.")
            % {"username": user.username},
        )
        return redirect(sign_in_url(user))
    status = 400 if form.errors else 200
    return render(request, "access/activate.html", {"form": form, "employee": user}, status=status)
