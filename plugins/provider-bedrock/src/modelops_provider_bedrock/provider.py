"""The ``bedrock`` provider: Bedrock model customization jobs and Converse inference.

Every method makes a few boto3 calls and returns neutral values from
:mod:`modelops_core.finetune.provider_contract`; polling, backoff and persistence belong to
    ``FineTuningJob``.
Jobs are addressed by their **name** (``ProviderJob.id``), which Bedrock accepts everywhere an
identifier is asked for; the ARN is kept in ``details["job_arn"]``.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from modelops_core.finetune.provider_contract import (
    JobEvent,
    MetricPoint,
    ProviderError,
    ProviderJob,
    ProviderRejectedError,
    ProviderUnavailableError,
    TuningMethod,
    TuningRequest,
    training_file_problems,
)
from modelops_provider_bedrock.clients import ClientFactory, ClientSettings
from modelops_provider_bedrock.errors import ROLE_HINT, translated
from modelops_provider_bedrock.hyperparameters import (
    CONVERSATION_FORMAT,
    FORMATS,
    base_model_name,
    bedrock_hyperparameters,
    format_for_model,
)
from modelops_provider_bedrock.status import (
    job_events,
    progress,
    raw_status,
    timestamp,
    to_job_status,
)

_ROLE_ARN = re.compile(r"arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+")
_NAME_LIMIT = 63
#: files at least this big go up in parts (boto3's TransferConfig; S3 needs parts >= 5 MiB).
DEFAULT_MULTIPART_BYTES = 64 * 1024 * 1024


def _format_names() -> str:
    return " or ".join(f'"{name}"' for name in FORMATS)


def resource_name(*parts: str) -> str:
    """A Bedrock job / custom-model name: letters, digits and single hyphens, at most 63."""
    joined = "-".join(part for part in parts if part)
    cleaned = re.sub(r"[^0-9A-Za-z]+", "-", joined).strip("-")
    return cleaned[:_NAME_LIMIT].rstrip("-") or "modelops"


def _file_format(path: str) -> str | None:
    """The format of the first record of a JSONL file (None when it cannot tell)."""
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    record = json.loads(line)
                    break
            else:
                return None
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict):
        return None
    if "schemaVersion" in record or "messages" in record:
        return CONVERSATION_FORMAT
    if "prompt" in record or "completion" in record:
        return "bedrock"
    return None


class BedrockProvider:
    """Fine-tune models with Bedrock model customization and call them with Converse.

    :param region: the AWS region (default: ``AWS_REGION`` / the profile's region).
    :param role_arn: the IAM service role Bedrock assumes to read the training data and write
        the output (required to start a job).
    :param bucket: the S3 bucket the training data is uploaded to and the output written to.
    :param prefix: the key prefix in ``bucket`` (one folder per job under it).
    :param profile: an AWS profile from ``~/.aws/config``.
    :param access_key_id: explicit credentials (write ``{ env = "AWS_ACCESS_KEY_ID" }``);
        default: the normal boto3 credential chain.
    :param secret_access_key: see ``access_key_id``.
    :param session_token: see ``access_key_id``.
    :param endpoint_url: another endpoint for the ``bedrock`` API (a fake, a VPC endpoint).
    :param runtime_endpoint_url: another endpoint for ``bedrock-runtime`` (``predict``).
    :param s3_endpoint_url: another S3 endpoint (moto, MinIO).
    :param data_format: the training-file format jobs export: ``"bedrock-conversation"``
        (Amazon Nova, the default) or ``"bedrock"`` (prompt/completion: Titan, Cohere, Llama).
    :param provisioned_models: custom model ARN -> the provisioned-throughput (or custom model
        deployment) ARN that serves it; ``predict`` calls the latter. Bedrock serves custom
        models only through one of those, which you buy or create outside modelops.
    :param max_tokens: the most tokens ``predict`` generates per input.
    :param system_prompt: a system prompt ``predict`` sends with each input.
    :param multipart_threshold: bytes from which uploads go up in parts.
    :param max_attempts: botocore's attempts per call, the first included (standard retry
        mode, which waits as ``x-amz-retry-after`` asks); 1 makes no retry.
    :param timeout: connect and read timeout per HTTP request, in seconds.
    :param bedrock_client: an injected ``bedrock`` client (tests: stubbed or moto-backed).
    :param runtime_client: an injected ``bedrock-runtime`` client.
    :param s3_client: an injected ``s3`` client.
    :param session: a ``boto3.session.Session`` the clients are built from (instead of one
        built from ``profile`` / credentials / ``region``), e.g. an embedding platform's.
    """

    name = "bedrock"

    def __init__(
        self,
        region: str | None = None,
        role_arn: str | None = None,
        bucket: str | None = None,
        prefix: str = "modelops/bedrock",
        profile: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        session_token: str | None = None,
        endpoint_url: str | None = None,
        runtime_endpoint_url: str | None = None,
        s3_endpoint_url: str | None = None,
        data_format: str | None = None,
        provisioned_models: Mapping[str, str] | None = None,
        max_tokens: int = 256,
        system_prompt: str | None = None,
        multipart_threshold: int = DEFAULT_MULTIPART_BYTES,
        max_attempts: int = 3,
        timeout: float = 60.0,
        bedrock_client: Any = None,
        runtime_client: Any = None,
        s3_client: Any = None,
        session: Any = None,
    ) -> None:
        self._format_chosen = data_format is not None
        data_format = CONVERSATION_FORMAT if data_format is None else data_format
        if data_format not in FORMATS:
            raise ValueError(
                f"[providers.bedrock] data_format must be {_format_names()}, got {data_format!r}."
            )
        if max_tokens < 1:
            raise ValueError(
                f"[providers.bedrock] max_tokens must be at least 1, got {max_tokens}."
            )
        if multipart_threshold < 5 * 1024 * 1024:
            raise ValueError(
                "[providers.bedrock] multipart_threshold must be at least 5 MiB (5242880), S3's "
                f"smallest part; got {multipart_threshold}."
            )
        self.role_arn = role_arn
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.export_format = data_format
        self.provisioned_models = dict(provisioned_models or {})
        self.max_tokens = max_tokens
        self.system_prompt = system_prompt
        self.multipart_threshold = multipart_threshold
        self.clients = ClientFactory(
            ClientSettings(
                region=region,
                profile=profile,
                endpoint_url=endpoint_url,
                runtime_endpoint_url=runtime_endpoint_url,
                s3_endpoint_url=s3_endpoint_url,
                access_key_id=str(access_key_id) if access_key_id else None,
                secret_access_key=str(secret_access_key) if secret_access_key else None,
                session_token=str(session_token) if session_token else None,
                max_attempts=max_attempts,
                timeout=float(timeout),
            ),
            {
                "bedrock_client": bedrock_client,
                "runtime_client": runtime_client,
                "s3_client": s3_client,
            },
            session=session,
        )

    def __repr__(self) -> str:
        return f"BedrockProvider(region={self.clients.settings.region!r}, bucket={self.bucket!r})"

    def close(self) -> None:
        """Close the clients this provider built (injected clients are left open)."""
        self.clients.close()

    # --- data ----------------------------------------------------------------------------------

    def export_format_for(self, method: str | TuningMethod, model: str | None = None) -> str:
        """The training-file format for the base ``model``: conversations for Nova,
        prompt/completion for Titan, Cohere and Llama (Bedrock fine-tuning is supervised only).

        An explicit ``data_format`` option wins; :meth:`validate` and :meth:`start` refuse a
        file whose format does not suit the model, naming the option to set.
        """
        if self._format_chosen or model is None:
            return self.export_format
        return format_for_model(model)

    def validate(self, path: str, method: str, model: str) -> list[str]:
        """Bedrock's rules on an exported file, via ``Dataset.validate``; ``"line N: reason"``."""
        problems: list[str] = []
        if str(method) != TuningMethod.SUPERVISED.value:
            problems.append(
                f"Bedrock fine-tuning takes supervised data only, not {method!r}: use "
                "method='supervised' (or another provider for preference tuning)."
            )
        wanted = format_for_model(model)
        chosen = self.export_format_for(method, model)
        if chosen != wanted:
            problems.append(self._format_mismatch(model, chosen))
        return problems + training_file_problems(path, export_format=wanted, model=model)

    def _format_mismatch(self, model: str, found: str) -> str:
        wanted = format_for_model(model)
        kind = (
            "conversation (bedrock-conversation-2024)"
            if wanted == CONVERSATION_FORMAT
            else ("prompt/completion")
        )
        return (
            f"{model} is trained on {kind} records ({wanted!r}) but the file is in {found!r}: set "
            f'[providers.bedrock] data_format = "{wanted}" and export again.'
        )

    # --- jobs ----------------------------------------------------------------------------------

    def _require_settings(self) -> tuple[str, str]:
        if not self.role_arn:
            raise ProviderError(
                "The bedrock provider needs an IAM service role to start a job: set "
                '[providers.bedrock] role_arn = "arn:aws:iam::<account>:role/<name>". ' + ROLE_HINT
            )
        if not _ROLE_ARN.fullmatch(self.role_arn):
            raise ProviderError(
                f"[providers.bedrock] role_arn {self.role_arn!r} is not an IAM role ARN "
                "(arn:aws:iam::<12-digit account>:role/<name>)."
            )
        if not self.bucket:
            raise ProviderError(
                "The bedrock provider uploads training data to S3: set [providers.bedrock] "
                'bucket = "<bucket>" (and optionally prefix = "modelops/bedrock").'
            )
        return self.role_arn, self.bucket

    def _check_file(self, path: str, model: str, role: str) -> None:
        if not Path(path).is_file():
            raise ProviderRejectedError(
                f"bedrock provider: the {role} file {path} does not exist; export the dataset "
                "first (FineTuningJob does this)."
            )
        found = _file_format(path)
        if found is not None and found != format_for_model(model):
            raise ProviderRejectedError(
                f"bedrock provider: {self._format_mismatch(model, found)} Nothing was uploaded."
            )

    def _upload(self, path: str, key: str, job: str) -> str:
        # boto3 and botocore have no type hints (boto3-stubs is not a dependency): Any
        from boto3.s3.transfer import TransferConfig  # type: ignore[import-untyped,unused-ignore]

        bucket = self._require_settings()[1]
        config = TransferConfig(
            multipart_threshold=self.multipart_threshold,
            multipart_chunksize=self.multipart_threshold,
        )
        with translated(f"s3.upload_file to s3://{bucket}/{key}", job=job):
            self.clients.client("s3").upload_file(path, bucket, key, Config=config)
        return f"s3://{bucket}/{key}"

    def start(self, request: TuningRequest) -> ProviderJob:
        """Check everything, upload the training (and validation) file, create the job."""
        if request.method is not TuningMethod.SUPERVISED:
            raise ProviderRejectedError(
                f"bedrock provider: Bedrock fine-tuning is supervised only, not "
                f"{request.method.value!r}; nothing was uploaded."
            )
        role_arn, bucket = self._require_settings()
        hyperparameters = bedrock_hyperparameters(request.hyperparameters, request.model)
        self._check_file(request.training_file, request.model, "training")
        if request.validation_file is not None:
            self._check_file(request.validation_file, request.model, "validation")
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())
        job_name = resource_name(
            "modelops", (request.suffix or "")[:24], stamp, secrets.token_hex(3)
        )
        model_name = resource_name((request.suffix or "modelops")[:24], stamp, secrets.token_hex(3))
        folder = "/".join(part for part in (self.prefix, job_name) if part)
        training_uri = self._upload(request.training_file, f"{folder}/train.jsonl", job_name)
        arguments: dict[str, Any] = {
            "jobName": job_name,
            "customModelName": model_name,
            "roleArn": role_arn,
            # customization wants the model id itself, not a cross-region inference profile
            "baseModelIdentifier": base_model_name(request.model),
            "customizationType": "FINE_TUNING",
            "trainingDataConfig": {"s3Uri": training_uri},
            "outputDataConfig": {"s3Uri": f"s3://{bucket}/{folder}/output/"},
            "hyperParameters": hyperparameters,
        }
        if request.validation_file is not None:
            validation_uri = self._upload(
                request.validation_file, f"{folder}/validation.jsonl", job_name
            )
            arguments["validationDataConfig"] = {"validators": [{"s3Uri": validation_uri}]}
        tags = _tags(request.metadata)
        if tags:
            arguments["jobTags"] = tags
        with translated("bedrock.create_model_customization_job", job=job_name):
            self.clients.client("bedrock").create_model_customization_job(**arguments)
        return self.get(job_name)

    def _describe(self, job_id: str) -> dict[str, Any]:
        with translated("bedrock.get_model_customization_job", job=job_id):
            response: dict[str, Any] = self.clients.client("bedrock").get_model_customization_job(
                jobIdentifier=job_id
            )
        return response

    def get(self, job_id: str) -> ProviderJob:
        """The job's snapshot (by name; an ARN also works on AWS itself)."""
        return snapshot(self._describe(job_id))

    def cancel(self, job_id: str) -> ProviderJob:
        """Ask Bedrock to stop the job (Stopping, then Stopped); returns the new snapshot."""
        with translated("bedrock.stop_model_customization_job", job=job_id):
            self.clients.client("bedrock").stop_model_customization_job(jobIdentifier=job_id)
        return self.get(job_id)

    def list_jobs(self, limit: int = 20) -> list[ProviderJob]:
        """The most recent ``limit`` jobs, newest first (all pages, through the paginator)."""
        if limit < 1:
            return []
        jobs: list[ProviderJob] = []
        with translated("bedrock.list_model_customization_jobs"):
            paginator = self.clients.client("bedrock").get_paginator(
                "list_model_customization_jobs"
            )
            pages = paginator.paginate(
                sortBy="CreationTime",
                sortOrder="Descending",
                PaginationConfig={"MaxItems": limit, "PageSize": min(limit, 100)},
            )
            for page in pages:
                jobs.extend(
                    snapshot(item) for item in page.get("modelCustomizationJobSummaries", [])
                )
        return jobs[:limit]

    def events(self, job_id: str) -> list[JobEvent]:
        """Events synthesized from the job's stage timestamps (Bedrock keeps no event log)."""
        return job_events(self._describe(job_id))

    def metrics(self, job_id: str) -> list[MetricPoint]:
        """The job's training curves from the metrics files Bedrock writes to its output
        prefix when it completes: ``train_loss``, ``epoch`` and ``train_perplexity`` per step,
        ``validation_loss`` and ``validation_perplexity`` when the job had validation data;
        empty before the files exist. A file that is not Bedrock's is a
        :class:`~modelops_provider_bedrock.metrics.MetricsFileError` naming the file, line
        and column (needs s3:ListBucket and s3:GetObject on the output prefix)."""
        from modelops_provider_bedrock.metrics import job_metrics

        return job_metrics(self.clients.client("s3"), self._describe(job_id))

    # --- inference -----------------------------------------------------------------------------

    def predict(self, model_id: str, inputs: Sequence[str]) -> list[Any]:
        """One Converse call per input; a custom model is called through its provisioned
        throughput (``provisioned_models``), since Bedrock serves custom models only so."""
        target = self._served_model(model_id)
        client = self.clients.client("bedrock-runtime")
        outputs: list[Any] = []
        for text in inputs:
            with translated(f"bedrock-runtime.converse with {target}"):
                response = client.converse(**self._converse_arguments(target, text))
            content = response.get("output", {}).get("message", {}).get("content", [])
            outputs.append("".join(part.get("text", "") for part in content))
        return outputs

    def stream(self, model_id: str, text: str) -> Iterator[str]:
        """The answer to one input as it is generated: ConverseStream with :meth:`predict`'s
        settings; the text of its ``contentBlockDelta`` events, which joined is what
        :meth:`predict` answers. An exception event of the stream is a provider error
        (``throttlingException``, ``modelStreamErrorException`` … are transient), and so is a
        connection that breaks mid-stream (``ProviderUnavailableError``)."""
        import urllib3.exceptions

        target = self._served_model(model_id)
        client = self.clients.client("bedrock-runtime")
        where = f"bedrock-runtime.converse_stream with {target}"
        with translated(where):
            events = client.converse_stream(**self._converse_arguments(target, text))["stream"]
            try:
                for event in events:
                    piece = event.get("contentBlockDelta", {}).get("delta", {}).get("text")
                    if piece:
                        yield piece
            except urllib3.exceptions.HTTPError as exc:
                raise ProviderUnavailableError(
                    f"The stream from Bedrock broke ({where}): {exc.args[0] if exc.args else exc}. "
                    "The answer is "
                    "incomplete; the request can be retried."
                ) from exc
            finally:
                events.close()

    def _served_model(self, model_id: str) -> str:
        target = self.provisioned_models.get(model_id, model_id)
        if ":custom-model/" in target:
            raise ProviderRejectedError(
                f"bedrock provider: {model_id} is a custom model, which Bedrock serves only "
                "through provisioned throughput or a custom model deployment (Converse refuses "
                "a custom-model ARN); create one, then map it in [providers.bedrock] "
                f'provisioned_models = {{ "{model_id}" = '
                '"arn:aws:bedrock:…:provisioned-model/…" }.'
            )
        return target

    def _converse_arguments(self, target: str, text: Any) -> dict[str, Any]:
        arguments: dict[str, Any] = {
            "modelId": target,
            "messages": [{"role": "user", "content": [{"text": str(text)}]}],
            "inferenceConfig": {"maxTokens": self.max_tokens},
        }
        if self.system_prompt:
            arguments["system"] = [{"text": self.system_prompt}]
        return arguments


