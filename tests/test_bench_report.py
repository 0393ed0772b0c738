"""The benchmark report's ratios: the median of rounds measured side by side."""

from __future__ import annotations

from bench import report


def _figure(name: str, per_second: float, **extra) -> dict:
    return {
        "name": name,
        "per_second": per_second,
        "p50_ms": 1,
        "p99_ms": 2,
        "cpu_ms_per_unit": 1,
        "db_cache_cpu_ms_per_unit": 0,
        "machine_cpu_ms_per_unit": 1,
        "wrong_answers": 0,
        "socket_errors": 0,
        **extra,
    }


def _rounds(name: str, values: list, references: list) -> dict:
    ratios = [round(v / r, 3) for v, r in zip(values, references, strict=True)]
    median = sorted(range(3), key=lambda i: ratios[i])[1]
    return _figure(
        name,
        values[median],
        paired_reference_per_second=references[median],
        paired_ratio=ratios[median],
        runs_per_second=values,
        reference_runs_per_second=references,
        ratio_runs=ratios,
    )


def _results(load: dict) -> dict:
    return {
        "started": "s",
        "finished": "f",
        "backend": "b",
        "machine": {"cpus": 2, "cpu_model": "x", "memory_gib": 1, "os": "o", "kernel": "k"},
        "versions": {},
        "settings": {
            "workers": 3,
            "worker_class": "sync",
            "threads": 1,
            "connections_pages": 6,
            "connections_sign_in": 6,
            "seconds_per_run": 10,
            "warmup_seconds": 3,
            "hasher": "h",
            "argon2": {"memory_cost_kib": 1, "time_cost": 2, "parallelism": 1},
        },
        "argon2_bound": {
            "per_second": 100.0,
            "processes": 3,
            "p50_ms": 1,
            "p99_ms": 2,
            "cpu_ms_per_unit": 1,
        },
        "load": load,
        "queries": {},
        "reminders": {},
        "data": {},
    }


def _value(targets: list[dict], name: str):
    return next(target["value"] for target in targets if target["name"] == name)


def test_targets_take_the_median_round_of_ratios():
    load = {
        "large": {
            "password_step": _rounds("Password step", [60, 70, 10], [80, 80, 80]),
            "full_sign_in": _rounds("Full sign-in", [40, 45, 50], [50, 100, 50]),
            "minimal": _figure("Minimal view", 1000.0),
            "dashboard": _rounds("Dashboard", [300, 200, 250], [1200, 1000, 1000]),
        }
    }
    results = _results(load)
    targets = report.targets(results)
    # Each round divides by its own reference; the median ratio counts, not the medians.
    assert _value(targets, "Password step / Argon2 bound") == 0.75
    assert _value(targets, "Full sign-in / Argon2 bound") == 0.8
    assert _value(targets, "Dashboard / minimal view (100k tickets)") == 0.25
    results["targets"] = targets
    text = report.markdown(results)
    assert "- Dashboard (100k): 300 / 1200 = 0.25, 200 / 1000 = 0.2, 250 / 1000 = 0.25" in text


def test_results_without_rounds_use_the_single_references():
    load = {
        "large": {
            "password_step": _figure("Password step", 60.0),
            "minimal": _figure("Minimal view", 1000.0),
            "dashboard": _figure("Dashboard", 300.0),
        }
    }
    targets = report.targets(_results(load))
    assert _value(targets, "Password step / Argon2 bound") == 0.6
    assert _value(targets, "Dashboard / minimal view (100k tickets)") == 0.3


def test_the_queue_sizes_compare_by_the_median_round():
    load = {
        "large": {
            "queue": _figure(
                "Support queue", 40.0, size_ratio=0.95, size_ratio_runs=[0.8, 0.95, 1.0]
            )
        },
        "small": {"queue": _figure("Support queue", 50.0)},
    }
    results = _results(load)
    results["targets"] = targets = report.targets(results)
    assert _value(targets, "Support queue at 100k / at 1k tickets") == 0.95
    assert "each of two runs back to back: 0.8, 0.95, 1.0." in report.markdown(results)


def test_floors_are_reported_beside_the_targets_and_count_for_wrong_answers():
    results = _results({"large": {"minimal": _figure("Minimal view", 1000.0)}})
    results["floors"] = {
        "password_check": {
            **_rounds("Password check", [85, 90, 80], [100, 100, 100]),
            "reference": "argon2",
            "does": "the account and Argon2",
        },
        "layout": {
            **_rounds("Signed-in layout", [250, 260, 300], [1000, 1000, 1000]),
            "reference": "minimal",
            "does": "base.html and nothing in it",
            "wrong_answers": 2,
        },
    }
    results["targets"] = targets = report.targets(results)
    # Floors are no targets of their own, but a wrong answer under load is one.
    assert not any("Password check" in target["name"] for target in targets)
    assert _value(targets, "No wrong answers or socket errors under load") == 1
    text = report.markdown(results)
    assert "## Floors: the work that cannot be skipped" in text
    assert (
        "| Password check | the account and Argon2 | 85 | 0.85 of the Argon2 bound | "
        "85 / 100 = 0.85, 90 / 100 = 0.9, 80 / 100 = 0.8 |" in text
    )
    assert (
        "| Signed-in layout | base.html and nothing in it | 260 | 0.26 of the minimal view" in text
    )


def test_figures_are_set_against_the_floor_that_does_their_work():
    results = _results(
        {
            "large": {
                "password_step": _rounds("Password step", [60, 66, 70], [100, 100, 100]),
                "minimal": _figure("Minimal view", 1000.0),
                "dashboard": _rounds("Dashboard", [150, 150, 150], [1000, 1000, 1000]),
            }
        }
    )
    results["floors"] = {
        "password_sign_in": {
            **_rounds("Password check and sign-in", [70, 70, 70], [100, 100, 100]),
            "reference": "argon2",
        },
        "layout": {
            **_rounds("Signed-in layout", [300, 300, 300], [1000, 1000, 1000]),
            "reference": "minimal",
        },
    }
    results["targets"] = report.targets(results)
    text = report.markdown(results)
    assert "- Password step (100k): 0.66 / 0.7 (password check and sign-in) = 0.943" in text
    assert "- Dashboard (100k): 0.15 / 0.3 (signed-in layout) = 0.5" in text
