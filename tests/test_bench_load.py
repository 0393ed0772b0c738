"""bench/load.py's CPU accounting from /proc (no Django, no load)."""

from __future__ import annotations

from bench import load


def _stat(proc, pid: int, name: str, utime: int, stime: int, cutime: int, cstime: int) -> None:
    # /proc/<pid>/stat: pid (comm) state, then fields 4 to 13, then utime stime cutime cstime.
    rest = ["S", "1", "1", "1", "0", "-1", "0", "0", "0", "0", "0"]
    rest += [str(utime), str(stime), str(cutime), str(cstime), "20", "0"]
    (proc / str(pid)).mkdir()
    (proc / str(pid) / "stat").write_text(f"{pid} ({name}) {' '.join(rest)}\n")


def test_services_cpu_keeps_the_cpu_of_backends_that_ended(tmp_path):
    ticks = load.CLOCK_TICKS
    _stat(tmp_path, 10, "postgres", 5 * ticks, 1 * ticks, 0, 0)  # postmaster
    _stat(tmp_path, 11, "postgres", 3 * ticks, 1 * ticks, 0, 0)  # a live backend
    _stat(tmp_path, 12, "redis-server", 7 * ticks, 0, 0, 0)
    before = load.processes_cpu("postgres", tmp_path)
    assert before == 10
    # The backend's connection closes: the postmaster reaps it and counts its CPU as cutime,
    # plus one more second it spent before it ended.
    (tmp_path / "11" / "stat").unlink()
    (tmp_path / "11").rmdir()
    (tmp_path / "10" / "stat").unlink()
    (tmp_path / "10").rmdir()
    _stat(tmp_path, 10, "postgres", 5 * ticks, 1 * ticks, 4 * ticks, 1 * ticks)
    assert load.processes_cpu("postgres", tmp_path) - before == 1
    assert load.processes_cpu("redis-server", tmp_path) == 7
