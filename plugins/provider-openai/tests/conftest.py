"""Fixtures: a stateful fake OpenAI API, a provider wired to it through the SDK, data files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from modelops_provider_openai.provider import OpenAIProvider
from modelops_provider_openai.testing import FakeOpenAI, chat_records, dpo_records, write_jsonl


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
def fake() -> FakeOpenAI:
    return FakeOpenAI()


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
