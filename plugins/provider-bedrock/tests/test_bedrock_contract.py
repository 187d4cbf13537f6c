"""The bedrock provider passes the provider contract against a moto server.

S3 and the customization API (create/get/list/stop) are moto's, over HTTP on 127.0.0.1;
``advance`` completes the job in moto (which never advances it by itself); ``predict`` goes
to a ``bedrock-runtime`` client whose Converse answers come from botocore's Stubber (moto does
not implement Converse).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import modelops_provider_bedrock.plugin
import pytest
from bedrock_helpers import (
    NOVA,
    REGION,
    ROLE_ARN,
    make_client,
    nova_records,
    set_moto_job_status,
    shared_session,
)
from botocore.stub import Stubber
from modelops_provider_bedrock.status import to_job_status

from modelops_core.finetune.provider_contract import JobStatus
from modelops_core.testing import ProviderContract


def stubbed_runtime(answers: int) -> Any:
    """A bedrock-runtime client that answers ``answers`` Converse calls with "Paris"."""
    client = make_client("bedrock-runtime")
    stubber = Stubber(client)
    for _ in range(answers):
        stubber.add_response(
            "converse",
            {
                "output": {"message": {"role": "assistant", "content": [{"text": "Paris"}]}},
                "stopReason": "end_turn",
                "usage": {"inputTokens": 5, "outputTokens": 1, "totalTokens": 6},
                "metrics": {"latencyMs": 12},
            },
        )
    stubber.activate()
    return client


class TestBedrockProvider(ProviderContract):
    plugin = modelops_provider_bedrock.plugin
    component_name = "bedrock"
    distribution = "modelops-provider-bedrock"
    model = NOVA
    training_records = nova_records()
    hyperparameters: ClassVar[dict[str, Any]] = {"epochs": 1, "learning_rate": 1e-5}
    predict_inputs = ("What is the capital of France?",)
    status_examples: ClassVar[dict[str, Any]] = {
        "InProgress/validation:InProgress": JobStatus.VALIDATING,
        "InProgress/dataProcessing:InProgress": JobStatus.VALIDATING,
        "InProgress/dataProcessing:Completed": JobStatus.QUEUED,
        "InProgress/training:InProgress": JobStatus.RUNNING,
        "InProgress": JobStatus.RUNNING,
        "Stopping": JobStatus.RUNNING,
        "Completed": JobStatus.SUCCEEDED,
        "Completed/training:Completed": JobStatus.SUCCEEDED,
        "Failed/validation:Failed": JobStatus.FAILED,
        "Stopped": JobStatus.CANCELLED,
    }
    credential_names = ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "profile")

    @pytest.fixture(autouse=True)
    def _moto(self, moto_url: str, bucket: str, fake_aws_environment: pytest.MonkeyPatch) -> None:
        self.moto_url = moto_url
        self.bucket = bucket
        self.environment = fake_aws_environment

    def component_options(self, tmp_path: Path) -> dict[str, Any]:
        return {
            "region": REGION,
            "role_arn": ROLE_ARN,
            "bucket": self.bucket,
            "endpoint_url": self.moto_url,
            "s3_endpoint_url": self.moto_url,
            "runtime_client": stubbed_runtime(len(self.predict_inputs)),
            "max_attempts": 1,
            "session": shared_session(),
        }

    def to_status(self, raw_status: str) -> Any:
        return to_job_status(raw_status)

    def advance(self, component: Any, job_id: str) -> None:
        set_moto_job_status(job_id, "Completed")

    def options_without_credentials(self, tmp_path: Path) -> dict[str, Any] | None:
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            self.environment.delenv(name)
        options = self.component_options(tmp_path)
        del options["runtime_client"], options["session"]
        return options
