"""The openai provider passes the provider contract suite against the fake OpenAI API."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from modelops_provider_openai import plugin
from modelops_provider_openai.mapping import job_status
from modelops_provider_openai.testing import FakeOpenAI, chat_records

from modelops_core.finetune.provider_contract import JobStatus
from modelops_core.testing import ProviderContract

needs_dataset = pytest.mark.skipif(
    importlib.util.find_spec("modelops_core.datasets.dataset") is None,
    reason="validate() delegates to modelops_core.datasets.dataset.Dataset, not in this core yet",
)


class TestOpenAIProvider(ProviderContract):
    plugin = plugin
    component_name = "openai"
    distribution = "modelops-provider-openai"
    model = "gpt-4o-mini-2024-07-18"
    training_records = chat_records()
    predict_inputs = ("capital of country 3?", "something new")
    status_examples = {
        "validating_files": JobStatus.VALIDATING,
        "queued": JobStatus.QUEUED,
        "running": JobStatus.RUNNING,
        "succeeded": JobStatus.SUCCEEDED,
        "failed": JobStatus.FAILED,
        "cancelled": JobStatus.CANCELLED,
        "paused": JobStatus.RUNNING,
    }
    credential_names = ("OPENAI_API_KEY",)
    finish_timeout = 5.0

    def component_options(self, tmp_path: Path) -> dict[str, Any]:
        fake = FakeOpenAI()
        return {
            "api_key": "sk-test",
            "base_url": fake.base_url,
            "http_client": fake.http_client(),
            "max_retries": 0,
            "strict_response_validation": True,
        }

    def options_without_credentials(self, tmp_path: Path) -> dict[str, Any] | None:
        return {k: v for k, v in self.component_options(tmp_path).items() if k != "api_key"}

    def to_status(self, raw_status: str) -> Any:
        return job_status(raw_status)

    @needs_dataset
    def test_validate_accepts_the_training_file(self, component: Any, tmp_path: Path) -> None:
        super().test_validate_accepts_the_training_file(component, tmp_path)

    @needs_dataset
    def test_validate_reports_problems_for_a_bad_file(self, component: Any, tmp_path: Path) -> None:
        super().test_validate_reports_problems_for_a_bad_file(component, tmp_path)
