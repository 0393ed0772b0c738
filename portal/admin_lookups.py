"""Changelist filters from the address bar that the database cannot take.

Django's admin answers an unknown lookup (``?nosuchfield=1``) with its "?e=1" page. Values
of known lookups that compile to impossible SQL (``created_at__year=0``, an id beyond 64
bits, a NUL byte, which PostgreSQL refuses in text) only fail when the query runs: a 500.
The changelist here compiles its filtered query first and answers those like an unknown
lookup. The portal's admin site gives it to every model admin it registers.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import EmptyResultSet, FullResultSet

_INT64 = range(-(2**63), 2**63)


def refuse_impossible_filters(queryset) -> None:
    """Raise IncorrectLookupParameters if the queryset's SQL cannot run on any backend."""
    try:
        _sql, params = queryset.query.get_compiler(queryset.db).as_sql()
    except (EmptyResultSet, FullResultSet):
        return
    except (ValueError, OverflowError, TypeError) as error:
        raise IncorrectLookupParameters(error) from error
    for value in params:
        if isinstance(value, int) and not isinstance(value, bool) and value not in _INT64:
            raise IncorrectLookupParameters(f"{value} does not fit in a database integer")
        if isinstance(value, str) and "\x00" in value:
            raise IncorrectLookupParameters("NUL byte in a filter value")


class CheckedChangeList(ChangeList):
    def get_filters(self, request):
        # The date hierarchy turns ?created_at__year=… into dates and lets OverflowError (a
        # year beyond C's long) and the end of year 9999 escape its own ValueError handling.
        try:
            return super().get_filters(request)
        except (ValueError, OverflowError) as error:
            raise IncorrectLookupParameters(error) from error

    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        refuse_impossible_filters(queryset)
        return queryset


class CheckedLookupsAdmin:
    """Mixed into every ModelAdmin of the portal's site, Django's and other apps' too."""

    def get_changelist(self, request, **kwargs):
        return CheckedChangeList


def with_checked_lookups(admin_class: type[admin.ModelAdmin]) -> type[admin.ModelAdmin]:
    if issubclass(admin_class, CheckedLookupsAdmin):
        return admin_class
    return type(admin_class.__name__, (CheckedLookupsAdmin, admin_class), {})
