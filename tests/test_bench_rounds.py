"""The benchmark's rounds: each figure against the reference measured right before it."""

from __future__ import annotations

from bench import run


def _figure(per_second: float, wrong: int = 0) -> dict:
    return {"name": "x", "per_second": per_second, "wrong_answers": wrong, "socket_errors": 0}


def test_paired_rounds_keep_the_round_with_the_median_ratio():
    references = iter([100.0, 200.0, 50.0])
    figures = iter([30.0, 40.0, 20.0])  # ratios 0.3, 0.2, 0.4
    timings = []

    def reference(timing):
        timings.append(timing)
        return _figure(next(references))

    result = run.paired_rounds(
        reference, lambda timing, ref: _figure(next(figures)), rounds=3, seconds=5, warmup=2
    )
    assert result["per_second"] == 30.0
    assert result["paired_reference_per_second"] == 100.0
    assert result["paired_ratio"] == 0.3
    assert result["ratio_runs"] == [0.3, 0.2, 0.4]
    assert [t["warmup"] for t in timings] == [2, 0, 0]  # only the first round warms up


def test_queue_sizes_compare_round_by_round(monkeypatch):
    speeds = {"large": iter([40.0, 45.0, 60.0]), "small": iter([50.0, 50.0, 50.0])}
    monkeypatch.setattr(run, "say", lambda text: None)
    monkeypatch.setattr(run, "measure_minimal", lambda server, **timing: _figure(1000.0))
    monkeypatch.setattr(
        run,
        "measure_page",
        lambda server, name, path, agent, **timing: _figure(next(speeds[server])),
    )
    result = run.compare_queues(
        {"large": "large", "small": "small"}, {"large": "a", "small": "b"}, 3, seconds=1, warmup=0
    )
    assert result["large"]["size_ratio_runs"] == [0.8, 0.9, 1.2]
    assert result["large"]["size_ratio"] == 0.9
    assert result["large"]["per_second"] == 45.0  # the median run
    assert result["large"]["paired_ratio"] == 0.045
    assert result["small"]["runs_per_second"] == [50.0, 50.0, 50.0]


def test_wrong_answers_of_every_round_count_not_only_the_median_rounds():
    figures = iter([_figure(30.0, wrong=5), _figure(40.0), _figure(20.0, wrong=1)])
    result = run.paired_rounds(
        lambda timing: _figure(100.0),
        lambda timing, ref: next(figures),
        rounds=3,
        seconds=5,
        warmup=2,
    )
    assert result["per_second"] == 30.0
    assert result["wrong_answers"] == 6


def test_the_password_steps_warm_up_never_posts_into_the_measured_runs_sessions(
    monkeypatch, tmp_path
):
    monkeypatch.setattr(run, "WORK", tmp_path)
    prepared = []

    def prepare(server, usernames, count, password):
        batch = [f"s{len(prepared)}-{i}\tpw\tuser" for i in range(count)]
        prepared.append(batch)
        return batch

    used = []

    def sessions_of(env):
        lines = (tmp_path / env["BENCH_SESSIONS"]).read_text().splitlines()
        return [line.split("\t")[0] for line in lines]

    monkeypatch.setattr(run.load, "prepare_password_sessions", prepare)
    monkeypatch.setattr(
        run.load, "run_wrk", lambda server, script, path, **kw: used.append(sessions_of(kw["env"]))
    )

    def measure(server, name, script, path, **kw):
        assert kw["warmup"] == 0
        used.append(sessions_of(kw["env"]))
        return _figure(50.0)

    monkeypatch.setattr(run.load, "measure", measure)
    server = type("S", (), {"workers": 3, "threads": 1, "connections": 6})()
    timing = {"seconds": 10, "warmup": 3}
    run.measure_password_step(
        server, {"usernames": ["u"], "password": "p"}, timing, {"per_second": 80}
    )
    warm_up, measured = used
    assert not set(warm_up) & set(measured)
    assert len(measured) >= 80 * 10  # more sessions than the bound allows in the time
