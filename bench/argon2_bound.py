"""The physical bound of sign-in: Argon2 verifications per second with the configured hasher,
in as many processes as gunicorn has workers, on this machine.

    python -m bench.argon2_bound --processes 3 --seconds 10
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import time


def _verify_for(
    hasher_path: str, encoded: str, password: str, seconds: float, start_at: float, results
) -> None:
    from django.contrib.auth.hashers import get_hasher

    hasher = get_hasher(hasher_path)
    while time.monotonic() < start_at:
        time.sleep(0.001)
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    latencies = []
    deadline = start_at + seconds
    while (now := time.monotonic()) < deadline:
        if not hasher.verify(password, encoded):
            raise SystemExit("the hasher refused its own hash")
        latencies.append(time.monotonic() - now)
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    results.put({"count": len(latencies), "cpu": cpu, "latencies": latencies})


def measure(processes: int, seconds: float) -> dict:
    from django.conf import settings
    from django.contrib.auth.hashers import get_hasher

    hasher = get_hasher()
    password = "Bench-Portal-2026!"
    encoded = hasher.encode(password, hasher.salt())
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    start_at = time.monotonic() + 0.5
    workers = [
        context.Process(
            target=_verify_for,
            args=(hasher.algorithm, encoded, password, seconds, start_at, results),
        )
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    gathered = [results.get() for _ in workers]
    for worker in workers:
        worker.join()
    count = sum(r["count"] for r in gathered)
    latencies = sorted(value for r in gathered for value in r["latencies"])
    return {
        "hasher": settings.PASSWORD_HASHERS[0],
        "parameters": {
            "memory_cost_kib": hasher.memory_cost,
            "time_cost": hasher.time_cost,
            "parallelism": hasher.parallelism,
        },
        "processes": processes,
        "seconds": seconds,
        "verifications": count,
        "per_second": round(count / seconds, 2),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 2),
        "cpu_ms_per_unit": round(sum(r["cpu"] for r in gathered) * 1000 / count, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--processes", type=int, default=os.cpu_count())
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    print(json.dumps(measure(args.processes, args.seconds)))


if __name__ == "__main__":
    main()
