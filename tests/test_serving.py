"""The server answers by alias, splits traffic, logs every request, and refuses bad input with
the right status and a message that names what is wrong.

Each test runs the real ASGI app on a real uvicorn server bound to 127.0.0.1 (in a thread of
the test process, so a test can add plugins in code) and talks to it over HTTP."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelops_core import hookimpl
from modelops_core.config import parse_config
from modelops_core.finetune.provider_contract import ProviderError
from modelops_core.registry.model_registry import ModelRegistry
from modelops_core.runtime import Runtime
from modelops_core.serving.app import ServingApp
from modelops_core.serving.errors import ServingConfigError, TrafficError
from modelops_core.serving.request_log import read_requests
from modelops_core.serving.server import serve
from modelops_core.serving.settings import serving_settings
from modelops_core.serving.traffic import TrafficSplit, TrafficTable, unit_hash

pytest.importorskip("uvicorn")

from serving_server import Server  # after the skip: it imports uvicorn

pytest.importorskip("modelops_flavor_sklearn")
sklearn_pipeline = pytest.importorskip("sklearn.pipeline")

FAST = {"flush_interval": 0.05, "poll_interval": 0.1}
TEXTS = ["refund my card", "charged twice", "parcel is late", "where is my order",
         "app crashes", "login error"] * 3  # fmt: skip
LABELS = ["billing", "billing", "shipping", "shipping", "technical", "technical"] * 3


def text_model(seed: int = 0) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    return sklearn_pipeline.make_pipeline(
        TfidfVectorizer(), LogisticRegression(random_state=seed)
    ).fit(TEXTS, LABELS)


def number_model() -> Any:
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    features = np.random.default_rng(0).normal(size=(60, 4))
    return LogisticRegression().fit(features, (features[:, 0] > 0).astype(int))


def runtime_for(home: Path, plugins: list[Any] | None = None, **serving: Any) -> Runtime:
    config = parse_config({"home": str(home), "serving": {**FAST, **serving}})
    return Runtime(config, plugins=[(f"test-{i}", p) for i, p in enumerate(plugins or [])])


@pytest.fixture
def registered(tmp_path: Path) -> Path:
    """A home with ``router`` (text; 1 production, 2 candidate) and ``numbers`` (1)."""
    with ModelRegistry(runtime_for(tmp_path)) as registry:
        registry.register("router", "1", model=text_model(0))
        registry.register("router", "2", model=text_model(1))
        registry.set_alias("router", "production", "1")
        registry.set_alias("router", "candidate", "2")
        registry.register("numbers", "1", model=number_model())
        registry.set_alias("numbers", "production", "1")
    return tmp_path


@pytest.fixture
def server(registered: Path) -> Iterator[Server]:
    running = Server(ServingApp(runtime_for(registered)))
    assert running.wait_ready()["status"] == 200
    yield running
    running.stop()


def logged(home: Path, **serving: Any) -> list[dict[str, Any]]:
    return read_requests(serving_settings(runtime_for(home, **serving).config))


def wait_logged(home: Path, count: int, **serving: Any) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 5
    while len(rows := logged(home, **serving)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return rows


# --- answering ---------------------------------------------------------------------------------


def test_chat_answers_from_production_and_names_the_version(server: Server) -> None:
    status, headers, answer = server.chat("router", "I was charged twice on my card")

    assert status == 200
    assert headers["x-modelops-version"] == "1"
    assert headers["x-modelops-variant"] == "production"
    assert answer["model"] == "router/1"
    assert answer["object"] == "chat.completion"
    assert answer["choices"][0]["message"] == {"role": "assistant", "content": "billing"}


def test_chat_model_may_name_an_alias_or_a_version(server: Server) -> None:
    assert server.chat("router@candidate", "parcel late")[1]["x-modelops-version"] == "2"
    assert server.chat("router/2", "parcel late")[2]["model"] == "router/2"
    assert server.chat("router/1.0", "parcel late")[2]["model"] == "router/1"


def test_oip_infer_on_the_routed_and_a_pinned_version(server: Server) -> None:
    body = {"inputs": [{"name": "x", "shape": [2, 4], "datatype": "FP64",
                        "data": [[1, 0, 0, 0], [-1, 0, 0, 0]]}]}  # fmt: skip

    status, headers, answer = server.call("POST", "/v2/models/numbers/infer", body)
    pinned = server.call("POST", "/v2/models/numbers/versions/1/infer", body)

    assert status == 200 and headers["x-modelops-version"] == "1"
    assert answer["model_name"] == "numbers" and answer["model_version"] == "1"
    assert answer["outputs"] == [{"name": "predict", "shape": [2], "datatype": "INT64",
                                  "data": [1, 0]}]  # fmt: skip
    assert pinned[0] == 200 and pinned[2]["outputs"] == answer["outputs"]


def test_oip_text_input_as_bytes(server: Server) -> None:
    body = {"inputs": [{"name": "text", "shape": [2], "datatype": "BYTES",
                        "data": ["refund my card", "app crashes"]}]}  # fmt: skip
    status, _, answer = server.call("POST", "/v2/models/router@candidate/infer", body)
    assert status == 200
    assert answer["outputs"][0]["data"] == ["billing", "technical"]


def test_health_metadata_and_model_lists(server: Server) -> None:
    assert server.call("GET", "/v2/health/live")[:3:2] == (200, {"live": True})
    ready = server.call("GET", "/v2/health/ready")[2]
    assert ready["models"] == {"numbers/1": "ready", "router/1": "ready", "router/2": "ready"}
    status, _, metadata = server.call("GET", "/v2/models/router")
    assert status == 200
    assert metadata["versions"] == ["1", "2"]
    assert metadata["aliases"] == {"production": "1", "candidate": "2"}
    assert metadata["platform"] == "sklearn"
    assert server.call("GET", "/v2/models/router/versions/2/ready")[2]["ready"] is True
    ids = [entry["id"] for entry in server.call("GET", "/v1/models")[2]["data"]]
    assert ids == ["numbers", "numbers@production", "numbers/1", "router", "router@candidate",
                   "router@production", "router/1", "router/2"]  # fmt: skip


def test_metrics_count_requests_per_model_version_and_variant(server: Server) -> None:
    for _ in range(3):
        server.chat("router", "refund")
    server.chat("router@candidate", "refund")
    server.chat("router@missing", "refund")

    text = server.call("GET", "/metrics")[2]

    assert 'modelops_requests_total{model="router",version="1",variant="production",' \
        'status="200"} 3' in text  # fmt: skip
    assert 'modelops_requests_total{model="router",version="2",variant="candidate",' \
        'status="200"} 1' in text  # fmt: skip
    assert 'modelops_request_errors_total{model="router",version="",variant=""} 1' in text
    assert ('modelops_request_duration_seconds_count{model="router",version="1",'
            'variant="production"} 3') in text  # fmt: skip


# --- bad input ---------------------------------------------------------------------------------


def test_unknown_model_alias_or_version_is_404_naming_what_exists(server: Server) -> None:
    status, _, answer = server.chat("routr", "hi")
    assert status == 404
    assert "No model 'routr' is served here (served: numbers, router)" in answer["error"]["message"]

    status, _, answer = server.chat("router@staging", "hi")
    assert status == 404
    assert "router has no alias 'staging' (its aliases: candidate -> 2, production -> 1" in \
        answer["error"]["message"]  # fmt: skip

    status, _, answer = server.call("POST", "/v2/models/router/versions/7/infer",
                                    {"inputs": [{"name": "t", "shape": [1], "datatype": "BYTES",
                                                 "data": ["x"]}]})  # fmt: skip
    assert status == 404
    assert answer["error"] == "No version '7' of this model (versions: 1, 2)."


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/chat/completions", {"messages": []}, "$.model"),
        ("/v1/chat/completions", {"model": "router", "messages": [{"role": "user",
                                                                    "content": 5}]},
         "$.messages[0].content"),
        ("/v1/chat/completions", {"model": "router", "messages": []}, "$.messages"),
        ("/v1/chat/completions", b"{not json", "$"),
        ("/v2/models/numbers/infer", {"inputs": [{"name": "x", "shape": [2, 4],
                                                  "datatype": "FP64", "data": [1, 2, 3]}]},
         "$.inputs[0].data"),
        ("/v2/models/numbers/infer", {"inputs": [{"name": "x", "shape": [1, 4],
                                                  "datatype": "FLOAT", "data": [1, 2, 3, 4]}]},
         "$.inputs[0].datatype"),
        ("/v2/models/numbers/infer", {"inputs": [{"name": "x", "shape": [1],
                                                  "datatype": "FP64"}]},
         "$.inputs[0].data"),
    ],
)  # fmt: skip
def test_malformed_body_is_422_naming_the_field(
    server: Server, path: str, body: Any, field: str
) -> None:
    status, _, answer = server.call("POST", path, body)

    assert status == 422
    error = answer["error"]
    if path.startswith("/v1"):
        assert error["param"] == field and field in error["message"]
    else:
        assert answer["field"] == field and field in error


def test_input_the_model_cannot_take_is_422(server: Server) -> None:
    body = {"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP64", "data": [1, 2, 3]}]}
    status, _, answer = server.call("POST", "/v2/models/numbers/infer", body)
    assert status == 422
    assert answer["error"].startswith("numbers 1 cannot predict this input:")


def test_a_model_that_fails_to_load_keeps_the_server_up_and_readiness_names_it(
    registered: Path,
) -> None:
    damaged = registered / "router.skops"
    damaged.write_bytes(b"PK\x03\x04 this is no skops archive")
    with ModelRegistry(runtime_for(registered)) as registry:
        registry.register("router", "3", model_path=damaged)
        registry.set_alias("router", "candidate", "3")
        notes = registered / "notes.bin"
        notes.write_bytes(b"\x00 not a model")
        registry.register("notes", "1", model_path=notes)
        registry.set_alias("notes", "production", "1")
    running = Server(ServingApp(runtime_for(registered)))
    try:
        ready = running.wait_ready()
        assert ready["status"] == 503
        assert ready["models"]["router/1"] == "ready"
        assert ready["models"]["router/3"].startswith("failed: router 3 failed to load:")
        assert ready["models"]["notes/1"].startswith(
            "failed: notes 1 is the file or folder 'notes.bin', which no model flavor opens"
        )
        assert running.call("GET", "/v2/health/live")[0] == 200
        assert running.chat("router", "refund")[0] == 200
        status, _, answer = running.chat("router@candidate", "refund")
        assert status == 503
        assert "router 3 failed to load" in answer["error"]["message"]
    finally:
        running.stop()


# --- providers ---------------------------------------------------------------------------------


class Upstream:
    """A provider whose predict fails, hangs or streams, as its model id says."""

    def predict(self, model_id: str, inputs: list[str]) -> list[str]:
        if model_id == "broken":
            raise ProviderError(
                "401 from https://svc:s3cr3t-key@api.example.com/v1/chat: invalid key"
            )
        if model_id == "slow":
            time.sleep(1)
        return [f"echo {text}" for text in inputs]

    def stream(self, model_id: str, text: str) -> Iterator[str]:
        if model_id != "streamer":
            yield from self.predict(model_id, [text])
            return
        yield from ("one ", "two ", "three")


class UpstreamPlugin:
    @hookimpl
    def modelops_register_providers(self, registry: Any) -> None:
        registry.add("upstream", Upstream, description="test provider")


@pytest.fixture
def provider_server(tmp_path: Path) -> Iterator[Server]:
    runtime = runtime_for(tmp_path, [UpstreamPlugin()], provider_timeout=0.3)
    with ModelRegistry(runtime) as registry:
        for name in ("broken", "slow", "streamer"):
            registry.register(name, "1", model={"model_id": name, "provider": "upstream"})
            registry.set_alias(name, "production", "1")
    running = Server(ServingApp(runtime))
    assert running.wait_ready()["status"] == 200
    yield running
    running.stop()


def test_provider_error_is_502_with_its_message_and_secrets_masked(provider_server: Server):
    status, _, answer = provider_server.chat("broken", "hi")

    assert status == 502
    message = answer["error"]["message"]
    assert message.startswith("upstream failed for broken 1 (broken): 401 from https://svc:")
    assert "s3cr3t-key" not in message and "invalid key" in message


def test_provider_timeout_is_504(provider_server: Server) -> None:
    started = time.monotonic()
    status, _, answer = provider_server.chat("slow", "hi")
    assert status == 504
    assert time.monotonic() - started < 1.5
    assert answer["error"]["message"] == (
        "upstream did not answer for slow 1 (slow) within 0.3 s ([serving] provider_timeout)."
    )


def test_streaming_sends_the_providers_pieces_as_events(provider_server: Server) -> None:
    body = {"model": "streamer", "stream": True, "messages": [{"role": "user", "content": "x"}]}
    status, headers, text = provider_server.call("POST", "/v1/chat/completions", body)

    assert status == 200 and headers["content-type"] == "text/event-stream"
    assert headers["x-modelops-version"] == "1"
    events = [line[6:] for line in text.split("\n\n") if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    assert [c["choices"][0]["delta"] for c in chunks] == [
        {"role": "assistant"}, {"content": "one "}, {"content": "two "}, {"content": "three"}, {},
    ]  # fmt: skip
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert {c["model"] for c in chunks} == {"streamer/1"}


# --- tokens ------------------------------------------------------------------------------------


def test_a_token_is_required_when_the_server_has_one(registered: Path) -> None:
    running = Server(ServingApp(runtime_for(registered), token="t0ken"))
    try:
        assert running.call("GET", "/v2/health/live")[0] == 200
        assert running.wait_ready()["status"] == 200  # health needs no token
        status, _, answer = running.chat("router", "refund")
        assert status == 401 and "Authorization: Bearer <token>" in answer["error"]["message"]
        assert running.chat("router", "refund", Authorization="Bearer wrong")[0] == 401
        assert running.chat("router", "refund", Authorization="Bearer t0ken")[0] == 200
    finally:
        running.stop()


def test_binding_beyond_loopback_without_a_token_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ServingConfigError, match="binds 0.0.0.0, which other machines can reach"):
        serve("0.0.0.0", 0, config_path=str(_config_file(tmp_path)))


def _config_file(home: Path) -> Path:
    path = home / "modelops.toml"
    path.write_text(f'home = "{home}"\n')
    return path


# --- traffic -----------------------------------------------------------------------------------


def test_weights_that_do_not_sum_to_100_are_refused(registered: Path) -> None:
    with TrafficTable(runtime_for(registered)) as table:
        with pytest.raises(TrafficError, match=r"sum to 110, not 100 \(candidate=30 \+ "):
            table.set("router", {"production": 80, "candidate": 30})
        with pytest.raises(TrafficError, match="router has no alias 'staging'"):
            table.set("router", {"production": 80, "staging": 20})
        with pytest.raises(TrafficError, match="must be a number from 0 to 100, got -5"):
            table.set("router", {"production": 105, "candidate": -5})
        assert table.get("router") == TrafficSplit.default("router")


def test_the_same_unit_gets_the_same_variant_and_the_split_holds(
    server: Server, registered: Path
) -> None:
    with TrafficTable(runtime_for(registered)) as table:
        table.set("router", {"production": 80, "candidate": 20})
    time.sleep(0.3)  # two reads of the traffic table

    first = [server.chat("router", "refund", X_Modelops_Unit=f"u{i}")[1]["x-modelops-version"]
             for i in range(200)]  # fmt: skip
    again = [server.chat("router", "refund", X_Modelops_Unit=f"u{i}")[1]["x-modelops-version"]
             for i in range(200)]  # fmt: skip

    assert first == again
    split = TrafficSplit.of("router", {"production": 80, "candidate": 20})
    assert first == [{"production": "1", "candidate": "2"}[split.assign(f"u{i}")]
                     for i in range(200)]  # fmt: skip
    assert 0.13 <= first.count("2") / 200 <= 0.27


def test_the_openai_user_field_and_a_configured_field_are_unit_ids(registered: Path) -> None:
    with TrafficTable(runtime_for(registered)) as table:
        table.set("router", {"production": 50, "candidate": 50})
    running = Server(ServingApp(runtime_for(registered, unit_field="customer")))
    try:
        running.wait_ready()
        split = TrafficSplit.of("router", {"production": 50, "candidate": 50})
        expected = {"production": "1", "candidate": "2"}
        for i in range(20):
            body = {"model": "router", "user": f"user-{i}",
                    "messages": [{"role": "user", "content": "refund"}]}  # fmt: skip
            version = running.call("POST", "/v1/chat/completions", body)[1]["x-modelops-version"]
            assert version == expected[split.assign(f"user-{i}")]
            body = {"model": "router", "customer": f"c-{i}",
                    "messages": [{"role": "user", "content": "refund"}]}  # fmt: skip
            version = running.call("POST", "/v1/chat/completions", body)[1]["x-modelops-version"]
            assert version == expected[split.assign(f"c-{i}")]
    finally:
        running.stop()


def test_a_weight_change_applies_within_a_second_without_restart(
    registered: Path,
) -> None:
    running = Server(ServingApp(runtime_for(registered, poll_interval=0.5)))
    try:
        running.wait_ready()
        assert running.chat("router", "refund")[1]["x-modelops-version"] == "1"
        with TrafficTable(runtime_for(registered)) as table:
            table.set("router", {"production": 0, "candidate": 100})
        changed = time.monotonic()
        while running.chat("router", "refund")[1]["x-modelops-version"] != "2":
            assert time.monotonic() - changed < 1.0, "the new split did not apply within 1 s"
            time.sleep(0.02)
    finally:
        running.stop()


def test_a_damaged_traffic_row_keeps_the_last_good_split(server: Server, registered: Path):
    with TrafficTable(runtime_for(registered)) as table:
        table.set("router", {"production": 0, "candidate": 100})
    time.sleep(0.3)
    with sqlite3.connect(registered / "serving.db") as connection:
        connection.execute(
            "UPDATE modelops_traffic SET weights = '{\"production\": 50}' WHERE model = 'router'"
        )
    time.sleep(0.3)

    assert server.chat("router", "refund")[1]["x-modelops-version"] == "2"
    ready = server.call("GET", "/v2/health/ready")
    assert ready[0] == 503
    assert ready[2]["problems"]["router"].startswith(
        "The stored traffic split of 'router' is invalid: The weights of 'router' sum to 50"
    )


def test_a_shadow_gets_a_copy_that_is_logged_and_never_returned(
    server: Server, registered: Path
) -> None:
    with TrafficTable(runtime_for(registered)) as table:
        table.set("router", {"production": 100}, shadows=["candidate"])
    time.sleep(0.3)

    answers = [server.chat("router", "parcel is late", X_Modelops_Unit=f"s{i}") for i in range(5)]

    assert {a[1]["x-modelops-version"] for a in answers} == {"1"}
    rows = wait_logged(registered, 10)
    shadows = [row for row in rows if row["shadow"]]
    assert len(shadows) == 5
    assert {(r["variant"], r["version"], r["output"], r["status"]) for r in shadows} == {
        ("candidate", "2", '"shipping"', 200)
    }
    served = [row for row in rows if not row["shadow"]]
    assert {r["unit"] for r in shadows} == {r["unit"] for r in served}
    assert 'variant="shadow:candidate",status="200"} 5' in server.call("GET", "/metrics")[2]


# --- the request log ---------------------------------------------------------------------------


def test_every_request_is_logged_with_its_version_variant_and_status(
    server: Server, registered: Path
) -> None:
    server.chat("router", "refund my card", X_Modelops_Unit="alice")
    server.chat("router@nope", "refund")

    rows = wait_logged(registered, 2)

    assert [(r["model"], r["version"], r["variant"], r["status"], r["endpoint"]) for r in rows] == [
        ("router", "1", "production", 200, "chat"),
        ("router", None, None, 404, "chat"),
    ]
    first = rows[0]
    assert first["unit"] == unit_hash("router", "alice")
    assert json.loads(first["input"]) == [{"role": "user", "content": "refund my card"}]
    assert first["output"] == '"billing"'
    assert first["latency_ms"] > 0 and first["error"] is None
    assert rows[1]["error"].startswith("router has no alias 'nope'")


def test_a_10_kb_unit_id_is_hashed_not_stored(server: Server, registered: Path) -> None:
    unit = "u" * 10_240
    status, _, _ = server.chat("router", "refund", X_Modelops_Unit=unit)
    assert status == 200

    rows = wait_logged(registered, 1)

    assert rows[0]["unit"] == unit_hash("router", unit) and len(rows[0]["unit"]) == 32
    stored = b"".join(path.read_bytes() for path in registered.glob("serving.db*"))
    assert b"u" * 100 not in stored


def test_sampling_keeps_every_row_and_drops_payloads(registered: Path) -> None:
    running = Server(ServingApp(runtime_for(registered, sample=0.0)))
    try:
        running.wait_ready()
        for _ in range(4):
            running.chat("router", "refund")
    finally:
        running.stop()  # the writer flushes on shutdown

    rows = logged(registered)
    assert len(rows) == 4
    assert {(r["input"], r["output"], r["status"]) for r in rows} == {(None, None, 200)}


def test_the_configured_sanitizer_redacts_logged_inputs(registered: Path) -> None:
    pytest.importorskip("modelops_sanitizers")
    running = Server(ServingApp(runtime_for(registered, sanitize=True)))
    try:
        running.wait_ready()
        running.chat("router", "refund to jane.doe@example.com please")
    finally:
        running.stop()

    row = logged(registered)[0]
    assert "jane.doe@example.com" not in row["input"]
    assert "refund to" in row["input"]


def test_the_log_can_be_parquet_files(registered: Path) -> None:
    pytest.importorskip("pyarrow")
    running = Server(ServingApp(runtime_for(registered, request_log="parquet")))
    try:
        running.wait_ready()
        for i in range(3):
            running.chat("router", "refund", X_Modelops_Unit=f"p{i}")
    finally:
        running.stop()

    rows = logged(registered, request_log="parquet")
    assert [(r["model"], r["version"], r["status"]) for r in rows] == [("router", "1", 200)] * 3
    assert sorted(path.suffix for path in (registered / "requests").iterdir()) == \
        [".parquet"] * len(list((registered / "requests").iterdir()))  # fmt: skip
    from modelops_core.monitoring.health import read_request_log

    sizes = [len(read_request_log(path)) for path in (registered / "requests").iterdir()]
    assert sum(sizes) == 3


def test_postgresql_holds_the_traffic_table_and_the_log(registered: Path) -> None:
    from modelops_core.testing.servers import fresh_postgres_schema, postgres_url_or_skip

    url = postgres_url_or_skip()
    import psycopg

    with fresh_postgres_schema(url, prefix="modelops_serving") as schema:
        # the registry stays on SQLite; [serving] database sends traffic and log to PostgreSQL
        config = parse_config({"home": str(registered), "serving": {**FAST, "database": url}})
        settings_value = serving_settings(config)
        assert settings_value.database == url
        from modelops_core.serving.database import ServingDatabase

        database = ServingDatabase(url, schema)
        table = TrafficTable(Runtime(config), database=database)
        table.set("router", {"production": 0, "candidate": 100})
        runtime = Runtime(config)
        app = ServingApp(runtime, settings=_with_schema(settings_value, schema))
        running = Server(app)
        try:
            running.wait_ready()
            answers = [running.chat("router", "refund")[1]["x-modelops-version"] for _ in range(3)]
            with psycopg.connect(url, autocommit=True) as connection:
                connection.execute(f"UPDATE \"{schema}\".modelops_traffic SET weights = 'not json'")
            time.sleep(0.3)
            after = running.chat("router", "refund")[1]["x-modelops-version"]
            problem = running.call("GET", "/v2/health/ready")[2]["problems"]["router"]
        finally:
            running.stop()
            table.close()
        with psycopg.connect(url) as connection:
            count = connection.execute(
                f'SELECT count(*), min(version), max(version) FROM "{schema}".modelops_requests'
            ).fetchone()

    assert answers == ["2", "2", "2"] and after == "2"
    assert problem.startswith("The stored traffic split of 'router' is damaged")
    assert count == (4, "2", "2")


def _with_schema(settings: Any, schema: str) -> Any:
    import attrs

    return attrs.evolve(settings, schema=schema)


# --- the command line and the configuration ----------------------------------------------------


def test_traffic_set_refuses_bad_weights_with_exit_code_2(registered: Path) -> None:
    from click.testing import CliRunner

    from modelops_core.cli.main import cli

    config = str(_config_file(registered))
    runner = CliRunner()
    refused = runner.invoke(cli, ["--config", config, "traffic", "set", "router",
                                  "production=80", "candidate=30"])  # fmt: skip
    malformed = runner.invoke(cli, ["--config", config, "traffic", "set", "router", "production"])
    accepted = runner.invoke(cli, ["--config", config, "traffic", "set", "router",
                                   "production=80", "candidate=20"])  # fmt: skip
    shown = runner.invoke(cli, ["--config", config, "traffic", "show", "router", "--json"])

    assert refused.exit_code == 2
    assert "sum to 110, not 100 (candidate=30 + production=80)" in refused.output
    assert malformed.exit_code == 2 and "'production' is not ALIAS=WEIGHT" in malformed.output
    assert accepted.exit_code == 0 and accepted.output == "router: candidate=20 production=80\n"
    assert json.loads(shown.output)["weights"] == {"candidate": 20.0, "production": 80.0}


def test_serve_beyond_loopback_without_a_token_exits_2(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from modelops_core.cli.main import cli

    result = CliRunner().invoke(
        cli, ["--config", str(_config_file(tmp_path)), "serve", "--host", "0.0.0.0"], env={}
    )
    assert result.exit_code == 2
    assert "needs a token: pass --token" in result.output


def test_an_unknown_or_bad_serving_key_names_the_file_and_key(tmp_path: Path) -> None:
    with pytest.raises(ServingConfigError, match=r"Unknown key 'flush' in .* \[serving\]"):
        serving_settings(parse_config({"serving": {"flush": 1}}, source="modelops.toml"))
    with pytest.raises(ServingConfigError, match=r"flush_interval must be a number at least "
                                                 r"0.001 and at most 1, got 5"):  # fmt: skip
        serving_settings(parse_config({"serving": {"flush_interval": 5}}))
    with pytest.raises(ServingConfigError, match="request_log = 'kafka': use one of sql, parquet"):
        serving_settings(parse_config({"serving": {"request_log": "kafka"}}))
