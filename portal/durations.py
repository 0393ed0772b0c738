"""Durations in words, for every app: the session limits ("after two hours of inactivity")
and how long a refused request must wait ("Please try again in ten minutes"). One wording,
so that the pages and the catalogues say a duration the same way everywhere."""

from __future__ import annotations

import math

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext


def duration_text(seconds: int) -> str:
    """ "two hours", "30 minutes", "5 seconds": in the largest whole unit, numbers up to
    twelve in words."""
    words = {
        1: _("one"),
        2: _("two"),
        3: _("three"),
        4: _("four"),
        5: _("five"),
        6: _("six"),
        7: _("seven"),
        8: _("eight"),
        9: _("nine"),
        10: _("ten"),
        11: _("eleven"),
        12: _("twelve"),
    }
    if seconds % 3600 == 0:
        count = seconds // 3600
        text = ngettext("%(count)s hour", "%(count)s hours", count)
    elif seconds % 60 == 0:
        count = seconds // 60
        text = ngettext("%(count)s minute", "%(count)s minutes", count)
    else:
        count = seconds
        text = ngettext("%(count)s second", "%(count)s seconds", count)
    return text % {"count": words.get(count, count)}


def wait_text(seconds: int) -> str:
    """How long a refused request must wait, in words ("ten minutes", "45 seconds"), for the
    public pages, which have no time zone to say a time in: from a minute on in whole
    minutes, rounded up, so that nobody is sent back too early."""
    if seconds > 60:
        seconds = math.ceil(seconds / 60) * 60
    return duration_text(seconds)


# What a form over a per-network limit says; try_again_in fills in the wait.
TOO_MANY_REQUESTS = gettext_lazy(
    "There were too many requests from your network. Please try again in %(duration)s."
)


def try_again_in(wait: int, message=TOO_MANY_REQUESTS) -> str:
    """``message`` (with its %(duration)s) for a request refused for ``wait`` seconds."""
    return message % {"duration": wait_text(wait)}
