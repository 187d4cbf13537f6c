"""Every pipeline in examples/pipelines runs offline, against the fakes the provider tests use.

Each test copies an example pipeline file and its ``*-modelops.toml`` unchanged, writes a
small generated ticket data set beside them, resolves the configuration's ``{ env = ... }``
secrets from fake values, and only then points the providers and stores at the fakes
(injected clients, endpoints, a unique PostgreSQL schema) and shortens the polling. The
gate thresholds of the examples are never weakened: the test-side fakes answer the way a
model tuned on the data would, by the label of the most similar training ticket.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
import pytest

from modelops_core.config import ComponentChoice, Config, parse_config, read_toml
from modelops_core.pipeline.runner import Pipeline, PipelineResult
from modelops_core.runtime import Runtime
from modelops_core.testing import (
    DEFAULT_POSTGRES_URL,
    fresh_postgres_schema,
    make_runtime,
    moto_server,
    postgres_url_or_skip,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "pipelines"
MODEL_NAME = "ticket-router"
FAST_POLLING = {"poll_interval": 0.001, "max_poll_interval": 0.01, "max_retries": 0}
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
POSTGRES_URL = DEFAULT_POSTGRES_URL

#: The plugins every example needs besides its provider: steps use them by name.
COMMON_PLUGINS = ("modelops_sanitizers", "modelops_metrics", "modelops_store_sql")


def needs(*modules: str) -> None:
    """Skip unless every plugin module is installed (the core-only CI run has none)."""
    for module in (*COMMON_PLUGINS, *modules):
        pytest.importorskip(module, reason=f"the example needs the plugin module {module}")


def copy_example(name: str, folder: Path, tickets: int = 300) -> Path:
    """The example ``<name>.toml`` copied into ``folder`` with generated tickets beside it."""
    from modelops_core.cli.demo_data import write_tickets

    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.toml"
    shutil.copyfile(EXAMPLES / f"{name}.toml", target)
    write_tickets(folder / "tickets.jsonl", count=tickets)
    return target


def example_config(name: str, folder: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> Config:
    """``<name>-modelops.toml`` parsed as ``modelops`` would, with ``env`` set for its secrets."""
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    source = EXAMPLES / f"{name}-modelops.toml"
    config = parse_config(read_toml(source), source=str(source), base=folder)
    finetune = {**config.section("finetune"), **FAST_POLLING}
    return attrs.evolve(config, raw={**config.raw, "finetune": finetune})


def with_options(config: Config, section: str, **options: Any) -> Config:
    """``config`` with more options for ``[providers.<name>]``, ``registry``, ``artifacts`` …"""
    if section.startswith("providers."):
        name = section.removeprefix("providers.")
        chosen = config.provider(name)
        choice = ComponentChoice(name, {**chosen.options, **options}, chosen.where)
        return attrs.evolve(config, providers={**config.providers, name: choice})
    chosen = getattr(config, section)
    choice = attrs.evolve(chosen, options={**chosen.options, **options})
    return attrs.evolve(config, **{section: choice})


def run_example(pipeline_file: Path, config: Config) -> tuple[PipelineResult, Runtime]:
    from modelops_core.pipeline.spec import load_pipeline

    runtime = make_runtime(config.home, autoload=True, config=config)
    return Pipeline(load_pipeline(pipeline_file), runtime).run(), runtime


def production_version(runtime: Runtime) -> Any:
    from modelops_core.registry.model_registry import ModelRegistry

    with ModelRegistry(runtime) as registry:
        return registry.get_by_alias(MODEL_NAME, "production")


def fingerprint_of(path: Path) -> str:
    from modelops_core.datasets.dataset import Dataset

    return str(Dataset.from_jsonl(path).fingerprint())


def nearest_label(prompt: str, examples: list[tuple[str, str]]) -> str | None:
    """The label of the training prompt sharing the most words with ``prompt`` (Jaccard):
    what the fakes answer for a prompt the tuned model was not trained on."""
    words = set(re.findall(r"\w+", prompt.lower()))
    best, label = -1.0, None
    for text, answer in examples:
        other = set(re.findall(r"\w+", text.lower()))
        score = len(words & other) / (len(words | other) or 1)
        if score > best:
            best, label = score, answer
    return label


def assert_registered_with_lineage(
    runtime: Runtime, result: PipelineResult, provider: str, tickets: Path
) -> Any:
    outputs = result.outputs()
    version = production_version(runtime)
    assert (version.name, version.version) == (MODEL_NAME, outputs["model_version"])
    assert outputs["previous_version"] is None  # the alias moved from unset to this version
    assert version.lineage["provider"] == provider
    assert version.lineage["training_job"] == outputs["job_id"]
    assert version.lineage["base_model"] == outputs["base_model"]
    assert version.lineage["dataset_fingerprint"] == fingerprint_of(tickets)
    assert version.lineage["run_id"] == result.run_id
    assert version.metadata["model_id"] == outputs["model_id"]
    return version


# --- OpenAI ------------------------------------------------------------------------------------


@pytest.fixture
def openai_fake(monkeypatch: pytest.MonkeyPatch) -> Any:
    needs("modelops_provider_openai.testing")
    from modelops_provider_openai.testing import FakeOpenAI

    for name in ("OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "OPENAI_API_VERSION"):
        monkeypatch.delenv(name, raising=False)

    # a tuned model answers held-out tickets with the label of the nearest trained one
    return FakeOpenAI(generalize=nearest_label)


def shared_http_client(handler: Any) -> Any:
    """An ``httpx2.Client`` on ``handler`` that every provider instance of the run shares.

    The pipeline builds the provider twice (``finetune``, then ``evaluate``) from the same
    options, and ``OpenAIProvider.close()`` closes an injected client too, so a plain client
    would be closed before ``evaluate`` uses it; this one ignores ``close()``.
    """
    import httpx2

    class SharedClient(httpx2.Client):
        def close(self) -> None:
            pass

    return SharedClient(transport=httpx2.MockTransport(handler))


@pytest.mark.slow  # about 2 s: importing the openai SDK and a whole pipeline
def test_the_openai_example_tunes_evaluates_registers_and_promotes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, openai_fake: Any
) -> None:
    fake = openai_fake
    pipeline_file = copy_example("openai", tmp_path)
    config = example_config("openai", tmp_path, monkeypatch, OPENAI_API_KEY="sk-test")
    config = with_options(
        config,
        "providers.openai",
        base_url=fake.base_url,
        http_client=shared_http_client(fake.handle),
        max_retries=0,
        strict_response_validation=True,
    )

    result, runtime = run_example(pipeline_file, config)

    assert result.status == "succeeded"
    outputs = result.outputs()
    (create,) = fake.requests_to("POST", "/fine_tuning/jobs")
    assert create.json["model"] == "gpt-4o-mini-2024-07-18"
    assert create.json["method"]["supervised"]["hyperparameters"] == {
        "n_epochs": 3,
        "batch_size": 8,
        "learning_rate_multiplier": 1.0,
    }
    (upload,) = fake.requests_to("POST", "/files")
    uploaded = upload.form["file"][1].decode().splitlines()
    assert len(uploaded) == outputs["train_examples"]
    assert not any(EMAIL.search(line) for line in uploaded)  # sanitized before it left
    chats = fake.requests_to("POST", "/chat/completions")
    assert len(chats) == outputs["test_examples"]
    assert {chat.json["model"] for chat in chats} == {outputs["model_id"]}
    assert outputs["metrics"]["accuracy"] >= 0.85  # the example's own gate passed
    assert_registered_with_lineage(runtime, result, "openai", tmp_path / "tickets.jsonl")


def test_the_openai_example_config_reads_the_key_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelops_core.errors import MissingSecretError

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(MissingSecretError, match="OPENAI_API_KEY"):
        example_config("openai", tmp_path, monkeypatch)


# --- Vertex AI -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gcs_emulator() -> Iterator[Any]:
    """The Cloud Storage emulator process the vertex provider tests use."""
    needs("modelops_provider_vertex.testing")
    pytest.importorskip("gcp_storage_emulator", reason="gcp-storage-emulator is not installed")
    from modelops_provider_vertex.testing import GcsEmulator

    with GcsEmulator() as emulator:
        yield emulator


def ticket_vertex(project: str, location: str, emulator: Any) -> Any:
    """A FakeVertex whose tuned endpoints answer held-out tickets like a tuned model."""
    from modelops_provider_vertex.testing import FakeVertex

    return FakeVertex(
        project=project, location=location, gcs_reader=emulator.read, generalize=nearest_label
    )


@pytest.mark.slow  # about 3 s: the google SDKs, the GCS emulator process, a whole pipeline
def test_the_vertex_example_stages_in_gcs_tunes_evaluates_registers_and_promotes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gcs_emulator: Any
) -> None:
    for name in ("GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CLOUD_PROJECT", "STORAGE_EMULATOR_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    pipeline_file = copy_example("vertex", tmp_path)
    config = example_config("vertex", tmp_path, monkeypatch)
    file_options = config.provider("vertex").options
    bucket = gcs_emulator.create_bucket(file_options["bucket"])
    fake = ticket_vertex(file_options["project"], file_options["location"], gcs_emulator)
    wiring = fake.provider_options(storage_endpoint=gcs_emulator.endpoint)
    for key in ("project", "location"):  # the file's own values, served by the fake
        assert wiring.pop(key) == file_options[key]
    config = with_options(config, "providers.vertex", **wiring)

    result, runtime = run_example(pipeline_file, config)

    assert result.status == "succeeded"
    outputs = result.outputs()
    (create,) = fake.requests_to("POST", "/tuningJobs")
    assert create.json["baseModel"] == "gemini-2.5-flash"
    spec = create.json["supervisedTuningSpec"]
    assert spec["hyperParameters"] == {"epochCount": 3, "learningRateMultiplier": 1.0}
    assert spec["trainingDatasetUri"].startswith(f"gs://{bucket}/modelops/ticket-router/")
    staged = gcs_emulator.read(spec["trainingDatasetUri"]).decode().splitlines()
    assert len(staged) == outputs["train_examples"]
    assert not any(EMAIL.search(line) for line in staged)  # sanitized before it left
    calls = fake.requests_to("POST", ":generateContent")
    assert len(calls) == outputs["test_examples"]
    assert outputs["metrics"]["accuracy"] >= 0.85
    assert_registered_with_lineage(runtime, result, "vertex", tmp_path / "tickets.jsonl")


# --- AWS Bedrock ---------------------------------------------------------------------------------

MOTO_ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def moto_bedrock() -> Iterator[str]:
    """An in-process moto server for S3 and the Bedrock customization API (as provider-bedrock
    tests do), so a test can move a job on in moto's backend, which moto never does itself."""
    needs("modelops_provider_bedrock")
    with moto_server(in_process=True) as url:
        yield url


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


