"""The sinks' own behaviour: retries and refusals of the webhooks against a server on
127.0.0.1, the Slack payload, racing processes appending to one log, the Prometheus exposition
read back by prometheus_client, and ``[alerts]`` in a real configuration file."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path
from typing import Any

import pytest
from modelops_alerts.log import LogFileSink
from modelops_alerts.prometheus import PrometheusSink
from modelops_alerts.webhook import SlackSink, WebhookSink
from prometheus_client.parser import text_string_to_metric_families

from modelops_core.config import load_config
from modelops_core.errors import UnknownConfigKeyError
from modelops_core.monitoring.alerts import Alert, AlertManager, AlertSinkError, MonitorValue
from modelops_core.runtime import Runtime

ALERT = Alert(
    "health.burn_rate.availability",
    "critical",
    "m/1 burns 20x",
    subject="m/1",
    at=1_767_225_600.0,
    details={"long_burn_rate": 20.0, "notes": ["the log covers 30m of the 1h window"]},
)


def test_the_webhook_retries_5xx_answers_and_then_delivers(receiver: Any) -> None:
    receiver.answers = [503, 502]
    WebhookSink(f"{receiver.url}/hook", retries=2, backoff=0.01).send(ALERT)
    assert len(receiver.posts) == 3
    assert receiver.posts[-1]["body"] == {
        "name": "health.burn_rate.availability",
        "severity": "critical",
        "message": "m/1 burns 20x",
        "subject": "m/1",
        "at": 1_767_225_600.0,
        "details": {"long_burn_rate": 20.0, "notes": ["the log covers 30m of the 1h window"]},
    }
    assert receiver.posts[-1]["headers"]["Content-Type"] == "application/json"


def test_the_webhook_gives_up_naming_the_host_and_not_the_secret_path(receiver: Any) -> None:
    receiver.answers = [503, 503]
    sink = WebhookSink(f"{receiver.url}/services/T0/B0/s3cr3t", retries=1, backoff=0.01)
    with pytest.raises(AlertSinkError) as caught:
        sink.send(ALERT)
    message = str(caught.value)
    assert f"cannot deliver to {receiver.url} after 2 attempts (HTTP 503" in message
    assert "s3cr3t" not in message
    assert len(receiver.posts) == 2


def test_a_4xx_answer_is_not_retried(receiver: Any) -> None:
    receiver.answers = [400]
    with pytest.raises(AlertSinkError, match="refused the alert \\(HTTP 400"):
        WebhookSink(f"{receiver.url}/hook", retries=3, backoff=0.01).send(ALERT)
    assert len(receiver.posts) == 1


def test_a_url_that_is_not_http_is_refused_with_the_password_masked() -> None:
    with pytest.raises(AlertSinkError, match="is not an http") as caught:
        WebhookSink("ftp://bob:hunter2@example.com/x")
    assert "hunter2" not in str(caught.value)


def test_the_slack_payload_is_what_incoming_webhooks_take(receiver: Any) -> None:
    SlackSink(f"{receiver.url}/services/T0/B0/x", channel="#ops", username="modelops").send(ALERT)
    (post,) = receiver.posts
    assert post["body"] == {
        "text": "[CRITICAL] health.burn_rate.availability: m/1 burns 20x",
        "channel": "#ops",
        "username": "modelops",
        "attachments": [
            {
                "fallback": "[CRITICAL] health.burn_rate.availability: m/1 burns 20x",
                "color": "#D00000",
                "title": "health.burn_rate.availability",
                "text": "m/1 burns 20x",
                "ts": 1_767_225_600,
                "fields": [
                    {"title": "subject", "value": "m/1", "short": True},
                    {"title": "severity", "value": "critical", "short": True},
                    {"title": "long_burn_rate", "value": "20.0", "short": True},
                ],
            }
        ],
    }


def _append(path: str, worker: int, count: int) -> None:
    sink = LogFileSink(path)
    for number in range(count):
        sink.send(Alert("race", "info", "x" * 3000, subject=f"{worker}:{number}"))


def test_racing_processes_append_whole_lines(tmp_path: Path) -> None:
    path = str(tmp_path / "alerts.jsonl")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append, args=(path, w, 100)) for w in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    subjects = sorted(json.loads(line)["subject"] for line in lines)
    assert subjects == sorted(f"{w}:{n}" for w in range(4) for n in range(100))


def _families(sink: PrometheusSink) -> dict[str, Any]:
    return {family.name: family for family in text_string_to_metric_families(sink.text())}


def test_prometheus_exposition_parses_with_the_values_published(tmp_path: Path) -> None:
    sink = PrometheusSink(home=str(tmp_path))
    sink.publish(
        [
            MonitorValue("latency_p95_ms", 95.05, {"subject": "m/1", "window": "5m"}, "p95"),
            MonitorValue("latency_p95_ms", float("nan"), {"subject": 'a "b"\nc', "window": "5m"}),
            MonitorValue("error rate!", 0.25, {"subject": "all"}),
        ]
    )
    PrometheusSink(home=str(tmp_path)).publish(
        [MonitorValue("latency_p95_ms", 12.0, {"subject": "m/2", "window": "5m"})]
    )
    families = _families(sink)
    p95 = {
        s.labels["subject"]: s.value for s in families["modelops_monitor_latency_p95_ms"].samples
    }
    assert p95["m/1"] == 95.05 and p95["m/2"] == 12.0
    assert p95['a "b"\nc'] != p95['a "b"\nc']  # NaN, and the label came back exactly
    assert families["modelops_monitor_error_rate_"].samples[0].value == 0.25
    assert families["modelops_monitor_latency_p95_ms"].type == "gauge"


def test_prometheus_counts_alerts_across_sink_instances(tmp_path: Path) -> None:
    for _ in range(3):
        PrometheusSink(home=str(tmp_path)).send(ALERT)
    sink = PrometheusSink(home=str(tmp_path))
    sink.send(Alert("drift.ks", "warning", "drift", subject="age"))
    families = _families(sink)
    totals = {
        (s.labels["name"], s.labels["severity"]): s.value
        for s in families["modelops_alerts"].samples
    }
    assert totals == {
        ("health.burn_rate.availability", "critical"): 3.0,
        ("drift.ks", "warning"): 1.0,
    }


def test_a_corrupt_prometheus_state_is_set_aside_with_a_named_error(tmp_path: Path) -> None:
    sink = PrometheusSink(home=str(tmp_path))
    sink.send(ALERT)
    sink.state.write_text("{not json", encoding="utf-8")
    with pytest.raises(AlertSinkError, match="modelops.prom.json is not valid JSON"):
        sink.send(ALERT)
    assert sink.state.with_name("modelops.prom.json.corrupt").read_text() == "{not json"
    sink.send(ALERT)
    (sample,) = _families(sink)["modelops_alerts"].samples
    assert sample.value == 1.0


def test_alerts_table_in_a_configuration_file_routes_to_installed_sinks(
    tmp_path: Path, receiver: Any
) -> None:
    config_file = tmp_path / "modelops.toml"
    config_file.write_text(
        f"""
