"""A stateful fake of the OpenAI API for offline tests, as strict as the published spec.

``FakeOpenAI`` answers the endpoints the provider uses (files, fine-tuning jobs with events,
checkpoints, pause and resume, chat completions) through the SDK's HTTP transport, keeps state
between calls and moves every job one stage on per retrieve::

    fake = FakeOpenAI()
    provider = fake.provider()        # OpenAIProvider wired to the fake, no SDK retries
    fake.scenario("paused_and_resumed")   # the next job follows a scripted lifecycle

**Checked against OpenAI's OpenAPI document.** Every request to a files or fine-tuning route is
checked against ``spec/openapi-finetuning.json`` (extracted from ``openai/openai-openapi``; see
:mod:`modelops_provider_openai.openapi`): lengths, ranges, patterns, enums, types, unknown fields
(``warmup_steps``), metadata limits, query parameters (``?limit=abc``). A violation is answered
the way the service answers it: HTTP 400 with an error object whose ``param``, ``code`` and
message name the field. The fake also enforces the rules the service states in prose: files
for fine-tuning are ``.jsonl``, a job's training file has purpose ``fine-tune``, ``beta`` only
on DPO jobs, pause only a running job, resume only a paused one.

**Strict mode** (``strict=True``, the default): every response the fake produces is checked
too (only the spec's fields, in its formats); every violation, of a request or of a response,
is kept in :attr:`FakeOpenAI.violations`. A test that sends a bad request on purpose takes the
violations it expects with :meth:`FakeOpenAI.take_violations`; :meth:`FakeOpenAI.check` (and
an :class:`ExchangeLog` shared by many fakes) fails on any left over, so a provider that sends
something outside the spec fails the test even when the fake's 400 was handled.

**Scenarios** (:data:`SCENARIOS`, armed with :meth:`FakeOpenAI.scenario`) make the next job
walk a real lifecycle or meet a real failure: pause/resume, ``warn`` events, a failure after
training started, a cancel while queued, throttling with ``retry-after-ms``/``retry-after``/
``x-ratelimit-*`` headers, 5xx, timeouts, an exhausted quota. ``fail_next`` injects one-off
failures.

The fake also answers Azure OpenAI URLs (``{endpoint}/openai/...?api-version=...``,
``/openai/deployments/{name}/chat/completions``) with the ``api-key`` header. Chat completion
requests are not checked against the spec (its schemas are not in the extracted file), except
the streaming rules (``stream`` a boolean, ``stream_options`` only with ``stream: true``).

**Streaming** (``stream: true``): the answer comes as server-sent events, as the API sends them
(``data: {chat.completion.chunk}`` ... ``data: [DONE]``, read lazily by the SDK); in strict mode
each chunk is checked against the SDK's ``ChatCompletionChunk`` (:func:`chunk_problems`).
:meth:`FakeOpenAI.interrupt_next_stream` cuts the next stream with an error event or a dropped
connection.
"""

from __future__ import annotations

import email
import email.policy
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, cast
from urllib.parse import parse_qsl

import attrs

# the SDK's HTTP stack: openai >= 3 uses httpx2, an API-identical fork of httpx
import httpx2 as httpx

from modelops_provider_openai.openapi import OpenAPIRules, Operation, SpecViolation

#: Base models the fake accepts for fine-tuning and chat.
FINE_TUNABLE_MODELS = (
    "gpt-4o-mini-2024-07-18",
    "gpt-4o-2024-08-06",
    "gpt-4.1-2025-04-14",
    "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-nano-2025-04-14",
)
STARTED_AT = 1_767_225_600  # 2026-01-01T00:00:00Z: timestamps are deterministic
#: Purposes whose uploads must be JSON lines (the Files API's rule for these purposes).
JSONL_PURPOSES = ("fine-tune", "batch")
#: The keys of a chat request's ``stream_options``.
STREAM_OPTIONS = ("include_usage", "include_obfuscation")


class SpecViolationError(AssertionError):
    """A strict fake saw an exchange outside OpenAI's published spec (the test fails)."""


@attrs.frozen
class RecordedRequest:
    """One request the fake received: method, full URL, path after the API root, body."""

    method: str
    url: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    json: Any = None
    form: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class Exchange:
    """A request, the fake's answer (status, JSON body) and the spec violations found in them."""

    request: RecordedRequest
    operation: str | None
    status: int
    body: Any
    violations: tuple[SpecViolation, ...]


@attrs.define
class ExchangeLog:
    """Every exchange of every fake created with ``log=this``; a test session keeps one and
    checks at its end that no exchange broke the spec (``unexpected() == []``)."""

    fakes: list[FakeOpenAI] = attrs.field(factory=list)

    @property
    def exchanges(self) -> list[Exchange]:
        return [exchange for fake in self.fakes for exchange in fake.exchanges]

    def unexpected(self) -> list[SpecViolation]:
        """Violations no test took (:meth:`FakeOpenAI.take_violations`)."""
        return [violation for fake in self.fakes for violation in fake.violations]


@attrs.frozen
class Fault:
    """A failure the fake answers instead of a request: an HTTP error or a timeout."""

    status: int = 500
    message: str = "The server had an error while processing your request. Sorry about that!"
    type: str = "server_error"
    code: str | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict)
    timeout: bool = False


