"""Model choice labels without Django's per-call cost.

Django's get_FOO_display() builds a dict of all the field's choices on every call, hashing
each (lazy, translated) label: with 30 event kinds that is 30 translations per table cell,
the largest cost of rendering a list page. The mixin looks the label up in a dict built
once per field; the label stays lazy, so it is translated in the language of the request.
"""

from __future__ import annotations

from django.utils.encoding import force_str
from django.utils.hashable import make_hashable


def _labels(field) -> dict:
    labels = field.__dict__.get("_display_labels")
    if labels is None:
        labels = {make_hashable(value): label for value, label in field.flatchoices}
        field.__dict__["_display_labels"] = labels
    return labels


class ChoiceLabelsMixin:
    """Mix into a model before models.Model: same get_FOO_display(), a dict lookup each."""

    def _get_FIELD_display(self, field):
        value = getattr(self, field.attname)
        return force_str(_labels(field).get(make_hashable(value), value), strings_only=True)
