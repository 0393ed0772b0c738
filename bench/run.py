"""The portal's benchmark: one run, one machine, figures side by side.

    .venv/bin/python bench/run.py            # or: make bench
    .venv/bin/python bench/run.py --reminders-100k --seconds 20

1. Prepares two data sets with production settings: 10,000 users in 50 companies with
   100,000 tickets, and the same users with 1,000 tickets (PostgreSQL and Redis when they
   answer on 127.0.0.1, otherwise SQLite with eager tasks; the report says which).
2. Counts the queries of each page at both sizes (Django's test client).
3. Serves each data set with gunicorn (portal/gunicorn.py, the production configuration) on
   loopback and drives it with wrk: the password step and the full sign-in, each right after
   a measurement of the Argon2 bound, and the main pages, each right after the minimal view;
   then the support queue in alternating runs at both sizes (each size's median counts).
   Then the floors (bench/floors.py): the password step and a signed-in page with only the
   work they cannot skip, on a server of their own, each right after its reference.
   Finally the Argon2 bound alone, with gunicorn stopped.
4. Runs the password-expiry reminder job over the 10,000 users (and 100,000 with the flag).
5. Writes bench/results/latest.json and latest.md.

Benchmark databases (portal_bench_*) and Redis databases 13-15 are the benchmark's own and
are wiped; nothing else is touched.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import load, report  # noqa: E402

WORK = ROOT / "var" / "bench"
RESULTS = ROOT / "bench" / "results"
PG = "postgres://postgres@127.0.0.1:5432/{name}"
REDIS = "redis://127.0.0.1:6379/{db}"
DATA_SETS = {
    # name: (tickets, Redis database)
    "large": (100_000, 15),
    "small": (1_000, 14),
}
REMINDER_USERS_DB = ("users100k", 13)
QUEUE_FILTER = "?priority=2&sort=due"
QUEUE_ROUNDS = 5  # rounds of the queue at both sizes, back to back; the median counts
PAIR_ROUNDS = 3  # rounds of (reference, figure) for every other ratio; the median counts
# bench/floors.py, served by bench.floor_settings: key: (name, path, reference, what it does)
FLOORS = {
    "password_check": (
        "Password check",
        "/__floor__/password-check/",
        "argon2",
        "the identifier step's session, the account and Argon2; no sign-in",
    ),
    "password_sign_in": (
        "Password check and sign-in",
        "/__floor__/password-sign-in/",
        "argon2",
        "the portal's password check (lockout counting), then login(), the audit event and "
        "the session row in one transaction; no wizard",
    ),
    "signed_in": (
        "Signed-in response",
        "/__floor__/signed-in/",
        "minimal",
        "session, revocation state and user, as every signed-in page; no template",
    ),
    "layout": (
        "Signed-in layout",
        "/__floor__/layout/",
        "minimal",
        "the same with base.html and nothing in it",
    ),
    "cached_dashboard": (
        "Cached dashboard",
        "/__floor__/cached-dashboard/",
        "minimal",
        "the signed-in response, then the user's dashboard and its version read from the "
        "cache in one round trip (a per-user page cache at best)",
    ),
}


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def say(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", flush=True)


class Backend:
    """Where a data set lives: a PostgreSQL database and a Redis database, or SQLite files."""

    def __init__(self, use_services: bool):
        self.use_services = use_services
        self.name = "PostgreSQL + Redis" if use_services else "SQLite, eager tasks, local cache"

    def env(self, data_set: str, redis_db: int) -> dict:
        if self.use_services:
            return {
                "DATABASE_URL": PG.format(name=f"portal_bench_{data_set}"),
                "REDIS_URL": REDIS.format(db=redis_db),
            }
        return {"DATABASE_URL": f"sqlite:///{WORK / f'{data_set}.sqlite3'}"}

    def reset(self, data_set: str, redis_db: int) -> None:
        """An empty database (and Redis database) for a data set."""
        self.drop(data_set, redis_db)
        if self.use_services:
            self._postgres(f'CREATE DATABASE "portal_bench_{data_set}"')

    def drop(self, data_set: str, redis_db: int) -> None:
        if self.use_services:
            import redis

            self._postgres(f'DROP DATABASE IF EXISTS "portal_bench_{data_set}" WITH (FORCE)')
            redis.Redis.from_url(REDIS.format(db=redis_db)).flushdb()
        else:
            (WORK / f"{data_set}.sqlite3").unlink(missing_ok=True)

    @staticmethod
    def _postgres(statement: str) -> None:
        import psycopg2

        connection = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement)
        finally:
            connection.close()


def production_env() -> dict:
    """Production settings for every process of the run (see README, "Configuration")."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER", "EMAIL_URL")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DEBUG="False",
        SECRET_KEY="bench-" + secrets.token_urlsafe(40),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SITE_URL="https://127.0.0.1",
        EMAIL_URL="dummymail://",
        LOG_LEVEL="WARNING",
        PORTAL_VAR_DIR=str(WORK / "var"),
        PYTHONPATH=str(ROOT),
    )
    return env


