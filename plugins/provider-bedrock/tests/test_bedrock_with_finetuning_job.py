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


def bedrock_runtime(tmp_path: Path, url: str, moto_url: str, bucket: str) -> Any:
    """A runtime with the sql store and the bedrock provider on the fake (at ``url``) and moto."""
    store_sql = pytest.importorskip("modelops_store_sql.plugin", reason="jobs are tracked in sql")
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
    return make_runtime(tmp_path / ".modelops", plugins, config=config)


def test_a_fine_tuning_job_on_bedrock_uploads_starts_and_finishes(
    tmp_path: Path, moto_url: str, bucket: str, s3: Any, fake: FakeBedrock
) -> None:
    from modelops_core.datasets.dataset import Dataset
    from modelops_core.finetune.job import FineTuningJob

    fake.s3 = s3  # a completed job's metrics files are written, as on AWS
    with fake.serve() as url:
        runtime = bedrock_runtime(tmp_path, url, moto_url, bucket)
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


def test_a_metrics_file_that_is_not_bedrocks_leaves_the_job_succeeding_with_the_reason(
    tmp_path: Path, moto_url: str, bucket: str, s3: Any, fake: FakeBedrock
) -> None:
    from modelops_core.datasets.dataset import Dataset
    from modelops_core.finetune.job import FineTuningJob

    fake.s3 = s3
    with fake.serve() as url:
        runtime = bedrock_runtime(tmp_path, url, moto_url, bucket)
        records = [{"prompt": f"Question {i}?", "completion": f"Answer {i}"} for i in range(40)]
        job = FineTuningJob(model=NOVA, dataset=Dataset.from_records(records), runtime=runtime)
        job.start()
        fake.finish(job.id)
        _, folder = fake.artifact_prefix(job.id)
        key = folder + "training_artifacts/step_wise_training_metrics.csv"
        hostile = b"step_number,epoch_number,training_loss\n0,0,2.6\n1,0,abc\n"
        s3.put_object(Bucket=bucket, Key=key, Body=hostile)
        assert job.wait(timeout=30, poll_interval=0.001) == "succeeded"
        assert job.run_id is not None
        reason = job.store.get(job.run_id).tags["job.metrics_error"]
        assert reason.startswith(
            f"bedrock provider: s3://{bucket}/{key}, line 3: column training_loss: 'abc' is not "
            "a finite number."
        )
        curves = job.store.tracker.backend.get_metrics(job.run_id)
        assert [p.key for p in curves if p.key != "progress"] == []  # nothing half-read
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == hostile
