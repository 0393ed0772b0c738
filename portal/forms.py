"""One way to render forms across the site: our own div-based templates.

Forms and widgets render with Jinja2 (Django's own Jinja2 widget templates plus ours in
portal/jinja2/forms/): a page's forms then cost a fraction of what Django's template
language spends on them, which matters on the support queue's filter drop-downs. Templates
that exist only for Django's template language (the admin's widgets) still render with it.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import NoReturn

import django.forms
from django.forms.renderers import BaseRenderer, TemplatesSetting
from django.template import TemplateDoesNotExist
from django.template.backends.jinja2 import Jinja2
from django.utils.translation import gettext_lazy

_OUR_FORM_TEMPLATES = Path(__file__).resolve().parent / "jinja2"
_DJANGO_FORM_TEMPLATES = Path(django.forms.__file__).resolve().parent / "jinja2"


class PortalFormRenderer(BaseRenderer):
    form_template_name = "forms/form.html"
    field_template_name = "forms/field.html"

    @cached_property
    def jinja2(self) -> Jinja2:
        return Jinja2(
            {
                "NAME": "portal-forms",
                "DIRS": [_OUR_FORM_TEMPLATES, _DJANGO_FORM_TEMPLATES],
                "APP_DIRS": False,
                "OPTIONS": {},
            }
        )

    @cached_property
    def django_templates(self) -> TemplatesSetting:
        return TemplatesSetting()

    def get_template(self, template_name):
        try:
            return self.jinja2.get_template(template_name)
        except TemplateDoesNotExist:
            return self.django_templates.get_template(template_name)


# The largest primary key a 64-bit column holds. A larger number names no row, but some
# databases (SQLite) raise instead of finding nothing, so forms refuse it first.
MAX_ID = 2**63 - 1


def is_database_id(value: int) -> bool:
    return 0 < value <= MAX_ID


class ModelIdsField(django.forms.ModelMultipleChoiceField):
    """Several objects chosen by id; an id no row can have is an invalid choice, not an error."""

    def _check_values(self, value):
        for item in value:
            try:
                if not is_database_id(int(str(item))):
                    raise ValueError
            except ValueError:
                raise django.forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": item},
                ) from None
        return super()._check_values(value)


class FormErrorConcernsInput:
    """A form whose error is about one input but must stay the form's: a wrong password or
    code (never saying which part was wrong). forms/form.html shows it above the form; the
    input then points to it, so a screen reader reads the error with the input (WCAG 3.3.1).
    """

    error_input = ""

    def full_clean(self):
        super().full_clean()
        if self.error_input not in self.fields or not self.non_field_errors():
            return
        field = self[self.error_input]
        described_by = [f"{self.prefix or 'form'}-errors"]
        if field.help_text:
            described_by.append(f"{field.auto_id}_helptext")
        field.field.widget.attrs.update(
            {"aria-invalid": "true", "aria-describedby": " ".join(described_by)}
        )


class MarksOptionalFields:
    """For forms whose fields are mostly required: forms/field.html adds "(optional)" to the
    label of each field that is not (WCAG 3.3.2), so nobody has to guess which to fill in."""

    optional_label = gettext_lazy("optional")


class RateLimited:
    """A form that a rate limit can refuse. ``refuse`` raises the limit's message as the
    form's error (code "throttled"), so the page shows the form again with what was typed,
    and keeps the seconds until it can succeed for the answer's status and Retry-After
    header (``answer_rate_limited``)."""

    retry_after = 0

    def refuse(self, wait: int, message: str) -> NoReturn:
        """Refuse the form: it can succeed in ``wait`` seconds; ``message`` says when."""
        self.retry_after = wait
        raise django.forms.ValidationError(message, code="throttled")


def answer_rate_limited(response, retry_after: int):
    """A page that a rate limit refused (``retry_after`` seconds, 0 when none did) is a 429
    that says when to come back: the time left until a request can succeed, not the whole
    window (RFC 6585)."""
    if retry_after:
        response.status_code = 429
        response["Retry-After"] = str(retry_after)
    return response
