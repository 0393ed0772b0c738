"""Forms render with Jinja2; templates only Django's language has (the admin's) still work."""

from __future__ import annotations

import re

from django import forms
from django.contrib.admin.widgets import AdminDateWidget
from django.forms.renderers import DjangoTemplates

from portal.forms import PortalFormRenderer


class _SampleForm(forms.Form):
    name = forms.CharField(label="Name", help_text="As on your badge")
    size = forms.ChoiceField(
        label="Size",
        choices=[("", "Any"), ("s", "Small & light"), ("Sizes", [("m", "Medium"), ("l", "Large")])],
    )
    agree = forms.BooleanField(label="I agree")


def _squash(html: str) -> str:
    return re.sub(r"\s+", " ", html).replace("> <", "><").strip()


def test_forms_render_our_field_template_with_jinja2():
    renderer = PortalFormRenderer()
    form = _SampleForm({"size": "m"}, renderer=renderer)
    html = str(form)
    template = renderer.get_template("forms/field.html")
    assert type(template).__module__ == "django.template.backends.jinja2"
    assert '<div class="field field-invalid">' in html  # name is required and missing
    assert '<div class="field field-invalid field-checkbox">' in html
    assert '<div class="help" id="id_name_helptext">As on your badge</div>' in html
    assert '<ul class="errorlist" id="id_name_error"><li>This field is required.</li></ul>' in html


def test_a_help_text_that_is_a_list_stays_inside_its_described_element():
    """The password rules are a <ul>: in a <p> the browser would end the paragraph before the
    list, and the field's aria-describedby would point at an empty paragraph."""
    from django.contrib.auth import password_validation

    class _PasswordForm(forms.Form):
        password = forms.CharField(
            help_text=password_validation.password_validators_help_text_html()
        )

    html = str(_PasswordForm(renderer=PortalFormRenderer()))
    assert '<div class="help" id="id_password_helptext"><ul>' in html


def test_select_options_match_djangos_own_rendering():
    """Our inline select.html writes the same options as Django's per-option includes."""
    field = _SampleForm.base_fields["size"]
    widget = field.widget
    ours = widget.render("size", "m", attrs={"id": "id_size"}, renderer=PortalFormRenderer())
    django = widget.render("size", "m", attrs={"id": "id_size"}, renderer=DjangoTemplates())
    assert _squash(ours) == _squash(django)
    assert "Small &amp; light" in ours
    assert '<option value="m" selected>Medium</option>' in ours


def test_templates_only_django_has_still_render():
    html = AdminDateWidget().render("day", None, renderer=PortalFormRenderer())
    assert 'class="vDateField"' in html