[alerts]
window = 600
sinks = ["log", {{ name = "webhook", url = "{receiver.url}/hook" }}]
""",
        encoding="utf-8",
    )
    runtime = Runtime(load_config(config_file), environ={})
    deliveries = AlertManager(runtime).fire([ALERT, ALERT])
    assert [d.fired for d in deliveries] == [True, False]
    assert deliveries[1].reason.startswith("duplicate: critical already fired in the window")
    assert [post["body"]["name"] for post in receiver.posts] == [ALERT.name]
    logged = (tmp_path / ".modelops" / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["subject"] for line in logged] == ["m/1"]


def test_an_unknown_key_of_the_alerts_table_is_refused(tmp_path: Path) -> None:
    config_file = tmp_path / "modelops.toml"
    config_file.write_text('[alerts]\nsink = ["log"]\n', encoding="utf-8")
    with pytest.raises(UnknownConfigKeyError, match="'alerts.sink'.*Did you mean 'sinks'"):
        load_config(config_file)


def test_monitor_health_publishes_values_and_alerts_to_the_configured_sinks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from modelops_core.cli.main import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MODELOPS_CONFIG", raising=False)
    (tmp_path / "modelops.toml").write_text('[alerts]\nsinks = ["log", "prometheus"]\n')
    start = 1_767_225_600
    rows = [
        {"timestamp": start + i, "latency_ms": i % 100 + 1, "status": 500 if i % 20 == 0 else 200}
        for i in range(600)
    ]
    (tmp_path / "requests.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["monitor", "health", "requests.jsonl", "--slo", "availability=99.9"]) == 0
    capsys.readouterr()
    text = (tmp_path / ".modelops" / "metrics" / "modelops.prom").read_text()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    p99 = {
        (s.labels["subject"], s.labels["window"]): s.value
        for s in families["modelops_monitor_latency_p99_ms"].samples
    }
    assert p99[("all", "log")] == pytest.approx(99.01, abs=1e-9)
    rates = families["modelops_monitor_error_rate"].samples
    assert {s.labels["window"]: s.value for s in rates if s.labels["subject"] == "all"} == {
        "log": 0.05,
        "5m": 0.05,
    }
    logged = (tmp_path / ".modelops" / "alerts.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["subject"] for line in logged) == [
        "all|1h/5m>14.4x|availability",
        "all|3d/6h>1x|availability",
        "all|6h/30m>6x|availability",
    ]


def test_drift_alerts_of_a_monitor_reach_the_sinks(tmp_path: Path) -> None:
    import modelops_alerts.plugin

    from modelops_core import builtin
    from modelops_core.config import ComponentChoice, Config
    from modelops_core.monitoring.drift import Monitor
    from modelops_core.testing import make_runtime

    config = Config(home=tmp_path, alert_sinks=(ComponentChoice("log"),))
    runtime = make_runtime(
        tmp_path,
        [("modelops-core", builtin), ("modelops-alerts", modelops_alerts.plugin)],
        config=config,
    )
    reference = {"age": [float(i % 50) for i in range(500)]}
    current = {"age": [float(i % 50) + 30 for i in range(500)]}
    Monitor(reference, runtime=runtime).drift(current)
    (line,) = (tmp_path / "alerts.jsonl").read_text().splitlines()
    assert (json.loads(line)["name"], json.loads(line)["subject"]) == ("drift.ks", "age")