def serve(env: dict) -> load.Server:
    """gunicorn on a free loopback port, logging to var/bench."""
    port = _free_port()
    return load.start_gunicorn(env, port, WORK / f"gunicorn-{port}.log")


def python(module: str, *args: str, env: dict) -> str:
    result = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"{module} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def prepare(
    backend: Backend,
    base_env: dict,
    data_set: str,
    tickets: int,
    redis_db: int,
    users: int = 10_000,
) -> tuple[dict, dict]:
    backend.reset(data_set, redis_db)
    env = {**base_env, **backend.env(data_set, redis_db)}
    out = WORK / f"{data_set}.json"
    started = time.monotonic()
    python(
        "bench.data", "--tickets", str(tickets), "--users", str(users), "--out", str(out), env=env
    )
    data = json.loads(out.read_text())
    data["wall_seconds_with_migrate"] = round(time.monotonic() - started, 2)
    data["queue_filter"] = QUEUE_FILTER
    out.write_text(json.dumps(data))
    return data, env


def measure_data_set(
    server: load.Server,
    data: dict,
    *,
    seconds: float,
    warmup: float,
    rounds: int,
    argon2_bound: Callable[[], dict] | None,
    sign_in: bool,
) -> tuple[dict, str]:
    """The figures of one served data set (but the queue), and the agent's session.

    Each ratio's two figures are measured back to back, in `rounds` rounds: the Argon2 bound
    right before each sign-in figure, the minimal view right before each page. On a shared
    machine the speed drifts by tens of percent within minutes, which a single reference
    measured at the start would turn into errors of the ratios."""
    connections = server.connections
    figures = {}
    say(
        f"gunicorn on :{server.port}: {server.workers} {server.worker_class} workers "
        f"x {server.threads} threads; wrk with {connections} connections"
    )
    if sign_in:
        usernames = data["usernames"]
        users_file = WORK / "users.txt"
        users_file.write_text("\n".join(usernames) + "\n")

        def password_step(timing: dict, bound: dict) -> dict:
            return measure_password_step(server, data, timing, bound)

        def full_sign_in(timing: dict, _bound: dict) -> dict:
            return load.measure(
                server,
                "Full sign-in",
                "signin.lua",
                "/account/login/",
                connections=connections,
                threads=connections,
                unit_key="sign_ins",
                env={
                    "BENCH_USERS": str(users_file),
                    "BENCH_PASSWORD": data["password"],
                    "BENCH_BROWSER_PREFIX": load.BROWSER_PREFIX,
                },
                **timing,
            )

        for key, name, measure_figure in (
            ("password_step", "password step", password_step),
            ("full_sign_in", "full sign-in", full_sign_in),
        ):
            say(f"Argon2 bound, then the {name}: {rounds} rounds")
            figures[key] = paired_rounds(
                lambda _timing: argon2_bound(),
                measure_figure,
                rounds=rounds,
                seconds=seconds,
                warmup=warmup,
            )
    employee = load.sign_in(server, data["employee"]["username"], data["password"])
    agent = load.sign_in(
        server, data["agent"]["username"], data["password"], data["agent"]["totp_key"]
    )
    pages = [
        ("dashboard", "Dashboard", "/dashboard/", employee),
        ("my_tickets", "My tickets", "/tickets/", employee),
        ("ticket", "Ticket page", f"/tickets/{data['employee']['ticket_id']}/", employee),
    ]
    minimal_runs = []
    for key, name, path, session in pages:
        say(f"minimal view, then {name.lower()}: {rounds} rounds")
        figures[key] = page_rounds(
            server,
            name,
            path,
            session,
            minimal_runs=minimal_runs,
            rounds=rounds,
            seconds=seconds,
            warmup=warmup,
        )
    figures["minimal"] = median_run(minimal_runs)
    return figures, agent


