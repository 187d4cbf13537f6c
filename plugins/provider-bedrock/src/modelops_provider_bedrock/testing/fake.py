"""A fake of Bedrock's model-customization API that follows botocore's model, at the transport.

:class:`FakeBedrock` answers the four customization operations (Create, Get, List, Stop
``ModelCustomizationJob``) from the raw HTTP request botocore prepared: either inside the
client (``fake.client()``, a ``before-send`` hook, no socket) or over real HTTP
(``with fake.serve() as url``, for a provider that builds its own clients from
``endpoint_url``). Nothing leaves the machine.

Like the service, it

- refuses every request outside the model (patterns, enums, lengths, ranges, required members)
  with ``ValidationException`` (HTTP 400) worded as AWS words it, unknown base models,
  customization types and hyperparameters too, a duplicate job name with
  ``ConflictException``, more than 50 tags with ``TooManyTagsException`` and jobs beyond
  ``max_in_progress`` with ``ServiceQuotaExceededException``;
- answers create with HTTP 201 and the job ARN (``…:model-customization-job/<model>/<12>``),
  an unknown job with ``ResourceNotFoundException`` (404), and writes ISO-8601 timestamps,
  ``statusDetails`` for every stage and ``endTime`` only once a job is finished;
- walks each job through a lifecycle (:data:`LIFECYCLES`): validation → data processing
  (queued once it completes) → training → Completed, or Failed at a stage with a failure
  message, or Stopping → Stopped after ``stop``, one step per :meth:`FakeBedrock.advance`;
- writes a completed job's training artifacts to S3 when it is given an S3 client (moto's),
  as Bedrock does, under the job's output prefix:
  ``model-customization-job-<id>/training_artifacts/step_wise_training_metrics.csv`` (one row
  per step: ``step_number,epoch_number,training_loss``, and ``perplexity`` for the models
  that report it) and, for a job with a validation file,
  ``validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv`` (one
  row per epoch), with a loss that falls as :func:`training_curve` says; the job's
  ``trainingMetrics`` / ``validationMetrics`` are the files' last values;
- produces the failures a test scripts (:meth:`FakeBedrock.fail`, :meth:`FakeBedrock.arm`):
  ``ThrottlingException`` (429) with ``x-amz-retry-after``, ``InternalServerException``
  (500), ``ServiceUnavailableException`` (503), timeouts and dropped connections.

Every answer is checked against the model before it is sent; one outside it is a bug of the
fake, kept in :attr:`FakeBedrock.violations` and raised as ``SpecViolationError``.
"""

from __future__ import annotations

import base64
import io
import json
import math
import secrets
import threading
import urllib.parse
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from modelops_provider_bedrock.hyperparameters import NOVA_RANGES, family_hyperparameters, is_nova
from modelops_provider_bedrock.testing.spec import (
    ServiceSpec,
    SpecViolationError,
    Violation,
    validation_message,
)

REGION = "us-east-1"
ACCOUNT = "123456789012"
#: the fake's clock starts here and moves one ``tick`` per change of a job.
START = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
#: base models the fake customizes, and the customization types each takes.
CUSTOMIZABLE: Mapping[str, tuple[str, ...]] = {
    "amazon.nova-micro-v1:0:128k": ("FINE_TUNING", "DISTILLATION"),
    "amazon.nova-lite-v1:0:300k": ("FINE_TUNING", "DISTILLATION"),
    "amazon.nova-pro-v1:0:300k": ("FINE_TUNING", "DISTILLATION"),
    "amazon.titan-text-express-v1:0:8k": ("FINE_TUNING", "CONTINUED_PRE_TRAINING"),
    "amazon.titan-text-lite-v1:0:4k": ("FINE_TUNING", "CONTINUED_PRE_TRAINING"),
    "meta.llama3-1-8b-instruct-v1:0:128k": ("FINE_TUNING", "DISTILLATION"),
    "cohere.command-light-text-v14:7:4k": ("FINE_TUNING",),
}
#: the per-resource tag limit of AWS (the model allows lists of 200, the service 50 tags).
MAX_TAGS = 50
STAGES = ("validationDetails", "dataProcessingDetails", "trainingDetails")
FINISHED = ("Completed", "Failed", "Stopped")

