"""Serving the portal with gunicorn and driving it with wrk, with CPU accounting.

No Django in this process: it talks HTTP to gunicorn on loopback and reads /proc, so that
what it measures is the deployment, not the harness.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import json
import os
import re
import struct
import subprocess
import sys
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
WRK_DIR = BENCH_DIR / "wrk"
# Any 32-character secret is a valid CSRF cookie; the client sends it back unmasked.
CSRF_SECRET = "benchBENCHbench0123456789abcdefX"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- /proc ------------------------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def _children(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            children += [int(c) for c in (task / "children").read_text().split()]
    return children


def process_tree_cpu(pid: int) -> float:
    """CPU seconds of a process, its live children and its reaped children (cutime)."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0
    # fields[11..14]: utime, stime, cutime, cstime (stat fields 14-17)
    ticks = sum(int(value) for value in fields[11:15])
    for child in _children(pid):
        child_fields = _stat_fields(child)
        if child_fields:
            ticks += sum(int(value) for value in child_fields[11:15])
    return ticks / CLOCK_TICKS


def processes_cpu(name: str, proc: Path = Path("/proc")) -> float:
    """CPU seconds of every live process with this command name (postgres, redis-server),
    with the children they reaped: PostgreSQL's postmaster reaps the backend of a closed
    connection (a gunicorn worker replaced after max_requests), whose CPU would otherwise
    drop out of the sum between two snapshots and make the difference negative."""
    ticks = 0
    for stat in proc.glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if text[text.index("(") + 1 : text.rindex(")")] != name:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        ticks += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent not idle, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / CLOCK_TICKS


# --- gunicorn ---------------------------------------------------------------------------------


@dataclass
class Server:
    port: int
    process: subprocess.Popen
    log: Path
    workers: int
    threads: int
    worker_class: str

    @property
    def connections(self) -> int:
        """wrk's connections: twice as many as gunicorn serves at once, so that a worker never
        waits for wrk."""
        return 2 * self.workers * self.threads

    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_gunicorn(env: dict, port: int, log: Path) -> Server:
    """gunicorn with the production configuration (portal/gunicorn.py), bound to loopback."""
    env = {**env, "BIND": f"127.0.0.1:{port}"}
    config = subprocess.run(
        [
            sys.executable,
            "-c",
            "import runpy; c = runpy.run_path('portal/gunicorn.py'); "
            "print(c['workers'], c['threads'], c['worker_class'])",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    handle = log.open("w")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "-c",
            "portal/gunicorn.py",
            "portal.wsgi",
        ],
        cwd=ROOT,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    server = Server(port, process, log, int(config[0]), int(config[1]), config[2])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited; see {log}")
        try:
            status, _headers, _body = request(server, "GET", "/healthz/live")
            if status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"gunicorn did not answer within 60 s; see {log}")


# --- HTTP as a browser ------------------------------------------------------------------------


