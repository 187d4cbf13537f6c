"""``modelops serve`` answers for a version whose artifact is a tuned OpenAI model: the provider
is called through the SDK on the fake API, and ``stream: true`` goes through
``OpenAIProvider.stream`` as server-sent events in OpenAI's own ``chat.completion.chunk``
format, which the openai SDK itself reads back.

Each test runs the real serving app on a real uvicorn server bound to 127.0.0.1 (in a thread
of the test process, so the provider can be wired to the fake in code) and talks HTTP to it."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from modelops_provider_openai.testing import ExchangeLog, FakeOpenAI, chat_records, chunk_problems

from modelops_core import hookimpl
from modelops_core.config import parse_config
from modelops_core.finetune.provider_contract import TuningRequest
from modelops_core.plugins.components import ComponentRegistrar
from modelops_core.testing.fixtures import make_runtime

uvicorn = pytest.importorskip("uvicorn")
store_sql = pytest.importorskip("modelops_store_sql.plugin")
artifacts_local = pytest.importorskip("modelops_artifacts_local.plugin")

MODEL = "gpt-4o-mini-2024-07-18"
ASKED = "capital of country 7?"  # a training prompt: the tuned model answers "city 7"
FAST = {"flush_interval": 0.05, "poll_interval": 0.1, "provider_timeout": 5.0}


class FakeWiredOpenAI:
    """Registers ``openai`` as the real OpenAIProvider, its HTTP transport on ``fake``."""

    def __init__(self, fake: FakeOpenAI) -> None:
        self.fake = fake

    @hookimpl
    def modelops_register_providers(self, registry: ComponentRegistrar) -> None:
        registry.add("openai", self.build)

    def build(self, **options: Any) -> Any:
        return self.fake.provider(**options)


class Server:
    """The serving app on a uvicorn server on a free port of 127.0.0.1, in a thread."""

    def __init__(self, app: Any) -> None:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        self.port = listener.getsockname()[1]
        config = uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [listener]}, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.01)
        while self.call("GET", "/v2/health/ready")[0] != 200:
            assert time.monotonic() < deadline + 10, self.call("GET", "/v2/health/ready")
            time.sleep(0.05)

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, dict[str, str], str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        connection.request(method, path, body=None if body is None else json.dumps(body))
        response = connection.getresponse()
        text = response.read().decode()
        connection.close()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, text

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def fake(exchange_log: ExchangeLog) -> FakeOpenAI:
    return FakeOpenAI(log=exchange_log)


@pytest.fixture
def tuned(fake: FakeOpenAI, tmp_path: Path) -> str:
    """The id of a model tuned on the fake (it answers its training prompts as trained)."""
    records = tmp_path / "train.jsonl"
    records.write_text("".join(json.dumps(r) + "\n" for r in chat_records()), encoding="utf-8")
    provider = fake.provider()
    job = provider.start(TuningRequest(model=MODEL, training_file=str(records)))
    while not (done := provider.get(job.id)).status.finished:
        pass
    assert done.fine_tuned_model is not None
    return done.fine_tuned_model


@pytest.fixture
def runtime(fake: FakeOpenAI, tmp_path: Path) -> Any:
    config = parse_config({"home": str(tmp_path / ".modelops"), "serving": FAST})
    plugins = [
        ("modelops-store-sql", store_sql),
        ("modelops-artifacts-local", artifacts_local),
        ("openai-on-fake", FakeWiredOpenAI(fake)),
    ]
    return make_runtime(tmp_path / ".modelops", plugins, config=config)


@pytest.fixture
def server(runtime: Any, tuned: str) -> Iterator[Server]:
    from modelops_core.registry.model_registry import ModelRegistry
    from modelops_core.serving.app import ServingApp

    with ModelRegistry(runtime) as registry:
        registry.register("support-bot", "1", model={"model_id": tuned, "provider": "openai"})
        registry.set_alias("support-bot", "production", "1")
    running = Server(ServingApp(runtime))
    yield running
    running.stop()


def logged(runtime: Any, count: int) -> list[dict[str, Any]]:
    from modelops_core.serving.request_log import read_requests
    from modelops_core.serving.settings import serving_settings

    deadline = time.monotonic() + 5
    while len(rows := read_requests(serving_settings(runtime.config))) < count:
        assert time.monotonic() < deadline, rows
        time.sleep(0.05)
    return rows


def events_of(body: str) -> list[str]:
    """The data of each server-sent event of ``body``."""
    assert body.endswith("\n\n"), body[-40:]
    blocks = body.split("\n\n")[:-1]
    assert all(block.startswith("data: ") for block in blocks), blocks
    return [block[len("data: ") :] for block in blocks]


def chat(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": "support-bot", "messages": [{"role": "user", "content": text}], **extra}


def test_a_streamed_answer_comes_as_openai_chunks_ending_done_and_is_logged_once(
    server: Server, runtime: Any, fake: FakeOpenAI, tuned: str
) -> None:
    status, headers, body = server.call("POST", "/v1/chat/completions", chat(ASKED, stream=True))

    assert status == 200
    assert headers["content-type"] == "text/event-stream"
    assert (headers["x-modelops-model"], headers["x-modelops-version"]) == ("support-bot", "1")
    events = events_of(body)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    for chunk in chunks:
        assert chunk_problems(chunk) == [], chunk  # as the SDK's ChatCompletionChunk
    assert {(c["id"], c["object"], c["model"]) for c in chunks} == {
        (headers["x-request-id"], "chat.completion.chunk", "support-bot/1")
    }
    assert [c["choices"][0]["delta"] for c in chunks] == [
        {"role": "assistant"}, {"content": "city "}, {"content": "7"}, {},
    ]  # fmt: skip
    assert [c["choices"][0]["finish_reason"] for c in chunks] == [None, None, None, "stop"]

    (sent,) = fake.requests_to("POST", "/chat/completions")  # one streamed call, no predict
    assert sent.json == {
        "model": tuned,
        "messages": [{"role": "user", "content": ASKED}],
        "temperature": 0,
        "max_completion_tokens": 256,
        "stream": True,
    }
    (row,) = logged(runtime, 1)
    assert (row["id"], row["model"], row["version"], row["variant"]) == (
        headers["x-request-id"], "support-bot", "1", "production",
    )  # fmt: skip
    assert (row["status"], row["endpoint"], row["error"]) == (200, "chat", None)
    assert json.loads(row["input"]) == [{"role": "user", "content": ASKED}]
    assert json.loads(row["output"]) == "city 7"  # the whole answer, not its last piece


def test_the_openai_sdk_reads_the_served_stream_and_it_joins_to_the_plain_answer(
    server: Server, runtime: Any
) -> None:
    import openai

    client = openai.OpenAI(
        api_key="unused", base_url=f"http://127.0.0.1:{server.port}/v1", max_retries=0,
        _strict_response_validation=True,
    )  # fmt: skip
    with client:
        streamed = client.chat.completions.create(
            model="support-bot", messages=[{"role": "user", "content": ASKED}], stream=True
        )
        pieces = [chunk.choices[0].delta.content for chunk in streamed]
        plain = client.chat.completions.create(
            model="support-bot", messages=[{"role": "user", "content": ASKED}]
        )

    assert pieces == [None, "city ", "7", None]
    assert plain.choices[0].message.content == "city 7"
    assert [row["output"] for row in logged(runtime, 2)] == ['"city 7"', '"city 7"']


def test_an_openai_error_event_mid_stream_ends_the_stream_and_is_logged_with_the_part_sent(
    server: Server, runtime: Any, fake: FakeOpenAI
) -> None:
    fake.interrupt_next_stream(after=2, message="The server had an error while processing.")
    text = "one two three four"  # not trained: echoed as "echo: one two three four"

    status, _, body = server.call("POST", "/v1/chat/completions", chat(text, stream=True))

    assert status == 200  # the headers were sent with the first piece
    events = events_of(body)
    assert events[-1] == "[DONE]"
    *chunks, failure = [json.loads(event) for event in events[:-1]]
    assert [c["choices"][0]["delta"] for c in chunks] == [
        {"role": "assistant"},
        {"content": "echo: "},
    ]
    assert failure["error"]["code"] == 502
    assert failure["error"]["message"] == (
        "openai failed for support-bot 1: OpenAI failed while streaming (openai provider, "
        f"chat.completions.create({fake.requests[-1].json['model']}, stream=True)): The server "
        "had an error while processing.. The answer is incomplete; the request can be retried."
    )
    (row,) = logged(runtime, 1)
    assert (row["status"], json.loads(row["output"])) == (502, "echo: ")
    assert row["error"] == failure["error"]["message"]


def test_a_refusal_before_the_first_piece_is_a_plain_502(
    server: Server, runtime: Any, fake: FakeOpenAI
) -> None:
    fake.fail_next(404, "The model `ft:gone` does not exist.", code="model_not_found")

    status, headers, body = server.call("POST", "/v1/chat/completions", chat(ASKED, stream=True))

    assert status == 502 and headers["content-type"].startswith("application/json")
    message = json.loads(body)["error"]["message"]
    assert message.startswith("openai failed for support-bot 1: ")
    assert "The model `ft:gone` does not exist." in message
    (row,) = logged(runtime, 1)
    assert (row["status"], row["output"], row["error"]) == (502, None, message)
