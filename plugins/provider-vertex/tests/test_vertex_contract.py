"""The vertex provider passes the provider contract suite against the fake Vertex AI API and
the Cloud Storage emulator."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from modelops_provider_vertex import plugin
from modelops_provider_vertex.mapping import job_status
from modelops_provider_vertex.testing import FakeVertex, GcsEmulator, supervised_records

from modelops_core.finetune.provider_contract import JobStatus
from modelops_core.testing import ProviderContract

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
        "JOB_STATE_PAUSED": JobStatus.RUNNING,
        "JOB_STATE_SUCCEEDED": JobStatus.SUCCEEDED,
        "JOB_STATE_FAILED": JobStatus.FAILED,
        "JOB_STATE_EXPIRED": JobStatus.FAILED,
        "JOB_STATE_CANCELLED": JobStatus.CANCELLED,
        "JOB_STATE_PARTIALLY_SUCCEEDED": JobStatus.FAILED,  # without a tuned model
    }
    credential_names = ("GOOGLE_APPLICATION_CREDENTIALS", "credentials")
    finish_timeout = 5.0

    @pytest.fixture(autouse=True)
    def _storage(self, gcs_emulator: GcsEmulator) -> None:
        self.emulator = gcs_emulator

    def component_options(self, tmp_path: Path) -> dict[str, Any]:
        fake = FakeVertex(gcs_reader=self.emulator.read)
        bucket = self.emulator.create_bucket(f"contract-{next(_BUCKETS)}")
        return fake.provider_options(bucket=bucket, storage_endpoint=self.emulator.endpoint)

    def options_without_credentials(self, tmp_path: Path) -> dict[str, Any] | None:
        options = self.component_options(tmp_path)
        del options["credentials"]
        return options

    def to_status(self, raw_status: str) -> Any:
        return job_status(raw_status)
