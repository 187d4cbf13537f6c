"""The bedrock provider passes the provider contract against the strict fake Bedrock.

The customization API (create/get/list/stop) is ``FakeBedrock``'s, answered at the transport;
S3 is moto's, over HTTP on 127.0.0.1; ``advance`` moves the job one step of its lifecycle;
``predict`` and ``stream`` go to a ``bedrock-runtime`` client answered by
``FakeBedrockRuntime`` (Converse, and ConverseStream's event stream), which answers the
capital question with "Paris" (the contract checks that the stream joins to predict's
answer). Each scenario the fake can produce
(``FakeBedrock.arm``) is run through the provider by the contract's ``test_scenario``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import modelops_provider_bedrock.plugin
import pytest
from bedrock_helpers import NOVA, REGION, ROLE_ARN, nova_records, shared_session
from modelops_provider_bedrock.status import to_job_status
from modelops_provider_bedrock.testing import SCENARIOS, FakeBedrock, FakeBedrockRuntime

from modelops_core.finetune.provider_contract import (
    JobStatus,
    ProviderRejectedError,
    ProviderUnavailableError,
)
from modelops_core.testing import ProviderContract, ProviderScenario

SUCCESS = ("validating", "queued", "running", "succeeded")
PROVISIONED = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/pt7x2k9q4m1z"
ANSWERS = {"What is the capital of France?": "Paris"}


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
    reported_metrics = ("train_loss", "epoch")
    scenarios: ClassVar[dict[str, ProviderScenario]] = {
        "succeeds": ProviderScenario(path=SUCCESS),
        "fails_validation": ProviderScenario(
            path=("validating", "failed"), error="^Data validation failed: line 3"
        ),
        "fails_data_processing": ProviderScenario(
            path=("validating", "failed"), error="AccessDenied on s3:GetObject"
        ),
        "fails_while_training": ProviderScenario(
            path=("validating", "queued", "running", "failed"),
            error="^Internal error during training",
        ),
        "stopped_while_training": ProviderScenario(
            path=("validating", "queued", "running", "cancelled"), actions={"running": "cancel"}
        ),
        "throttled": ProviderScenario(
            path=SUCCESS,
            raises=ProviderUnavailableError,
            match=r"ThrottlingException, HTTP 429",
            retry_after=1.5,
        ),
        "server_error": ProviderScenario(
            path=SUCCESS,
            raises=ProviderUnavailableError,
            match=r"InternalServerException, HTTP 500",
        ),
        "service_unavailable": ProviderScenario(
            path=SUCCESS,
            raises=ProviderUnavailableError,
            match=r"ServiceUnavailableException, HTTP 503",
        ),
        "timeout": ProviderScenario(
            path=SUCCESS, raises=ProviderUnavailableError, match="Read timeout"
        ),
        "quota_exceeded": ProviderScenario(
            raises=ProviderRejectedError, match=r"ServiceQuotaExceededException, HTTP 400.*quota"
        ),
        "conflict": ProviderScenario(
            raises=ProviderRejectedError, match=r"ConflictException, HTTP 400"
        ),
        "too_many_tags": ProviderScenario(
            raises=ProviderRejectedError, match=r"TooManyTagsException, HTTP 400.*at most 50 tags"
        ),
        "access_denied": ProviderScenario(
            raises=ProviderRejectedError, match=r"AccessDeniedException, HTTP 403.*trust policy"
        ),
    }

    @pytest.fixture(autouse=True)
    def _backends(
        self,
        moto_url: str,
        bucket: str,
        fake: FakeBedrock,
        fake_aws_environment: pytest.MonkeyPatch,
        s3: Any,
    ) -> None:
        self.moto_url = moto_url
        self.bucket = bucket
        self.fake = fake
        fake.s3 = s3  # completed jobs write their metrics files, as on AWS
        self.environment = fake_aws_environment

    def component_options(self, tmp_path: Path) -> dict[str, Any]:
        return {
            "region": REGION,
            "role_arn": ROLE_ARN,
            "bucket": self.bucket,
            "bedrock_client": self.fake.client(shared_session()),
            "s3_endpoint_url": self.moto_url,
            "runtime_client": FakeBedrockRuntime(answers=ANSWERS).client(shared_session()),
            "max_attempts": 1,
            "session": shared_session(),
        }

    def to_status(self, raw_status: str) -> Any:
        return to_job_status(raw_status)

    def advance(self, component: Any, job_id: str) -> None:
        if self.fake.advance(job_id) == "Completed":
            # what a user does next: buy provisioned throughput and map the model to it
            custom = self.fake.jobs[job_id].custom_model_arn
            component.provisioned_models[custom] = PROVISIONED

    def arm_scenario(self, component: Any, name: str) -> None:
        self.fake.arm(name)

    def options_without_credentials(self, tmp_path: Path) -> dict[str, Any] | None:
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            self.environment.delenv(name)
        options = self.component_options(tmp_path)
        del options["runtime_client"], options["session"], options["bedrock_client"]
        return options


def test_every_scenario_of_the_fake_is_run_by_the_contract() -> None:
    assert sorted(TestBedrockProvider.scenarios) == sorted(SCENARIOS)
