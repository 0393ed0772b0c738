"""The benchmark report's ratios: each divides by the reference measured right before it."""

from __future__ import annotations

from bench import report


def _page(name: str, per_second: float, **extra) -> dict:
    return {"name": name, "per_second": per_second, "wrong_answers": 0, "socket_errors": 0, **extra}


def _results(load: dict) -> dict:
    return {
        "argon2_bound": {"per_second": 100.0},
        "load": load,
        "queries": {},
        "reminders": {},
    }


def _value(targets: list[dict], name: str):
    return next(target["value"] for target in targets if target["name"] == name)


def test_ratios_use_the_paired_references():
    load = {
        "large": {
            "password_step": _page("Password step", 60.0, paired_bound_per_second=80.0),
            "full_sign_in": _page("Full sign-in", 40.0, paired_bound_per_second=50.0),
            "minimal": _page("Minimal view", 1000.0),
            "dashboard": _page("Dashboard", 300.0, paired_minimal_per_second=1200.0),
            "queue": _page("Support queue", 50.0, paired_ratio=0.04),
        }
    }
    targets = report.targets(_results(load))
    assert _value(targets, "Password step / Argon2 bound") == 0.75
    assert _value(targets, "Full sign-in / Argon2 bound") == 0.8
    assert _value(targets, "Dashboard / minimal view (100k tickets)") == 0.25
    assert _value(targets, "Support queue / minimal view (100k tickets)") == 0.04


def test_results_without_pairs_use_the_single_references():
    load = {
        "large": {
            "password_step": _page("Password step", 60.0),
            "minimal": _page("Minimal view", 1000.0),
            "dashboard": _page("Dashboard", 300.0),
        }
    }
    targets = report.targets(_results(load))
    assert _value(targets, "Password step / Argon2 bound") == 0.6
    assert _value(targets, "Dashboard / minimal view (100k tickets)") == 0.3
