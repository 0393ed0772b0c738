"""The counters behind the rate limits. count_hit, a fixed window that starts with the first
event, serves the per-IP limits (sign-in failures, public forms) and the emails per address;
count_in_window, the last ``window`` seconds, the limit that must hold in any hour. Both live
in the cache, so they are shared by every web process when the cache is Redis, and both tell
how long until the next event may succeed: the time left, never the whole window."""

from __future__ import annotations

import math
import time
from typing import NamedTuple

from django.core.cache import cache
from django.db import transaction

from .locks import lock_for_transaction

# A fixed window is one integer in the cache, the second it ends times _SLOTS plus its count,
# so that counting stays one atomic add/incr on every backend (Django's Redis and local-memory
# caches offer no way to read the time a key has left) and the end comes back with the count
# in the same round trip. A second key for the end could expire apart from the count.
_SLOTS = 10**9


class Window(NamedTuple):
    """The events counted under a key and the second (Unix time) its window ends."""

    count: int
    ends_at: int

    @property
    def seconds_left(self) -> int:
        """Until the window ends and its count starts again (at least 1); 0 when none runs."""
        if not self.count:
            return 0
        return max(1, math.ceil(self.ends_at - time.time()))


_NONE = Window(0, 0)


def _read(value: int | None, now: float) -> Window:
    ends_at, count = divmod(value or 0, _SLOTS)
    # A window whose end has passed is over, even if its key is still there: a count kept
    # from before the end was stored, or one that Redis's INCR made again without an expiry
    # when the key expired between the EXISTS and the INCR of Django's incr().
    return Window(count, ends_at) if ends_at > now else _NONE


def count_hit(key: str, window: int) -> Window:
    """Count one event under ``key`` in a window of ``window`` seconds that starts with the
    first event; return the count so far and when the window ends."""
    now = time.time()
    # On a whole second, so up to a second short: a Retry-After in whole seconds, rounded up,
    # then never sends anyone back before the end. The key outlives the end by less than a
    # second; the end it holds decides (_read).
    fresh = Window(1, math.floor(now + window))
    value = fresh.ends_at * _SLOTS + 1
    if cache.add(key, value, window):
        return fresh
    try:
        counted = _read(cache.incr(key), now)
    except ValueError:  # the key expired between add and incr
        counted = _NONE
    if counted.count:
        return counted
    cache.set(key, value, window)
    return fresh


def retry_after(key: str, *, limit: int, window: int) -> int:
    """Count one event under ``key`` (count_hit); when it is over ``limit``, the seconds
    until the window ends and one can succeed again, else 0."""
    counted = count_hit(key, window)
    return counted.seconds_left if counted.count > limit else 0


def hits(key: str) -> Window:
    """Events counted under ``key`` in its current window, and when that ends."""
    return _read(cache.get(key), time.time())


def count_in_window(key: str, *, limit: int, window: int) -> int:
    """Count one event under ``key`` unless ``limit`` were counted in the last ``window``
    seconds; then count nothing and return the seconds until the oldest leaves the window
    (else 0). A sliding window: a fixed one lets twice the limit through around its end.

    The times are one short list under one cache key, read and written under a lock by name
    (portal.locks), so parallel requests of every process count exactly."""
    with transaction.atomic():
        lock_for_transaction(f"throttle:{key}")
        now = time.time()
        recent = [at for at in cache.get(key, []) if at > now - window]
        if len(recent) >= limit:
            return max(1, math.ceil(min(recent) + window - now))
        cache.set(key, [*recent, now], window)
        return 0
