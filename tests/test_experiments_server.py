"""An experiment end to end: ``modelops experiment start`` splits a running server's traffic,
``POST /v1/feedback`` takes outcomes by unit and by request id (named 404/422 otherwise), and
``experiment status``, ``report`` and ``stop`` read what the server logged."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from modelops_core.cli.main import cli
from modelops_core.config import parse_config
from modelops_core.registry.model_registry import ModelRegistry
from modelops_core.runtime import Runtime
from modelops_core.serving.app import ServingApp
from modelops_core.serving.traffic import TrafficTable

pytest.importorskip("uvicorn")

from serving_server import Server  # after the skip: it imports uvicorn

pytest.importorskip("modelops_flavor_sklearn")
pipeline = pytest.importorskip("sklearn.pipeline")

TEXTS = [
    "refund my card",
    "charged twice",
    "parcel is late",
    "where is my order",
    "app crashes",
    "login error",
]
LABELS = ["billing", "billing", "shipping", "shipping", "technical", "technical"]


def text_model(seed: int) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    return pipeline.make_pipeline(TfidfVectorizer(), LogisticRegression(random_state=seed)).fit(
        TEXTS, LABELS
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "modelops.toml").write_text(
        f'home = "{tmp_path}"\n[serving]\nflush_interval = 0.05\npoll_interval = 0.1\n'
    )
    with ModelRegistry(runtime(tmp_path)) as registry:
        registry.register("router", "1", model=text_model(0))
        registry.register("router", "2", model=text_model(1))
        registry.set_alias("router", "production", "1")
        registry.set_alias("router", "candidate", "2")
    return tmp_path


def runtime(home: Path) -> Runtime:
    serving = {"flush_interval": 0.05, "poll_interval": 0.1}
    return Runtime(parse_config({"home": str(home), "serving": serving}))


def modelops(home: Path, *arguments: str) -> Any:
    return CliRunner().invoke(cli, ["--config", str(home / "modelops.toml"), *arguments])


@pytest.fixture
def server(home: Path) -> Iterator[Server]:
    running = Server(ServingApp(runtime(home)))
    deadline = time.monotonic() + 20
    while running.call("GET", "/v2/health/ready")[0] != 200:
        assert time.monotonic() < deadline, "the models did not load"
        time.sleep(0.05)
    yield running
    running.stop()


def test_an_experiment_from_start_to_report_through_a_running_server(
    home: Path, server: Server
) -> None:
    started = modelops(
        home,
        "experiment",
        "start",
        "router-v2",
        "--model",
        "router",
        "--control",
        "production",
        "--treatment",
        "candidate",
        "--split",
        "50",
        "--metric",
        "resolved:proportion",
        "--guardrail",
        "latency_p99<+50%",
        "--json",
    )
    assert started.exit_code == 0, started.output
    assert json.loads(started.output)["metrics"] == ["resolved:proportion"]
    time.sleep(0.3)  # the server re-reads the traffic table every 0.1 s here

    answers = {}
    for index in range(60):
        unit = f"customer-{index}"
        body = {"model": "router", "messages": [{"role": "user", "content": "refund my card"}]}
        status, headers, _ = server.call(
            "POST", "/v1/chat/completions", body, {"X-Modelops-Unit": unit}
        )
        assert status == 200
        answers[unit] = (headers["x-modelops-variant"], headers["x-request-id"])
    # right after the answers: the log may not have written them yet, feedback still finds them
    for unit, (variant, _) in list(answers.items())[:59]:
        status, _, accepted = server.call(
            "POST", "/v1/feedback", {"unit": unit, "value": variant == "candidate"}
        )
        assert (status, accepted["accepted"]) == (200, 1), accepted
    last_variant, last_request = answers["customer-59"]
    by_request = server.call(
        "POST", "/v1/feedback", {"request_id": last_request, "value": last_variant == "candidate"}
    )
    stranger = server.call("POST", "/v1/feedback", {"unit": "stranger", "value": 1})
    malformed = server.call("POST", "/v1/feedback", {"unit": "customer-1", "value": "yes"})
    unknown_metric = server.call(
        "POST", "/v1/feedback", {"unit": "customer-1", "metric": "csat", "value": 1}
    )

    assert by_request[0] == 200 and by_request[2]["experiments"] == ["router-v2"]
    assert stranger[0] == 404
    assert stranger[2]["error"]["message"].startswith(
        "$: unit 'stranger' was not answered by router@production or @candidate during "
        "experiment 'router-v2'"
    )
    assert malformed[0] == 422 and malformed[2]["error"]["param"] == "$.value"
    assert "value must be a finite number, got 'yes'" in malformed[2]["error"]["message"]
    assert unknown_metric[0] == 422
    assert "has no metric 'csat' (its metrics: resolved)" in unknown_metric[2]["error"]["message"]

    treated = sum(variant == "candidate" for variant, _ in answers.values())
    status = modelops(home, "experiment", "status", "router-v2", "--json")
    assert status.exit_code == 0, status.output
    shown = json.loads(status.output)
    assert shown["units"] == {"control": 60 - treated, "treatment": treated}
    primary = shown["metrics"][0]
    assert (primary["control_mean"], primary["treatment_mean"]) == (0.0, 1.0)

    report = home / "report.html"
    reported = modelops(home, "experiment", "report", "router-v2", "--output", str(report))
    assert reported.exit_code == 0, reported.output
    html = report.read_text(encoding="utf-8")
    assert f'data-decision="{shown["decision"]}"' in html
    assert 'data-chart="effect-over-time"' in html and "<script" not in html
    assert 'data-guardrail="latency_p99&lt;+50%"' in html

    stopped = modelops(home, "experiment", "stop", "router-v2")
    assert stopped.exit_code == 0, stopped.output
    assert "router-v2: stopped; traffic of router restored." in stopped.output
    with TrafficTable(runtime(home)) as table:
        assert dict(table.get("router").weights) == {"production": 100.0}


def test_the_cli_refuses_a_bad_split_and_an_unknown_alias_with_exit_code_2(home: Path) -> None:
    common = [
        "experiment",
        "start",
        "x",
        "--model",
        "router",
        "--control",
        "production",
        "--metric",
        "resolved:proportion",
    ]
    split = modelops(home, *common, "--treatment", "candidate", "--split", "100")
    alias = modelops(home, *common, "--treatment", "nightly", "--split", "10")
    missing = modelops(home, "experiment", "report", "nope")

    assert (
        split.exit_code == 2 and "--split 100.0 is not a percent between 0 and 100" in split.output
    )
    assert alias.exit_code == 2 and "router has no alias 'nightly'" in alias.output
    assert missing.exit_code == 2 and "No experiment 'nope' (experiments: none)" in missing.output