#: lifecycle name -> the steps a job takes, one per ``advance``: (stage, stage status, job
#: status, failure message). The job starts InProgress with validation InProgress.
LIFECYCLES: Mapping[str, tuple[tuple[str, str, str, str | None], ...]] = {
    "succeeds": (
        ("validationDetails", "Completed", "InProgress", None),
        ("dataProcessingDetails", "InProgress", "InProgress", None),
        ("dataProcessingDetails", "Completed", "InProgress", None),
        ("trainingDetails", "InProgress", "InProgress", None),
        ("trainingDetails", "Completed", "Completed", None),
    ),
    "fails_validation": (
        (
            "validationDetails",
            "Failed",
            "Failed",
            "Data validation failed: line 3 of the training file is not valid JSON. Fix the "
            "file and create a new job.",
        ),
    ),
    "fails_data_processing": (
        ("validationDetails", "Completed", "InProgress", None),
        ("dataProcessingDetails", "InProgress", "InProgress", None),
        (
            "dataProcessingDetails",
            "Failed",
            "Failed",
            "Data processing failed: Amazon Bedrock could not read the training data: "
            "AccessDenied on s3:GetObject for the service role.",
        ),
    ),
    "fails_while_training": (
        ("validationDetails", "Completed", "InProgress", None),
        ("dataProcessingDetails", "InProgress", "InProgress", None),
        ("dataProcessingDetails", "Completed", "InProgress", None),
        ("trainingDetails", "InProgress", "InProgress", None),
        (
            "trainingDetails",
            "Failed",
            "Failed",
            "Internal error during training: the training run stopped unexpectedly. "
            "Retry the job; contact AWS Support if it fails again.",
        ),
    ),
}

#: scenario name -> (lifecycle, faults): what :meth:`FakeBedrock.arm` scripts. A fault is
#: (operation, error code or "timeout"/"drop", times, retry_after_ms).
SCENARIOS: Mapping[str, tuple[str, tuple[tuple[str, str, int, int | None], ...]]] = {
    "succeeds": ("succeeds", ()),
    "fails_validation": ("fails_validation", ()),
    "fails_data_processing": ("fails_data_processing", ()),
    "fails_while_training": ("fails_while_training", ()),
    "stopped_while_training": ("succeeds", ()),
    "throttled": ("succeeds", (("GetModelCustomizationJob", "ThrottlingException", 1, 1500),)),
    "server_error": (
        "succeeds",
        (("GetModelCustomizationJob", "InternalServerException", 1, None),),
    ),
    "service_unavailable": (
        "succeeds",
        (("GetModelCustomizationJob", "ServiceUnavailableException", 1, None),),
    ),
    "timeout": ("succeeds", (("GetModelCustomizationJob", "timeout", 1, None),)),
    "quota_exceeded": (
        "succeeds",
        (("CreateModelCustomizationJob", "ServiceQuotaExceededException", 1, None),),
    ),
    "conflict": ("succeeds", (("CreateModelCustomizationJob", "ConflictException", 1, None),)),
    "too_many_tags": (
        "succeeds",
        (("CreateModelCustomizationJob", "TooManyTagsException", 1, None),),
    ),
    "access_denied": (
        "succeeds",
        (("CreateModelCustomizationJob", "AccessDeniedException", 1, None),),
    ),
}
#: the message of each scripted error, as the service words it.
MESSAGES: Mapping[str, str] = {
    "ThrottlingException": "Too many requests, please wait before trying again.",
    "InternalServerException": "An internal server error occurred. Retry your request.",
    "ServiceUnavailableException": "Service Unavailable. Please try again later.",
    "ServiceQuotaExceededException": (
        "The number of model customization jobs in progress exceeds your account quota. Wait "
        "for a job to finish or request a quota increase."
    ),
    "ConflictException": "A model customization job with this name already exists.",
    "TooManyTagsException": f"The request has more than {MAX_TAGS} tags for the resource.",
    "AccessDeniedException": (
        "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: iam:PassRole on "
        "resource: arn:aws:iam::123456789012:role/BedrockCustomization"
    ),
}
_ROUTES = (
    ("POST", ("model-customization-jobs",), "CreateModelCustomizationJob"),
    ("GET", ("model-customization-jobs",), "ListModelCustomizationJobs"),
    ("GET", ("model-customization-jobs", "*"), "GetModelCustomizationJob"),
    ("POST", ("model-customization-jobs", "*", "stop"), "StopModelCustomizationJob"),
)


