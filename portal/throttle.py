"""The one fixed-window counter behind every rate limit (sign-in failures per IP, emails per
address, public forms per IP). Counts live in the cache, so they are shared by every web
process when the cache is Redis."""

from __future__ import annotations

from django.core.cache import cache


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
