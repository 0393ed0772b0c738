"""One way to render forms across the site: our own div-based templates.

Forms and widgets render with Jinja2 (Django's own Jinja2 widget templates plus ours in
portal/jinja2/forms/): a page's forms then cost a fraction of what Django's template
language spends on them, which matters on the support queue's filter drop-downs. Templates
that exist only for Django's template language (the admin's widgets) still render with it.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import django.forms
from django.forms.renderers import BaseRenderer, TemplatesSetting
from django.template import TemplateDoesNotExist
from django.template.backends.jinja2 import Jinja2

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
