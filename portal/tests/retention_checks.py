"""The check every retention test shares: deleting costs the same queries per batch."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.retention import delete_in_batches


def assert_constant_queries_per_batch(make_row, rows, *, batch_size: int = 2, **options) -> None:
    """Purge 0, 1 and 3 full batches of rows made by ``make_row()``, selected by ``rows()``:
    three batches must cost exactly three times one batch's queries (no query per row)."""
    counts = []
    for batches in (0, 1, 3):
        for _ in range(batches * batch_size):
            make_row()
        with CaptureQueriesContext(connection) as queries:
            deleted = delete_in_batches(rows(), batch_size=batch_size, **options)
        assert deleted == batches * batch_size
        counts.append(len(queries))
    none, one, three = counts
    assert one > none
    assert three - none == 3 * (one - none), counts
