"""The one rate limiter: at most ``limit`` events under a key in any ``window`` seconds.

It serves the limits per network (sign-in failures, registration, the recovery forms,
"cannot sign in", Security Manager requests), per address (the emails) and per user (the
email authenticator's new addresses). The rule is a sliding log: a key keeps the times of its
latest ``limit`` events, and an event counts for exactly ``window`` seconds after it
happened. So no span of ``window`` seconds holds more than ``limit`` events, not even across
the end of a window (a fixed window let twice the limit through there), and a refused client
learns the exact second the oldest event that holds it back leaves: ``Retry-After`` is that
time, rounded up, never earlier. A sliding-window counter (the previous window's count
weighted by its overlap) would keep two numbers instead of up to ``limit`` (at most 30
here), but it estimates as if the previous window's events were spread evenly: when they
came at its end, nearly twice the limit gets through in one window's length, and a
one-event cooldown (limit 1) lasts up to twice its window.

Each call is atomic, so parallel requests never under-count: on Redis (production) one Lua
script, one round trip; in local memory (the embedded default, the tests on SQLite), which
only its own process sees, under a lock of the process. Times are whole microseconds of
``time.time_ns`` (which time_machine moves), so the wait is exact, not off by a rounding.
A refused event is not counted: coming back early does not push the time further out."""

from __future__ import annotations

import os
import threading
import time

from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import ImproperlyConfigured

_MICRO = 10**6

# What a call does with the current event besides reading the log.
_READ, _IF_UNDER_LIMIT, _ALWAYS = 0, 1, 2

# KEYS[1] the log (a sorted set: score the time, member the time and a random tag, so that
# events of the same microsecond stay apart). ARGV: now, the cutoff (now - window), limit,
# what to do (above), the member, the expiry in milliseconds (only to free memory: the
# cutoff, from the caller's clock, decides what counts). Returns the times in the window
# before this event, oldest first.
_REDIS_LOG = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local limit, action = tonumber(ARGV[3]), tonumber(ARGV[4])
if action == 2 or (action == 1 and #entries / 2 < limit) then
    redis.call('ZADD', KEYS[1], ARGV[1], ARGV[5])
    redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -limit - 1)
    redis.call('PEXPIRE', KEYS[1], ARGV[6])
end
local times = {}
for i = 2, #entries, 2 do
    times[#times + 1] = entries[i]
end
return times
"""

_local_lock = threading.Lock()

UNSUPPORTED_CACHE = "Rate limits need the default cache to be Redis (portal.cache) or local memory."


def check_rate_limit_cache(app_configs=None, **kwargs) -> list:
    """At start (manage.py check, runserver, migrate), not at the first limited request: any
    other default cache would make every sign-in fail."""
    from django.core import checks

    cache = caches["default"]
    if hasattr(cache, "script") or isinstance(cache, LocMemCache):
        return []
    return [checks.Error(UNSUPPORTED_CACHE, obj=type(cache).__name__, id="portal.E001")]


def _log(key: str, *, now: int, limit: int, window: int, action: int) -> list[int]:
    """The times (µs) of the events under ``key`` in the window ending ``now``, oldest first,
    as they were before ``action`` counted this one."""
    cache = caches["default"]
    # A name of its own: keys of the fixed windows this replaced hold integers in Redis.
    name = f"rate-limit:{key}"
    cutoff = now - window * _MICRO
    if hasattr(cache, "script"):  # portal.cache.PortalRedisCache
        member = f"{now}:{os.urandom(4).hex()}"
        expiry = (window + 1) * 1000
        args = [now, cutoff, limit, action, member, expiry]
        keys = [cache.make_and_validate_key(name)]
        return [int(float(at)) for at in cache.script(_REDIS_LOG)(keys=keys, args=args)]
    if not isinstance(cache, LocMemCache):  # check_rate_limit_cache says so at start
        raise ImproperlyConfigured(UNSUPPORTED_CACHE)
    with _local_lock:
        times = sorted(at for at in cache.get(name, ()) if at > cutoff)
        if action == _ALWAYS or (action == _IF_UNDER_LIMIT and len(times) < limit):
            cache.set(name, sorted([*times, now])[-limit:], window + 1)
        return times


def _wait(times: list[int], now: int, *, limit: int, window: int) -> int:
    """Seconds, rounded up, until fewer than ``limit`` of ``times`` are in the window; 0 when
    they already are."""
    if len(times) < limit:
        return 0
    # The newest limit - 1 may stay: the one before them has to leave.
    leaves_at = times[-limit] + window * _MICRO
    return -((now - leaves_at) // _MICRO)


def retry_after(key: str, *, limit: int, window: int) -> int:
    """Count one event under ``key`` unless ``limit`` were counted in the last ``window``
    seconds; then count nothing and return the seconds until one would be, else 0."""
    now = time.time_ns() // 1000
    times = _log(key, now=now, limit=limit, window=window, action=_IF_UNDER_LIMIT)
    return _wait(times, now, limit=limit, window=window)


def seconds_until_allowed(key: str, *, limit: int, window: int) -> int:
    """What retry_after would answer now (0: the next event would be counted), counting
    nothing: for limits that count only some of the requests they check (failed sign-ins)."""
    now = time.time_ns() // 1000
    times = _log(key, now=now, limit=limit, window=window, action=_READ)
    return _wait(times, now, limit=limit, window=window)


def count_hit(key: str, *, limit: int, window: int) -> None:
    """Count one event under ``key`` whatever the count: the other half of
    seconds_until_allowed, after a request that it let through turned out to count."""
    now = time.time_ns() // 1000
    _log(key, now=now, limit=limit, window=window, action=_ALWAYS)
