"""count_in_window: a limit that holds in any ``window`` seconds, not only in fixed ones."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection, connections

from portal.throttle import count_in_window

START = datetime(2026, 3, 2, 9, 59, 50, tzinfo=UTC)


def count(key: str = "k") -> int:
    return count_in_window(key, limit=2, window=10)


@pytest.mark.django_db
def test_the_limit_holds_in_any_window_and_says_when_the_oldest_leaves_it():
    with time_machine.travel(START, tick=False) as traveller:
        assert count() == 0
        traveller.shift(5)
        assert count() == 0
        traveller.shift(4)
        assert count() == 1  # the first leaves the window in one second
        traveller.shift(1)
        assert count() == 0  # the first has left: one more
        assert count() == 5  # the second leaves in five seconds
        assert count("other") == 0  # each key has its own


@pytest.mark.django_db
def test_a_refused_event_is_not_counted():
    with time_machine.travel(START, tick=False) as traveller:
        count(), count()
        for _ in range(5):
            traveller.shift(1)
            assert count() > 0
        traveller.move_to(START + timedelta(seconds=10))
        assert count() == 0


@pytest.mark.django_db(transaction=True)
def test_parallel_events_are_counted_exactly():
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent connections: SQLite runs one writing transaction at once")
    parallel = 8
    start = threading.Barrier(parallel)
    waits = []

    def take():
        try:
            start.wait()
            waits.append(count_in_window("parallel", limit=5, window=60))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take) for _ in range(parallel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert waits.count(0) == 5
    assert len(waits) == parallel and all(wait > 0 for wait in waits if wait)
