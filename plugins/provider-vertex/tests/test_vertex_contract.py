"""The vertex provider passes the provider contract suite against the fake Vertex AI API and
the Cloud Storage emulator, through every lifecycle and failure the fake can produce."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from modelops_provider_vertex import plugin
from modelops_provider_vertex.mapping import job_status
from modelops_provider_vertex.testing import (
    SCENARIOS,
    ExchangeLog,
    FakeVertex,
    GcsEmulator,
    supervised_records,
)

from modelops_core.finetune.provider_contract import JobStatus, ProviderUnavailableError
from modelops_core.testing import ProviderContract, ProviderScenario

_BUCKETS = itertools.count()


class TestVertexProvider(ProviderContract):
    plugin = plugin
    component_name = "vertex"
    distribution = "modelops-provider-vertex"
    model = "gemini-2.5-flash"
    training_records = supervised_records()
    predict_inputs = ("capital of country 3?", "something new")
    status_examples = {
        "JOB_STATE_PENDING": JobStatus.PENDING,
        "JOB_STATE_QUEUED": JobStatus.QUEUED,
        "JOB_STATE_RUNNING": JobStatus.RUNNING,
        "JOB_STATE_RUNNING/TUNING_JOB_STATE_PROCESSING_DATASET": JobStatus.VALIDATING,
        "JOB_STATE_RUNNING/TUNING_JOB_STATE_WAITING_FOR_QUOTA": JobStatus.QUEUED,
        "JOB_STATE_RUNNING/TUNING_JOB_STATE_WAITING_FOR_CAPACITY": JobStatus.QUEUED,
        "JOB_STATE_RUNNING/TUNING_JOB_STATE_TUNING": JobStatus.RUNNING,
        "JOB_STATE_RUNNING/TUNING_JOB_STATE_POST_PROCESSING": JobStatus.RUNNING,
        "JOB_STATE_UPDATING": JobStatus.RUNNING,
        "JOB_STATE_CANCELLING": JobStatus.RUNNING,
        "JOB_STATE_PAUSED": JobStatus.PAUSED,
        "JOB_STATE_SUCCEEDED": JobStatus.SUCCEEDED,
        "JOB_STATE_FAILED": JobStatus.FAILED,
        "JOB_STATE_EXPIRED": JobStatus.FAILED,
        "JOB_STATE_CANCELLED": JobStatus.CANCELLED,
        "JOB_STATE_PARTIALLY_SUCCEEDED": JobStatus.FAILED,  # without a tuned model
    }
    credential_names = ("GOOGLE_APPLICATION_CREDENTIALS", "credentials")
    reported_metrics = ("tokens_seen", "epoch")  # the API has no loss
    finish_timeout = 5.0
    scenarios = {
        "succeeded": ProviderScenario(path=("pending", "validating", "running", "succeeded")),
        "queued": ProviderScenario(
            path=("pending", "queued", "validating", "running", "succeeded")
        ),
        "waiting_for_quota": ProviderScenario(
            path=("pending", "validating", "queued", "running", "succeeded")
        ),
        "waiting_for_capacity": ProviderScenario(
            path=("pending", "validating", "queued", "running", "succeeded")
        ),
        "post_processing": ProviderScenario(path=("pending", "validating", "running", "succeeded")),
        "paused": ProviderScenario(
            path=("pending", "validating", "running", "paused", "running", "succeeded")
        ),
        "updating": ProviderScenario(path=("pending", "validating", "running", "succeeded")),
        "failed_during_tuning": ProviderScenario(
            path=("pending", "validating", "running", "failed"),
            error=r"^Internal error occurred while tuning at step \d+\. Retry the tuning job",
            details={"error_code": 13, "error_reason": "TUNING_JOB_INTERNAL_ERROR"},
        ),
        "expired": ProviderScenario(
            path=("pending", "queued", "failed"),
            error=r"Vertex AI expired the job \(JOB_STATE_EXPIRED\)",
            details={"state": "JOB_STATE_EXPIRED"},
        ),
        "partially_succeeded": ProviderScenario(
            path=("pending", "validating", "running", "succeeded"),
            details={"state": "JOB_STATE_PARTIALLY_SUCCEEDED"},
        ),
        "partially_succeeded_without_model": ProviderScenario(
            path=("pending", "validating", "running", "failed"),
            error=r"partially succeeded \(JOB_STATE_PARTIALLY_SUCCEEDED\) but produced no",
        ),
        "cancelled_while_queued": ProviderScenario(
            path=("pending", "queued", "running", "cancelled"),
            actions={"queued": "cancel"},
            details={"state": "JOB_STATE_CANCELLED", "error_code": 1},
        ),
        "throttled": ProviderScenario(
            path=("pending", "validating", "running", "succeeded"),
            raises=ProviderUnavailableError,
            match=r"HTTP 429 RESOURCE_EXHAUSTED.*Resource exhausted",
            retry_after=7.0,
        ),
        "unavailable": ProviderScenario(
            path=("pending", "validating", "running", "succeeded"),
            raises=ProviderUnavailableError,
            match=r"HTTP 503 UNAVAILABLE",
        ),
        "timeout": ProviderScenario(
            path=("pending", "validating", "running", "succeeded"),
            raises=ProviderUnavailableError,
            match=r"ReadTimeout",
        ),
        "create_answer_lost": ProviderScenario(
            path=("pending", "validating", "running", "succeeded")
        ),
    }

    @pytest.fixture(autouse=True)
    def _storage(self, gcs_emulator: GcsEmulator, exchange_log: ExchangeLog) -> None:
        self.emulator = gcs_emulator
        self.log = exchange_log

    def component_options(self, tmp_path: Path) -> dict[str, Any]:
        self.fake = FakeVertex(gcs_reader=self.emulator.read, log=self.log)
        bucket = self.emulator.create_bucket(f"contract-{next(_BUCKETS)}")
        return self.fake.provider_options(bucket=bucket, storage_endpoint=self.emulator.endpoint)

    def arm_scenario(self, component: Any, name: str) -> None:
        fake = self.fake
        if name in SCENARIOS:
            fake.script(name)
        elif name == "cancelled_while_queued":
            fake.script("queued")
        elif name == "throttled":
            message = "Resource exhausted. Please try again later."
            fake.fail_next(429, message, path="tuningJobs/", retry_delay=7.0, times=2)
        elif name == "unavailable":
            fake.fail_next(503, "The service is currently unavailable.", path="tuningJobs/")
        elif name == "timeout":
            fake.fail_next(timeout=True, path="tuningJobs/")
        elif name == "create_answer_lost":
            fake.fail_next(timeout=True, after_processing=True, path="tuningJobs")

    def check_scenario(self, component: Any, scenario: ProviderScenario, run: Any) -> None:
        assert not self.fake.violations
        assert len(self.fake.jobs) == 1, "one job per scenario, never a duplicate"
        assert len(self.fake.requests_to("POST", "/tuningJobs")) == 1
        if run.name == "create_answer_lost":  # found by its request label, not created twice
            (lookup,) = self.fake.requests_to("GET", "/tuningJobs")
            assert "labels.modelops-request" in lookup.url.replace("%2E", ".")

    def options_without_credentials(self, tmp_path: Path) -> dict[str, Any] | None:
        options = self.component_options(tmp_path)
        del options["credentials"]
        return options

    def to_status(self, raw_status: str) -> Any:
        return job_status(raw_status)