def rate_limited(wait_ms: int = 2500) -> Fault:
    """A 429 as OpenAI sends it: ``retry-after-ms`` (read first by the SDK), ``retry-after``
    in whole seconds, and the ``x-ratelimit-*`` headers."""
    return Fault(
        429,
        "Rate limit reached for gpt-4o-mini-2024-07-18 in organization org-fake on requests "
        f"per min (RPM): Limit 60, Used 60, Requested 1. Please try again in {wait_ms}ms.",
        type="requests",
        code="rate_limit_exceeded",
        headers={
            "retry-after-ms": str(wait_ms),
            "retry-after": str(math.ceil(wait_ms / 1000)),
            "x-ratelimit-limit-requests": "60",
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": f"{wait_ms / 1000}s",
            "x-ratelimit-limit-tokens": "250000",
            "x-ratelimit-remaining-tokens": "249000",
            "x-ratelimit-reset-tokens": "240ms",
        },
    )


@attrs.frozen
class Scenario:
    """A scripted lifecycle for the next job (and the calls about it).

    :ivar polls_before_failure: running retrieves before the job fails (None: it does not).
    :ivar failure: ``(code, message)`` of that failure (the job's ``error``).
    :ivar warning: a ``warn`` event emitted when training starts.
    :ivar retrieve_faults: retrieve number of the job (1-based) -> the fault answered instead.
    :ivar upload_fault: a fault answered to the first file upload.
    :ivar invalid_file: the training file fails validation whatever it holds.
    """

    polls_before_failure: int | None = None
    failure: tuple[str, str] = ("server_error", "")
    warning: str | None = None
    retrieve_faults: Mapping[int, Fault] = attrs.field(factory=dict)
    upload_fault: Fault | None = None
    invalid_file: bool = False


#: The scenarios :meth:`FakeOpenAI.scenario` knows, by name.
SCENARIOS: Mapping[str, Scenario] = {
    "success": Scenario(),
    "paused_and_resumed": Scenario(),  # the test pauses and resumes; the fake allows both
    "cancelled_while_queued": Scenario(),
    "invalid_training_file": Scenario(invalid_file=True),
    "fails_while_training": Scenario(
        polls_before_failure=1,
        failure=(
            "server_error",
            "The job failed due to an internal error. No charges were incurred for this job.",
        ),
    ),
    "warns_then_succeeds": Scenario(
        warning=(
            "3 examples in the training file exceed the 65536 token limit for "
            "gpt-4o-mini-2024-07-18; they will be skipped."
        ),
    ),
    "throttled_while_polling": Scenario(retrieve_faults={2: rate_limited(2500)}),
    "server_error_while_polling": Scenario(
        retrieve_faults={1: Fault(503, "The server is overloaded or not ready yet.")}
    ),
    "timeout_while_polling": Scenario(retrieve_faults={2: Fault(timeout=True)}),
    "quota_exhausted": Scenario(
        upload_fault=Fault(
            429,
            "You exceeded your current quota, please check your plan and billing details.",
            type="insufficient_quota",
            code="insufficient_quota",
        )
    ),
}


