"""count_in_window: a limit that holds in any ``window`` seconds, not only in fixed ones;
count_hit: a fixed window that starts with the first event and says when it ends."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection, connections

from portal.throttle import count_hit, count_in_window, hits, retry_after

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


def test_a_fixed_window_says_the_time_left_not_its_length():
    with time_machine.travel(START, tick=False) as traveller:
        assert retry_after("k", limit=2, window=600) == 0
        traveller.shift(100)
        assert retry_after("k", limit=2, window=600) == 0
        traveller.shift(150)
        assert retry_after("k", limit=2, window=600) == 350  # from the first event, not 600
        assert hits("k") == (3, START.timestamp() + 600)
        assert hits("k").seconds_left == 350
        traveller.shift(349.5)
        assert retry_after("k", limit=2, window=600) == 1  # rounded up: never too early
        traveller.shift(0.5)
        assert count_hit("k", 600) == (1, START.timestamp() + 1200)  # a new window
        assert hits("other") == (0, 0) and hits("other").seconds_left == 0


def test_a_count_whose_window_has_ended_starts_a_new_one_even_if_its_key_stayed():
    """Redis's INCR in Django's incr() makes a key again without an expiry when the key
    expires between its EXISTS and its INCR; counts kept before the end was stored look the
    same. Neither may refuse forever."""
    with time_machine.travel(START, tick=False):
        cache.set("k", 7, None)
        assert hits("k") == (0, 0)
        assert count_hit("k", 60) == (1, START.timestamp() + 60)
        assert count_hit("k", 60) == (2, START.timestamp() + 60)
