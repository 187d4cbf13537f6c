"""Training curves: the fake Bedrock writes a completed job's metrics files to moto's S3, as
Bedrock does, and ``metrics()`` reads them back as train/validation loss, epoch and perplexity
per step; a file that is not Bedrock's names itself, the line and the column."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

import pytest
from bedrock_helpers import (
    NOVA,
    REGION,
    ROLE_ARN,
    TITAN,
    bucket_keys,
    nova_records,
    prompt_records,
    shared_session,
    write_jsonl,
)
from modelops_provider_bedrock.metrics import MetricsFileError
from modelops_provider_bedrock.provider import BedrockProvider
from modelops_provider_bedrock.testing import FakeBedrock

from modelops_core.finetune.provider_contract import TuningRequest

TRAINING = "training_artifacts/step_wise_training_metrics.csv"
VALIDATION = "validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv"


@pytest.fixture
def writing_fake(s3: Any) -> FakeBedrock:
    """A fake Bedrock that writes completed jobs' metrics files to moto's S3."""
    return FakeBedrock(s3=s3)


@pytest.fixture
def provider(writing_fake: FakeBedrock, bucket: str, moto_url: str) -> BedrockProvider:
    return BedrockProvider(
        region=REGION,
        role_arn=ROLE_ARN,
        bucket=bucket,
        bedrock_client=writing_fake.client(shared_session()),
        s3_endpoint_url=moto_url,
        max_attempts=1,
        session=shared_session(),
    )


def completed_job(
    provider: BedrockProvider, fake: FakeBedrock, tmp_path: Path, model: str = NOVA
) -> str:
    """A job on 40 training and 8 validation records, 2 epochs, run to completion."""
    records = nova_records if model == NOVA else prompt_records
    request = TuningRequest(
        model=model,
        training_file=write_jsonl(tmp_path / "train.jsonl", records(40)),
        validation_file=write_jsonl(tmp_path / "valid.jsonl", records(8)),
        hyperparameters={"epochs": 2},
        suffix="curves",
    )
    job = provider.start(request)
    assert provider.metrics(job.id) == []  # nothing written before the job completes
    assert fake.finish(job.id) == "Completed"
    return job.id


def rows(s3: Any, bucket: str, key: str) -> list[dict[str, str]]:
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
    return list(csv.DictReader(io.StringIO(body)))


def series(points: list[Any], key: str) -> list[tuple[int, float]]:
    return [(p.step, p.value) for p in points if p.key == key]


def test_a_completed_job_reports_the_curves_bedrock_wrote(
    provider: BedrockProvider, writing_fake: FakeBedrock, s3: Any, bucket: str, tmp_path: Path
) -> None:
    job_id = completed_job(provider, writing_fake, tmp_path)
    _, folder = writing_fake.artifact_prefix(job_id)
    assert folder.endswith(f"/{job_id}/output/model-customization-job-"
                           f"{writing_fake.jobs[job_id].arn.rsplit('/', 1)[1]}/")  # fmt: skip
    assert {folder + TRAINING, folder + VALIDATION} <= set(bucket_keys(s3, bucket))
    training = rows(s3, bucket, folder + TRAINING)
    validation = rows(s3, bucket, folder + VALIDATION)
    assert list(training[0]) == ["step_number", "epoch_number", "training_loss"]  # Nova's
    assert len(training) == 10 and len(validation) == 2  # 40 records in batches of 8, 2 epochs

    points = provider.metrics(job_id)
    assert sorted({p.key for p in points}) == ["epoch", "train_loss", "validation_loss"]
    assert series(points, "train_loss") == [
        (int(r["step_number"]), float(r["training_loss"])) for r in training
    ]
    assert series(points, "epoch") == [(step, step // 5) for step in range(10)]
    assert series(points, "validation_loss") == [
        (int(r["step_number"]), float(r["validation_loss"])) for r in validation
    ]
    assert [step for step, _ in series(points, "validation_loss")] == [4, 9]
    losses = [value for _, value in series(points, "train_loss")]
    assert losses == sorted(losses, reverse=True) and losses[-1] < losses[0] / 2
    # the job's own summary is the file's last value
    assert provider.get(job_id).details["training_loss"] == losses[-1]


def test_titan_files_carry_perplexity(
    provider: BedrockProvider, writing_fake: FakeBedrock, tmp_path: Path
) -> None:
    provider.export_format = "bedrock"
    job_id = completed_job(provider, writing_fake, tmp_path, model=TITAN)
    points = provider.metrics(job_id)
    loss = dict(series(points, "train_loss"))
    perplexity = dict(series(points, "train_perplexity"))
    assert sorted(perplexity) == sorted(loss) == list(range(10))
    assert all(perplexity[s] == pytest.approx(math.exp(loss[s]), abs=1e-6) for s in loss)
    assert [s for s, _ in series(points, "validation_perplexity")] == [4, 9]


def test_another_jobs_files_under_the_same_prefix_are_not_read(
    provider: BedrockProvider, writing_fake: FakeBedrock, s3: Any, bucket: str, tmp_path: Path
) -> None:
    job_id = completed_job(provider, writing_fake, tmp_path)
    _, folder = writing_fake.artifact_prefix(job_id)
    other = folder.rstrip("/").rsplit("/", 1)[0] + "/model-customization-job-otherjob0000/"
    s3.put_object(Bucket=bucket, Key=other + TRAINING, Body=b"step_number,training_loss\n0,9.5\n")
    assert 9.5 not in [p.value for p in provider.metrics(job_id)]
    assert len(series(provider.metrics(job_id), "train_loss")) == 10


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (
            b"step_number,epoch_number,training_loss\n0,0,2.6\n1,0,abc\n",
            "line 3: column training_loss: 'abc' is not a finite number",
        ),
        (
            b"step_number,epoch_number,training_loss\n0,0,2.6\n1,0,nan\n",
            "line 3: column training_loss: 'nan' is not a finite number",
        ),
        (
            b"step_number,epoch_number,loss\n0,0,2.6\n",
            "line 1: no column 'training_loss' (the header is step_number,epoch_number,loss)",
        ),
        (
            b"step_number,epoch_number,training_loss\n0,0,2.6\n-1,0,2.5\n",
            "line 3: column step_number: '-1' is no step",
        ),
        (
            b"step_number,epoch_number,training_loss\n\n0,0,2.6\n1,0\n",
            "line 4: 2 cells under a header of 3",
        ),
        (b"step_number,training_loss\n0,\xff\n", "is not UTF-8 text (byte 28)"),
    ],
)
def test_a_file_that_is_not_bedrocks_names_the_file_line_and_column(
    provider: BedrockProvider,
    writing_fake: FakeBedrock,
    s3: Any,
    bucket: str,
    tmp_path: Path,
    body: bytes,
    named: str,
) -> None:
    job_id = completed_job(provider, writing_fake, tmp_path)
    _, folder = writing_fake.artifact_prefix(job_id)
    s3.put_object(Bucket=bucket, Key=folder + TRAINING, Body=body)  # a hostile rewrite
    with pytest.raises(MetricsFileError) as caught:
        provider.metrics(job_id)
    message = str(caught.value)
    assert f"s3://{bucket}/{folder}{TRAINING}" in message and named in message
    assert "restore it, or delete it" in message or "restore the file" in message
    assert s3.get_object(Bucket=bucket, Key=folder + TRAINING)["Body"].read() == body  # kept