class FakeOpenAI:
    """The fake API. State lives in plain dicts shaped like the API's own JSON objects.

    :param api_keys: keys accepted in ``Authorization: Bearer`` or ``api-key`` headers.
    :param page_size_cap: the most items one list page returns, whatever ``limit`` asks.
    :param running_polls: how many retrieves a job spends running before it succeeds.
    :param strict: check the fake's own responses against the spec too, and keep every
        violation for :meth:`check` (default on).
    :param log: an :class:`ExchangeLog` this fake reports its exchanges to.
    """

    base_url = "http://fake.openai.test/v1"
    organization_id = "org-fake"

    def __init__(
        self,
        *,
        api_keys: tuple[str, ...] = ("sk-test",),
        page_size_cap: int = 100,
        running_polls: int = 2,
        generalize: Callable[[str, list[tuple[str, str]]], str | None] | None = None,
        strict: bool = True,
        log: ExchangeLog | None = None,
        rules: OpenAPIRules | None = None,
    ) -> None:
        """``generalize(prompt, trained_pairs)`` answers a tuned model's unseen prompts
        (from its ``(prompt, answer)`` training pairs); by default they are echoed."""
        self.api_keys = api_keys
        self.generalize = generalize
        self.page_size_cap = page_size_cap
        self.running_polls = running_polls
        self.strict = strict
        self.rules = rules or OpenAPIRules.load()
        self.files: dict[str, dict[str, Any]] = {}
        self.file_contents: dict[str, bytes] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.events: dict[str, list[dict[str, Any]]] = {}
        self.checkpoints: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[RecordedRequest] = []
        self.exchanges: list[Exchange] = []
        self.violations: list[SpecViolation] = []
        self._progress: dict[str, dict[str, int]] = {}
        self._failures: list[tuple[Fault, str | None]] = []
        self._armed: Scenario | None = None
        self._scripts: dict[str, Scenario] = {}
        self._retrieves: dict[str, int] = {}
        self._suffixes: dict[str, str | None] = {}
        self._clock = STARTED_AT
        self._counter = 0
        self._stream_fault: tuple[int, str | None] | None = None
        if log is not None:
            log.fakes.append(self)

    # --- wiring --------------------------------------------------------------------------------

    def http_client(self) -> httpx.Client:
        """An HTTP client whose transport is this fake (pass as ``http_client=``)."""
        return httpx.Client(transport=httpx.MockTransport(self.handle))

    def client(self, **options: Any) -> Any:
        """An ``openai.OpenAI`` client on this fake (no retries)."""
        import openai

        settings: dict[str, Any] = {
            "api_key": "sk-test",
            "base_url": self.base_url,
            "http_client": self.http_client(),
            "max_retries": 0,
        }
        settings.update(options)
        return openai.OpenAI(**settings)

    def provider(self, **options: Any) -> Any:
        """An ``OpenAIProvider`` on this fake, configured as in production (the SDK's lenient
        parsing, which takes a ``paused`` job its own models do not list), no SDK retries."""
        from modelops_provider_openai.provider import OpenAIProvider

        settings: dict[str, Any] = {
            "api_key": "sk-test",
            "base_url": self.base_url,
            "http_client": self.http_client(),
            "max_retries": 0,
        }
        settings.update(options)
        return OpenAIProvider(**settings)

    def fail_next(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
        path: str | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` requests (to ``path`` when given) with an error."""
        fault = Fault(status, message, type, code, dict(headers or {}))
        self._failures.extend([(fault, path)] * times)

    def scenario(self, name: str) -> None:
        """Make the next created job follow :data:`SCENARIOS` ``[name]``."""
        if name not in SCENARIOS:
            known = ", ".join(sorted(SCENARIOS))
            raise KeyError(f"FakeOpenAI has no scenario {name!r}; known: {known}")
        self._armed = SCENARIOS[name]

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        """The recorded requests with this method and path (after the API root)."""
        return [r for r in self.requests if r.method == method and r.path == path]

    def take_violations(self) -> list[SpecViolation]:
        """The violations seen so far, forgotten (for tests that sent bad requests on purpose)."""
        taken, self.violations = self.violations, []
        return taken

    def check(self) -> None:
        """Raise :class:`SpecViolationError` if an exchange broke the spec (strict mode)."""
        if self.violations:
            shown = "\n  ".join(str(v) for v in self.violations)
            raise SpecViolationError(f"exchanges outside OpenAI's spec:\n  {shown}")

    # --- dispatch ------------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        """The transport handler: record, authenticate, check, inject failures, route."""
        path = _api_path(request.url.path)
        body = request.read()
        content_type = request.headers.get("content-type", "")
        recorded = RecordedRequest(
            method=request.method,
            url=str(request.url),
            path=path,
            query=dict(
                parse_qsl(
                    request.url.query.decode()
                    if isinstance(request.url.query, bytes)
                    else str(request.url.query)
                )
            ),
            headers={k.lower(): v for k, v in request.headers.items()},
            json=_json_or_none(content_type, body),
            form=_multipart(content_type, body),
        )
        self.requests.append(recorded)
        operation = self.rules.operation(request.method, path)
        refused = self._refusal(recorded, operation)
        if refused is not None:
            violations = tuple(refused)
            response = _error(
                400, violations[0].message, param=violations[0].param, code=violations[0].code
            )
        else:
            violations = ()
            response = self._answer(request, recorded, path, operation)
        streamed = response.extensions.get("fake_openai_chunks")
        if streamed is not None:  # the body is read lazily by the SDK: keep the chunks sent
            body_sent: Any = streamed
            found = violations + tuple(self._chunk_violations(path, streamed))
        else:
            body_sent = _json_or_none(response.headers.get("content-type", ""), response.content)
            found = violations + tuple(self._response_problems(operation, response))
        self.violations.extend(found)
        operation_name = operation.name if operation else None
        exchange = Exchange(recorded, operation_name, response.status_code, body_sent, found)
        self.exchanges.append(exchange)
        return response

    def _chunk_violations(self, path: str, chunks: list[dict[str, Any]]) -> list[SpecViolation]:
        """Strict mode: every streamed chunk checked against the SDK's ``ChatCompletionChunk``."""
        if not self.strict:
            return []
        return [
            SpecViolation("response", f"POST {path}", f"chunk {number}", "chunk_schema", problem)
            for number, chunk in enumerate(chunks)
            for problem in chunk_problems(chunk)
        ]

    def _refusal(
        self, recorded: RecordedRequest, operation: Operation | None
    ) -> list[SpecViolation] | None:
        if operation is None:
            return None
        found = self.rules.request_violations(
            operation, recorded.query, recorded.json, recorded.form
        )
        return found or None

    def _response_problems(
        self, operation: Operation | None, response: httpx.Response
    ) -> list[SpecViolation]:
        if not self.strict or operation is None:
            return []
        payload = _json_or_none(response.headers.get("content-type", ""), response.content)
        return self.rules.response_violations(operation, response.status_code, payload)

    def _answer(
        self,
        request: httpx.Request,
        recorded: RecordedRequest,
        path: str,
        operation: Operation | None,
    ) -> httpx.Response:
        key = _presented_key(recorded.headers)
        if key not in self.api_keys:
            shown = (key[:3] + "*" * 8 + key[-4:]) if key else ""
            return _error(
                401,
                f"Incorrect API key provided: {shown}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                code="invalid_api_key",
            )
        for index, (fault, where) in enumerate(self._failures):
            if where is None or where == path:
                del self._failures[index]
                return _fault(fault, request)
        scripted = self._scripted_fault(recorded)
        if scripted is not None:
            return _fault(scripted, request)
        for method, pattern, route in self._routes():
            match = re.fullmatch(pattern, path)
            if match and method == request.method:
                return route(recorded, *match.groups())
        return _error(404, f"Invalid URL ({request.method} {path})")

    def _scripted_fault(self, recorded: RecordedRequest) -> Fault | None:
        if recorded.method == "POST" and recorded.path == "/files" and self._armed is not None:
            fault = self._armed.upload_fault
            if fault is not None:
                self._armed = None  # the job is never created
                return fault
        match = re.fullmatch(r"/fine_tuning/jobs/([^/]+)", recorded.path)
        if recorded.method == "GET" and match and match.group(1) in self._scripts:
            job_id = match.group(1)
            self._retrieves[job_id] = self._retrieves.get(job_id, 0) + 1
            return self._scripts[job_id].retrieve_faults.get(self._retrieves[job_id])
        return None

    def _routes(self) -> list[tuple[str, str, Callable[..., httpx.Response]]]:
        job = r"/fine_tuning/jobs/([^/]+)"
        return [
            ("POST", r"/files", self._create_file),
            ("GET", r"/files/([^/]+)", self._retrieve_file),
            ("DELETE", r"/files/([^/]+)", self._delete_file),
            ("POST", r"/fine_tuning/jobs", self._create_job),
            ("GET", r"/fine_tuning/jobs", self._list_jobs),
            ("GET", job, self._retrieve_job),
            ("POST", job + "/cancel", self._cancel_job),
            ("POST", job + "/pause", self._pause_job),
            ("POST", job + "/resume", self._resume_job),
            ("GET", job + "/events", self._list_events),
            ("GET", job + "/checkpoints", self._list_checkpoints),
            ("POST", r"/chat/completions", self._chat),
            ("POST", r"/deployments/([^/]+)/chat/completions", self._chat),
        ]

    def _next_id(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter:024x}"[: len(prefix) + 24]

    def _tick(self) -> int:
        self._clock += 1
        return self._clock

    # --- files ---------------------------------------------------------------------------------

    def _create_file(self, request: RecordedRequest) -> httpx.Response:
        purpose = str(request.form.get("purpose"))
        filename, content = request.form["file"]
        if purpose in JSONL_PURPOSES:
            if not str(filename).endswith(".jsonl"):
                api = "Fine-Tuning" if purpose == "fine-tune" else "Batch"
                return _error(
                    400,
                    f"Invalid file format for {api} API. Must be .jsonl (got {filename!r}).",
                    param="file",
                    code="invalid_file_format",
                )
            try:
                for line in content.decode("utf-8").splitlines():
                    if line.strip():
                        json.loads(line)
            except ValueError as exc:
                return _error(
                    400,
                    f"Invalid file format for {purpose}: {filename} is not JSON lines ({exc}).",
                    param="file",
                    code="invalid_file_format",
                )
        file_id = self._next_id("file-")
        self.file_contents[file_id] = content
        self.files[file_id] = {
            "id": file_id,
            "object": "file",
            "bytes": len(content),
            "created_at": self._tick(),
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
        }
        return _json(self.files[file_id])

    def _retrieve_file(self, request: RecordedRequest, file_id: str) -> httpx.Response:
        if file_id not in self.files:
            return _error(404, f"No such File object: {file_id}", param="id")
        return _json(self.files[file_id])

    def _delete_file(self, request: RecordedRequest, file_id: str) -> httpx.Response:
        if self.files.pop(file_id, None) is None:
            return _error(404, f"No such File object: {file_id}", param="id")
        self.file_contents.pop(file_id, None)
        return _json({"id": file_id, "object": "file", "deleted": True})

    # --- fine-tuning jobs ----------------------------------------------------------------------

    def _create_job(self, request: RecordedRequest) -> httpx.Response:
        body = request.json
        model = body["model"]
        if model not in FINE_TUNABLE_MODELS:
            return _error(
                400,
                f"Model {model} is not available for fine-tuning or does not exist.",
                param="model",
                code="model_not_available",
            )
        for key in ("training_file", "validation_file"):
            file_id = body.get(key)
            if file_id is None:
                continue
            if file_id not in self.files:
                return _error(400, f"invalid {key}: {file_id}", param=key, code="invalid_file")
            purpose = self.files[file_id]["purpose"]
            if purpose != "fine-tune":
                return _error(
                    400,
                    f"File {file_id} has purpose {purpose!r}; the {key} of a fine-tuning job "
                    "must be uploaded with purpose 'fine-tune'.",
                    param=key,
                    code="invalid_file_purpose",
                )
        method = body.get("method") or {"type": "supervised", "supervised": {}}
        kind = method["type"]
        if kind == "reinforcement":
            return _error(
                400,
                f"Reinforcement fine-tuning is not available for {model}.",
                param="method.type",
                code="invalid_value",
            )
        for other in ("supervised", "dpo", "reinforcement"):
            if other != kind and other in method:
                return _error(
                    400,
                    f"Invalid 'method.{other}': the method type is {kind!r}; give the "
                    f"hyperparameters under 'method.{kind}'.",
                    param=f"method.{other}",
                    code="invalid_value",
                )
        given = (method.get(kind) or {}).get("hyperparameters") or {}
        resolved = {
            "n_epochs": given.get("n_epochs", "auto"),
            "batch_size": given.get("batch_size", "auto"),
            "learning_rate_multiplier": given.get("learning_rate_multiplier", "auto"),
        }
        if kind == "dpo":
            resolved["beta"] = given.get("beta", "auto")
        job_id = self._next_id("ftjob-")
        job = {
            "object": "fine_tuning.job",
            "id": job_id,
            "model": model,
            "created_at": self._tick(),
            "finished_at": None,
            "fine_tuned_model": None,
            "organization_id": self.organization_id,
            "result_files": [],
            "status": "validating_files",
            "validation_file": body.get("validation_file"),
            "training_file": body["training_file"],
            "hyperparameters": {k: v for k, v in resolved.items() if k != "beta"},
            "trained_tokens": None,
            "error": None,
            "seed": body.get("seed") if body.get("seed") is not None else 1234,
            "estimated_finish": None,
            "integrations": [],
            "metadata": body.get("metadata"),
            "method": {"type": kind, kind: {"hyperparameters": resolved}},
        }
        self.jobs[job_id] = job
        self.events[job_id] = []
        self._scripts[job_id] = self._armed or SCENARIOS["success"]
        self._armed = None
        self._suffixes[job_id] = body.get("suffix")
        self._event(job_id, f"Validating training file: {body['training_file']}")
        return _json(job)

    def _job_or_404(self, job_id: str) -> dict[str, Any] | httpx.Response:
        if job_id not in self.jobs:
            return _error(
                404,
                f"Fine-tuning job {job_id} not found.",
                param="fine_tuning_job_id",
                code="fine_tuning_job_not_found",
            )
        return self.jobs[job_id]

    def _retrieve_job(self, request: RecordedRequest, job_id: str) -> httpx.Response:
        job = self._job_or_404(job_id)
        if isinstance(job, httpx.Response):
            return job
        self._advance(job)
        return _json(job)

    def _cancel_job(self, request: RecordedRequest, job_id: str) -> httpx.Response:
        job = self._job_or_404(job_id)
        if isinstance(job, httpx.Response):
            return job
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return _error(
                400,
                f"Job has already completed: {job_id}",
                param="fine_tuning_job_id",
                code="invalid_job_status",
            )
        job["status"] = "cancelled"
        job["finished_at"] = self._tick()
        job["estimated_finish"] = None
        self._event(job_id, "Fine-tuning job cancelled")
        return _json(job)

    def _pause_job(self, request: RecordedRequest, job_id: str) -> httpx.Response:
        job = self._job_or_404(job_id)
        if isinstance(job, httpx.Response):
            return job
        if job["status"] != "running":
            return _error(
                400,
                f"Job {job_id} is {job['status']}; only a running job can be paused.",
                param="fine_tuning_job_id",
                code="invalid_job_status",
            )
        job["status"] = "paused"
        job["estimated_finish"] = None
        self._event(job_id, "Fine-tuning job paused")
        return _json(job)

    def _resume_job(self, request: RecordedRequest, job_id: str) -> httpx.Response:
        job = self._job_or_404(job_id)
        if isinstance(job, httpx.Response):
            return job
        if job["status"] != "paused":
            return _error(
                400,
                f"Job {job_id} is {job['status']}; only a paused job can be resumed.",
                param="fine_tuning_job_id",
                code="invalid_job_status",
            )
        job["status"] = "queued"  # the spec's example: a resumed job waits in the queue again
        self._event(job_id, "Fine-tuning job resumed")
        return _json(job)

    def _list_jobs(self, request: RecordedRequest) -> httpx.Response:
        newest_first = sorted(self.jobs.values(), key=lambda j: j["created_at"], reverse=True)
        wanted = {
            name[len("metadata[") : -1]: value
            for name, value in request.query.items()
            if name.startswith("metadata[")
        }
        if wanted:
            newest_first = [
                job
                for job in newest_first
                if all((job["metadata"] or {}).get(k) == v for k, v in wanted.items())
            ]
        return self._page(request, newest_first)

    def _list_events(self, request: RecordedRequest, job_id: str) -> httpx.Response:
        if job_id not in self.jobs:
            return self._job_or_404(job_id)  # type: ignore[return-value]
        return self._page(request, list(reversed(self.events[job_id])))

    def _list_checkpoints(self, request: RecordedRequest, job_id: str) -> httpx.Response:
        if job_id not in self.jobs:
            return self._job_or_404(job_id)  # type: ignore[return-value]
        return self._page(request, list(reversed(self.checkpoints.get(job_id, []))), cursors=True)

    def _page(
        self, request: RecordedRequest, items: list[dict[str, Any]], *, cursors: bool = False
    ) -> httpx.Response:
        """A cursor page: ``after`` is the id of the last item of the previous page."""
        limit = min(int(request.query.get("limit", 20)), self.page_size_cap)
        if limit < 1:
            return _error(
                400,
                f"Invalid 'limit': integer below minimum value. Expected a value >= 1, but got "
                f"{limit} instead.",
                param="limit",
                code="integer_below_min_value",
            )
        after = request.query.get("after")
        start = 0
        if after is not None:
            ids = [item["id"] for item in items]
            start = ids.index(after) + 1 if after in ids else len(items)
        chunk = items[start : start + limit]
        page: dict[str, Any] = {"object": "list", "data": chunk}
        page["has_more"] = start + limit < len(items)
        if cursors:  # checkpoints pages carry cursors
            page["first_id"] = chunk[0]["id"] if chunk else None
            page["last_id"] = chunk[-1]["id"] if chunk else None
        return _json(page)

    def _event(
        self,
        job_id: str,
        message: str,
        *,
        level: str = "info",
        data: dict[str, Any] | None = None,
        kind: str = "message",
    ) -> None:
        self.events[job_id].append(
            {
                "object": "fine_tuning.job.event",
                "id": self._next_id("ftevent-"),
                "created_at": self._tick(),
                "level": level,
                "message": message,
                "data": data or {},
                "type": kind,
            }
        )

    def _advance(self, job: dict[str, Any]) -> None:
        """One stage per retrieve: validating_files -> queued -> running (n polls) -> done."""
        job_id = job["id"]
        status = job["status"]
        script = self._scripts.get(job_id, SCENARIOS["success"])
        if status == "validating_files":
            problem = self._training_file_problem(job)
            if script.invalid_file and problem is None:
                problem = (
                    "The job failed due to an invalid training file. Line 3: the assistant "
                    "message has no content."
                )
            if problem:
                self._fail(job, "invalid_training_file", problem, param="training_file")
                return
            job["status"] = "queued"
            self._event(job_id, "Files validated, moving job to queued state")
        elif status == "queued":
            job["status"] = "running"
            job["estimated_finish"] = self._clock + 600
            self._event(job_id, f"Fine-tuning job started: {job_id}")
            if script.warning:
                self._event(job_id, script.warning, level="warn")
        elif status == "running":
            state = self._progress.setdefault(
                job_id, {"step": 0, "total": self._total_steps(job), "polls": 0}
            )
            state["polls"] += 1
            stride = math.ceil(state["total"] / max(self.running_polls, 1))
            state["step"] = min(state["step"] + stride, state["total"])
            step, total = state["step"], state["total"]
            loss = round(2.0 / (1 + step), 4)
            self._event(
                job_id,
                f"Step {step}/{total}: training loss={loss}",
                data={
                    "step": step,
                    "train_loss": loss,
                    "total_steps": total,
                    "train_mean_token_accuracy": round(1 - loss / 2, 4),
                },
                kind="metrics",
            )
            if script.polls_before_failure is not None and (
                state["polls"] >= script.polls_before_failure
            ):
                code, message = script.failure
                self._fail(job, code, message, param=None)
            elif step >= total:
                self._succeed(job, total)

    def _fail(self, job: dict[str, Any], code: str, message: str, *, param: str | None) -> None:
        job.update(status="failed", finished_at=self._tick(), estimated_finish=None)
        job["error"] = {"code": code, "message": message, "param": param}
        self._event(job["id"], message, level="error")

    def _succeed(self, job: dict[str, Any], total_steps: int) -> None:
        job_id = job["id"]
        suffix = self._suffixes.get(job_id) or ""
        job["fine_tuned_model"] = f"ft:{job['model']}:{self.organization_id}:{suffix}:{job_id[-8:]}"
        job["status"] = "succeeded"
        job["finished_at"] = self._tick()
        job["estimated_finish"] = None
        job["trained_tokens"] = 42 * total_steps
        results = self._next_id("file-")
        self.files[results] = {
            "id": results,
            "object": "file",
            "bytes": 0,
            "created_at": self._clock,
            "filename": "step_metrics.csv",
            "purpose": "fine-tune-results",
            "status": "processed",
        }
        self.file_contents[results] = b""
        job["result_files"] = [results]
        self.checkpoints[job_id] = [
            {
                "object": "fine_tuning.job.checkpoint",
                "id": self._next_id("ftckpt_"),
                "created_at": self._tick(),
                "fine_tuned_model_checkpoint": f"{job['fine_tuned_model']}:ckpt-step-{step}",
                "fine_tuning_job_id": job_id,
                "metrics": {
                    "step": float(step),
                    "train_loss": round(2.0 / (1 + step), 4),
                    "train_mean_token_accuracy": 0.9,
                },
                "step_number": step,
            }
            for step in sorted({max(1, total_steps // 2), total_steps})
        ]
        self._event(job_id, f"New fine-tuned model created: {job['fine_tuned_model']}")
        self._event(job_id, "The job has successfully completed")

    def _examples(self, file_id: str) -> list[dict[str, Any]]:
        lines = self.file_contents.get(file_id, b"").decode("utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def _training_file_problem(self, job: dict[str, Any]) -> str | None:
        try:
            examples = self._examples(job["training_file"])
        except ValueError as exc:
            return f"The job failed due to an invalid training file. Invalid JSON: {exc}"
        if len(examples) < 10:
            return (
                "The job failed due to an invalid training file. Expected file to have at "
                f"least 10 lines, but got {len(examples)} lines."
            )
        key = "preferred_output" if job["method"]["type"] == "dpo" else "messages"
        for number, example in enumerate(examples, 1):
            if key not in example:
                return (
                    "The job failed due to an invalid training file. "
                    f"Line {number}: missing key {key!r}."
                )
        return None

    def _total_steps(self, job: dict[str, Any]) -> int:
        hyper = job["method"][job["method"]["type"]]["hyperparameters"]
        epochs = hyper["n_epochs"] if isinstance(hyper["n_epochs"], int) else 3
        batch = hyper["batch_size"] if isinstance(hyper["batch_size"], int) else 1
        rate = hyper["learning_rate_multiplier"]
        resolved = {
            "n_epochs": epochs,
            "batch_size": batch,
            "learning_rate_multiplier": 1.8 if rate == "auto" else rate,
        }
        if "beta" in hyper:  # what the API reports once it has chosen the "auto" values
            hyper["beta"] = 0.1 if hyper["beta"] == "auto" else hyper["beta"]
        hyper.update(resolved)
        job["hyperparameters"].update(resolved)
        examples = len(self._examples(job["training_file"]))
        return epochs * math.ceil(examples / batch)

    # --- inference -----------------------------------------------------------------------------

    def _chat(self, request: RecordedRequest, deployment: str | None = None) -> httpx.Response:
        body = request.json or {}
        refused = self._chat_request_problem(body)
        if refused is not None:
            return refused
        model = deployment or body.get("model")
        tuned = {j["fine_tuned_model"]: j for j in self.jobs.values() if j["fine_tuned_model"]}
        if deployment is None and model not in FINE_TUNABLE_MODELS and model not in tuned:
            return _error(
                404,
                f"The model `{model}` does not exist or you do not have access to it.",
                code="model_not_found",
            )
        messages = body.get("messages") or []
        prompt = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
        answer = self._memorized(tuned[model], prompt) if model in tuned else None
        text = answer if answer is not None else f"echo: {prompt}"
        words = text.split(" ")
        budget = body.get("max_completion_tokens") or body.get("max_tokens")
        finish = "stop"
        if budget is not None and len(words) > budget:
            text, finish = " ".join(words[:budget]), "length"
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in messages)
        completion_tokens = len(text.split())
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }
        if body.get("stream") is True:
            return self._stream_chat(body, str(model), text, finish, usage)
        return _json(
            {
                "id": self._next_id("chatcmpl-"),
                "object": "chat.completion",
                "created": self._tick(),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {
                            "role": "assistant",
                            "content": text,
                            "refusal": None,
                            "annotations": [],
                        },
                        "logprobs": None,
                        "finish_reason": finish,
                    }
                ],
                "usage": usage,
                "service_tier": "default",
                "system_fingerprint": "fp_fake",
            }
        )

    def _chat_request_problem(self, body: Mapping[str, Any]) -> httpx.Response | None:
        """What the service refuses about streaming in a chat request (its 400s)."""
        stream = body.get("stream")
        if stream is not None and not isinstance(stream, bool):
            return _error(
                400,
                f"Invalid type for 'stream': expected a boolean, but got {type(stream).__name__} "
                "instead.",
                param="stream",
                code="invalid_type",
            )
        options = body.get("stream_options")
        if options is not None and stream is not True:
            return _error(
                400,
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                param="stream_options",
                code="invalid_value",
            )
        for key in options or {}:
            if key not in STREAM_OPTIONS:
                return _error(
                    400,
                    f"Unrecognized request argument supplied: stream_options.{key}",
                    param=f"stream_options.{key}",
                    code="unknown_parameter",
                )
        return None

    def _stream_chat(
        self,
        body: Mapping[str, Any],
        model: str,
        text: str,
        finish: str,
        usage: Mapping[str, Any],
    ) -> httpx.Response:
        """The answer as server-sent events, as the API streams it: a first chunk with the
        role and empty content, one chunk per piece of text (a word and the space after it),
        a last chunk with an empty delta and the finish reason, with ``include_usage`` one more
        with no choices and the usage (every other chunk then has ``"usage": null``), then
        ``data: [DONE]``. Chunks carry ``obfuscation`` padding unless
        ``stream_options.include_obfuscation`` is false."""
        options = body.get("stream_options") or {}
        with_usage = options.get("include_usage") is True
        padded = options.get("include_obfuscation", True) is not False
        completion_id = self._next_id("chatcmpl-")
        created = self._tick()

        def chunk(choices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
            made: dict[str, Any] = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "service_tier": "default",
                "system_fingerprint": "fp_fake",
                "choices": choices,
            }
            if with_usage:
                made["usage"] = None
            made.update(extra)
            if padded:  # the API pads chunks to hide the length of their text
                made["obfuscation"] = "x" * (16 - len(json.dumps(choices)) % 16)
            return made

        def choice(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
            return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}

        pieces = re.findall(r"\S+\s*|\s+", text)
        chunks = [chunk([choice({"role": "assistant", "content": "", "refusal": None})])]
        chunks += [chunk([choice({"content": piece})]) for piece in pieces]
        chunks.append(chunk([choice({}, finish)]))
        if with_usage:
            chunks.append(chunk([], usage=dict(usage)))
        fault, self._stream_fault = self._stream_fault, None
        return httpx.Response(
            200,
            headers={
                "content-type": "text/event-stream; charset=utf-8",
                "x-request-id": "req_fake",
            },
            content=_event_stream(chunks, fault),
            extensions={"fake_openai_chunks": chunks},
        )

    def interrupt_next_stream(self, after: int, message: str | None = None) -> None:
        """Make the next streamed chat answer stop after ``after`` chunks: the connection
        drops (``message`` None), or the API's error event ``data: {"error": ...}`` with
        ``message`` comes instead of the rest (what the service sends when it fails mid-way)."""
        self._stream_fault = (after, message)

    def _memorized(self, job: dict[str, Any], prompt: str) -> str | None:
        """A tuned model answers its training prompts with the trained answer, and others
        through ``generalize`` when it is given."""
        trained = []
        for example in self._examples(job["training_file"]):
            messages = example.get("messages") or []
            users = [m for m in messages if m.get("role") == "user"]
            answers = [m for m in messages if m.get("role") == "assistant"]
            if users and answers:
                trained.append((str(users[-1].get("content")), str(answers[-1].get("content"))))
        for trained_prompt, answer in trained:
            if trained_prompt == prompt:
                return answer
        return None if self.generalize is None else self.generalize(prompt, trained)


# --- sample data ---------------------------------------------------------------------------------


def chat_records(count: int = 12) -> list[dict[str, Any]]:
    """Records in OpenAI's chat format (what ``Dataset.export(provider="openai")`` writes)."""
    return [
        {
            "messages": [
                {"role": "system", "content": "Answer with the capital city."},
                {"role": "user", "content": f"capital of country {i}?"},
                {"role": "assistant", "content": f"city {i}"},
            ]
        }
        for i in range(count)
    ]


def dpo_records(count: int = 12) -> list[dict[str, Any]]:
    """Records in OpenAI's DPO format (what ``Dataset.export(provider="openai-dpo")`` writes)."""
    return [
        {
            "input": {"messages": [{"role": "user", "content": f"greet person {i}"}]},
            "preferred_output": [{"role": "assistant", "content": f"Hello, person {i}!"}],
            "non_preferred_output": [{"role": "assistant", "content": "go away"}],
        }
        for i in range(count)
    ]


def write_jsonl(path: str | os.PathLike[str], records: Iterable[Mapping[str, Any]]) -> str:
    """Write ``records`` as JSON lines; returns the path as text."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(record) + "\n" for record in records)
    return os.fspath(path)


# --- helpers -----------------------------------------------------------------------------------


def _api_path(path: str) -> str:
    """The path after the API root: ``/v1`` (OpenAI) or ``/openai`` (Azure)."""
    for root in ("/v1", "/openai"):
        if path.startswith(root + "/"):
            return path[len(root) :]
    return path


def _presented_key(headers: Mapping[str, str]) -> str:
    if "api-key" in headers:
        return headers["api-key"]
    authorization = headers.get("authorization", "")
    return authorization.removeprefix("Bearer ").strip()


def _json(
    payload: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(
        status,
        json=payload,
        headers={"x-request-id": "req_fake", **(headers or {})},
    )


def _error(
    status: int,
    message: str,
    *,
    type: str = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    body = {"error": {"message": message, "type": type, "param": param, "code": code}}
    return _json(body, status, headers)


def _fault(fault: Fault, request: httpx.Request) -> httpx.Response:
    if fault.timeout:
        raise httpx.ReadTimeout("The read operation timed out (fake)", request=request)
    return _error(
        fault.status, fault.message, type=fault.type, code=fault.code, headers=fault.headers
    )


def _json_or_none(content_type: str, body: bytes) -> Any:
    if "json" in content_type and body:
        try:
            return json.loads(body)
        except ValueError:
            return None
    return None


def _multipart(content_type: str, body: bytes) -> dict[str, Any]:
    """Form fields of a multipart body: text values, and ``(filename, bytes)`` for files."""
    if not content_type.startswith("multipart/form-data"):
        return {}
    message = email.message_from_bytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body, policy=email.policy.HTTP
    )
    fields: dict[str, Any] = {}
    for part in cast(Any, message).iter_parts():
        name = str(part.get_param("name", header="content-disposition"))
        payload: bytes = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        fields[name] = (filename, payload) if filename else payload.decode("utf-8")
    return fields


def _event_stream(
    chunks: list[dict[str, Any]], fault: tuple[int, str | None] | None
) -> Iterator[bytes]:
    """The body of a streamed answer, one server-sent event at a time (read lazily, as the
    SDK reads a real stream), ending ``data: [DONE]``; ``fault`` cuts it short."""
    for number, chunk in enumerate(chunks):
        if fault is not None and number == fault[0]:
            after, message = fault
            if message is None:
                raise httpx.RemoteProtocolError(
                    f"peer closed connection without sending complete message body (fake, after "
                    f"{after} chunks)"
                )
            error = {"message": message, "type": "server_error", "param": None, "code": None}
            yield b"data: " + json.dumps({"error": error}).encode() + b"\n\n"
            return
        yield b"data: " + json.dumps(chunk).encode() + b"\n\n"
    yield b"data: [DONE]\n\n"


def chunk_problems(chunk: Mapping[str, Any]) -> list[str]:
    """How a ``chat.completion.chunk`` departs from the SDK's ``ChatCompletionChunk`` (the
    extracted OpenAPI document holds no chat schemas): fields it does not declare, at any
    depth, and values its strict validation refuses. Empty when the chunk is as the API's."""
    import pydantic
    from openai.types.chat import ChatCompletionChunk

    problems = [f"unknown field {path}" for path in _unknown_fields(chunk, ChatCompletionChunk, "")]
    try:
        ChatCompletionChunk.model_validate(dict(chunk), strict=True)
    except pydantic.ValidationError as exc:
        problems += [
            f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in exc.errors()
        ]
    return problems


def _unknown_fields(value: Any, model: Any, where: str) -> list[str]:
    """Dotted paths of keys in ``value`` that the pydantic ``model`` does not declare."""
    import typing

    import pydantic

    if not isinstance(value, Mapping):
        return []
    found = []
    for key, item in value.items():
        path = f"{where}.{key}" if where else str(key)
        field = model.model_fields.get(key)
        if field is None:
            found.append(path)
            continue
        inner = [field.annotation]
        while inner:
            kind = inner.pop()
            if isinstance(kind, type) and issubclass(kind, pydantic.BaseModel):
                items = item if isinstance(item, list) else [item]
                for index, element in enumerate(items):
                    at = f"{path}[{index}]" if isinstance(item, list) else path
                    found += _unknown_fields(element, kind, at)
            else:
                inner.extend(typing.get_args(kind))
    return found