class _Answer(Exception):
    """An error answer: the model's status for ``code``, a message, modelled extra fields."""

    def __init__(self, code: str, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields


@attrs.define
class _Job:
    name: str
    arn: str
    model_id: str
    request: dict[str, Any]
    created: datetime
    steps: list[tuple[str, str, str, str | None]]
    status: str = "InProgress"
    modified: datetime | None = None
    ended: datetime | None = None
    failure: str | None = None
    stages: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    custom_model_arn: str | None = None
    training_loss: float | None = None
    validation_loss: float | None = None


@attrs.frozen
class Received:
    """One request the fake answered: its operation, parameters and the status it got."""

    operation: str
    params: Mapping[str, Any]
    status: int
    error_code: str | None


class _RawBody(io.BytesIO):
    """The raw body botocore's ``AWSResponse`` streams."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        chunk = self.read()
        while chunk:
            yield chunk
            chunk = self.read()


class FakeBedrock:
    """A strict fake of Bedrock model customization (see the module docstring).

    :param region: the region in ARNs.
    :param account: the account id in ARNs.
    :param max_in_progress: jobs InProgress at once before ``ServiceQuotaExceededException``
        (None: no quota).
    :param tick: how far the fake's clock moves with each change of a job.
    :param spec: the bedrock model checks (default: botocore's model).
    :param s3: an S3 client (moto's) the training artifacts of completed jobs are written
        with, as Bedrock writes them (None: no files; the job still reports its last loss).
    """

    def __init__(
        self,
        *,
        region: str = REGION,
        account: str = ACCOUNT,
        max_in_progress: int | None = None,
        tick: timedelta = timedelta(minutes=1),
        spec: ServiceSpec | None = None,
        s3: Any = None,
    ) -> None:
        self.region = region
        self.account = account
        self.max_in_progress = max_in_progress
        self.tick = tick
        self.spec = spec or ServiceSpec("bedrock")
        self.jobs: dict[str, _Job] = {}
        self.received: list[Received] = []
        self.violations: list[Violation] = []
        self._now = START
        self._faults: list[list[Any]] = []
        self._lifecycle = "succeeds"
        self._lock = threading.RLock()
        self.s3 = s3

    # --- scripting ---------------------------------------------------------------------------

    def arm(self, scenario: str) -> None:
        """The next job follows ``scenario`` (a name of :data:`SCENARIOS`), faults included."""
        if scenario not in SCENARIOS:
            raise KeyError(f"unknown scenario {scenario!r}; known: {', '.join(SCENARIOS)}")
        lifecycle, faults = SCENARIOS[scenario]
        self._lifecycle = lifecycle
        for operation, code, times, retry_after_ms in faults:
            self.fail(operation, code, times=times, retry_after_ms=retry_after_ms)

    def follow(self, lifecycle: str) -> None:
        """The next jobs follow ``lifecycle`` (a name of :data:`LIFECYCLES`)."""
        if lifecycle not in LIFECYCLES:
            raise KeyError(f"unknown lifecycle {lifecycle!r}; known: {', '.join(LIFECYCLES)}")
        self._lifecycle = lifecycle

    def fail(
        self,
        operation: str,
        code: str,
        *,
        times: int = 1,
        retry_after_ms: int | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``operation`` with error ``code`` (at the model's
        status), or with ``"timeout"`` (a read timeout) or ``"drop"`` (a closed connection)."""
        if code not in ("timeout", "drop") and self.spec.status_for(operation, code) is None:
            raise ValueError(
                f"{operation} cannot answer {code}: the bedrock model lists "
                f"{[s.name for s in self.spec.operation(operation).error_shapes]}"
            )
        with self._lock:
            self._faults.append([operation, code, times, retry_after_ms, message])

    def advance(self, job: str, steps: int = 1) -> str:
        """Move ``job`` (name or ARN) ``steps`` steps along its lifecycle; its new status."""
        with self._lock:
            found = self._job(job)
            for _ in range(steps):
                self._step(found)
            return found.status

    def finish(self, job: str) -> str:
        """Move ``job`` to the end of its lifecycle; its final status."""
        with self._lock:
            found = self._job(job)
            while found.status not in FINISHED:
                self._step(found)
            return found.status

    # --- transports ----------------------------------------------------------------------------

    def attach(self, client: Any) -> Any:
        """Answer ``client``'s bedrock calls in-process (a ``before-send`` hook); returns it."""
        client.meta.events.register(
            "before-send.bedrock", self._on_send, unique_id=f"fake-{id(self)}"
        )
        return client

    def client(self, session: Any = None, *, max_attempts: int = 1) -> Any:
        """A ``bedrock`` client answered by this fake (endpoint ``http://bedrock.fake.invalid``,
        which never resolves, so a missing hook cannot reach AWS), making ``max_attempts``
        attempts per call (botocore's standard retry mode)."""
        # boto3 and botocore have no type hints (boto3-stubs is not a dependency): Any
        from botocore.config import Config  # type: ignore[import-untyped,unused-ignore]

        if session is None:
            import boto3  # type: ignore[import-untyped,unused-ignore]

            session = boto3.session.Session(
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                region_name=self.region,
            )
        client = session.client(
            "bedrock",
            region_name=self.region,
            endpoint_url="http://bedrock.fake.invalid",
            config=Config(retries={"total_max_attempts": max_attempts, "mode": "standard"}),
        )
        return self.attach(client)

    @contextmanager
    def serve(self, host: str = "127.0.0.1") -> Iterator[str]:
        """Serve the fake over HTTP on a free port of ``host``; yields ``http://host:port``."""
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                answer = fake.handle(self.command, self.path, dict(self.headers), body)
                if answer is None or answer[0] < 0:  # a dropped connection (or a timeout)
                    self.close_connection = True
                    self.connection.close()
                    return
                status, headers, payload = answer
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, *_: Any) -> None:
                pass

        server = ThreadingHTTPServer((host, 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://{host}:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)

    def _on_send(self, request: Any, **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse  # type: ignore[import-untyped,unused-ignore]
        from botocore.exceptions import ConnectionClosedError, ReadTimeoutError  # type: ignore[import-untyped,unused-ignore]

        body = request.body or b""
        if hasattr(body, "read"):
            body = body.read()
        if isinstance(body, str):
            body = body.encode("utf-8")
        answer = self.handle(request.method, request.url, dict(request.headers), body)
        if answer is None:
            raise ConnectionClosedError(endpoint_url=request.url)
        status, headers, payload = answer
        if status == -1:
            raise ReadTimeoutError(endpoint_url=request.url)
        return AWSResponse(request.url, status, headers, _RawBody(payload))

    # --- the service -----------------------------------------------------------------------------

    def handle(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes] | None:
        """Answer one HTTP request: ``(status, headers, body)``; None drops the connection and
        status -1 is a read timeout (in-process only)."""
        with self._lock:
            parts = urllib.parse.urlsplit(url)
            segments = [urllib.parse.unquote(s) for s in parts.path.strip("/").split("/") if s]
            operation, label = self._route(method, segments)
            params: dict[str, Any] = {}
            try:
                if operation is None:
                    raise _Answer(
                        "UnknownOperationException", f"No operation {method} {parts.path}"
                    )
                params = self._params(operation, label, parts.query, body)
                fault = self._take_fault(operation)
                if fault is not None:
                    code, retry_after_ms, message = fault
                    if code == "timeout":
                        self.received.append(Received(operation, params, -1, "timeout"))
                        return -1, {}, b""
                    if code == "drop":
                        self.received.append(Received(operation, params, 0, "drop"))
                        return None
                    extra = {"x-amz-retry-after": str(retry_after_ms)} if retry_after_ms else {}
                    fields = (
                        {"resourceName": self._job_arn(params)}
                        if code == "TooManyTagsException"
                        else {}
                    )
                    raise _Answer(
                        code, message or MESSAGES.get(code, code), _headers=extra, **fields
                    )
                violations = self.spec.check_request(operation, params)
                if violations:
                    raise _Answer("ValidationException", validation_message(violations))
                status, document = getattr(self, f"_{operation}")(params)
                answer = self._encode(operation, status, document, {})
                self.received.append(Received(operation, params, status, None))
                return answer
            except _Answer as error:
                extra_headers = error.fields.pop("_headers", {})
                document = {"message": error.message, **error.fields}
                status = (
                    int(self.spec.status_for(operation, error.code) or 400) if operation else 404
                )
                headers_out = {
                    "x-amzn-errortype": f"{error.code}:http://internal.amazon.com/coral/com.amazon.bedrock/",
                    **extra_headers,
                }
                answer = self._encode(operation, status, document, headers_out)
                self.received.append(Received(operation or "?", params, status, error.code))
                return answer

    def _encode(
        self,
        operation: str | None,
        status: int,
        document: Mapping[str, Any],
        headers: dict[str, str],
    ) -> tuple[int, dict[str, str], bytes]:
        payload = json.dumps(document).encode("utf-8")
        out = {
            "x-amzn-requestid": str(uuid.uuid4()),
            "content-type": "application/json",
            "date": self._now.strftime("%a, %d %b %Y %H:%M:%S GMT"),
            **headers,
        }
        if operation is not None:
            found = self.spec.check_wire_response(operation, status, out, payload)
            if found:
                self.violations.extend(found)
                raise SpecViolationError(
                    "the fake's own answer breaks the bedrock model: "
                    + "; ".join(str(v) for v in found),
                    found,
                )
        return status, out, payload

    def _route(self, method: str, segments: list[str]) -> tuple[str | None, str | None]:
        for verb, shape, operation in _ROUTES:
            if (
                verb == method
                and len(shape) == len(segments)
                and all(s == "*" or s == got for s, got in zip(shape, segments, strict=True))
            ):
                return operation, (segments[1] if len(segments) > 1 else None)
        return None, None

    def _params(self, operation: str, label: str | None, query: str, body: bytes) -> dict[str, Any]:
        shape = self.spec.operation(operation).input_shape
        params: dict[str, Any] = {}
        if label is not None:
            params["jobIdentifier"] = label
        for name, values in urllib.parse.parse_qs(query, keep_blank_values=True).items():
            member = next(
                (m for n, m in shape.members.items() if m.serialization.get("name") == name), None
            )
            key = next(
                (n for n, m in shape.members.items() if m.serialization.get("name") == name), name
            )
            value: Any = values[-1]
            if member is not None and member.type_name == "integer":
                try:
                    value = int(value)
                except ValueError:
                    raise _Answer(
                        "ValidationException",
                        f"1 validation error detected: Value '{value}' at '{key}' failed to "
                        "satisfy constraint: Member must be an integer",
                    ) from None
            elif member is not None and member.type_name == "timestamp":
                try:
                    value = datetime.fromisoformat(value.replace("Z", "+00:00"))
                except ValueError:
                    raise _Answer(
                        "ValidationException",
                        f"1 validation error detected: Value '{value}' at '{key}' failed to "
                        "satisfy constraint: Member must be an ISO-8601 timestamp",
                    ) from None
            params[key] = value
        if body:
            try:
                document = json.loads(body)
            except ValueError:
                raise _Answer(
                    "SerializationException", "The request body is not valid JSON."
                ) from None
            if not isinstance(document, dict):
                raise _Answer("SerializationException", "The request body must be a JSON object.")
            params.update(document)
        return params

    def _take_fault(self, operation: str) -> tuple[str, int | None, str | None] | None:
        for fault in self._faults:
            if fault[0] == operation and fault[2] > 0:
                fault[2] -= 1
                if fault[2] == 0:
                    self._faults.remove(fault)
                return fault[1], fault[3], fault[4]
        return None

    # --- jobs --------------------------------------------------------------------------------

    def _clock(self) -> datetime:
        self._now += self.tick
        return self._now

    def _job(self, identifier: str) -> _Job:
        try:
            return self._find(identifier)
        except _Answer:
            raise KeyError(
                f"the fake has no job {identifier!r}; it has {sorted(self.jobs)}"
            ) from None

    def _find(self, identifier: str) -> _Job:
        for job in self.jobs.values():
            if identifier in (job.name, job.arn):
                return job
        raise _Answer(
            "ResourceNotFoundException",
            f"The specified model customization job {identifier} couldn't be found.",
        )

    def _step(self, job: _Job) -> None:
        if job.status in FINISHED:
            return
        now = self._clock()
        job.modified = now
        if job.status == "Stopping":
            for details in job.stages.values():
                if details["status"] == "Stopping":
                    details["status"] = "Stopped"
                    details["lastModifiedTime"] = now
            job.status, job.ended = "Stopped", now
            return
        if not job.steps:
            return
        stage, stage_status, status, failure = job.steps.pop(0)
        details = job.stages[stage]
        if details["status"] == "NotStarted":
            details["creationTime"] = now
        details["status"] = stage_status
        details["lastModifiedTime"] = now
        job.status = status
        if status in FINISHED:
            job.ended = now
            job.failure = failure
            if status == "Completed":
                job.custom_model_arn = (
                    f"arn:aws:bedrock:{self.region}:{self.account}:custom-model/{job.model_id}/"
                    f"{_suffix()}"
                )
                self._write_artifacts(job)

    def artifact_prefix(self, job: str) -> tuple[str, str]:
        """``(bucket, key prefix)`` of the training artifacts of ``job`` (name or ARN):
        ``<output prefix>/model-customization-job-<id>/``, the id ending the job's ARN."""
        found = self._job(job)
        uri = str(found.request["outputDataConfig"]["s3Uri"])
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return bucket, f"{prefix}model-customization-job-{found.arn.rsplit('/', 1)[1]}/"

    def _write_artifacts(self, job: _Job) -> None:
        """The metrics files Bedrock writes when a job completes; the last losses."""
        hyper = job.request.get("hyperParameters") or {}
        epochs = int(hyper.get("epochCount", 2))
        batch = int(hyper.get("batchSize", 8))
        per_epoch = max(1, math.ceil(self._examples(job) / batch))
        rows = training_curve(per_epoch, epochs)
        job.training_loss = rows[-1][2]
        perplexity = not is_nova(job.model_id)  # Nova's files have no perplexity column
        validators = (job.request.get("validationDataConfig") or {}).get("validators") or []
        ends = [row for row in rows if (row[0] + 1) % per_epoch == 0]  # each epoch's last step
        validation = [(step, epoch, round(loss * 1.12, 6)) for step, epoch, loss in ends]
        if validators:
            job.validation_loss = validation[-1][2]
        if self.s3 is None:
            return
        bucket, folder = self.artifact_prefix(job.name)
        files = {f"{folder}training_artifacts/step_wise_training_metrics.csv": ("training", rows)}
        if validators:
            files[
                f"{folder}validation_artifacts/post_fine_tuning_validation/validation/"
                "validation_metrics.csv"
            ] = ("validation", validation)
        for key, (kind, table) in files.items():
            header = ["step_number", "epoch_number", f"{kind}_loss"]
            lines = [",".join(header + ["perplexity"] * perplexity)]
            for step, epoch, loss in table:
                cells = [str(step), str(epoch), repr(loss)]
                cells += [repr(round(math.exp(loss), 6))] * perplexity
                lines.append(",".join(cells))
            body = ("\n".join(lines) + "\n").encode("utf-8")
            self.s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="text/csv")

    def _examples(self, job: _Job) -> int:
        """The number of records in the job's training file on S3 (32 without S3)."""
        if self.s3 is None:
            return 32
        uri = str(job.request["trainingDataConfig"]["s3Uri"])
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        data = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        return max(1, sum(1 for line in data.splitlines() if line.strip()))

    def _job_arn(self, params: Mapping[str, Any]) -> str:
        """A new job ARN for the request ``params`` (the resource a tag error names)."""
        model_id = self._model_id(str(params.get("baseModelIdentifier") or "amazon.nova-micro-v1"))
        return (
            f"arn:aws:bedrock:{self.region}:{self.account}:model-customization-job/{model_id}/"
            f"{_suffix()}"
        )

    def _model_id(self, identifier: str) -> str:
        if "foundation-model/" in identifier:
            return identifier.rsplit("foundation-model/", 1)[1]
        if ":custom-model/" in identifier:
            return identifier.split(":custom-model/", 1)[1].rsplit("/", 1)[0]
        return identifier

    def _check_customization(self, params: Mapping[str, Any], model_id: str) -> None:
        kinds = CUSTOMIZABLE.get(model_id)
        if kinds is None:
            raise _Answer(
                "ValidationException",
                f"The provided model identifier is invalid: {params['baseModelIdentifier']} "
                "cannot be customized.",
            )
        kind = params.get("customizationType", "FINE_TUNING")
        if kind not in kinds:
            raise _Answer(
                "ValidationException",
                f"The model {model_id} does not support customization type {kind}; it supports "
                f"{', '.join(kinds)}.",
            )
        allowed = family_hyperparameters(model_id)
        problems = []
        for name, value in (params.get("hyperParameters") or {}).items():
            if name not in allowed:
                problems.append(
                    f"{name} is not a hyperparameter of {model_id} ({', '.join(allowed)})"
                )
                continue
            try:
                number = float(value)
            except ValueError:
                problems.append(f"{name}={value!r} is not a number")
                continue
            if is_nova(model_id) and name in NOVA_RANGES:
                low, high, _integer = NOVA_RANGES[name]
                if not low <= number <= high:
                    problems.append(f"{name}={value} is outside [{low:g}, {high:g}]")
        if problems:
            raise _Answer("ValidationException", "Invalid hyperparameters: " + "; ".join(problems))

    def _CreateModelCustomizationJob(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        model_id = self._model_id(str(params["baseModelIdentifier"]))
        self._check_customization(params, model_id)
        existing = self.jobs.get(params["jobName"])
        if existing is not None:
            token = params.get("clientRequestToken")
            if token is not None and token == existing.request.get("clientRequestToken"):
                return self.spec.status_for("CreateModelCustomizationJob") or 201, {
                    "jobArn": existing.arn
                }
            raise _Answer("ConflictException", MESSAGES["ConflictException"])
        if len(params.get("jobTags") or []) > MAX_TAGS:
            raise _Answer(
                "TooManyTagsException",
                f"{len(params['jobTags'])} tags given; a job takes at most {MAX_TAGS}.",
                resourceName=self._job_arn(params),
            )
        running = sum(job.status in ("InProgress", "Stopping") for job in self.jobs.values())
        if self.max_in_progress is not None and running >= self.max_in_progress:
            raise _Answer(
                "ServiceQuotaExceededException", MESSAGES["ServiceQuotaExceededException"]
            )
        now = self._clock()
        job = _Job(
            name=params["jobName"],
            arn=self._job_arn(params),
            model_id=model_id,
            request=dict(params),
            created=now,
            modified=now,
            steps=list(LIFECYCLES[self._lifecycle]),
            stages={stage: {"status": "NotStarted"} for stage in STAGES},
        )
        job.stages["validationDetails"] = {
            "status": "InProgress",
            "creationTime": now,
            "lastModifiedTime": now,
        }
        self.jobs[job.name] = job
        self._lifecycle = "succeeds"
        return self.spec.status_for("CreateModelCustomizationJob") or 201, {"jobArn": job.arn}

    def _GetModelCustomizationJob(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        job = self._find(params["jobIdentifier"])
        request = job.request
        document: dict[str, Any] = {
            "jobArn": job.arn,
            "jobName": job.name,
            "outputModelName": request["customModelName"],
            "roleArn": request["roleArn"],
            "status": job.status,
            "statusDetails": self._details(job),
            "creationTime": _iso(job.created),
            "lastModifiedTime": _iso(job.modified or job.created),
            "baseModelArn": f"arn:aws:bedrock:{self.region}::foundation-model/{job.model_id}",
            "hyperParameters": dict(request.get("hyperParameters") or {}),
            "trainingDataConfig": request["trainingDataConfig"],
            "validationDataConfig": request.get("validationDataConfig") or {"validators": []},
            "outputDataConfig": request["outputDataConfig"],
            "customizationType": request.get("customizationType", "FINE_TUNING"),
        }
        if request.get("clientRequestToken"):
            document["clientRequestToken"] = request["clientRequestToken"]
        if job.status == "Completed":
            document["outputModelArn"] = job.custom_model_arn
            document["trainingMetrics"] = {"trainingLoss": job.training_loss}
            validators = document["validationDataConfig"]["validators"]
            if validators:
                document["validationMetrics"] = [
                    {"validationLoss": job.validation_loss} for _ in validators
                ]
        if job.status == "Failed" and job.failure:
            document["failureMessage"] = job.failure
        if job.ended is not None:
            document["endTime"] = _iso(job.ended)
        return 200, document

    def _ListModelCustomizationJobs(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        jobs = list(self.jobs.values())
        if params.get("statusEquals"):
            jobs = [job for job in jobs if job.status == params["statusEquals"]]
        if params.get("nameContains"):
            jobs = [job for job in jobs if params["nameContains"] in job.name]
        if params.get("creationTimeAfter"):
            jobs = [job for job in jobs if job.created > params["creationTimeAfter"]]
        if params.get("creationTimeBefore"):
            jobs = [job for job in jobs if job.created < params["creationTimeBefore"]]
        jobs.sort(key=lambda job: job.created, reverse=params.get("sortOrder") == "Descending")
        start = 0
        if params.get("nextToken"):
            try:
                start = int(base64.urlsafe_b64decode(params["nextToken"]).decode().split(":")[1])
            except (ValueError, IndexError, UnicodeDecodeError):
                raise _Answer(
                    "ValidationException", "The provided pagination token is invalid."
                ) from None
        size = int(params.get("maxResults") or 100)
        page = jobs[start : start + size]
        document: dict[str, Any] = {
            "modelCustomizationJobSummaries": [self._summary(job) for job in page]
        }
        if start + size < len(jobs):
            document["nextToken"] = base64.urlsafe_b64encode(
                f"page:{start + size}".encode()
            ).decode()
        return 200, document

    def _StopModelCustomizationJob(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        job = self._find(params["jobIdentifier"])
        if job.status == "Stopping":
            raise _Answer("ConflictException", f"The job {job.name} is already being stopped.")
        if job.status != "InProgress":
            raise _Answer(
                "ValidationException",
                f"The job {job.name} is in {job.status} state and cannot be stopped.",
            )
        now = self._clock()
        job.status, job.modified = "Stopping", now
        for details in job.stages.values():
            if details["status"] == "InProgress":
                details["status"] = "Stopping"
                details["lastModifiedTime"] = now
        return 200, {}

    def _details(self, job: _Job) -> dict[str, Any]:
        return {
            stage: {k: _iso(v) if isinstance(v, datetime) else v for k, v in details.items()}
            for stage, details in job.stages.items()
        }

    def _summary(self, job: _Job) -> dict[str, Any]:
        summary: dict[str, Any] = {
            "jobArn": job.arn,
            "baseModelArn": f"arn:aws:bedrock:{self.region}::foundation-model/{job.model_id}",
            "jobName": job.name,
            "status": job.status,
            "statusDetails": self._details(job),
            "lastModifiedTime": _iso(job.modified or job.created),
            "creationTime": _iso(job.created),
            "customModelName": job.request["customModelName"],
            "customizationType": job.request.get("customizationType", "FINE_TUNING"),
        }
        if job.ended is not None:
            summary["endTime"] = _iso(job.ended)
        if job.status == "Completed":
            summary["customModelArn"] = job.custom_model_arn
        return summary


def training_curve(steps_per_epoch: int, epochs: int) -> list[tuple[int, int, float]]:
    """``(step_number, epoch_number, training_loss)`` for every step, both counted from 0: a
    loss that falls from 2.6 towards 0.35, as a fine-tune that learns does.

    >>> training_curve(2, 2)
    [(0, 0, 2.6), (1, 0, 1.412825), (2, 1, 0.852043), (3, 1, 0.587148)]
    """
    total = steps_per_epoch * epochs
    return [
        (step, step // steps_per_epoch, round(0.35 + 2.25 * math.exp(-3.0 * step / total), 6))
        for step in range(total)
    ]


def _suffix() -> str:
    """The 12 lower-case letters and digits that end Bedrock's job and model ARNs."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


def _iso(when: datetime) -> str:
    """``2026-11-22T09:01:00.000Z``: ISO-8601 in UTC with milliseconds, as Bedrock writes it."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
