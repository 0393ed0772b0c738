"""The production shape as separate processes, and what a test needs to talk to it.

gunicorn with the repository's configuration, a Celery worker and beat against Redis, the
pytest-django test database on PostgreSQL, and an SMTP server in the test process (aiosmtpd)
that keeps what the worker sends. The browser speaks HTTP to gunicorn as the TLS proxy of
README "Production" would: ``X-Forwarded-Proto: https`` on every request, one new connection
per request, so that requests land on any worker.
"""

from __future__ import annotations

import email
import email.policy
import http.client
import itertools
import json
import logging
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

# The Redis database of the subprocesses (broker, cache, sessions): not the test process's.
# Flushed before and after; another run on the same Redis (CI's) must name another one.
REDIS_DB = int(os.environ.get("PRODUCTION_TEST_REDIS_DB", "9"))
# gunicorn's access log with the serving worker's pid and the request's id (X-Test-Request),
# so that a test can tell which worker answered which request.
ACCESS_LOG_FORMAT = "access %(p)s id=%({x-test-request}i)s %(s)s %(r)s"
READY_TIMEOUT = 45.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition: Callable[[], object], timeout: float, what: str, interval=0.05):
    """Poll ``condition`` until it returns something true; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout:.0f} s waiting for {what}.")
        time.sleep(interval)


# --- SMTP ------------------------------------------------------------------------------------


@dataclass
class Mail:
    sender: str
    to: list[str]
    message: email.message.EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        return self.message.get_body(preferencelist=("plain",)).get_content()

    def links(self) -> list[str]:
        return re.findall(r"https?://[^\s<>\"]+", self.text)


class SmtpSink:
    """An SMTP server in a thread of the test process that keeps every message it accepts."""

    def __init__(self):
        from aiosmtpd.controller import Controller  # only where these tests run, not skip

        self.mails: list[Mail] = []
        self.running = False
        self._lock = threading.Lock()
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self._controller.start()
        self.running = True

    def stop(self) -> None:
        if self.running:
            self._controller.stop()
            self.running = False

    def wait_for(self, to: str, subject: str, timeout: float = 30.0) -> Mail:
        def find():
            with self._lock:
                return next((m for m in self.mails if to in m.to and m.subject == subject), None)

        return wait_until(find, timeout, f"the email {subject!r} to {to} at the SMTP sink")

    def summary(self) -> str:
        with self._lock:
            return "\n".join(f"{m.to} {m.subject!r}" for m in self.mails) or "(none)"


# --- Processes -------------------------------------------------------------------------------


class Service:
    """One subprocess, its output in a file, stopped with its whole process group."""

    def __init__(self, name: str, command: list[str], env: dict, cwd: Path, log_dir: Path):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own group: gunicorn's workers stop with it
            )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_for_output(self, pattern: str, timeout: float = READY_TIMEOUT) -> None:
        def seen():
            if not self.alive():
                raise AssertionError(f"{self.name} exited with {self.process.returncode}.")
            return re.search(pattern, self.output())

        wait_until(seen, timeout, f"{self.name} to log {pattern!r}")

    def stop(self) -> None:
        if not self.alive():
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        except ProcessLookupError:
            pass


class Stack:
    """gunicorn, a Celery worker and beat with production settings, and the SMTP sink."""

    def __init__(self, *, base_dir: Path, work_dir: Path, database: dict, redis_url: str):
        self.base_dir = base_dir
        self.work_dir = work_dir
        self.port = free_port()
        self.site_url = f"http://127.0.0.1:{self.port}"
        self.redis_url = _with_path(redis_url, f"/{REDIS_DB}")
        self.smtp = SmtpSink()
        self.services: list[Service] = []
        self.env = {
            # Not pytest's variables, nor the async escape hatch the test settings need.
            **{
                k: v
                for k, v in os.environ.items()
                if not k.startswith("PYTEST") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
            },
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "PYTHONUNBUFFERED": "1",
            "DEBUG": "False",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SITE_URL": self.site_url,
            "DATABASE_URL": _database_url(database),
            "REDIS_URL": self.redis_url,
            "CELERY_TASK_ALWAYS_EAGER": "False",
            "EMAIL_URL": f"smtp://127.0.0.1:{self.smtp.port}",
            "STATIC_ROOT": str(work_dir / "static"),
            "MEDIA_ROOT": str(work_dir / "media"),
            "PORTAL_VAR_DIR": str(work_dir / "var"),
            "BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": "2",
            "GUNICORN_THREADS": "1",
            "USE_X_FORWARDED_FOR": "True",
        }

    @property
    def gunicorn(self) -> Service:
        return self._service("gunicorn")

    @property
    def worker(self) -> Service:
        return self._service("worker")

    @property
    def beat(self) -> Service:
        return self._service("beat")

    def _service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

    def start(self) -> None:
        import redis

        redis.Redis.from_url(self.redis_url).flushdb()
        self.smtp.start()
        python = sys.executable
        collect = subprocess.run(
            [python, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=self.base_dir,
            env=self.env,
            capture_output=True,
            text=True,
        )
        assert collect.returncode == 0, f"collectstatic failed:\n{collect.stdout}{collect.stderr}"
        celery = [python, "-m", "celery", "-A", "portal"]
        self._run(
            "gunicorn",
            [python, "-m", "gunicorn", "-c", "portal/gunicorn.py", "portal.wsgi"]
            + ["--access-logformat", ACCESS_LOG_FORMAT]
            # Its own control socket, not the one shared in $HOME by every gunicorn.
            + ["--control-socket", str(self.work_dir / "gunicorn.ctl")],
        )
        # --without-mingle/gossip: no other workers to meet; saves a second of start-up.
        self._run(
            "worker",
            celery
            + ["worker", "--pool", "solo", "--loglevel", "INFO", "--hostname", "prodshape@%h"]
            + ["--without-mingle", "--without-gossip"],
        )
        self._run(
            "beat",
            celery
            + ["beat", "--loglevel", "INFO", "--schedule", str(self.work_dir / "beat-schedule")]
            + ["--pidfile", str(self.work_dir / "beat.pid")],
        )
        browser = Browser(self)
        wait_until(lambda: self._healthy(browser), READY_TIMEOUT, "gunicorn to answer /healthz")
        self.worker.wait_for_output(r"prodshape@\S+ ready\.")
        self.beat.wait_for_output(r"beat: Starting")

    def _run(self, name: str, command: list[str]) -> None:
        self.services.append(Service(name, command, self.env, self.base_dir, self.work_dir))

    def _healthy(self, browser: Browser) -> bool:
        if not self.gunicorn.alive():
            raise AssertionError(f"gunicorn exited with {self.gunicorn.process.returncode}.")
        try:
            return browser.get("/healthz").status == 200
        except OSError:
            return False

    def stop(self) -> None:
        for service in self.services:
            service.stop()
        self.smtp.stop()
        try:
            import redis

            redis.Redis.from_url(self.redis_url).flushdb()
        except Exception:  # noqa: BLE001, S110 (cleaning up; the next run flushes it first)
            pass

    def worker_pid(self, request_id: str) -> str:
        """The pid of the gunicorn worker that answered a request (from its access log)."""
        pattern = rf"access <(\d+)> id={re.escape(request_id)} "
        found = wait_until(
            lambda: re.search(pattern, self.gunicorn.output()), 5, f"request {request_id} logged"
        )
        return found.group(1)

    def diagnostics(self) -> str:
        parts = [f"===== {s.name} (pid {s.process.pid}) =====\n{s.output()}" for s in self.services]
        parts.append(f"===== emails at the SMTP sink =====\n{self.smtp.summary()}")
        return "\n".join(parts)


def _database_url(database: dict) -> str:
    user = quote(database["USER"] or "")
    if database.get("PASSWORD"):
        user += ":" + quote(database["PASSWORD"])
    host = database.get("HOST") or "127.0.0.1"
    port = database.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{quote(database['NAME'])}"


def _with_path(url: str, path: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=path))


# --- HTTP ------------------------------------------------------------------------------------


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    # Names of the visible inputs by type ("text", "password", "email", "checkbox", ...).
    inputs: dict[str, list[str]] = field(default_factory=dict)


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(attrs.get("action", ""), attrs.get("method", "get").lower()))
        elif tag in ("input", "textarea", "select") and self.forms and attrs.get("name"):
            kind = attrs.get("type", "text") if tag == "input" else tag
            form = self.forms[-1]
            form.inputs.setdefault(kind, []).append(attrs["name"])
            if kind == "hidden":
                form.fields[attrs["name"]] = attrs.get("value", "")


def parse_forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    text: str
    request_id: str
    path: str

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")

    def form(self, with_input: str | None = None) -> Form:
        """The page's own POST form (posting back to the page, not the language switcher's),
        the one with an input of this type (password, text, ...) or name if one is given."""
        for form in parse_forms(self.text):
            if form.method != "post" or form.action not in ("", self.path):
                continue
            names = [name for names in form.inputs.values() for name in names]
            if with_input is None or with_input in form.inputs or with_input in names:
                return form
        raise AssertionError(f"No POST form with {with_input!r} in the page:\n{self.text}")

    def json(self) -> dict:
        return json.loads(self.text)


class Browser:
    """One browser behind the TLS-terminating proxy.

    Every request goes on a new connection (the proxy balances each over gunicorn's workers)
    with ``X-Forwarded-Proto: https`` and the browser's own address in ``X-Forwarded-For``;
    cookies are kept here by hand because the portal's are Secure, which a standard cookie
    jar would never send over this plain-http hop.
    """

    _addresses = itertools.count(1)

    def __init__(self, stack: Stack):
        self.stack = stack
        self.address = f"203.0.113.{next(self._addresses) % 250 + 1}"  # documentation range
        self.cookies: dict[str, str] = {}
        self.set_cookie_headers: list[str] = []

    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self.stack.port}"

    def path_of(self, url: str) -> str:
        """The path of an emailed or redirect URL, checked to point to this portal."""
        parts = urlsplit(url)
        if parts.scheme:
            origin = f"{parts.scheme}://{parts.netloc}"
            assert origin in (self.stack.site_url, self.origin), f"{url} leaves the portal"
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def headers(self, request_id: str) -> dict[str, str]:
        headers = {
            "Host": f"127.0.0.1:{self.stack.port}",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": self.address,
            "Accept-Language": "en",
            "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) production-shape-test",
            "X-Test-Request": request_id,
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return headers

    def request(self, method: str, path: str, fields: dict | None = None) -> Response:
        path, request_id = self.path_of(path), uuid.uuid4().hex
        headers = self.headers(request_id)
        body = None
        if method == "POST":
            body = urlencode(fields or {}).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = self.origin
            headers["Referer"] = self.origin + path
        connection = http.client.HTTPConnection("127.0.0.1", self.stack.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            raw = connection.getresponse()
            text = raw.read().decode()
            response = Response(raw.status, raw.headers, text, request_id, path)
        finally:
            connection.close()
        self._keep_cookies(response.headers)
        return response

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, fields: dict) -> Response:
        return self.request("POST", path, fields)

    def submit(self, page: Response, values: dict, with_input: str | None = None) -> Response:
        """Post the page's form that has ``with_input``, with its hidden fields (the CSRF
        token, the wizard's step) and ``values``."""
        form = page.form(with_input)
        return self.post(form.action or page.path, {**form.fields, **values})

    def _keep_cookies(self, headers: http.client.HTTPMessage) -> None:
        for header in headers.get_all("Set-Cookie") or []:
            self.set_cookie_headers.append(header)
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def held_request(self, path: str) -> HeldRequest:
        return HeldRequest(self, path)


class HeldRequest:
    """A GET whose headers stop short of their end, so that the worker reading it waits.

    gunicorn's sync workers take connections in the order they arrived and serve one at a
    time: while one worker waits here, the next request can only go to another worker.
    """

    def __init__(self, browser: Browser, path: str):
        self.request_id = uuid.uuid4().hex
        self.path = path
        lines = [f"GET {path} HTTP/1.1"]
        lines += [f"{k}: {v}" for k, v in browser.headers(self.request_id).items()]
        self.socket = socket.create_connection(("127.0.0.1", browser.stack.port), timeout=30)
        self.socket.sendall(("\r\n".join(lines) + "\r\n").encode())

    def finish(self) -> Response:
        try:
            self.socket.sendall(b"Connection: close\r\n\r\n")
            raw = http.client.HTTPResponse(self.socket)
            raw.begin()
            text = raw.read().decode()
            return Response(raw.status, raw.headers, text, self.request_id, self.path)
        finally:
            self.socket.close()
