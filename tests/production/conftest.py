"""The running production shape for tests/production (see stack.py)."""

from __future__ import annotations

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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failure shows what every process printed and which emails arrived: in CI that is
    all there is to go on."""
    report = yield
    stack = item.config.stash.get(STACK, None)
    if report.failed and stack is not None:
        report.sections.append(("production shape: process output and emails", stack.diagnostics()))
    return report
