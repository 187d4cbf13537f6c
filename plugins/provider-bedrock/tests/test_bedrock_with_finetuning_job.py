"""End to end: the core's FineTuningJob drives the bedrock provider, configured as in
modelops.toml, against the fake Bedrock served over HTTP and moto's S3."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import modelops_provider_bedrock.plugin
import pytest
from bedrock_helpers import NOVA, ROLE_ARN, bucket_keys
from modelops_provider_bedrock.testing import FakeBedrock

from modelops_core.config import parse_config
from modelops_core.testing.fixtures import make_runtime

pytestmark = [
    pytest.mark.skipif(
        importlib.util.find_spec("modelops_core.datasets.dataset") is None
        or importlib.util.find_spec("modelops_core.finetune.job") is None,
        reason="needs modelops_core.datasets.dataset and modelops_core.finetune.job",
    ),
    pytest.mark.slow,  # about 3 s: a runtime, the sql store, a job through preflight
]


def test_a_fine_tuning_job_on_bedrock_uploads_starts_and_finishes(
    tmp_path: Path, moto_url: str, bucket: str, s3: Any, fake: FakeBedrock
) -> None:
    from modelops_core.datasets.dataset import Dataset
    from modelops_core.finetune.job import FineTuningJob

    store_sql = pytest.importorskip("modelops_store_sql.plugin", reason="jobs are tracked in sql")
    fake.s3 = s3  # a completed job's metrics files are written, as on AWS
    with fake.serve() as url:
        config = parse_config(
            {
                "home": str(tmp_path / ".modelops"),
                "providers": {
                    "bedrock": {
                        "region": "us-east-1",
                        "role_arn": ROLE_ARN,
                        "bucket": bucket,
                        "endpoint_url": url,
                        "s3_endpoint_url": moto_url,
                        "max_attempts": 1,
                    }
                },
            },
            base=tmp_path,
        )
        plugins = [
            ("modelops-store-sql", store_sql),
            ("modelops-provider-bedrock", modelops_provider_bedrock.plugin),
        ]
        runtime = make_runtime(tmp_path / ".modelops", plugins, config=config)
        records = [
            {"prompt": f"What is the capital of country {i}?", "completion": f"City {i}"}
            for i in range(40)
        ]
        job = FineTuningJob(
            model=NOVA, dataset=Dataset.from_records(records), epochs=2, learning_rate=1e-5,
            runtime=runtime,
        )  # fmt: skip
        assert job.provider == "bedrock"
        job.start()
        assert not job.status.finished
        (key,) = bucket_keys(s3, bucket)
        assert key.endswith(f"{job.id}/train.jsonl")
        first = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read().splitlines()[0])
        assert first["schemaVersion"] == "bedrock-conversation-2024"  # Nova reads conversations
        fake.finish(job.id)
        assert job.wait(timeout=30, poll_interval=0.001) == "succeeded"
        assert job.result == fake.jobs[job.id].custom_model_arn
        # the curves Bedrock wrote are metric series of the job's tracking run
        assert job.run_id is not None
        curves = job.store.tracker.backend.get_metrics(job.run_id)
        loss = [(p.step, p.value) for p in curves if p.key == "train_loss"]
        assert loss == [(p.step, p.value) for p in job.training_metrics() if p.key == "train_loss"]
        assert [step for step, _ in loss] == list(range(10))  # 40 records / 8 x 2 epochs
        assert loss[-1][1] == fake.jobs[job.id].training_loss < loss[0][1] / 2
        assert [r.operation for r in fake.received][:2] == [
            "CreateModelCustomizationJob",
            "GetModelCustomizationJob",
        ]
        assert all(r.error_code is None for r in fake.received), fake.received
