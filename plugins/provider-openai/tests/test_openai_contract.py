"""The openai provider passes the provider contract suite against the fake OpenAI API,
through every lifecycle and failure the fake can produce (its scenarios)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from modelops_provider_openai import plugin
from modelops_provider_openai.mapping import job_status
from modelops_provider_openai.testing import SCENARIOS, ExchangeLog, FakeOpenAI, chat_records

from modelops_core.finetune.provider_contract import (
    JobStatus,
    ProviderRejectedError,
    ProviderUnavailableError,
)
from modelops_core.testing import ProviderContract, ProviderScenario, ScenarioRun

needs_dataset = pytest.mark.skipif(
    importlib.util.find_spec("modelops_core.datasets.dataset") is None,
    reason="validate() delegates to modelops_core.datasets.dataset.Dataset, not in this core yet",
)

TO_THE_END = ("validating", "queued", "running", "succeeded")


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
        "paused": JobStatus.PAUSED,
    }
    credential_names = ("OPENAI_API_KEY",)
    finish_timeout = 5.0
    scenarios = {
        "success": ProviderScenario(path=TO_THE_END),
        "paused_and_resumed": ProviderScenario(
            path=("validating", "queued", "running", "paused", "queued", "running", "succeeded"),
            actions={"running": "pause", "paused": "resume"},
        ),
        "cancelled_while_queued": ProviderScenario(
            path=("validating", "queued", "cancelled"), actions={"queued": "cancel"}
        ),
        "invalid_training_file": ProviderScenario(
            path=("validating", "failed"),
            error="invalid training file",
            details={"error_code": "invalid_training_file", "error_param": "training_file"},
        ),
        "fails_while_training": ProviderScenario(
            path=("validating", "queued", "running", "failed"),
            error="internal error",
            details={"error_code": "server_error", "error_param": None},
        ),
        "warns_then_succeeds": ProviderScenario(path=TO_THE_END),
        "throttled_while_polling": ProviderScenario(
            path=TO_THE_END,
            raises=ProviderUnavailableError,
            match="Rate limit reached",
            retry_after=2.5,  # retry-after-ms, read before retry-after (3) as the SDK does
        ),
        "server_error_while_polling": ProviderScenario(
            path=TO_THE_END, raises=ProviderUnavailableError, match="overloaded"
        ),
        "timeout_while_polling": ProviderScenario(
            path=TO_THE_END, raises=ProviderUnavailableError, match="Could not reach OpenAI"
        ),
        "quota_exhausted": ProviderScenario(
            path=(), raises=ProviderRejectedError, match="exceeded your current quota"
        ),
    }

    @pytest.fixture(autouse=True)
    def _exchanges(self, exchange_log: ExchangeLog) -> None:
        self.exchange_log = exchange_log

    def component_options(self, tmp_path: Path) -> dict[str, Any]:
        fake = self.fake = FakeOpenAI(log=self.exchange_log)
        return {
            "api_key": "sk-test",
            "base_url": fake.base_url,
            "http_client": fake.http_client(),
            "max_retries": 0,
        }

    def arm_scenario(self, component: Any, name: str) -> None:
        self.fake.scenario(name)  # the fake behind ``component`` (built by component_options)

    def check_scenario(self, component: Any, scenario: ProviderScenario, run: ScenarioRun) -> None:
        fake = self.fake
        if run.name == "warns_then_succeeds":
            warnings = [e for e in component.events(run.job.id) if e.level == "warning"]
            assert [e.message for e in warnings] == [
                "3 examples in the training file exceed the 65536 token limit for "
                "gpt-4o-mini-2024-07-18; they will be skipped."
            ]
        if run.name == "throttled_while_polling":
            (throttled,) = [x for x in fake.exchanges if x.status == 429]
            assert throttled.operation == "GET /fine_tuning/jobs/{fine_tuning_job_id}"
        if run.name == "quota_exhausted":
            assert fake.jobs == {} and fake.files == {}

    def options_without_credentials(self, tmp_path: Path) -> dict[str, Any] | None:
        return {k: v for k, v in self.component_options(tmp_path).items() if k != "api_key"}

    def to_status(self, raw_status: str) -> Any:
        return job_status(raw_status)

    def test_every_scenario_of_the_fake_is_declared(self) -> None:
        assert sorted(self.scenarios) == sorted(SCENARIOS)

    @needs_dataset
    def test_validate_accepts_the_training_file(self, component: Any, tmp_path: Path) -> None:
        super().test_validate_accepts_the_training_file(component, tmp_path)

    @needs_dataset
    def test_validate_reports_problems_for_a_bad_file(self, component: Any, tmp_path: Path) -> None:
        super().test_validate_reports_problems_for_a_bad_file(component, tmp_path)