def _tags(metadata: Mapping[str, str]) -> list[dict[str, str]]:
    """Job tags from request metadata, cut to the characters and lengths AWS allows."""
    allowed = re.compile(r"[^a-zA-Z0-9\s._:/=+@-]")
    tags = []
    for key, value in list(metadata.items())[:50]:
        clean_key = allowed.sub("_", str(key))[:128]
        if clean_key:
            tags.append({"key": clean_key, "value": allowed.sub("_", str(value))[:256]})
    return tags


def snapshot(job: Mapping[str, Any]) -> ProviderJob:
    """A ProviderJob from a GetModelCustomizationJob response or a list summary."""
    status = str(job.get("status", "InProgress"))
    raw = raw_status(status, job.get("statusDetails"))
    neutral = to_job_status(raw)
    base = str(job.get("baseModelArn") or job.get("baseModelIdentifier") or "unknown")
    output_model = job.get("outputModelArn") or job.get("customModelArn")
    details: dict[str, Any] = {"job_arn": job.get("jobArn")}
    for key, field in (
        ("output_model_name", "outputModelName"),
        ("custom_model_name", "customModelName"),
        ("output_model_arn", "outputModelArn"),
        ("hyperparameters", "hyperParameters"),
        ("output_s3_uri", "outputDataConfig"),
    ):
        if job.get(field):
            details[key] = job[field]["s3Uri"] if field == "outputDataConfig" else job[field]
    loss = (job.get("trainingMetrics") or {}).get("trainingLoss")
    if loss is not None:
        details["training_loss"] = loss
    stages = {
        key: value.get("status")
        for key, value in (job.get("statusDetails") or {}).items()
        if isinstance(value, Mapping)
    }
    if stages:
        details["stages"] = stages
    return ProviderJob(
        id=str(job["jobName"]),
        provider="bedrock",
        status=neutral,
        raw_status=raw,
        model=base_model_name(base),
        progress=progress(raw),
        fine_tuned_model=str(output_model)
        if neutral.value == "succeeded" and output_model
        else None,
        error=str(job["failureMessage"])
        if status == "Failed" and job.get("failureMessage")
        else None,
        created_at=timestamp(job.get("creationTime")),
        details={key: value for key, value in details.items() if value is not None},
    )
