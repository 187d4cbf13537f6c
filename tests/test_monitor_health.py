"""Service health from a request log: exact quantiles and error rates per window, the SRE
workbook's multi-window burn-rate rules, bad rows as findings, unreadable logs as named errors,
and ``modelops monitor health`` (JSON, exit codes, alerts suppressed per window across runs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from project_env import enter_project

from modelops_core.cli.main import main
from modelops_core.monitoring.health import SLO, HealthLogError, health, read_request_log

#: 2026-01-01T00:00:00Z, a multiple of every window used here.
T0 = 1_767_225_600


def write_log(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def steady(seconds: int, error_every: int = 0, error_from: int = 0, slow_every: int = 0) -> list:
    """One request a second from T0; every ``error_every``-th from ``error_from`` on fails."""
    rows = []
    for i in range(seconds):
        failed = error_every and i >= error_from and (i - error_from) % error_every == 0
        slow = slow_every and i % slow_every == 0
        rows.append(
            {"timestamp": T0 + i, "latency_ms": 500.0 if slow else 20.0 + i % 7,
             "status": 503 if failed else 200, "model": "churn", "version": "3"}
        )  # fmt: skip
    return rows


def test_quantiles_and_error_rate_of_a_window_are_exact(tmp_path: Path) -> None:
    rows = [
        {"timestamp": T0 + i, "latency_ms": i + 1, "status": 500 if i % 10 == 9 else 200}
        for i in range(100)
    ]
    report = health(write_log(tmp_path / "log.jsonl", rows), window="5m")
    (window,) = report.windows
    assert (window.start, window.end, window.requests, window.errors) == (T0, T0 + 300, 100, 10)
    assert window.error_rate == 0.1
    assert (window.p50, window.p95, window.p99) == pytest.approx((50.5, 95.05, 99.01), abs=1e-12)
    assert report.findings == ()


def test_windows_follow_the_clock_and_empty_ones_are_findings(tmp_path: Path) -> None:
    rows = [
        {"timestamp": T0 + 10, "latency_ms": 10, "status": "ok"},
        {"timestamp": "2026-01-01T00:04:59Z", "latency_ms": 30, "status": "timeout"},
        {"timestamp": T0 + 930, "latency_ms": 40, "status": 404},
    ]
    report = health(write_log(tmp_path / "log.jsonl", rows), window="5m")
    assert [(w.start - T0, w.requests, w.errors) for w in report.windows] == [
        (0, 2, 1), (300, 0, 0), (600, 0, 0), (900, 1, 0),
    ]  # fmt: skip
    assert report.windows[1].p50 is None and report.windows[1].error_rate is None
    (finding,) = report.findings
    assert finding.kind == "empty_window"
    assert finding.message.startswith("2 of 4 windows of 5m have no request")


def test_steady_burn_fires_every_rule_with_exact_rates(tmp_path: Path) -> None:
    log = write_log(tmp_path / "log.jsonl", steady(3600, error_every=50))  # 2 % errors
    report = health(log, slos=["availability=99.9"], by_version=False)
    rates = {rate.rule.label: rate for rate in report.burn_rates}
    assert set(rates) == {"1h/5m>14.4x", "6h/30m>6x", "3d/6h>1x"}
    assert rates["1h/5m>14.4x"].long_rate == pytest.approx(20.0, rel=1e-12)
    assert rates["1h/5m>14.4x"].short_rate == pytest.approx(20.0, rel=1e-12)
    assert (rates["1h/5m>14.4x"].long_requests, rates["1h/5m>14.4x"].short_requests) == (3600, 300)
    assert [(a.name, a.severity) for a in report.alerts()] == [
        ("health.burn_rate.availability", "critical"),
        ("health.burn_rate.availability", "critical"),
        ("health.burn_rate.availability", "warning"),
    ]


def test_a_spike_in_the_last_minutes_fires_only_the_rule_whose_long_window_agrees(
    tmp_path: Path,
) -> None:
    # 10 % errors in the last 5 minutes only: 100x over 5m, but 8.33x over 1h (< 14.4);
    # over 30m 16.7x and over 6h 8.33x, both above 6.
    log = write_log(tmp_path / "log.jsonl", steady(3600, error_every=10, error_from=3300))
    report = health(log, slos=["availability=99.9"], by_version=False)
    rates = {rate.rule.label: rate for rate in report.burn_rates}
    assert rates["1h/5m>14.4x"].short_rate == pytest.approx(100.0, rel=1e-12)
    assert rates["1h/5m>14.4x"].long_rate == pytest.approx(30 / 3600 / 0.001, rel=1e-12)
    assert not rates["1h/5m>14.4x"].firing
    assert rates["6h/30m>6x"].firing and rates["3d/6h>1x"].firing


def test_a_burst_that_ended_stops_firing(tmp_path: Path) -> None:
    rows = steady(3600)
    for row in rows[:600]:
        row["status"] = "error"  # the first 10 minutes failed, the last 50 did not
    report = health(write_log(tmp_path / "log.jsonl", rows), slos=["availability=99.9"])
    first = next(r for r in report.burn_rates if r.rule.label == "1h/5m>14.4x")
    assert first.long_rate == pytest.approx(600 / 3600 / 0.001, rel=1e-12)
    assert first.short_rate == 0.0
    # only the ticket rule (3 days / 6 hours) still sees the burst; the pages stopped
    assert [(a.severity, a.subject) for a in report.alerts()] == [
        ("warning", "all|3d/6h>1x|availability"),
        ("warning", "churn/3|3d/6h>1x|availability"),
    ]


def test_a_latency_slo_counts_slow_requests_and_each_model_version_apart(tmp_path: Path) -> None:
    rows = steady(3600, slow_every=50)  # 2 % over 300 ms
    rows += [dict(row, version="4", latency_ms=10.0) for row in steady(3600)]
    report = health(write_log(tmp_path / "log.jsonl", rows), slos=["latency<=300ms=99"])
    burns = {(r.subject, r.rule.label): r for r in report.burn_rates}
    assert burns[("churn/3", "1h/5m>14.4x")].long_rate == pytest.approx(2.0, rel=1e-12)
    assert burns[("churn/4", "1h/5m>14.4x")].long_rate == 0.0
    assert burns[("all", "1h/5m>14.4x")].long_rate == pytest.approx(1.0, rel=1e-12)
    assert [a.subject for a in report.alerts()] == ["churn/3|3d/6h>1x|latency<=300ms"]


def test_bad_rows_are_findings_with_counts_and_first_lines(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps({"timestamp": T0, "latency_ms": 10, "status": 200}),
                f'{{"timestamp": {T0 + 1}, "latency_ms": NaN, "status": 500}}',
                f'{{"timestamp": {T0 + 2}, "latency_ms": -3, "status": "weird"}}',
                '{"timestamp": "yesterday", "latency_ms": 5, "status": 200}',
                "{not json",
                json.dumps({"timestamp": T0 + 3, "latency_ms": "fast", "status": True}),
                json.dumps({"timestamp": T0 + 4, "latency_ms": 30, "status": 200}),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    report = health(path)
    found = {f.kind: (f.rows, f.first_line) for f in report.findings}
    assert found == {
        "bad_latency": (3, 2),
        "unknown_status": (2, 3),
        "bad_timestamp": (1, 4),
        "invalid_line": (1, 5),
    }
    overall = report.overall
    assert (overall.requests, overall.errors) == (5, 1)
    assert overall.error_rate == pytest.approx(1 / 3, rel=1e-12)  # unknown statuses left out
    assert overall.p50 == 20.0  # NaN, -3 and "fast" are not latencies


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ('{"latency_ms": 3, "status": 200}\n', "no 'timestamp' column"),
        ('{"timestamp": "soon", "latency_ms": 3}\n', "none of the 1 rows has a usable timestamp"),
        ("[1, 2]\n", "no request in the file"),
    ],
)
def test_logs_without_usable_requests_are_named_errors(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(HealthLogError, match=message) as caught:
        health(path)
    assert str(path) in str(caught.value)


def test_unreadable_and_unknown_files_are_named_errors(tmp_path: Path) -> None:
    with pytest.raises(HealthLogError, match="missing.jsonl"):
        read_request_log(tmp_path / "missing.jsonl")
    with pytest.raises(HealthLogError, match="is a JSONL .* or Parquet"):
        read_request_log(tmp_path / "log.csv")
    broken = tmp_path / "log.parquet"
    broken.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(HealthLogError, match="cannot read the Parquet file"):
        read_request_log(broken)


def test_a_parquet_log_gives_the_same_report_as_jsonl(tmp_path: Path) -> None:
    pyarrow = pytest.importorskip("pyarrow")
    import pyarrow.parquet as parquet

    rows = steady(900, error_every=7)
    parquet.write_table(pyarrow.Table.from_pylist(rows), tmp_path / "log.parquet")
    from_parquet = health(tmp_path / "log.parquet", slos=["availability=99"]).to_dict()
    from_jsonl = health(write_log(tmp_path / "log.jsonl", rows), slos=["availability=99"])
    for key in ("overall", "windows", "burn_rates"):
        assert from_parquet[key] == from_jsonl.to_dict()[key]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("availability", "no target"),
        ("availability=0.999", "looks like a fraction"),
        ("availability=100", "percentage in \\(0, 100\\)"),
        ("speed=99", "unknown objective 'speed'"),
        ("latency<=fast=99", "write a number and a unit"),
    ],
)
def test_slo_text_that_cannot_be_read_is_refused(text: str, message: str) -> None:
    with pytest.raises(HealthLogError, match=message):
        SLO.parse(text)


def test_slo_text_forms() -> None:
    assert SLO.parse("availability=99.9%") == SLO("availability", 0.999)
    assert SLO.parse("latency<=0.3s=99") == SLO("latency", 0.99, latency_ms=300.0)
    assert SLO.parse("availability=99.9").budget == 0.001


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return enter_project(tmp_path, monkeypatch)


def test_the_cli_prints_json_fires_once_per_window_and_fails_on_alert(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "modelops.toml").write_text("[alerts]\nwindow = 3600\nsinks = []\n")
    log = write_log(project / "requests.jsonl", steady(3600, error_every=50))
    argv = ["monitor", "health", str(log), "--slo", "availability=99.9", "--json"]
    assert main([*argv, "--fail-on-alert"]) == 1
    first = json.loads(capsys.readouterr().out)
    assert first["overall"]["requests"] == 3600
    assert first["overall"]["error_rate"] == 0.02
    assert [d["fired"] for d in first["deliveries"]] == [True] * 6
    assert main(argv) == 0
    again = json.loads(capsys.readouterr().out)
    assert [d["fired"] for d in again["deliveries"]] == [False] * 6
    assert again["deliveries"][0]["reason"].startswith("duplicate: critical already fired")
    state = json.loads((project / ".modelops" / "monitoring" / "alerts.json").read_text())
    assert len(state["alerts"]) == 6


def test_the_cli_names_a_bad_log_and_exits_2(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "empty.jsonl").write_text("")
    assert main(["monitor", "health", "empty.jsonl"]) == 2
    assert "empty.jsonl" in capsys.readouterr().err
    assert main(["monitor", "health", "empty.jsonl", "--slo", "uptime=99"]) == 2
    assert "unknown objective 'uptime'" in capsys.readouterr().err


def test_the_cli_text_report(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = write_log(project / "requests.jsonl", steady(600))
    assert main(["monitor", "health", str(log), "--no-alerts", "--window", "5m"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == (
        f"{log}: 600 requests, error rate 0.0000%, p50 23 ms, p95 26 ms, p99 26 ms"
    )
    assert "last 2 of 2 windows of 5m:" in out
