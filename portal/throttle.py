"""The counters behind the rate limits. count_hit, a fixed window that starts with the first
event, serves the per-IP limits (sign-in failures, public forms) and the emails per address;
count_in_window, the last ``window`` seconds, the limit that must hold in any hour. Both live
in the cache, so they are shared by every web process when the cache is Redis."""

from __future__ import annotations

import math
import time

from django.core.cache import cache
from django.db import transaction

from .locks import lock_for_transaction


def count_hit(key: str, window: int) -> int:
    """Count one event under ``key`` for ``window`` seconds; return the count so far."""
    if cache.add(key, 1, window):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # the key expired between add and incr
        cache.set(key, 1, window)
        return 1


def hits(key: str) -> int:
    """Events counted under ``key`` in its current window."""
    return cache.get(key, 0)


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
