"""Querysets compiled to SQL once and then run with new parameter values.

Compiling a queryset (select list, joins, subqueries, as_sql) costs far more CPU than running
the SQL it produces. For a query on every request, such as loading the signed-in user,
PreparedQuery compiles once per thread and database connection, remembers where each
placeholder sits in the SQL parameters, and on each call only swaps in the values, runs the
SQL through Django's cursor (so query counting, health checks and reconnects still apply) and
builds the model instances the way Django's ModelIterable does.

Every value that may change between calls must be a placeholder: anything else the build
function computes (timezone.now(), a setting, a closed-over object) is frozen in the SQL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable, get_related_populators
from django.db.models.sql.compiler import SQLCompiler
from django.db.transaction import TransactionManagementError

# Values that no real query carries, so that the compiled parameters show where each
# placeholder went. Integers stay inside the 32-bit range: Django 5 turns an out-of-range
# integer lookup into an empty result with no SQL at all.
_INT_SENTINEL = 1_913_000_000
_STR_SENTINEL = "prepared-query-placeholder"
PLACEHOLDER_TYPES = (int, str)
# The range of the 64-bit integer columns: a value outside it matches no row. Django's own
# lookups answer it with an empty result; the database (SQLite) would refuse to bind it.
_INT_RANGE = range(-(2**63), 2**63)


class PreparedQueryError(Exception):
    """The queryset cannot be prepared: fix the build function."""


class PreparedQuery:
    """A queryset built by `build` from placeholder values, compiled once per thread.

    `placeholders` names each argument of `build` with its type (int or str):

        _USER = PreparedQuery(lambda pk: User.objects.filter(pk=pk), pk=int)
        users = _USER(pk=user_id)  # a list of User, as list(queryset) would give

    Each placeholder must reach the SQL unchanged and exactly once, in an exact lookup:
    `name__contains=name` (which becomes "%name%") or a value used twice raises
    PreparedQueryError at the first call. An integer outside the 64-bit range finds nothing.
    """

    def __init__(self, build: Callable[..., QuerySet], **placeholders: type) -> None:
        for name, kind in placeholders.items():
            if kind not in PLACEHOLDER_TYPES:
                raise TypeError(f"Placeholder {name!r} must be int or str, not {kind!r}.")
        self.build = build
        self.placeholders = placeholders
        self._local = threading.local()

    def __call__(self, **values: Any) -> list[Model]:
        if values.keys() != self.placeholders.keys():
            raise TypeError(f"Expected {sorted(self.placeholders)}, got {sorted(values)}.")
        # The conversion a field's get_prep_value() would do ("42" -> 42).
        values = {name: kind(values[name]) for name, kind in self.placeholders.items()}
        if any(type(value) is int and value not in _INT_RANGE for value in values.values()):
            return []
        return self._compiled().run(values)

    def _compiled(self) -> _CompiledQuery:
        # Connections belong to a thread, and tests may replace one: compile again when the
        # connection this thread compiled for is no longer the one in use.
        compiled = getattr(self._local, "compiled", None)
        if compiled is None or connections[compiled.alias] is not compiled.connection:
            compiled = self._local.compiled = self._compile()
        return compiled

    def _compile(self) -> _CompiledQuery:
        # Compile with two sets of sentinels: the SQL must not depend on the values, and each
        # placeholder must sit at the same single position in both.
        first = self._compile_with(variant=0)
        second = self._compile_with(variant=1)
        if first.sql != second.sql or first.positions != second.positions:
            raise PreparedQueryError("The SQL changes with the placeholder values.")
        return first

    def _compile_with(self, variant: int) -> _CompiledQuery:
        sentinels = {
            name: _INT_SENTINEL + variant * 1_000 + index
            if kind is int
            else f"{_STR_SENTINEL}-{variant}-{index}"
            for index, (name, kind) in enumerate(self.placeholders.items())
        }
        queryset = self.build(**sentinels)
        _check_supported(queryset)
        compiler = queryset.query.get_compiler(using=queryset.db)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            sql, params = "", ()
        positions = {}
        for name, sentinel in sentinels.items():
            # Compare types too: True == 1, and a boolean parameter is no placeholder.
            found = [
                position
                for position, param in enumerate(params)
                if type(param) is type(sentinel) and param == sentinel
            ]
            if len(found) != 1:
                raise PreparedQueryError(
                    f"Placeholder {name!r} appears {len(found)} times in the SQL parameters, "
                    "not once: pass it unchanged to one plain lookup (no __contains or __in, "
                    "and an integer field of at least 32 bits)."
                )
            positions[name] = found[0]
        return _CompiledQuery(compiler, sql, params, positions)


def _check_supported(queryset: QuerySet) -> None:
    """Refuse what list(queryset) would do beyond building plain instances from one query."""
    if queryset._iterable_class is not ModelIterable:
        raise PreparedQueryError("Only querysets of model instances (no values()).")
    if queryset._prefetch_related_lookups:
        raise PreparedQueryError("prefetch_related() runs more queries: not supported.")
    if queryset._known_related_objects:
        raise PreparedQueryError("Build from the model's manager, not a related manager.")


class _CompiledQuery:
    """The SQL of one thread's connection and what ModelIterable needs to read its rows."""

    def __init__(
        self, compiler: SQLCompiler, sql: str, params: tuple, positions: dict[str, int]
    ) -> None:
        self.compiler = compiler
        self.connection = compiler.connection
        self.alias = compiler.using
        self.sql = sql
        self.params = tuple(params)
        self.positions = positions
        select, klass_info = compiler.select, compiler.klass_info
        self.col_count = compiler.col_count
        self.fields = [column[0] for column in select[: self.col_count]]
        self.converters = compiler.get_converters(self.fields)
        self.has_composite_fields = compiler.has_composite_fields(self.fields)
        self.model = klass_info["model"]
        self.start = klass_info["select_fields"][0]
        self.end = klass_info["select_fields"][-1] + 1
        self.init_list = [column[0].target.attname for column in select[self.start : self.end]]
        self.related_populators = get_related_populators(klass_info, select, self.alias)
        self.annotations = list(compiler.annotation_col_map.items())
        # Django checks for an open transaction while compiling; compiling happens once, so
        # run() repeats that check.
        self.locks_rows = bool(
            compiler.query.select_for_update and self.connection.features.has_select_for_update
        )

    def run(self, values: dict[str, int | str]) -> list[Model]:
        if self.locks_rows and self.connection.get_autocommit():
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        params = list(self.params)
        for name, position in self.positions.items():
            params[position] = values[name]
        with self.connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        return self._instances(rows)

    def _instances(self, rows: list[tuple]) -> list[Model]:
        # The steps of SQLCompiler.execute_sql/results_iter and ModelIterable, minus the
        # compiling.
        compiler = self.compiler
        if compiler.has_extra_select:
            rows = [row[: self.col_count] for row in rows]
        if self.converters:
            rows = compiler.apply_converters(rows, self.converters)
        if self.has_composite_fields:
            rows = compiler.composite_fields_to_tuples(rows, self.fields)
        instances = []
        for row in rows:
            instance = self.model.from_db(self.alias, self.init_list, row[self.start : self.end])
            for populator in self.related_populators:
                populator.populate(row, instance)
            for name, position in self.annotations:
                setattr(instance, name, row[position])
            instances.append(instance)
        return instances
