"""The benchmark's report: the machine, the versions, the targets and bench/results/latest.md."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path

PAGE_TARGET = 0.25
PASSWORD_STEP_TARGET = 0.85
SIGN_IN_TARGET = 0.6
QUEUE_SCALE_TARGET = 0.9
MAX_QUERIES = 12
REMINDER_SECONDS = 10
REMINDER_MEMORY_RATIO = 1.2


def machine() -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    memory = re.search(r"^MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text(), re.MULTILINE)
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model.group(1).strip() if model else platform.processor(),
        "memory_gib": round(int(memory.group(1)) / 1024 / 1024, 1) if memory else None,
        "kernel": platform.release(),
        "os": _first_line(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
    }


def _first_line(command: list[str]) -> str:
    try:
        output = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "not found"
    text = (output.stdout or output.stderr).strip()
    return text.splitlines()[0] if text else "not found"


def versions(services: bool) -> dict:
    found = {"python": platform.python_version()}
    for package in (
        "Django",
        "gunicorn",
        "argon2-cffi",
        "psycopg2-binary",
        "redis",
        "celery",
        "django-two-factor-auth",
        "django-otp",
    ):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    found["wrk"] = _first_line(["wrk", "--version"]).split(" [")[0]
    if services:
        found["postgresql"] = _first_line(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", "SHOW server_version"]
        )
        found["redis-server"] = _first_line(["redis-server", "--version"])
    else:
        import sqlite3

        found["sqlite"] = sqlite3.sqlite_version
    return found


def _ratio(numerator, denominator):
    if not numerator or not denominator:
        return None
    return round(numerator / denominator, 3)


def _figure_ratio(figure: dict, reference: float | None):
    """The median of the rounds measured side by side with their own reference (older
    results: against the one reference of the run)."""
    return figure.get("paired_ratio") or _ratio(figure["per_second"], reference)


def targets(results: dict) -> list[dict]:
    """Each target of issue 8 as {name, value, target, met}."""
    found = []

    def add(name, value, target, met, detail=""):
        found.append(
            {"name": name, "value": value, "target": target, "met": bool(met), "detail": detail}
        )

    large = results["load"].get("large", {})
    small = results["load"].get("small", {})
    bound = results["argon2_bound"]["per_second"]

    for key, name, target in (
        ("password_step", "Password step", PASSWORD_STEP_TARGET),
        ("full_sign_in", "Full sign-in", SIGN_IN_TARGET),
    ):
        if key in large:
            value = _figure_ratio(large[key], bound)
            add(
                f"{name} / Argon2 bound",
                value,
                f">= {target}",
                value is not None and value >= target,
            )
    for size, figures in (("100k", large), ("1k", small)):
        floor = figures.get("minimal", {}).get("per_second")
        for key in ("dashboard", "my_tickets", "ticket", "queue"):
            if key in figures:
                figure = figures[key]
                value = _figure_ratio(figure, floor)
                add(
                    f"{figure['name']} / minimal view ({size} tickets)",
                    value,
                    f">= {PAGE_TARGET}",
                    value is not None and value >= PAGE_TARGET,
                )
    if "queue" in large and "queue" in small:
        value = large["queue"].get("size_ratio") or _ratio(
            large["queue"]["per_second"], small["queue"]["per_second"]
        )
        add(
            "Support queue at 100k / at 1k tickets",
            value,
            f">= {QUEUE_SCALE_TARGET}",
            value is not None and value >= QUEUE_SCALE_TARGET,
        )
    counts = results["queries"]
    if "large" in counts and "small" in counts:
        differing = [
            f"{a['role']} {a['path']}: {a['queries']} vs {b['queries']}"
            for a, b in zip(counts["large"], counts["small"], strict=True)
            if a["queries"] != b["queries"]
        ]
        add(
            "Same queries per page at 100k and 1k tickets",
            len(differing),
            "0 pages differ",
            not differing,
            "; ".join(differing),
        )
    worst = max(
        (page for pages in counts.values() for page in pages),
        key=lambda page: page["queries"],
        default=None,
    )
    if worst:
        add(
            "Most queries on any page",
            worst["queries"],
            f"<= {MAX_QUERIES}",
            worst["queries"] <= MAX_QUERIES,
            f"{worst['role']} {worst['path']}",
        )
    bad_status = [
        f"{p['role']} {p['path']}: {p['status']}"
        for pages in counts.values()
        for p in pages
        if p["status"] != 200
    ]
    add(
        "Every counted page answers 200",
        len(bad_status),
        "0",
        not bad_status,
        "; ".join(bad_status),
    )
    reminders = results["reminders"]
    ten = reminders.get("10k")
    if ten:
        add(
            "Reminder job, 10,000 users (s)",
            ten["seconds"],
            f"< {REMINDER_SECONDS}",
            ten["seconds"] < REMINDER_SECONDS,
        )
    hundred = reminders.get("100k")
    if ten and hundred:
        value = _ratio(hundred["peak_python_memory_kib"], ten["peak_python_memory_kib"])
        add(
            "Reminder peak memory, 100k / 10k users",
            value,
            f"<= {REMINDER_MEMORY_RATIO}",
            value is not None and value <= REMINDER_MEMORY_RATIO,
        )
        add(
            "Reminder queries per batch, 100k vs 10k",
            f"{hundred['queries_per_batch_max']} vs {ten['queries_per_batch_max']}",
            "equal",
            hundred["queries_per_batch_max"] == ten["queries_per_batch_max"],
        )
    measured = [
        (size, figure) for size, figures in results["load"].items() for figure in figures.values()
    ] + [("floor", figure) for figure in results.get("floors", {}).values()]
    wrong = [
        f"{size} {f['name']}: {f['wrong_answers']} wrong, {f['socket_errors']} errors"
        for size, f in measured
        if f["wrong_answers"] or f["socket_errors"]
    ]
    add(
        "No wrong answers or socket errors under load", len(wrong), "0", not wrong, "; ".join(wrong)
    )
    return found


def _cell(value) -> str:
    return "–" if value is None else str(value)


def _round_list(figure: dict) -> str:
    """ "figure / reference = ratio" of every round."""
    return ", ".join(
        f"{value} / {reference} = {ratio}"
        for value, reference, ratio in zip(
            figure["runs_per_second"],
            figure["reference_runs_per_second"],
            figure["ratio_runs"],
            strict=True,
        )
    )


REFERENCE_NAMES = {"argon2": "Argon2 bound", "minimal": "minimal view"}


def _floors_section(results: dict) -> list[str]:
    """What the work that cannot be skipped costs, against the same references as the targets."""
    floors = results.get("floors")
    if not floors:
        return []
    lines = [
        "",
        "## Floors: the work that cannot be skipped",
        "",
        "bench/floors.py serves, beside the portal's URLs on a server of its own (the small data "
        "set), views that do only the part of a password step or a signed-in page that no "
        "implementation can leave out. They are measured like the targets: in rounds right after "
        f"their reference, the median round's ratio counts. The password step's target is "
        f"{PASSWORD_STEP_TARGET} of the Argon2 bound and the pages' {PAGE_TARGET} of the "
        "minimal view: a target above its floor cannot be met by any password step or page "
        "that does this work.",
        "",
        "| Floor | What it does | per s | Ratio | Rounds (floor / reference = ratio) | "
        "CPU ms app | CPU ms machine |",
        "|---|---|---|---|---|---|---|",
    ]
    for figure in floors.values():
        reference = REFERENCE_NAMES.get(figure.get("reference"), figure.get("reference"))
        rounds = _round_list(figure)
        lines.append(
            f"| {figure['name']} | {figure.get('does', '')} | {figure['per_second']} | "
            f"{figure['paired_ratio']} of the {reference} | {rounds} | "
            f"{_cell(figure['cpu_ms_per_unit'])} | {_cell(figure['machine_cpu_ms_per_unit'])} |"
        )
    against = _against_floors(results)
    if against:
        lines += [
            "",
            "The figures against their floor (figure's ratio / floor's ratio). The password "
            "step's floor does the same work without the wizard; a page's is the layout with "
            "no content, so the rest is what the content costs.",
            "",
            *[f"- {line}" for line in against],
        ]
    return lines


# figure key: the floor that does the same mandatory work
FLOOR_OF = {
    "password_step": "password_sign_in",
    "dashboard": "layout",
    "my_tickets": "layout",
    "ticket": "layout",
    "queue": "layout",
}


def _against_floors(results: dict) -> list[str]:
    floors = results.get("floors", {})
    found = []
    for size, figures in results["load"].items():
        label = "100k" if size == "large" else "1k"
        minimal = figures.get("minimal", {}).get("per_second")
        for key, figure in figures.items():
            floor = floors.get(FLOOR_OF.get(key))
            if not floor:
                continue
            reference = results["argon2_bound"]["per_second"] if key == "password_step" else minimal
            value = _figure_ratio(figure, reference)
            if value:
                found.append(
                    f"{figure['name']} ({label}): {value} / {floor['paired_ratio']} "
                    f"({floor['name'].lower()}) = {_ratio(value, floor['paired_ratio'])}"
                )
    return found


def markdown(results: dict) -> str:
    m, s = results["machine"], results["settings"]
    lines = [
        "# Benchmark results",
        "",
        f"Run {results['started']} to {results['finished']} (UTC) with `bench/run.py`, "
        f"on **{results['backend']}**.",
        "",
        "## Machine and versions",
        "",
        f"- {m['cpus']} CPUs, {m['cpu_model']}, {m['memory_gib']} GiB, {m['os']}, "
        f"Linux {m['kernel']}",
        "- " + ", ".join(f"{k} {v}" for k, v in results["versions"].items()),
        f"- gunicorn: {s['workers']} {s['worker_class']} workers × {s['threads']} threads "
        f"(portal/gunicorn.py), on loopback; wrk with {s['connections_pages']} connections "
        f"for pages, {s['connections_sign_in']} for sign-in; {s['seconds_per_run']} s per run "
        f"after {s['warmup_seconds']} s of warm-up",
        f"- Argon2id ({s['hasher']}): {s['argon2']['memory_cost_kib']} KiB, "
        f"time cost {s['argon2']['time_cost']}, parallelism {s['argon2']['parallelism']}",
        "- Load generator, PostgreSQL and Redis share the machine's CPUs with gunicorn.",
        "",
        "## Targets",
        "",
        "| Target | Value | Wanted | Met |",
        "|---|---|---|---|",
    ]
    for target in results["targets"]:
        detail = f" ({target['detail']})" if target["detail"] else ""
        lines.append(
            f"| {target['name']}{detail} | {_cell(target['value'])} | {target['target']} | "
            f"{'yes' if target['met'] else '**no**'} |"
        )
    bound = results["argon2_bound"]
    lines += [
        "",
        "## Throughput and latency",
        "",
        "CPU per unit: gunicorn (master and workers), PostgreSQL + Redis, and the whole machine "
        "(including wrk). A unit is a request, or a completed sign-in for the full sign-in, "
        "whose latency is that of the whole sequence of five requests.",
        "",
        "| Data | Figure | per s | p50 ms | p99 ms | CPU ms app | CPU ms db+cache | "
        "CPU ms machine |",
        "|---|---|---|---|---|---|---|---|",
        f"| – | Argon2 bound ({bound['processes']} processes) | {bound['per_second']} | "
        f"{bound['p50_ms']} | {bound['p99_ms']} | {bound['cpu_ms_per_unit']} | – | – |",
    ]
    for size, figures in results["load"].items():
        label = "100k tickets" if size == "large" else "1k tickets"
        for figure in figures.values():
            lines.append(
                f"| {label} | {figure['name']} | {figure['per_second']} | {figure['p50_ms']} | "
                f"{figure['p99_ms']} | {_cell(figure['cpu_ms_per_unit'])} | "
                f"{_cell(figure['db_cache_cpu_ms_per_unit'])} | "
                f"{_cell(figure['machine_cpu_ms_per_unit'])} |"
            )
    rounds = [
        f"{figure['name']} ({'100k' if size == 'large' else '1k'}): {_round_list(figure)}"
        for size, figures in results["load"].items()
        for figure in figures.values()
        if "ratio_runs" in figure
    ]
    if rounds:
        lines += [
            "",
            "Every ratio is measured side by side in rounds: the reference (the Argon2 bound for "
            "sign-in, the minimal view for pages) right before the figure, on the same server, "
            f"{s.get('pair_rounds', 3)} times (the queue {s.get('queue_rounds', 3)} times, "
            "alternating sizes). The target takes the median round's ratio, and the table "
            "above shows that round (for the queue its median run, which the comparison of the "
            "sizes uses). The machine's speed drifts over a run, which one reference "
            "at the start would turn into errors. The minimal view row is the median of its "
            "runs; the Argon2 bound row was measured alone after the load runs. Rounds, per "
            "second (figure / reference = ratio):",
            "",
            *[f"- {line}" for line in rounds],
        ]
    size_runs = results["load"].get("large", {}).get("queue", {}).get("size_ratio_runs")
    if size_runs:
        lines += [
            "",
            "The support queue at 100k against 1k tickets is the median of the rounds' ratios, "
            f"each of two runs back to back: {', '.join(str(value) for value in size_runs)}.",
        ]
    lines += _floors_section(results)
    lines += [
        "",
        "## Queries per page",
        "",
        "| Who | Page | 100k tickets | 1k tickets |",
        "|---|---|---|---|",
    ]
    small = {(p["role"], p["path"]): p for p in results["queries"].get("small", [])}
    for page in results["queries"].get("large", []):
        other = small.get((page["role"], page["path"]), {})
        lines.append(
            f"| {page['role']} | `{page['path']}` | {page['queries']} | "
            f"{_cell(other.get('queries'))} |"
        )
    lines += [
        "",
        "## Password-expiry reminder job",
        "",
        "| Users | Emails | Seconds | Users/s | Queries | Batches | Queries per batch "
        "(max) | Peak Python memory KiB | Peak RSS KiB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for run in results["reminders"].values():
        lines.append(
            f"| {run['users']:,} | {run['emails']:,} | {run['seconds']} | "
            f"{run['users_per_second']} | {run['queries']} | {run['batches']} | "
            f"{run['queries_per_batch_max']} | {run['peak_python_memory_kib']} | "
            f"{run['peak_rss_kib']} |"
        )
    lines += [
        "",
        "## Data sets",
        "",
        "| Data set | Rows | Generation s | With migrate s |",
        "|---|---|---|---|",
    ]
    for name, data in results["data"].items():
        rows = ", ".join(f"{k} {v:,}" for k, v in data["counts"].items() if isinstance(v, int))
        lines.append(f"| {name} | {rows} | {data['seconds']} | {data['seconds_with_migrate']} |")
    limits = Path(__file__).with_name("limits.md")
    if limits.exists() and any(not target["met"] for target in results["targets"]):
        lines += ["", limits.read_text().strip()]
    return "\n".join(lines) + "\n"