def measure_password_step(
    server: load.Server,
    data: dict,
    timing: dict,
    bound: dict,
    name: str = "Password step",
    path: str = "/account/login/",
) -> dict:
    """The password step alone, posted to `path`, each request into its own session prepared
    by the identifier step. The warm-up gets sessions of its own: a session that signed in
    has a new key, and posting into its old one again would be a wrong answer."""
    connections = server.connections

    def sessions_for(seconds: float, label: str) -> dict:
        # More than the bound allows in the time; password.lua counts running out.
        needed = math.ceil(bound["per_second"] * seconds * 1.5) + 100
        sessions = load.prepare_password_sessions(
            server, data["usernames"], needed, data["password"]
        )
        sessions_file = WORK / f"sessions-{label}.txt"
        sessions_file.write_text("\n".join(sessions) + "\n")
        return {"BENCH_SESSIONS": str(sessions_file), "BENCH_BROWSER_PREFIX": load.BROWSER_PREFIX}

    if timing["warmup"]:
        load.run_wrk(
            server,
            "password.lua",
            path,
            seconds=timing["warmup"],
            connections=connections,
            threads=connections,
            env=sessions_for(timing["warmup"], "warmup"),
        )
    return load.measure(
        server,
        name,
        "password.lua",
        path,
        seconds=timing["seconds"],
        warmup=0,
        connections=connections,
        threads=connections,
        env=sessions_for(timing["seconds"], "run"),
    )


def measure_floors(
    server: load.Server,
    data: dict,
    session: str,
    *,
    argon2_bound: Callable[[], dict],
    rounds: int,
    seconds: float,
    warmup: float,
) -> dict:
    """The floors of bench/floors.py on their own server (bench.floor_settings), each in
    rounds right after its reference: the Argon2 bound or the minimal view."""
    figures = {}
    for key, (name, path, reference, does) in FLOORS.items():
        say(f"floor: {name.lower()}: {rounds} rounds")
        if reference == "argon2":
            figures[key] = paired_rounds(
                lambda _timing: argon2_bound(),
                lambda timing, bound, name=name, path=path: measure_password_step(
                    server, data, timing, bound, name=name, path=path
                ),
                rounds=rounds,
                seconds=seconds,
                warmup=warmup,
            )
        else:
            figures[key] = page_rounds(
                server, name, path, session, rounds=rounds, seconds=seconds, warmup=warmup
            )
        figures[key].update(reference=reference, does=does)
    return figures


def page_rounds(
    server: load.Server,
    name: str,
    path: str,
    session: str | None,
    *,
    rounds: int,
    seconds: float,
    warmup: float,
    minimal_runs: list | None = None,
) -> dict:
    """A page in rounds, each right after the minimal view (whose runs go to `minimal_runs`)."""

    def minimal(timing: dict) -> dict:
        figure = measure_minimal(server, **timing)
        if minimal_runs is not None:
            minimal_runs.append(figure)
        return figure

    return paired_rounds(
        minimal,
        lambda timing, _minimal: measure_page(server, name, path, session, **timing),
        rounds=rounds,
        seconds=seconds,
        warmup=warmup,
    )


def paired_rounds(
    measure_reference: Callable[[dict], dict],
    measure_figure: Callable[[dict, dict], dict],
    *,
    rounds: int,
    seconds: float,
    warmup: float,
) -> dict:
    """`rounds` times the reference then the figure, back to back; the figure of the round
    with the median ratio, with the ratio, its reference and every round's values. Only the
    first round warms up: both are warm after it."""
    runs = []
    for number in range(rounds):
        timing = {"seconds": seconds, "warmup": warmup if number == 0 else 0}
        reference = measure_reference(timing)
        figure = measure_figure(timing, reference)
        runs.append(
            (figure, reference["per_second"], figure["per_second"] / reference["per_second"])
        )
    figure, reference, _ratio = _median(runs, key=lambda run: run[2])
    return {**figure, "paired_reference_per_second": reference, **_rounds(runs)}