def request(
    server: Server, method: str, path: str, *, cookies: dict | None = None, form: dict | None = None
) -> tuple[int, list[tuple[str, str]], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    headers = {"X-Forwarded-Proto": "https"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Origin"] = server.origin
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def _set_cookie(headers, name: str) -> str | None:
    for key, value in headers:
        if key.lower() == "set-cookie" and value.startswith(f"{name}="):
            return value.split(";", 1)[0].split("=", 1)[1]
    return None


def totp(hex_key: str, at: float | None = None, step: int = 30, digits: int = 6) -> str:
    """RFC 6238, as django-otp's TOTPDevice computes it."""
    counter = int((at or time.time()) // step)
    digest = hmac.new(bytes.fromhex(hex_key), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return str(code).zfill(digits)


def wait_for_next_code(step: int = 30) -> None:
    """A TOTP code is accepted once: after the query count or an earlier sign-in used this
    period's code, the next sign-in of the same person waits for the next period."""
    time.sleep(step + 1 - time.time() % step)


def _login_step(server: Server, cookies: dict, step: str, **fields: str) -> tuple[int, list]:
    """POST one step of the sign-in wizard; the status and the response headers."""
    status, headers, _ = request(
        server,
        "POST",
        "/account/login/",
        cookies=cookies,
        form={"csrfmiddlewaretoken": CSRF_SECRET, "login_view-current_step": step, **fields},
    )
    return status, headers


def identified_session(server: Server, username: str) -> str:
    """A session whose sign-in wizard has taken the user name and waits for the password."""
    status, headers = _login_step(
        server, {"csrftoken": CSRF_SECRET}, "identify", **{"identify-username": username}
    )
    session = _set_cookie(headers, "sessionid")
    if status != 303 or not session:
        raise RuntimeError(f"identifier step for {username} answered {status}")
    return session


def sign_in(server: Server, username: str, password: str, totp_key: str | None = None) -> str:
    """A signed-in (and, with a TOTP key, second-factor verified) session id."""
    session = identified_session(server, username)
    cookies = {"csrftoken": CSRF_SECRET, "sessionid": session}
    status, headers = _login_step(server, cookies, "auth", **{"auth-password": password})
    if totp_key:
        if status != 303:
            raise RuntimeError(
                f"password step for {username} answered {status}, not the token step"
            )
        for _attempt in range(3):
            status, headers = _login_step(
                server, cookies, "token", **{"token-otp_token": totp(totp_key)}
            )
            if status == 302:
                break
            wait_for_next_code()
    session = _set_cookie(headers, "sessionid")
    if status != 302 or not session:
        raise RuntimeError(f"sign-in of {username} answered {status}")
    return session


# Each benchmark user signs in from one browser of their own, as a returning browser does:
# the portal's browser cookie is this prefix plus the user name (bench/wrk/*.lua add it).
# A sign-in from a browser the portal has not seen for a user who signed in before renders
# and queues a "new sign-in" email; with one browser per user, neither run measures that.
BROWSER_PREFIX = "bench-browser-0123456789-"


def prepare_password_sessions(
    server: Server, usernames: list[str], count: int, password: str
) -> list[str]:
    """`count` sessions waiting at the password step, each for a different user:
    "session<TAB>password<TAB>user name" lines for bench/wrk/password.lua."""
    names = [usernames[i % len(usernames)] for i in range(count)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        sessions = list(pool.map(lambda name: identified_session(server, name), names))
    quoted = urllib.parse.quote(password)
    return [f"{session}\t{quoted}\t{name}" for session, name in zip(sessions, names, strict=True)]


# --- wrk --------------------------------------------------------------------------------------


def run_wrk(
    server: Server,
    script: str,
    path: str,
    *,
    seconds: float,
    connections: int,
    threads: int,
    env: dict | None = None,
) -> dict:
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "30s",
        "-s",
        str(WRK_DIR / script),
        server.base_url + path,
    ]
    run_env = {
        **os.environ,
        "BENCH_WRK_DIR": str(WRK_DIR),
        "BENCH_CSRF": CSRF_SECRET,
        "BENCH_ORIGIN": server.origin,
        "BENCH_THREADS": str(threads),
        **(env or {}),
    }
    output = subprocess.run(command, env=run_env, capture_output=True, text=True, check=True)
    match = re.search(r"^BENCH_RESULT (\{.*\})$", output.stdout, re.MULTILINE)
    if not match:
        raise RuntimeError(f"wrk printed no result:\n{output.stdout}\n{output.stderr}")
    return json.loads(match.group(1))


def measure(
    server: Server,
    name: str,
    script: str,
    path: str,
    *,
    seconds: float,
    warmup: float,
    connections: int,
    threads: int | None = None,
    env: dict | None = None,
    unit_key: str = "ok",
) -> dict:
    """Warm up, then one timed wrk run with the CPU spent by gunicorn, PostgreSQL, Redis and
    the whole machine. `unit_key` names the counter of completed units (requests or
    sign-ins) that throughput and CPU are reported per."""
    threads = threads or connections
    if warmup:
        run_wrk(
            server, script, path, seconds=warmup, connections=connections, threads=threads, env=env
        )
    before = _cpu_snapshot(server)
    result = run_wrk(
        server, script, path, seconds=seconds, connections=connections, threads=threads, env=env
    )
    after = _cpu_snapshot(server)
    seconds_run = result["duration_us"] / 1e6
    units = result.get(unit_key, result["requests"])

    def per_unit(key):
        return round((after[key] - before[key]) * 1000 / units, 3) if units else None

    figure = {
        "name": name,
        "path": path,
        "connections": connections,
        "seconds": round(seconds_run, 2),
        "units": units,
        "per_second": round(units / seconds_run, 2),
        "requests": result["requests"],
        "requests_per_second": round(result["requests"] / seconds_run, 2),
        "wrong_answers": result.get("wrong", 0) + result.get("exhausted", 0),
        "socket_errors": sum(
            result[k] for k in ("errors_connect", "errors_read", "errors_timeout")
        ),
        "p50_ms": round(result["latency_p50_us"] / 1000, 2),
        "p99_ms": round(result["latency_p99_us"] / 1000, 2),
        "cpu_ms_per_unit": per_unit("app"),
        "db_cache_cpu_ms_per_unit": per_unit("services"),
        "machine_cpu_ms_per_unit": per_unit("machine"),
    }
    if "sequence_p50_ms" in result:
        figure["p50_ms"] = round(result["sequence_p50_ms"], 2)
        figure["p99_ms"] = round(result["sequence_p99_ms"], 2)
        figure["request_p50_ms"] = round(result["latency_p50_us"] / 1000, 2)
        figure["request_p99_ms"] = round(result["latency_p99_us"] / 1000, 2)
    return figure


def _cpu_snapshot(server: Server) -> dict:
    return {
        "app": process_tree_cpu(server.process.pid),
        "services": processes_cpu("postgres") + processes_cpu("redis-server"),
        "machine": machine_busy_seconds(),
    }
