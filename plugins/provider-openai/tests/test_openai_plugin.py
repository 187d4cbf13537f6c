"""The plugin: cheap to import, configured from modelops.toml, validates through Dataset."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from modelops_provider_openai import plugin
from modelops_provider_openai.testing import (
    ExchangeLog,
    FakeOpenAI,
    chat_records,
    dpo_records,
    write_jsonl,
)

from modelops_core.config import load_config
from modelops_core.errors import ComponentOptionError
from modelops_core.plugins.kinds import Kind
from modelops_core.testing import packages_imported_by
from modelops_core.testing.fixtures import make_runtime

MODEL = "gpt-4o-mini-2024-07-18"


def test_importing_the_plugin_does_not_import_openai() -> None:
    imported = packages_imported_by("import modelops_provider_openai.plugin")
    assert not imported & {"openai", "httpx2", "httpx"}


def test_the_provider_is_built_from_the_providers_openai_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exchange_log: ExchangeLog
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    config_file = tmp_path / "modelops.toml"
    config_file.write_text(
        """
        [providers]
        default = "openai"
        [providers.openai]
        api_key = { env = "OPENAI_API_KEY" }
        base_url = "http://fake.openai.test/v1"
        organization = "org-fake"
        timeout = 30
        max_retries = 0
        max_tokens = 64
        """.replace("\n        ", "\n"),
        encoding="utf-8",
    )
    config = load_config(config_file)
    runtime = make_runtime(
        tmp_path / ".modelops", [("modelops-provider-openai", plugin)], config=config
    )
    fake = FakeOpenAI(log=exchange_log)
    provider = runtime.create(Kind.PROVIDER, config.provider(), http_client=fake.http_client())
    assert provider.max_tokens == 64 and provider.settings.timeout == 30.0
    assert provider.list_jobs() == []
    assert fake.requests[-1].headers["openai-organization"] == "org-fake"
    assert "sk-test" not in repr(provider.settings)


def test_a_misspelt_option_names_the_valid_ones(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path / ".modelops", [("modelops-provider-openai", plugin)])
    with pytest.raises(ComponentOptionError, match="azure_endpoint"):
        runtime.create(Kind.PROVIDER, "openai", azure_endpoit="https://x.openai.azure.com")


def test_validate_needs_no_api_key_and_no_network(
    tmp_path: Path, exchange_log: ExchangeLog
) -> None:
    if importlib.util.find_spec("modelops_core.datasets.dataset") is None:
        pytest.skip("validate() delegates to modelops_core.datasets.dataset, not in this core yet")
    fake = FakeOpenAI(log=exchange_log)
    provider = fake.provider(api_key=None)
    good = write_jsonl(tmp_path / "good.jsonl", chat_records(12))
    assert provider.validate(good, "supervised", MODEL) == []
    few = write_jsonl(tmp_path / "few.jsonl", chat_records(3))
    problems = provider.validate(few, "supervised", MODEL)
    assert problems and any("10" in p for p in problems), problems
    dpo = write_jsonl(tmp_path / "dpo.jsonl", dpo_records(12))
    assert provider.validate(dpo, "preference", MODEL) == []
    broken = tmp_path / "broken.jsonl"
    broken.write_text(
        "".join(line for line in Path(good).read_text().splitlines(keepends=True)) + "{oops\n"
    )
    assert any(p.startswith("line 13") for p in provider.validate(str(broken), "supervised", MODEL))
    assert fake.requests == []


def test_an_unknown_method_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'supervised', 'preference'"):
        FakeOpenAI().provider().export_format_for("reinforcement")
