"""`make run` runs the scheduled jobs too: Celery beat in the process that serves, where eager
tasks make each job run in place (no broker, no worker, no server of its own)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings as django_settings
from django.utils import timezone

from accounts.models import PasswordReminder
from portal.celery import embedded_beat

BASE = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _embedded_env(var_dir: Path) -> dict[str, str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
        and not k.startswith("CELERY_")
    }
    return {**clean, "PORTAL_VAR_DIR": str(var_dir), "PYTHONUNBUFFERED": "1"}


def _ran_in_place(task: str, log: str) -> bool:
    return bool(re.search(rf"Task {re.escape(task)}\[\S+\] succeeded", log))


def _wait_for(path: Path, seen, seconds: float) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        content = path.read_text()
        if seen(content):
            return content
        time.sleep(0.2)
    return path.read_text()


def test_make_run_serves_with_the_scheduled_jobs():
    makefile = (BASE / "Makefile").read_text()
    assert "manage.py runserver_with_beat 127.0.0.1:8000" in makefile


def test_a_new_schedule_runs_each_job_once_in_place_and_keeps_what_ran(
    tmp_path, employee_a, mailoutbox
):
    """The first start is no exception to "what fell due while stopped runs at start": each job
    runs once, here in the caller's thread, and the schedule file in var/ remembers each at
    once."""
    employee_a.password_changed_at = timezone.now() - timedelta(days=90 - 6)
    employee_a.save()
    schedule_file = tmp_path / "celerybeat-schedule"
    scheduler = embedded_beat(schedule_file).service.scheduler
    while scheduler.tick() == 0:  # one due job per tick
        pass
    assert [mail.to for mail in mailoutbox] == [[employee_a.email]]
    assert PasswordReminder.objects.get().user == employee_a

    # The process ends without closing the schedule (Ctrl-C, a reload), and starts again.
    again = embedded_beat(schedule_file).service.scheduler
    assert set(again.schedule) >= set(django_settings.CELERY_BEAT_SCHEDULE)
    last_runs = [entry.last_run_at for entry in again.schedule.values()]
    assert all(timezone.now() - last_run < timedelta(minutes=1) for last_run in last_runs)
    assert again.tick() > 0  # nothing due now: no job runs twice
    again.close()
    scheduler.close()


def test_the_server_runs_each_job_in_its_own_process_once_and_stops_with_ctrl_c(tmp_path):
    """With the autoreloader two processes start: only the one that serves runs beat, and
    every job runs in it (none is sent to a broker nobody reads). Ctrl-C ends both."""
    env = _embedded_env(tmp_path)
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=BASE, env=env, timeout=90
    )
    assert migrate.returncode == 0
    log = tmp_path / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver_with_beat", f"127.0.0.1:{_free_port()}"],
            cwd=BASE,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        tasks = [entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()]
        content = _wait_for(log, lambda log: all(_ran_in_place(t, log) for t in tasks), 60)
        time.sleep(1)  # a second beat would have started by now
        os.killpg(server.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's processes
        server.wait(timeout=15)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
    content = log.read_text()
    assert "Quit the server with CONTROL-C" in content
    assert content.count("beat: Starting") == 1, content
    assert [task for task in tasks if not _ran_in_place(task, content)] == [], content
    assert "AlwaysEagerIgnored" not in content
    assert list(tmp_path.glob("celerybeat-schedule*"))


def test_beat_adds_no_result_cleanup_job_without_a_result_backend():
    """Celery adds a daily celery.backend_cleanup to beat while results expire; we keep none."""
    from celery.beat import Scheduler

    from portal.celery import app

    scheduler = Scheduler(app, lazy=True)
    scheduler.install_default_entries(scheduler.schedule)
    assert "celery.backend_cleanup" not in scheduler.schedule