class BedrockWiring:
    """boto3 clients on moto, plus the two things moto lacks, done at botocore's HTTP layer:
    a job completes on its second poll, and Converse answers with the label of the nearest
    training ticket (a custom model without provisioned throughput is refused, as on AWS)."""

    def __init__(self, endpoint: str, region: str, bucket: str) -> None:
        import boto3

        self.session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
        )
        self.region, self.bucket = region, bucket
        self.s3 = self.session.client("s3", endpoint_url=endpoint)
        self.bedrock = self.session.client("bedrock", endpoint_url=endpoint)
        self.runtime = self.session.client("bedrock-runtime", endpoint_url="http://converse.test")
        self.bedrock.meta.events.register(
            "before-parameter-build.bedrock.GetModelCustomizationJob", self._advance
        )
        self.runtime.meta.events.register("before-send.bedrock-runtime.Converse", self._converse)
        self.polls: dict[str, int] = {}
        self.conversations: list[dict[str, Any]] = []
        self.provisioned: set[str] = set()

    def _advance(self, params: Mapping[str, Any], **_: Any) -> None:
        from moto.bedrock.models import bedrock_backends

        name = params["jobIdentifier"]
        self.polls[name] = self.polls.get(name, 0) + 1
        if self.polls[name] >= 2:
            jobs = bedrock_backends[MOTO_ACCOUNT][self.region].model_customization_jobs
            jobs[name].status = "Completed"

    def _trained(self) -> list[tuple[str, str]]:
        pairs = []
        for item in self.s3.list_objects_v2(Bucket=self.bucket).get("Contents", []):
            if item["Key"].endswith("/train.jsonl"):
                body = self.s3.get_object(Bucket=self.bucket, Key=item["Key"])["Body"].read()
                for line in body.decode().splitlines():
                    user, assistant = json.loads(line)["messages"][-2:]
                    pairs.append((user["content"][0]["text"], assistant["content"][0]["text"]))
        return pairs

    def _converse(self, request: Any, **_: Any) -> Any:
        from urllib.parse import unquote

        from botocore.awsrequest import AWSResponse

        model = unquote(request.url.split("/model/", 1)[1].rsplit("/converse", 1)[0])
        body = json.loads(request.body)
        self.conversations.append({"model": model, **body})
        if ":custom-model/" in model:
            message = (
                f"Invocation of model ID {model} with on-demand throughput isn't supported. "
                "Retry your request with the ID or ARN of an inference profile that contains "
                "this model."
            )
            headers = {"x-amzn-ErrorType": "ValidationException:http://internal.amazon.com/"}
            raw = json.dumps({"message": message}).encode()
            return AWSResponse(request.url, 400, headers, _Body(raw))
        assert model in self.provisioned, f"Converse on an unknown model {model}"
        prompt = body["messages"][-1]["content"][0]["text"]
        answer = nearest_label(prompt, self._trained()) or ""
        reply = {
            "output": {"message": {"role": "assistant", "content": [{"text": answer}]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": len(prompt.split()), "outputTokens": 1, "totalTokens": 2},
            "metrics": {"latencyMs": 1},
        }
        headers = {"content-type": "application/json"}
        return AWSResponse(request.url, 200, headers, _Body(json.dumps(reply).encode()))


@pytest.mark.slow  # about 3 s: boto3 clients, moto, two pipeline runs
def test_the_bedrock_example_stops_at_evaluate_then_resumes_on_provisioned_throughput(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, moto_bedrock: str
) -> None:
    from modelops_core.pipeline.runner import StepFailedError
    from modelops_core.pipeline.spec import load_pipeline

    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    pipeline_file = copy_example("bedrock", tmp_path)
    config = example_config(
        "bedrock", tmp_path, monkeypatch, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="x"
    )
    file_options = config.provider("bedrock").options
    aws = BedrockWiring(moto_bedrock, file_options["region"], file_options["bucket"])
    aws.s3.create_bucket(Bucket=file_options["bucket"])
    config = with_options(
        config,
        "providers.bedrock",
        bedrock_client=aws.bedrock,
        s3_client=aws.s3,
        runtime_client=aws.runtime,
    )

    # the provider refuses the unmapped custom model before calling Converse, naming the fix
    refused = r"serves only through provisioned throughput .* provisioned_models = "
    with pytest.raises(StepFailedError, match=refused) as failed:
        run_example(pipeline_file, config)

    first = failed.value.result
    assert [step.status.value for step in first.steps][:4] == ["ran", "ran", "ran", "failed"]
    outputs = first.outputs()
    custom_model = outputs["model_id"]
    assert ":custom-model/" in custom_model
    job = aws.bedrock.get_model_customization_job(jobIdentifier=outputs["job_id"])
    assert job["baseModelArn"].endswith("amazon.nova-micro-v1:0:128k")
    assert job["roleArn"] == file_options["role_arn"]
    assert job["hyperParameters"] == {"epochCount": "2", "learningRate": "0.00001"}
    staged = aws._trained()
    assert len(staged) == outputs["train_examples"]
    assert not any(EMAIL.search(text) for text, _ in staged)  # sanitized before upload

    # what the README says to do: buy provisioned throughput, map it, resume
    provisioned = f"arn:aws:bedrock:us-east-1:{MOTO_ACCOUNT}:provisioned-model/tickets01"
    aws.provisioned.add(provisioned)
    config = with_options(
        config, "providers.bedrock", provisioned_models={custom_model: provisioned}
    )
    runtime = make_runtime(config.home, autoload=True, config=config)
    result = Pipeline(load_pipeline(pipeline_file), runtime).run(resume=True)

    assert result.status == "succeeded"
    assert [step.status.value for step in result.steps][:4] == ["reused"] * 3 + ["ran"]
    assert len(aws.polls) == 1  # one job, not tuned again
    answered = [c for c in aws.conversations if c["model"] == provisioned]
    assert len(answered) == result.outputs()["test_examples"]
    assert_registered_with_lineage(runtime, result, "bedrock", tmp_path / "tickets.jsonl")


# --- team: PostgreSQL + S3 (+ Redis) -------------------------------------------------------------


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema, dropped afterwards."""
    with fresh_postgres_schema(postgres_url_or_skip(), prefix="modelops_examples") as schema:
        yield schema


@pytest.fixture(scope="module")
def moto_s3() -> Iterator[str]:
    """``http://127.0.0.1:<port>`` of a ``python -m moto.server`` process (as artifacts-s3)."""
    with moto_server() as url:
        yield url


def s3_client(endpoint: str, region: str) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="testing-key",
        aws_secret_access_key="testing-secret",
    )


def redis_url() -> str | None:
    """A reachable Redis on 127.0.0.1:6379 (database 15), or None."""
    try:
        import redis
    except ImportError:
        return None
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_timeout=1).ping()
    except redis.RedisError:
        return None
    return url


