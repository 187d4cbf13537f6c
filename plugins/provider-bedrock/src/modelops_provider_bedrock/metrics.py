"""The training curves of a Bedrock customization job, read from the files Bedrock writes.

When a job completes, Bedrock writes its metrics under the job's output S3 prefix
(``outputDataConfig``), in a folder named after the id that ends the job's ARN::

    <output prefix>/model-customization-job-<id>/
        training_artifacts/step_wise_training_metrics.csv
        validation_artifacts/post_fine_tuning_validation/[validation/]validation_metrics.csv

``step_number,epoch_number,training_loss[,perplexity]`` (``validation_loss`` in the
validation file), one row per step. They become the neutral series ``train_loss``,
``validation_loss``, ``epoch``, ``train_perplexity`` and ``validation_perplexity``.
A file that is not what Bedrock writes is a :class:`MetricsFileError` naming the file, the
line and the column.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping
from typing import Any

from modelops_core.finetune.provider_contract import MetricPoint, ProviderRejectedError
from modelops_provider_bedrock.errors import translated

TRAINING_FILE = "training_artifacts/step_wise_training_metrics.csv"
VALIDATION_FILE = "validation_metrics.csv"
VALIDATION_FOLDER = "validation_artifacts/"
#: the file's loss column -> the neutral series names of (loss, perplexity).
_SERIES = {
    "training_loss": ("train_loss", "train_perplexity"),
    "validation_loss": ("validation_loss", "validation_perplexity"),
}


class MetricsFileError(ProviderRejectedError):
    """A metrics file in the job's output prefix is not what Bedrock writes (the curves are
    not recorded; the job itself is unaffected)."""


def split_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> ``("bucket", "some/prefix/")``."""
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return bucket, prefix


def job_folder(job_arn: str | None) -> str | None:
    """``model-customization-job-<id>/``, the id being what ends the job's ARN."""
    if not job_arn or "/" not in job_arn:
        return None
    return f"model-customization-job-{job_arn.rsplit('/', 1)[1]}/"


def metrics_files(keys: list[str], job_arn: str | None, uri: str, job: str) -> list[str]:
    """The metrics files of the job among ``keys`` (training first): those in the job's own
    folder, else the only ones there are; several jobs' files and none of this job's is a
    :class:`MetricsFileError`."""
    found = [k for k in keys if k.endswith("/" + TRAINING_FILE) or k == TRAINING_FILE]
    found += [k for k in keys if k.endswith("/" + VALIDATION_FILE) and VALIDATION_FOLDER in k]
    folder = job_folder(job_arn)
    own = [k for k in found if folder is not None and folder in k]
    if own:
        return own
    trainings = [k for k in found if k.endswith(TRAINING_FILE)]
    if len(trainings) > 1:
        raise MetricsFileError(
            f"bedrock provider: {uri} holds the metrics of several jobs "
            f"({', '.join(sorted(trainings))}) and none in {folder or 'this job'}'s folder; "
            f"cannot tell which are job {job}'s. Give each job its own output prefix (the "
            "provider does: [providers.bedrock] prefix)."
        )
    return found


def read_points(text: str, where: str, modified: float) -> list[MetricPoint]:
    """The series of one metrics file's text (``where``: its ``s3://`` URI, for errors)."""

    def problem(line: int, what: str) -> MetricsFileError:
        return MetricsFileError(
            f"bedrock provider: {where}, line {line}: {what}. Bedrock writes "
            "step_number,epoch_number,training_loss[,perplexity] (validation_loss in "
            "validation_metrics.csv), one row per step; the file was changed or is not "
            "Bedrock's: restore it, or delete it to record the job without its curves."
        )

    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    numbered = [(n, row) for n, row in enumerate(rows, 1) if any(cell.strip() for cell in row)]
    if not numbered:
        return []
    header_line, header = numbered[0]
    columns = [cell.strip() for cell in header]
    loss = next((name for name in _SERIES if name in columns), None)
    if "step_number" not in columns or loss is None:
        missing = "step_number" if "step_number" not in columns else "training_loss"
        raise problem(header_line, f"no column {missing!r} (the header is {','.join(columns)})")
    loss_name, perplexity_name = _SERIES[loss]
    wanted = {loss: loss_name, "perplexity": perplexity_name, "epoch_number": "epoch"}
    latest: dict[tuple[str, int], MetricPoint] = {}
    for line, row in numbered[1:]:
        if len(row) != len(columns):
            raise problem(line, f"{len(row)} cells under a header of {len(columns)}")
        cells: Mapping[str, str] = {c: v.strip() for c, v in zip(columns, row, strict=True)}
        step = _number(cells["step_number"])
        if step is None or step < 0 or not step.is_integer():
            raise problem(
                line, f"column step_number: {cells['step_number']!r} is no step (0, 1, 2 …)"
            )
        for column, key in wanted.items():
            if column not in cells or (column != loss and not cells[column]):
                continue  # an optional column left empty
            value = _number(cells[column])
            if value is None:
                raise problem(line, f"column {column}: {cells[column]!r} is not a finite number")
            latest[(key, int(step))] = MetricPoint(key, value, int(step), modified)
    return sorted(latest.values(), key=lambda p: (p.key, p.step))


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def job_metrics(s3: Any, job: Mapping[str, Any]) -> list[MetricPoint]:
    """The curves of a job (a GetModelCustomizationJob answer): read from its output prefix;
    empty while Bedrock has written no metrics file (before the job completes)."""
    uri = str((job.get("outputDataConfig") or {}).get("s3Uri") or "")
    name = str(job.get("jobName") or job.get("jobArn") or "")
    if not uri.startswith("s3://"):
        return []
    bucket, prefix = split_uri(uri)
    keys: list[str] = []
    with translated(f"s3.list_objects_v2 on {uri}", job=name):
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for page in pages:
            keys.extend(str(item["Key"]) for item in page.get("Contents", []))
    points: list[MetricPoint] = []
    for key in metrics_files(keys, job.get("jobArn"), uri, name):
        where = f"s3://{bucket}/{key}"
        with translated(f"s3.get_object of {where}", job=name):
            answer = s3.get_object(Bucket=bucket, Key=key)
            data = answer["Body"].read()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MetricsFileError(
                f"bedrock provider: {where} is not UTF-8 text (byte {exc.start}); Bedrock "
                "writes CSV: restore the file, or delete it to record the job without its "
                "curves."
            ) from None
        modified = answer.get("LastModified")
        stamp = modified.timestamp() if hasattr(modified, "timestamp") else 0.0
        found = read_points(text, where, stamp)
        if key.endswith(TRAINING_FILE):
            points.extend(found)
        else:  # the epochs are the training file's; keep one series per name
            points.extend(p for p in found if p.key != "epoch")
    return points
