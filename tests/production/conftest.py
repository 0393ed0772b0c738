"""The running production shape for tests/production (see stack.py)."""

from __future__ import annotations

import importlib

import pytest

from tests.production.stack import Stack

STACK = pytest.StashKey[Stack]()


@pytest.fixture(scope="module")
def stack(request, django_db_setup, tmp_path_factory):
    """gunicorn, a Celery worker and beat on the test database, for the tests of a module.

    They stop when the module's tests are done (before pytest-django drops the database they
    are connected to), also when a test or the start fails.
    """
    from django.conf import settings
    from django.db import connection

    stack = Stack(
        base_dir=settings.BASE_DIR,
        work_dir=tmp_path_factory.mktemp("production"),
        database=connection.settings_dict,
        redis_url=settings.REDIS_URL,
    )
    request.config.stash[STACK] = stack
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


@pytest.fixture(autouse=True)
def _migration_rows(transactional_db):
    """The rows the migrations write (role groups, ticket categories), which an earlier
    transactional test's flush removed. Written by the migrations' own functions, which leave
    existing rows alone. Not serialized_rollback: after a flush that recreated the content
    types with new ids, restoring the saved ones broke on their unique names."""
    from django.apps import apps

    for module, function in (
        ("accounts.migrations.0002_role_groups", "create_groups"),
        ("tickets.migrations.0002_default_categories", "create_categories"),
    ):
        getattr(importlib.import_module(module), function)(apps, None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failure shows what every process printed and which emails arrived: in CI that is
    all there is to go on."""
    report = yield
    stack = item.config.stash.get(STACK, None)
    if report.failed and stack is not None:
        report.sections.append(("production shape: process output and emails", stack.diagnostics()))
    return report
