"""Fixtures: a stateful fake OpenAI API, a provider wired to it through the SDK, data files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from modelops_provider_openai.provider import OpenAIProvider
from modelops_provider_openai.testing import (
    ExchangeLog,
    FakeOpenAI,
    chat_records,
    dpo_records,
    write_jsonl,
)


@pytest.fixture(scope="session")
def exchange_log() -> Iterator[ExchangeLog]:
    """Every exchange of every fake of the run; at the end none may break OpenAI's spec."""
    log = ExchangeLog()
    yield log
    left = log.unexpected()
    assert not left, "exchanges outside OpenAI's spec:\n" + "\n".join(map(str, left))


@pytest.fixture(autouse=True)
def strict_openai_fakes(exchange_log: ExchangeLog) -> Iterator[None]:
    """Strict mode: a test whose fakes saw a request or response outside the spec fails
    (violations a test provoked on purpose are taken with ``fake.take_violations()``)."""
    before = len(exchange_log.fakes)
    yield
    for fake in exchange_log.fakes[before:]:
        fake.check()


@pytest.fixture(autouse=True)
def no_openai_settings_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys and endpoints of the calling shell must not leak into tests (nor be sent)."""
    for name in (
        "OPENAI_API_KEY",
        "AZURE_OPENAI_API_KEY",
        "AZURE_OPENAI_AD_TOKEN",
        "OPENAI_BASE_URL",
        "OPENAI_ORG_ID",
        "OPENAI_PROJECT_ID",
        "AZURE_OPENAI_ENDPOINT",
        "OPENAI_API_VERSION",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fake(exchange_log: ExchangeLog) -> FakeOpenAI:
    return FakeOpenAI(log=exchange_log)


@pytest.fixture
def provider(fake: FakeOpenAI) -> Iterator[OpenAIProvider]:
    built = fake.provider()
    yield built
    built.close()


@pytest.fixture
def training_file(tmp_path: Path) -> str:
    return write_jsonl(tmp_path / "train.jsonl", chat_records())


@pytest.fixture
def dpo_file(tmp_path: Path) -> str:
    return write_jsonl(tmp_path / "dpo.jsonl", dpo_records())
