"""The one rate limiter: at most ``limit`` events in any ``window`` seconds, a wait that is
exact (rounded up, never early), and counts that parallel requests cannot slip past."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache, caches
from django.core.exceptions import ImproperlyConfigured

from portal.throttle import count_hit, retry_after, seconds_until_allowed

START = datetime(2026, 3, 2, 9, 59, 50, tzinfo=UTC)


def take(key: str = "k") -> int:
    return retry_after(key, limit=2, window=10)


def test_the_limit_holds_in_any_window_and_says_when_the_oldest_leaves_it():
    with time_machine.travel(START, tick=False) as traveller:
        assert take() == 0
        traveller.shift(5)
        assert take() == 0
        traveller.shift(4)
        assert take() == 1  # the first leaves the window in one second
        traveller.shift(1)
        assert take() == 0  # the first has left: one more
        assert take() == 5  # the second leaves in five seconds
        assert take("other") == 0  # each key has its own


def test_a_refused_event_is_not_counted():
    with time_machine.travel(START, tick=False) as traveller:
        take(), take()
        for _ in range(5):
            traveller.shift(1)
            assert take() > 0
        traveller.move_to(START + timedelta(seconds=10))
        assert take() == 0


def test_a_burst_at_the_end_of_a_window_is_refused():
    """A fixed window that began with the first event let three more through in the second
    around its end: five in two seconds, with a limit of three in ten minutes."""
    with time_machine.travel(START, tick=False) as traveller:
        assert retry_after("k", limit=3, window=600) == 0
        traveller.shift(599)
        assert retry_after("k", limit=3, window=600) == 0
        assert retry_after("k", limit=3, window=600) == 0
        assert retry_after("k", limit=3, window=600) == 1  # the first leaves in a second
        traveller.shift(1)
        assert retry_after("k", limit=3, window=600) == 0  # the first has left
        assert retry_after("k", limit=3, window=600) == 599  # the two of second 599 have not


def test_a_burst_of_counted_failures_at_the_end_of_a_window_is_refused():
    """The same for limits that check first and count later (failed sign-ins)."""
    with time_machine.travel(START, tick=False) as traveller:
        count_hit("k", limit=3, window=600)
        traveller.shift(599)
        count_hit("k", limit=3, window=600)
        count_hit("k", limit=3, window=600)
        traveller.shift(1)
        assert seconds_until_allowed("k", limit=3, window=600) == 0
        count_hit("k", limit=3, window=600)
        assert seconds_until_allowed("k", limit=3, window=600) == 599


def test_the_wait_is_the_time_left_rounded_up_never_early():
    start = START + timedelta(microseconds=250_000)
    with time_machine.travel(start, tick=False) as traveller:
        assert retry_after("k", limit=1, window=600) == 0
        traveller.shift(100.5)
        assert retry_after("k", limit=1, window=600) == 500  # 499.5 left, not the window
        assert seconds_until_allowed("k", limit=1, window=600) == 500
        traveller.move_to(start + timedelta(seconds=600, microseconds=-1))
        assert retry_after("k", limit=1, window=600) == 1
        traveller.move_to(start + timedelta(seconds=600))
        assert seconds_until_allowed("k", limit=1, window=600) == 0
        assert retry_after("k", limit=1, window=600) == 0


def test_counted_events_over_the_limit_hold_until_enough_have_left():
    """Failures counted in parallel past the limit: the check waits until fewer than the
    limit are left (the second of three), not only until the oldest leaves."""
    with time_machine.travel(START, tick=False) as traveller:
        for _ in range(3):
            count_hit("k", limit=2, window=60)
            traveller.shift(10)
        assert seconds_until_allowed("k", limit=2, window=60) == 40  # the second leaves
        assert seconds_until_allowed("other", limit=2, window=60) == 0


def test_a_key_left_by_the_fixed_windows_does_not_break_the_limit():
    """The fixed windows kept an integer under the same names: a deploy must not turn
    their keys into errors."""
    cache.set("k", 7 * 10**9 + 3, None)
    with time_machine.travel(START, tick=False):
        assert take() == 0


def test_parallel_events_are_counted_exactly():
    """Eight requests at once against a limit of five: five counted, three refused, on Redis
    (one script) as in local memory (a lock of the process)."""
    parallel = 8
    start = threading.Barrier(parallel)
    waits = []

    def one():
        start.wait()
        waits.append(retry_after("parallel", limit=5, window=60))
        count_hit("failures", limit=parallel, window=60)

    threads = [threading.Thread(target=one) for _ in range(parallel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    waits.sort()
    assert waits[:5] == [0] * 5
    # A thread reads the clock before its script runs: one that read it before the oldest
    # counted event's thread waits up to a second longer (later, never earlier).
    assert all(60 <= wait <= 61 for wait in waits[5:]), waits
    # Up to a second or two after the events, on a slow machine.
    assert 58 <= seconds_until_allowed("failures", limit=parallel, window=60) <= 60
    assert seconds_until_allowed("failures", limit=parallel + 1, window=60) == 0


def test_counting_on_redis_is_one_round_trip(monkeypatch):
    if not hasattr(caches["default"], "script"):
        pytest.skip("needs Redis (REDIS_URL): the embedded default counts in local memory")
    from redis import Redis

    retry_after("k", limit=5, window=60)  # the script is loaded on first use
    commands = []
    execute = Redis.execute_command

    def counted(self, *args, **options):
        commands.append(args[0])
        return execute(self, *args, **options)

    monkeypatch.setattr(Redis, "execute_command", counted)
    retry_after("k", limit=5, window=60)
    count_hit("k", limit=5, window=60)
    seconds_until_allowed("k", limit=5, window=60)
    assert commands == ["EVALSHA"] * 3


def test_a_cache_the_limiter_cannot_use_is_an_error_at_start(settings):
    from django.core import checks

    from portal.throttle import check_rate_limit_cache

    assert check_rate_limit_cache() == []
    assert [e.id for e in checks.run_checks(tags=[checks.Tags.caches])] == []
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    }
    assert [e.id for e in checks.run_checks(tags=[checks.Tags.caches])] == ["portal.E001"]
    with pytest.raises(ImproperlyConfigured):
        retry_after("k", limit=5, window=60)