@pytest.mark.slow  # about 2 s: a moto server process, PostgreSQL, a real local fine-tune
def test_the_team_example_keeps_registry_and_runs_in_postgres_and_models_in_s3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_schema: str, moto_s3: str
) -> None:
    needs("modelops_provider_local", "modelops_artifacts_s3")
    import psycopg

    pipeline_file = copy_example("team", tmp_path)
    config = example_config(
        "team",
        tmp_path,
        monkeypatch,
        MODELOPS_DB_URL=POSTGRES_URL,
        MODELOPS_REDIS_URL=redis_url() or "redis://127.0.0.1:6379/15",
        AWS_ACCESS_KEY_ID="testing-key",
        AWS_SECRET_ACCESS_KEY="testing-secret",
    )
    artifacts = config.artifacts.options
    bucket, prefix, region = artifacts["bucket"], artifacts["prefix"], artifacts["region"]
    s3 = s3_client(moto_s3, region)
    if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    config = with_options(config, "registry", schema=postgres_schema)
    config = with_options(config, "tracking", schema=postgres_schema)
    config = with_options(config, "artifacts", endpoint_url=moto_s3, prefix=f"{uuid.uuid4()}/")
    config = with_options(config, "providers.local", inline=True)
    prefix = config.artifacts.options["prefix"]

    result, runtime = run_example(pipeline_file, config)

    assert result.status == "succeeded"
    version = assert_registered_with_lineage(runtime, result, "local", tmp_path / "tickets.jsonl")
    assert version.artifact is not None and version.artifact.kind == "tree"
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]}
    assert f"{prefix}blobs/{version.artifact.digest[7:9]}/{version.artifact.digest[7:]}" in keys
    assert not (config.home / "modelops.db").exists()  # nothing went to the SQLite default
    with psycopg.connect(POSTGRES_URL) as connection:
        connection.execute(f'SET search_path TO "{postgres_schema}"')
        versions = connection.execute("SELECT count(*) FROM versions").fetchone()
        runs = connection.execute("SELECT count(*) FROM runs").fetchone()
    assert versions == (1,)
    assert runs is not None and runs[0] >= 1  # the pipeline run (and the fine-tuning job)
    from modelops_core.tracking.tracker import ExperimentTracker

    tracker = ExperimentTracker(runtime)
    try:
        run = tracker.get_run(result.run_id)
    finally:
        tracker.close()
    assert (run.experiment, run.status) == ("pipeline:ticket-router-team", "finished")
    assert json.loads(run.params["finetune.model"]) == "local:logreg"
    assert (MODEL_NAME, version.version) in run.models


def test_the_team_example_config_chooses_postgres_s3_and_redis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = example_config(
        "team",
        tmp_path,
        monkeypatch,
        MODELOPS_DB_URL="postgresql://team@db.internal:5432/modelops",
        MODELOPS_REDIS_URL="redis://redis.internal:6379/0",
        AWS_ACCESS_KEY_ID="AKIA-example",
        AWS_SECRET_ACCESS_KEY="example-secret",
    )
    assert (config.registry.name, config.tracking.name) == ("sql", "sql")
    assert config.registry.options["url"] == config.tracking.options["url"]
    assert config.artifacts.name == "s3" and config.features.name == "redis"
    assert "db.internal" not in repr(config.registry)  # secrets never print
    assert config.home == tmp_path / ".modelops"
