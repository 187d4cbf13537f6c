"""AlertManager: one ``modelops_on_alert`` per alert and window, a more severe alert is not a
duplicate, racing processes sharing a state file fire once, a process killed after sending
leaves a valid state and the alert fires again (at least once), a corrupt state is set aside."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from project_env import enter_project

from modelops_core.monitoring.alerts import (
    CRASH_AT_ENV,
    Alert,
    AlertError,
    AlertManager,
    AlertStateWarning,
)
from modelops_core.plugins.markers import hookimpl
from modelops_core.testing import make_runtime

HOUR = 3600.0
T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


class Recorder:
    """A plugin that writes every alert it hears to a file (one JSON line each)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @hookimpl
    def modelops_on_alert(self, name: str, severity: str, details: Any) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps([name, severity, details["subject"]]) + "\n")


def heard(path: Path) -> list[list[str]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def manager(tmp_path: Path, **options: Any) -> AlertManager:
    recorder = Recorder(tmp_path / "heard.jsonl")
    runtime = make_runtime(tmp_path / ".modelops", [("recorder", recorder)])
    return AlertManager(runtime, **options)


def test_a_duplicate_in_the_same_window_is_suppressed_and_fires_in_the_next(
    tmp_path: Path,
) -> None:
    alerts = manager(tmp_path, window=HOUR)
    drift = Alert("drift.ks", "warning", "drift in age", subject="age", at=T0 + 10)
    first = alerts.fire([drift, Alert("drift.ks", "warning", "again", subject="age", at=T0 + 3599)])
    assert [d.fired for d in first] == [True, False]
    assert first[1].reason == (
        "duplicate: warning already fired in the window 2026-01-01T00:00:00Z - 2026-01-01T01:00:00Z"
    )
    assert first[1].window == (T0, T0 + HOUR)
    other = Alert("drift.ks", "warning", "drift in income", subject="income", at=T0 + 20)
    later = Alert("drift.ks", "warning", "drift in age", subject="age", at=T0 + HOUR)
    assert [d.fired for d in alerts.fire([other, later])] == [True, True]
    assert heard(tmp_path / "heard.jsonl") == [
        ["drift.ks", "warning", "age"],
        ["drift.ks", "warning", "income"],
        ["drift.ks", "warning", "age"],
    ]


def test_a_more_severe_alert_is_not_a_duplicate(tmp_path: Path) -> None:
    alerts = manager(tmp_path, window=HOUR)
    fired = alerts.fire(
        [
            Alert("health.burn_rate.availability", "warning", "ticket", subject="m/1", at=T0),
            Alert("health.burn_rate.availability", "critical", "page", subject="m/1", at=T0 + 5),
            Alert("health.burn_rate.availability", "warning", "ticket", subject="m/1", at=T0 + 9),
        ]
    )
    assert [d.fired for d in fired] == [True, True, False]


def test_alerts_below_min_severity_are_not_fired(tmp_path: Path) -> None:
    alerts = manager(tmp_path, window=HOUR, min_severity="warning")
    (delivery,) = alerts.fire([Alert("drift.ks", "info", "small", subject="age", at=T0)])
    assert not delivery.fired and delivery.reason == "below min_severity warning"
    assert heard(tmp_path / "heard.jsonl") == []


def test_bad_settings_are_named() -> None:
    with pytest.raises(AlertError, match="severity='page'"):
        Alert("x", "page", "m")
    runtime = make_runtime(Path("/nonexistent/.modelops"))
    with pytest.raises(AlertError, match="window=0"):
        AlertManager(runtime, window=0)


def _fire_once(home: str, state: str, heard_path: str, barrier: Any) -> None:
    alerts = manager_in(home, heard_path, state)
    barrier.wait()
    alerts.fire([Alert("health.burn_rate.availability", "critical", "page", subject="all", at=T0)])


def manager_in(home: str, heard_path: str, state: str) -> AlertManager:
    recorder = Recorder(Path(heard_path))
    runtime = make_runtime(Path(home), [("recorder", recorder)])
    return AlertManager(runtime, window=HOUR, state=state)


def test_racing_processes_sharing_a_state_file_fire_once(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(4)
    args = (str(tmp_path / ".modelops"), str(tmp_path / "state.json"), str(tmp_path / "h.jsonl"))
    workers = [context.Process(target=_fire_once, args=(*args, barrier)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    assert heard(tmp_path / "h.jsonl") == [["health.burn_rate.availability", "critical", "all"]]
    state = json.loads((tmp_path / "state.json").read_text())
    assert list(state["alerts"]) == ["health.burn_rate.availability|all"]


CHILD = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tests!r})
    from test_monitor_alerts import Alert, T0, manager_in
    alerts = manager_in({home!r}, {heard!r}, {state!r})
    alerts.fire([Alert("drift.psi", "warning", "psi", subject="age", at=T0)])
    """
)


def test_a_process_killed_after_sending_fires_again_and_leaves_a_valid_state(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state.json"
    first = manager_in(str(tmp_path / ".modelops"), str(tmp_path / "h.jsonl"), str(state))
    first.fire([Alert("drift.ks", "warning", "ks", subject="income", at=T0)])
    before = state.read_text()
    code = CHILD.format(
        tests=str(Path(__file__).parent),
        home=str(tmp_path / ".modelops"),
        heard=str(tmp_path / "h.jsonl"),
        state=str(state),
    )
    child = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, CRASH_AT_ENV: "after-send"}, timeout=60
    )
    assert child.returncode == 137
    assert state.read_text() == before  # the state the killed process never wrote is intact
    assert heard(tmp_path / "h.jsonl")[-1] == ["drift.psi", "warning", "age"]
    again = subprocess.run([sys.executable, "-c", code], timeout=60)
    assert again.returncode == 0
    assert [entry[0] for entry in heard(tmp_path / "h.jsonl")] == [
        "drift.ks", "drift.psi", "drift.psi",
    ]  # fmt: skip
    assert sorted(json.loads(state.read_text())["alerts"]) == ["drift.ks|income", "drift.psi|age"]


def test_a_corrupt_state_is_set_aside_and_alerts_fire(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text('{"version": 1, "alerts": {"x|y": {"window": "soon"}}}')
    alerts = manager(tmp_path, window=HOUR, state=state)
    with pytest.warns(AlertStateWarning, match="the alert state is unreadable"):
        (delivery,) = alerts.fire([Alert("drift.ks", "warning", "ks", subject="age", at=T0)])
    assert delivery.fired
    (aside,) = tmp_path.glob("state.json.corrupt-*")
    assert "soon" in aside.read_text()
    assert list(json.loads(state.read_text())["alerts"]) == ["drift.ks|age"]


def _drift_runtime(home: Path, window: float) -> Any:
    """A runtime whose alerts go to the first-party ``log`` sink (``<home>/alerts.jsonl``)."""
    alerts_plugin = pytest.importorskip("modelops_alerts.plugin")
    from modelops_core import builtin
    from modelops_core.config import ComponentChoice, Config

    config = Config(home=home, alert_sinks=(ComponentChoice("log"),), alert_window=window)
    plugins = [("modelops-core", builtin), ("modelops-alerts", alerts_plugin)]
    return make_runtime(home, plugins, config=config)


AGES = {"age": [float(i % 50) for i in range(500)], "plan": ["a", "b"] * 250}
OLDER = {"age": [float(i % 50) + 30 for i in range(500)], "plan": ["a", "b"] * 250}


def logged(home: Path) -> list[tuple[str, str]]:
    path = home / "alerts.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [(json.loads(line)["name"], json.loads(line)["subject"]) for line in lines]


def test_drift_found_twice_in_a_window_reaches_the_log_sink_once(tmp_path: Path) -> None:
    from modelops_core.monitoring.drift import Monitor

    runtime = _drift_runtime(tmp_path, window=1e9)  # one window from 2001 to 2033
    first = Monitor(AGES, runtime=runtime)
    assert first.drift(OLDER)["age"].drifted
    first.drift(OLDER)  # the same monitor again
    Monitor(AGES, runtime=runtime).drift(OLDER)  # a new one: the state file remembers
    assert logged(tmp_path) == [("drift.ks", "age")]  # "plan" did not drift
    state = json.loads((tmp_path / "monitoring" / "alerts.json").read_text())
    assert list(state["alerts"]) == ["drift.ks|age"]


def test_drift_found_in_two_windows_reaches_the_log_sink_twice(tmp_path: Path) -> None:
    from modelops_core.monitoring.alerts import home_state
    from modelops_core.monitoring.drift import Monitor

    runtime = _drift_runtime(tmp_path, window=HOUR)
    now = [T0 + 10]
    clock = AlertManager(runtime, state=home_state(runtime), clock=lambda: now[0])
    monitor = Monitor(AGES, alerts=clock)
    assert monitor.runtime is runtime  # the manager's
    monitor.drift(OLDER)
    now[0] = T0 + HOUR - 1  # the same window
    monitor.drift(OLDER)
    now[0] = T0 + HOUR  # the next one
    monitor.drift(OLDER)
    assert logged(tmp_path) == [("drift.ks", "age"), ("drift.ks", "age")]
    at = [json.loads(line)["at"] for line in (tmp_path / "alerts.jsonl").read_text().splitlines()]
    assert at == [T0 + 10, T0 + HOUR]


def test_the_drift_command_run_twice_in_a_window_alerts_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("modelops_alerts")
    from modelops_core.cli.main import main

    enter_project(tmp_path, monkeypatch)
    (tmp_path / "modelops.toml").write_text('[alerts]\nwindow = 1e9\nsinks = ["log"]\n')
    for name, data in (("ref.csv", AGES), ("cur.csv", OLDER)):
        rows = zip(data["age"], data["plan"], strict=True)
        (tmp_path / name).write_text("age,plan\n" + "".join(f"{a},{p}\n" for a, p in rows))
    for _ in range(2):
        assert main(["monitor", "drift", "ref.csv", "cur.csv", "--json"]) == 0
    capsys.readouterr()
    assert logged(tmp_path / ".modelops") == [("drift.ks", "age")]


def test_rows_drifting_together_alert_once_a_window_too(tmp_path: Path) -> None:
    from modelops_core.monitoring.drift import Monitor

    rng = np.random.default_rng(1)
    x, noise = rng.normal(0, 1, 2_000), rng.normal(0, 1, 2_000)
    reference = {"x": x.round(4).tolist(), "y": noise.round(4).tolist()}
    current = {"x": x.round(4).tolist(), "y": (0.9 * x + 0.436 * noise).round(4).tolist()}
    runtime = _drift_runtime(tmp_path, window=1e9)
    for _ in range(2):
        report = Monitor(reference, multivariate="mmd", runtime=runtime, seed=4).drift(current)
    assert report.rows is not None and report.rows.drifted
    assert not any(column.drifted for column in report.columns)  # the same marginals
    assert logged(tmp_path) == [("drift.mmd", "rows of x, y")]
