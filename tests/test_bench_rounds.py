"""The benchmark's rounds: each figure against the reference measured right before it."""

from __future__ import annotations

from bench import run


def _figure(per_second: float) -> dict:
    return {"name": "x", "per_second": per_second}


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