def _median(items: list, key=None):
    return sorted(items, key=key)[len(items) // 2]


def _rounds(runs: list[tuple[dict, float, float]]) -> dict:
    """Every round's (figure, reference requests/s, ratio), the median ratio, and the wrong
    answers and socket errors of all rounds (not only of the round that is shown)."""
    return {
        "wrong_answers": sum(run[0]["wrong_answers"] for run in runs),
        "socket_errors": sum(run[0]["socket_errors"] for run in runs),
        "paired_ratio": round(_median([run[2] for run in runs]), 3),
        "runs_per_second": [run[0]["per_second"] for run in runs],
        "reference_runs_per_second": [run[1] for run in runs],
        "ratio_runs": [round(run[2], 3) for run in runs],
    }


MINIMAL_PATH = "/healthz/live"


def measure_minimal(server: load.Server, **timing) -> dict:
    return measure_page(server, "Minimal view", MINIMAL_PATH, None, **timing)


def median_run(figures: list[dict]) -> dict:
    """The run with the median requests/s, and the requests/s of every run."""
    return {
        **_median(figures, key=lambda figure: figure["per_second"]),
        "runs_per_second": [figure["per_second"] for figure in figures],
    }


def measure_page(server: load.Server, name: str, path: str, session: str | None, **timing) -> dict:
    return load.measure(
        server,
        name,
        "page.lua",
        path,
        connections=server.connections,
        threads=2,
        env={"BENCH_COOKIE": f"sessionid={session}" if session else ""},
        **timing,
    )


def compare_queues(servers: dict, agents: dict, rounds: int, **timing) -> dict:
    """The support queue at every size, in rounds that run the sizes back to back, each run
    right after the minimal view on the same server. One run each is too noisy on a shared
    machine to compare sizes within 10 %. Each size's figure is its median run and its ratio
    to the minimal view the median of its runs'; the comparison of the sizes is the median of
    the rounds' ratios (100k / 1k), so that drift between rounds cancels out."""
    runs = {name: [] for name in servers}
    for round_number in range(1, rounds + 1):
        for name, server in servers.items():
            say(f"minimal view, then support queue ({name}, run {round_number} of {rounds})")
            reference = measure_minimal(server, **timing)["per_second"]
            figure = measure_page(
                server,
                "Support queue with filters",
                f"/support/{QUEUE_FILTER}",
                agents[name],
                **timing,
            )
            runs[name].append((figure, reference, figure["per_second"] / reference))
    medians = {
        name: {**median_run([run[0] for run in figures]), **_rounds(figures)}
        for name, figures in runs.items()
    }
    if {"large", "small"} <= runs.keys():
        sizes = [
            round(large[0]["per_second"] / small[0]["per_second"], 3)
            for large, small in zip(runs["large"], runs["small"], strict=True)
        ]
        medians["large"]["size_ratio_runs"] = sizes
        medians["large"]["size_ratio"] = _median(sizes)
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10, help="length of each timed run")
    parser.add_argument("--warmup", type=float, default=3, help="warm-up before each run")
    parser.add_argument(
        "--reminders-100k", action="store_true", help="also run the reminder job over 100,000 users"
    )
    parser.add_argument(
        "--sqlite", action="store_true", help="use SQLite even when PostgreSQL and Redis answer"
    )
    parser.add_argument(
        "--keep-data", action="store_true", help="keep the benchmark databases afterwards"
    )
    args = parser.parse_args()

    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "var").mkdir(exist_ok=True)
    backend = Backend(not args.sqlite and _port_open(5432) and _port_open(6379))
    say(f"backend: {backend.name}")
    base_env = production_env()
    started = datetime.now(UTC)

    say("collecting static files")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env={**base_env, **backend.env("large", 15)},
        check=True,
    )

    data_sets = {}
    for name, (tickets, redis_db) in DATA_SETS.items():
        say(f"generating the {name} data set ({tickets:,} tickets)")
        data, env = prepare(backend, base_env, name, tickets, redis_db)
        data_sets[name] = {"data": data, "env": env}
        say(f"  {data['seconds']:.1f} s: {data['counts']}")

    queries = {}
    for name, entry in data_sets.items():
        say(f"counting queries per page ({name})")
        queries[name] = json.loads(
            python("bench.queries", "--data", str(WORK / f"{name}.json"), env=entry["env"])
        )

    probe = {**base_env, **data_sets["large"]["env"]}
    workers = int(
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import runpy; print(runpy.run_path('portal/gunicorn.py')['workers'])",
            ],
            cwd=ROOT,
            env=probe,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )

    def argon2_bound() -> dict:
        return json.loads(
            python(
                "bench.argon2_bound",
                "--processes",
                str(workers),
                "--seconds",
                str(args.seconds),
                env=probe,
            )
        )

    load_figures = {}
    servers = {}
    agents = {}
    timing = {"seconds": args.seconds, "warmup": args.warmup}
    try:
        for name, entry in data_sets.items():
            say(f"serving the {name} data set")
            servers[name] = serve(entry["env"])
            load_figures[name], agents[name] = measure_data_set(
                servers[name],
                entry["data"],
                rounds=PAIR_ROUNDS,
                argon2_bound=argon2_bound,
                sign_in=(name == "large"),
                **timing,
            )
        for name, figure in compare_queues(servers, agents, QUEUE_ROUNDS, **timing).items():
            load_figures[name]["queue"] = figure
    finally:
        for server in servers.values():
            server.stop()

    say("serving the floors (bench/floors.py) on the small data set")
    small = data_sets["small"]
    floor_server = serve({**small["env"], "DJANGO_SETTINGS_MODULE": "bench.floor_settings"})
    try:
        floors = measure_floors(
            floor_server,
            small["data"],
            load.sign_in(
                floor_server, small["data"]["employee"]["username"], small["data"]["password"]
            ),
            argon2_bound=argon2_bound,
            rounds=PAIR_ROUNDS,
            **timing,
        )
    finally:
        floor_server.stop()
    server = servers["large"]
    connections = server.connections
    deployment = {
        "workers": server.workers,
        "threads": server.threads,
        "worker_class": server.worker_class,
        "connections_pages": connections,
        "connections_sign_in": connections,
        "queue_rounds": QUEUE_ROUNDS,
        "pair_rounds": PAIR_ROUNDS,
    }

    say(f"Argon2 bound in {workers} processes, gunicorn stopped")
    argon2 = argon2_bound()

    say("reminder job over 10,000 users")
    reminders = {
        "10k": json.loads(
            python(
                "bench.reminders",
                env={**data_sets["large"]["env"], "CELERY_TASK_ALWAYS_EAGER": "True"},
            )
        )
    }
    if args.reminders_100k:
        name, redis_db = REMINDER_USERS_DB
        say("generating 100,000 users for the reminder job")
        data, env = prepare(backend, base_env, name, 0, redis_db, users=100_000)
        say("reminder job over 100,000 users")
        reminders["100k"] = json.loads(
            python("bench.reminders", env={**env, "CELERY_TASK_ALWAYS_EAGER": "True"})
        )
        if not args.keep_data:
            backend.drop(name, redis_db)

    if not args.keep_data:
        for name, (_tickets, redis_db) in DATA_SETS.items():
            backend.drop(name, redis_db)

    results = {
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "backend": backend.name,
        "machine": report.machine(),
        "versions": report.versions(backend.use_services),
        "settings": {
            **deployment,
            "argon2": argon2["parameters"],
            "hasher": argon2["hasher"],
            "seconds_per_run": args.seconds,
            "warmup_seconds": args.warmup,
            "queue_filter": QUEUE_FILTER,
        },
        "data": {
            name: {
                "counts": entry["data"]["counts"],
                "seconds": entry["data"]["seconds"],
                "seconds_with_migrate": entry["data"]["wall_seconds_with_migrate"],
            }
            for name, entry in data_sets.items()
        },
        "argon2_bound": argon2,
        "load": load_figures,
        "floors": floors,
        "queries": {
            name: [{k: v for k, v in page.items() if k != "sql"} for page in pages]
            for name, pages in queries.items()
        },
        "reminders": reminders,
    }
    results["targets"] = report.targets(results)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    (WORK / "queries-sql.json").write_text(json.dumps(queries, indent=2))
    markdown = report.markdown(results)
    (RESULTS / "latest.md").write_text(markdown)
    print(markdown)
    missed = [t for t in results["targets"] if not t["met"]]
    say(f"{len(results['targets']) - len(missed)} of {len(results['targets'])} targets met")


if __name__ == "__main__":
    main()
