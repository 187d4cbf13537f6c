"""Offline test doubles: a stateful fake of the Vertex AI tuning API served through the Gen AI
SDK's HTTP transport, and a Cloud Storage emulator process.

``FakeVertex`` answers the REST calls ``google-genai`` makes in Vertex AI mode
(``tuningJobs`` create/get/list/cancel, ``generateContent`` on endpoints and publisher
models) with JSON shaped like the ``TuningJob`` resource, keeps state between calls and moves
a job one stage on per GET::

    fake = FakeVertex(gcs_reader=emulator.read)
    provider = fake.provider(bucket="b", storage_endpoint=emulator.endpoint)

**Requests are checked as the service checks them** (``data/tuning_rules.json``, each rule
with its source): the body is read as proto3 JSON with the field names and types of the
installed SDK's models (unknown fields refused, ``"4"`` accepted for an integer), then the
field rules (display name length, labels, ``gs://`` URIs, one tuning spec, supported base
model, hyperparameters); list takes an AIP-160 ``filter``, ``pageSize`` and ``pageToken``. A
request outside the rules is answered with HTTP 400 ``INVALID_ARGUMENT`` and a
``google.rpc.BadRequest`` naming each field, and nothing is stored. With ``strict=True`` (the
default) such a request also fails the test (:class:`SpecViolation`), unless it happens
inside ``with fake.expect_violations():``.

**Answers are checked too**: every JSON body is validated against the SDK's models
(``extra="forbid"``), may not carry SDK-only fields, and writes int64 values as strings.

**Lifecycles** are scripted by scenario (:data:`SCENARIOS`: queued, waiting for quota or
capacity, paused, updating, failing during tuning, expired, partially succeeded …), per fake
(``scenario=``) or for the next job (:meth:`FakeVertex.script`). Cancel shows
``JOB_STATE_CANCELLING`` before ``JOB_STATE_CANCELLED``. Failures: :meth:`FakeVertex.fail_next`
(429 ``RESOURCE_EXHAUSTED`` with a ``google.rpc.RetryInfo``, 503 ``UNAVAILABLE``, a timeout,
or a create whose answer is lost after the job was stored) and, from a ``seed``, random
transient faults at a ``fault_rate``. ``fake.exchanges`` records every request and answer; an
:class:`ExchangeLog` shared by several fakes collects them for a whole test session.

``GcsEmulator`` runs ``gcp-storage-emulator`` (a test dependency) on a free loopback port.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import random
import re
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from modelops_provider_vertex.filters import FilterError, parse_filter
from modelops_provider_vertex.rules import (
    ProtoJsonReader,
    Rules,
    Violation,
    check_answer,
    create_problems,
    load_rules,
)

MIN_EXAMPLES = 16
BATCH_SIZE = 4
STARTED_AT = 1_767_225_600  # 2026-01-01T00:00:00Z: timestamps are deterministic
FAKE_TOKEN = "fake"

_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_ROUTE = re.compile(r"/(v1|v1beta1)/projects/([^/]+)/locations/([^/]+)/(.+)")
_BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
_RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
_ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"

#: Named lifecycles: the stages a job walks, one per GET, after ``JOB_STATE_PENDING``.
#: ``tuning`` repeats stand for progress; the last stage ends the job.
SCENARIOS: Mapping[str, tuple[str, ...]] = {
    "succeeded": ("processing_dataset", "tuning", "tuning", "succeeded"),
    "queued": ("queued", "processing_dataset", "tuning", "succeeded"),
    "waiting_for_quota": ("processing_dataset", "waiting_for_quota", "tuning", "succeeded"),
    "waiting_for_capacity": ("processing_dataset", "waiting_for_capacity", "tuning", "succeeded"),
    "post_processing": ("processing_dataset", "tuning", "post_processing", "succeeded"),
    "paused": ("processing_dataset", "tuning", "paused", "paused", "tuning", "succeeded"),
    "updating": ("processing_dataset", "tuning", "updating", "tuning", "succeeded"),
    "failed_during_tuning": ("processing_dataset", "tuning", "failed_during_tuning"),
    "expired": ("queued", "expired"),
    "partially_succeeded": ("processing_dataset", "tuning", "partially_succeeded"),
    "partially_succeeded_without_model": (
        "processing_dataset",
        "tuning",
        "partially_succeeded_without_model",
    ),
}
_FINAL_STAGES = {
    "succeeded",
    "failed_during_tuning",
    "expired",
    "partially_succeeded",
    "partially_succeeded_without_model",
}
_SUB_STATES = {
    "processing_dataset": "TUNING_JOB_STATE_PROCESSING_DATASET",
    "waiting_for_quota": "TUNING_JOB_STATE_WAITING_FOR_QUOTA",
    "waiting_for_capacity": "TUNING_JOB_STATE_WAITING_FOR_CAPACITY",
    "tuning": "TUNING_JOB_STATE_TUNING",
    "post_processing": "TUNING_JOB_STATE_POST_PROCESSING",
}
#: What a job that fails during tuning reports (``google.rpc.Status``).
TUNING_FAILURE = {
    "code": 13,
    "message": "Internal error occurred while tuning at step {step}. Retry the tuning job; "
    "if it fails again, contact Vertex AI support.",
    "details": [
        {
            "@type": _ERROR_INFO,
            "reason": "TUNING_JOB_INTERNAL_ERROR",
            "domain": "aiplatform.googleapis.com",
            "metadata": {"step": "{step}"},
        }
    ],
}


class SpecViolation(AssertionError):
    """An exchange outside the Vertex AI rules, in strict mode: a request the service refuses
    (the test's code sent it) or an answer the fake should never give (the fake is wrong)."""


@attrs.frozen
class RecordedRequest:
    """One request the fake received: method, full URL, path after the API version, body."""

    method: str
    url: str
    path: str
    headers: Mapping[str, str]
    json: Any = None


@attrs.frozen
class Exchange:
    """A request and the fake's answer (``status`` 0: a timeout), with the rules it broke."""

    request: RecordedRequest
    status: int
    body: Any
    violations: tuple[str, ...] = ()
    expected: bool = False


@attrs.define
class ExchangeLog:
    """Every exchange of the fakes that share it (a test session's); :meth:`unexpected`
    lists the ones outside the rules that no test asked for."""

    exchanges: list[Exchange] = attrs.field(factory=list)

    def unexpected(self) -> list[Exchange]:
        return [e for e in self.exchanges if e.violations and not e.expected]

    def report(self) -> str:
        return "\n".join(
            f"{e.request.method} {e.request.path} -> {e.status}: {'; '.join(e.violations)}"
            for e in self.unexpected()
        )


@attrs.frozen
class _Failure:
    status: int
    message: str
    status_name: str
    headers: Mapping[str, str]
    path: str | None
    retry_delay: float | None = None
    timeout: bool = False
    after_processing: bool = False


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """One default TLS context for every fake-wired client of the process."""
    return ssl.create_default_context()


def _rfc3339(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + ".000000Z"


def _duration(seconds: float) -> str:
    """A ``google.protobuf.Duration`` in JSON: ``"7s"``, ``"0.250s"``."""
    return f"{seconds:g}s" if seconds == int(seconds) else f"{seconds:.3f}s"


def _error(
    status: int,
    message: str,
    status_name: str | None = None,
    headers: Mapping[str, str] = {},
    details: Sequence[Mapping[str, Any]] = (),
) -> Any:
    import httpx2

    name = status_name or _STATUS_NAMES.get(status, "UNKNOWN")
    error: dict[str, Any] = {"code": status, "message": message, "status": name}
    if details:
        error["details"] = [dict(d) for d in details]
    return httpx2.Response(status, json={"error": error}, headers=dict(headers))


def _bad_request(violations: Sequence[Violation]) -> Any:
    """HTTP 400 INVALID_ARGUMENT with a ``google.rpc.BadRequest`` listing every violation."""
    message = "\n".join(v.description for v in violations)
    if len(violations) > 1 or not message.startswith("Invalid"):
        message = "Request contains an invalid argument.\n" + message
    details = [{"@type": _BAD_REQUEST, "fieldViolations": [v.as_json() for v in violations]}]
    return _error(400, message, "INVALID_ARGUMENT", details=details)


class FakeVertex:
    """The fake API. Jobs live in plain dicts shaped like the REST ``TuningJob`` resource.

    :param project: the project id the fake serves; names it returns use ``project_number``,
        as Vertex AI does.
    :param scenario: the lifecycle of every job (a :data:`SCENARIOS` name or a tuple of
        stages); :meth:`script` sets it for the next job only.
    :param running_polls: how many GETs a job spends tuning in the default scenario.
    :param waiting_polls: GETs spent waiting for capacity before tuning (default scenario).
    :param cancelling_polls: GETs that show ``JOB_STATE_CANCELLING`` after a cancel.
    :param page_size_cap: the most jobs one list page returns.
    :param gcs_reader: ``uri -> bytes`` to read training files (e.g. ``GcsEmulator.read``);
        without it the fake cannot see the data and assumes 16 examples.
    :param strict: a request outside the rules raises :class:`SpecViolation` (after it is
        recorded) unless expected; an answer outside them always does.
    :param seed: with ``fault_rate``, random transient faults (429 with a retry delay, 503,
        a timeout) drawn from this seed, the same every run.
    :param log: an :class:`ExchangeLog` shared with other fakes (a test session's).
    """

    base_url = "http://fake.vertex.test/"

    def __init__(
        self,
        *,
        project: str = "fake-project",
        project_number: str = "123456789012",
        location: str = "us-central1",
        tokens: tuple[str, ...] = (FAKE_TOKEN,),
        scenario: str | Sequence[str] | None = None,
        running_polls: int = 2,
        waiting_polls: int = 0,
        cancelling_polls: int = 1,
        page_size_cap: int = 100,
        gcs_reader: Callable[[str], bytes] | None = None,
        strict: bool = True,
        seed: int | None = None,
        fault_rate: float = 0.0,
        log: ExchangeLog | None = None,
        generalize: Callable[[str, list[tuple[str, str]]], str | None] | None = None,
    ) -> None:
        """``generalize(prompt, trained_pairs)`` answers a tuned endpoint's unseen prompts
        (from its ``(prompt, answer)`` training pairs); by default they are echoed."""
        self.rules: Rules = load_rules()
        self.project = project
        self.generalize = generalize
        self.project_number = project_number
        self.location = location
        self.tokens = tokens
        self.running_polls = running_polls
        self.waiting_polls = waiting_polls
        self.cancelling_polls = cancelling_polls
        self.page_size_cap = page_size_cap
        self.gcs_reader = gcs_reader
        self.strict = strict
        self.scenario = None if scenario is None else self._stages(scenario)
        self.fault_rate = fault_rate
        self._random = random.Random(seed)
        self.log = log if log is not None else ExchangeLog()
        self.jobs: dict[str, dict[str, Any]] = {}
        self.requests: list[RecordedRequest] = []
        self.exchanges: list[Exchange] = []
        self.endpoints: dict[str, dict[str, str]] = {}  # endpoint id -> prompt -> answer
        self._plans: dict[str, list[str]] = {}
        self._positions: dict[str, int] = {}
        self._cancelling: dict[str, int] = {}
        self._answers: dict[str, dict[str, str]] = {}
        self._failures: list[_Failure] = []
        self._scripted: list[tuple[str, ...]] = []
        self._page_tokens: dict[str, tuple[int, str]] = {}
        self._expecting = 0
        self._clock = STARTED_AT
        self._counter = 0

    # --- wiring --------------------------------------------------------------------------------

    def http_client(self) -> Any:
        """An ``httpx2.Client`` whose transport is this fake (``http_client=``)."""
        import httpx2

        return httpx2.Client(transport=httpx2.MockTransport(self.handle))

    @staticmethod
    def credentials() -> Any:
        """OAuth credentials holding the token the fake accepts (they never refresh)."""
        from google.oauth2.credentials import Credentials

        return Credentials(token=FAKE_TOKEN)  # type: ignore[no-untyped-call]

    def provider_options(self, **options: Any) -> dict[str, Any]:
        """``VertexProvider`` options wired to this fake (``options`` override or add)."""
        context = shared_ssl_context()
        settings: dict[str, Any] = {
            "project": self.project,
            "location": self.location,
            "credentials": self.credentials(),
            "base_url": self.base_url,
            "http_client": self.http_client(),
            "max_retries": 0,
            # the SDK builds three TLS contexts per client unless given one (about 0.3 s);
            # the fake speaks no TLS, so one shared context keeps tests fast
            "http_options": {
                "client_args": {"verify": context},
                "async_client_args": {"verify": context, "ssl": context},
            },
        }
        settings.update(options)
        return settings

    def provider(self, **options: Any) -> Any:
        """A ``VertexProvider`` on this fake: fake credentials, no SDK retries."""
        from modelops_provider_vertex.provider import VertexProvider

        return VertexProvider(**self.provider_options(**options))

    def script(self, scenario: str | Sequence[str]) -> None:
        """The next job created follows ``scenario`` (a :data:`SCENARIOS` name or stages)."""
        self._scripted.append(self._stages(scenario))

    def _stages(self, scenario: str | Sequence[str]) -> tuple[str, ...]:
        if isinstance(scenario, str):
            if scenario not in SCENARIOS:
                raise ValueError(
                    f"FakeVertex has no scenario {scenario!r}; use one of "
                    f"{', '.join(sorted(SCENARIOS))} or a tuple of stages."
                )
            return SCENARIOS[scenario]
        stages = tuple(scenario)
        known = set(_SUB_STATES) | _FINAL_STAGES | {"queued", "paused", "updating"}
        unknown = [stage for stage in stages if stage not in known]
        if unknown or not stages or stages[-1] not in _FINAL_STAGES:
            raise ValueError(
                f"A FakeVertex scenario is stages from {sorted(known)} ending with one of "
                f"{sorted(_FINAL_STAGES)}; got {stages!r}."
            )
        return stages

    def fail_next(
        self,
        status: int = 503,
        message: str = "The service is currently unavailable.",
        *,
        status_name: str | None = None,
        headers: Mapping[str, str] | None = None,
        path: str | None = None,
        times: int = 1,
        retry_delay: float | None = None,
        timeout: bool = False,
        after_processing: bool = False,
    ) -> None:
        """Answer the next ``times`` requests (whose path contains ``path``) with an error.

        :param retry_delay: seconds sent as ``google.rpc.RetryInfo`` in the error's details.
        :param timeout: the request times out instead (``httpx2.ReadTimeout``).
        :param after_processing: with ``timeout``, the request is carried out first (a create
            stores its job) and only the answer is lost.
        """
        name = status_name or _STATUS_NAMES.get(status, "UNKNOWN")
        failure = _Failure(
            status,
            message,
            name,
            dict(headers or {}),
            path,
            retry_delay,
            timeout,
            after_processing,
        )
        self._failures.extend([failure] * times)

    @contextlib.contextmanager
    def expect_violations(self) -> Iterator[list[Exchange]]:
        """Requests outside the rules inside the block are answered (400) without failing the
        test; the list yielded holds the exchanges that broke a rule."""
        start = len(self.exchanges)
        seen: list[Exchange] = []
        self._expecting += 1
        try:
            yield seen
        finally:
            self._expecting -= 1
            seen.extend(e for e in self.exchanges[start:] if e.violations)

    @property
    def violations(self) -> list[Exchange]:
        """Exchanges outside the rules that no ``expect_violations`` block allowed."""
        return [e for e in self.exchanges if e.violations and not e.expected]

    def requests_to(self, method: str, path_suffix: str) -> list[RecordedRequest]:
        """The recorded requests with this method whose path ends with ``path_suffix``."""
        return [r for r in self.requests if r.method == method and r.path.endswith(path_suffix)]

    def job_name(self, job_id: str) -> str:
        return f"projects/{self.project_number}/locations/{self.location}/tuningJobs/{job_id}"

    def raw(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        """Send a request as any client could (``path`` after ``projects/…/locations/…/``);
        the ``httpx2.Response``."""
        url = f"{self.base_url}v1beta1/projects/{self.project}/locations/{self.location}/{path}"
        with self.http_client() as client:
            return client.request(
                method,
                url,
                json=body,
                params=params or None,
                headers={"authorization": f"Bearer {self.tokens[0]}"},
            )

    # --- dispatch ------------------------------------------------------------------------------

    def handle(self, request: Any) -> Any:
        """The transport handler: record, authenticate, inject failures, check, route."""
        import httpx2

        body = request.read()
        match = _ROUTE.fullmatch(request.url.path)
        path = request.url.path.split("/", 2)[-1] if match else request.url.path
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            payload = json.loads(body) if body else None
        except ValueError:
            payload = body.decode("utf-8", "replace")
        recorded = RecordedRequest(request.method, str(request.url), path, headers, payload)
        self.requests.append(recorded)
        violations: list[Violation] = []
        failure = self._next_failure(path)
        if failure is not None and failure.timeout and failure.after_processing:
            self._dispatch(request, match, payload, violations)
            self._record(recorded, 0, None, violations)
            raise httpx2.ReadTimeout("The read operation timed out", request=request)
        if failure is not None and failure.timeout:
            self._record(recorded, 0, None, [])
            raise httpx2.ReadTimeout("The read operation timed out", request=request)
        if failure is not None:
            details: list[dict[str, Any]] = []
            if failure.retry_delay is not None:
                details.append({"@type": _RETRY_INFO, "retryDelay": _duration(failure.retry_delay)})
            response = _error(
                failure.status, failure.message, failure.status_name, failure.headers, details
            )
        else:
            response = self._dispatch(request, match, payload, violations)
        answer = json.loads(response.content) if response.content else None
        self._record(recorded, response.status_code, answer, violations)
        return response

    def _next_failure(self, path: str) -> _Failure | None:
        for index, failure in enumerate(self._failures):
            if failure.path is None or failure.path in path:
                del self._failures[index]
                return failure
        if self.fault_rate and self._random.random() < self.fault_rate:
            kind = self._random.choice(("throttled", "unavailable", "timeout"))
            if kind == "throttled":
                delay = self._random.choice((0.5, 1.0, 2.0))
                return _Failure(
                    429,
                    "Resource exhausted. Please try again later. Please refer to "
                    "https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 "
                    "for more details.",
                    "RESOURCE_EXHAUSTED",
                    {},
                    None,
                    retry_delay=delay,
                )
            if kind == "unavailable":
                return _Failure(
                    503, "The service is currently unavailable.", "UNAVAILABLE", {}, None
                )
            return _Failure(0, "", "", {}, None, timeout=True)
        return None

    def _record(
        self, request: RecordedRequest, status: int, body: Any, violations: Sequence[Violation]
    ) -> None:
        texts = tuple(f"{v.field}: {v.description}" for v in violations)
        exchange = Exchange(request, status, body, texts, expected=bool(self._expecting))
        self.exchanges.append(exchange)
        self.log.exchanges.append(exchange)
        if texts and self.strict and not self._expecting:
            raise SpecViolation(
                f"{request.method} {request.path} breaks the Vertex AI rules (the service "
                "answers HTTP 400); fix the request, or wrap the call in "
                "fake.expect_violations() when the refusal is what the test checks:\n"
                + "\n".join(texts)
            )

    def _dispatch(self, request: Any, match: Any, payload: Any, violations: list[Violation]) -> Any:
        headers = {k.lower(): v for k, v in request.headers.items()}
        if headers.get("authorization", "") not in {f"Bearer {t}" for t in self.tokens}:
            return _error(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                "login cookie or other valid authentication credential. See "
                "https://developers.google.com/identity/sign-in/web/devconsole-project.",
            )
        if match is None:
            return _error(404, f"The requested URL {request.url.path} was not found.")
        _, project, location, rest = match.groups()
        if project not in (self.project, self.project_number) or location != self.location:
            return _error(
                403,
                f"Permission 'aiplatform.tuningJobs.list' denied on resource "
                f"'//aiplatform.googleapis.com/projects/{project}/locations/{location}' "
                "(or it may not exist).",
            )
        if isinstance(payload, str):
            violations.append(
                Violation("", f"Invalid JSON payload received. Unexpected token.\n{payload[:40]}")
            )
            return _bad_request(violations)
        return self._route(request.method, rest, request.url.params, payload, violations)

    def _route(
        self, method: str, rest: str, params: Any, payload: Any, violations: list[Violation]
    ) -> Any:
        if rest == "tuningJobs" and method == "POST":
            return self._create(payload or {}, violations)
        if rest == "tuningJobs" and method == "GET":
            return self._list(params, violations)
        found = re.fullmatch(r"tuningJobs/([^/:]+)(:cancel)?", rest)
        if found and method == "GET" and not found.group(2):
            return self._get(found.group(1))
        if found and method == "POST" and found.group(2):
            return self._cancel(found.group(1))
        found = re.fullmatch(
            r"(endpoints/[^/:]+|publishers/google/models/[^/:]+):generateContent", rest
        )
        if found and method == "POST":
            return self._generate(found.group(1), payload or {})
        return _error(404, f"The requested URL /{rest} was not found on this server.")

    def _tick(self) -> str:
        self._clock += 5
        return _rfc3339(self._clock)

    def _next_id(self) -> str:
        self._counter += 1
        return str(4_000_000_000_000_000_000 + self._counter)

    def _respond(self, body: Any, model: str | None) -> Any:
        import httpx2

        if model is not None:
            problems = check_answer(body, model, self.rules)
            if problems:
                raise SpecViolation(
                    f"FakeVertex answered with a {model} outside the rules; fix the fake:\n"
                    + "\n".join(problems)
                )
        return httpx2.Response(200, json=body)

    # --- tuning jobs ---------------------------------------------------------------------------

    def _create(self, body: Mapping[str, Any], violations: list[Violation]) -> Any:
        from google.genai import types

        reader = ProtoJsonReader(self.rules)
        job_in = reader.read(body, types.TuningJob, "tuning_job")
        violations += reader.violations
        if not violations and job_in is not None:
            violations += create_problems(job_in, self.rules)
        if violations or job_in is None:
            return _bad_request(violations)
        job_id = self._next_id()
        now = self._tick()
        output_only = set(self.rules["request.output_only"])
        job: dict[str, Any] = {
            key: value for key, value in job_in.items() if key not in output_only and value
        }
        spec_key = next(
            k for k in ("supervisedTuningSpec", "preferenceOptimizationSpec") if k in job
        )
        spec = {k: v for k, v in job[spec_key].items() if v is not None}
        hyper = {k: v for k, v in (spec.get("hyperParameters") or {}).items() if v}
        hyper["epochCount"] = hyper.get("epochCount") or 3  # the service's default
        spec["hyperParameters"] = self._int64_as_strings(hyper)
        base = job["baseModel"]
        job.update(
            {
                "name": self.job_name(job_id),
                "tunedModelDisplayName": job.get("tunedModelDisplayName")
                or f"{base}-tuned-{job_id}",
                spec_key: spec,
                "state": "JOB_STATE_PENDING",
                "createTime": now,
                "updateTime": now,
            }
        )
        self.jobs[job_id] = job
        if self._scripted:
            stages = list(self._scripted.pop(0))
        elif self.scenario is not None:
            stages = list(self.scenario)
        else:
            stages = (
                ["processing_dataset"]
                + ["waiting_for_capacity"] * self.waiting_polls
                + ["tuning"] * self.running_polls
                + ["succeeded"]
            )
        self._plans[job_id] = stages
        self._positions[job_id] = 0
        return self._respond(job, "TuningJob")

    def _int64_as_strings(self, values: Mapping[str, Any]) -> dict[str, Any]:
        int64 = set(self.rules["response.int64_fields"])
        return {k: str(v) if k in int64 and isinstance(v, int) else v for k, v in values.items()}

    def _get(self, job_id: str) -> Any:
        job = self.jobs.get(job_id)
        if job is None:
            return _error(404, f'TuningJob "{self.job_name(job_id)}" not found.', "NOT_FOUND")
        self._advance(job_id)
        return self._respond(job, "TuningJob")

    def _advance(self, job_id: str) -> None:
        job = self.jobs[job_id]
        if job["state"] == "JOB_STATE_CANCELLING":
            self._cancelling[job_id] -= 1
            if self._cancelling[job_id] >= 0:
                job["updateTime"] = self._tick()
                return
            now = self._tick()
            job.pop("tuningJobState", None)
            job.update(
                state="JOB_STATE_CANCELLED",
                endTime=now,
                updateTime=now,
                error=dict(self.rules["cancel.result"]),
            )
            return
        if job["state"] in self.rules["states.ended"]:
            return
        plan, position = self._plans[job_id], self._positions[job_id]
        stage = plan[min(position, len(plan) - 1)]
        self._positions[job_id] = position + 1
        now = self._tick()
        job["updateTime"] = now
        if stage == "processing_dataset":
            job.update(state="JOB_STATE_RUNNING", tuningJobState=_SUB_STATES[stage])
            job.setdefault("startTime", now)
            problem = self._read_dataset(job_id)
            if problem is not None:
                code, message = problem
                job.pop("tuningJobState", None)
                job.update(
                    state="JOB_STATE_FAILED", endTime=now, error={"code": code, "message": message}
                )
            return
        if stage == "queued":
            job.pop("tuningJobState", None)
            job["state"] = "JOB_STATE_QUEUED"
            return
        if stage in ("paused", "updating"):
            job.pop("tuningJobState", None)
            job["state"] = f"JOB_STATE_{stage.upper()}"
            return
        if "tuningDataStats" not in job:  # a plan that skips dataset processing
            job.setdefault("startTime", now)
            if self._read_dataset(job_id) is not None:
                job["tuningDataStats"] = {}
        if stage in ("waiting_for_quota", "waiting_for_capacity", "post_processing"):
            job.update(state="JOB_STATE_RUNNING", tuningJobState=_SUB_STATES[stage])
            return
        epochs = int(self._spec(job)["hyperParameters"]["epochCount"])
        steps = int(self._stats(job).get("tuningStepCount", 1))
        tunings = plan.count("tuning")
        done = plan[: position + 1].count("tuning")
        if stage == "tuning":
            job.update(state="JOB_STATE_RUNNING", tuningJobState=_SUB_STATES[stage])
            job["tuningJobMetadata"] = {
                "completedStepCount": str(steps * done // (tunings + 1)),
                "completedEpochCount": str(epochs * done // (tunings + 1)),
            }
            return
        job.pop("tuningJobState", None)
        if stage == "failed_during_tuning":
            step = job.get("tuningJobMetadata", {}).get("completedStepCount", "0")
            error = json.loads(json.dumps(TUNING_FAILURE).replace("{step}", str(step)))
            job.update(state="JOB_STATE_FAILED", endTime=now, error=error)
            return
        if stage == "expired":
            job.update(state="JOB_STATE_EXPIRED", endTime=now)
            return
        if stage == "partially_succeeded_without_model":
            job.update(state="JOB_STATE_PARTIALLY_SUCCEEDED", endTime=now)
            return
        self._succeed(job_id, job, epochs, steps, now)
        if stage == "partially_succeeded":
            job["state"] = "JOB_STATE_PARTIALLY_SUCCEEDED"
            checkpoints = job["tunedModel"]["checkpoints"]
            job["tunedModel"]["checkpoints"] = checkpoints[-1:]  # earlier ones were lost

    def _succeed(self, job_id: str, job: dict[str, Any], epochs: int, steps: int, now: str) -> None:
        prefix = f"projects/{self.project_number}/locations/{self.location}"
        endpoint_id = str(7_000_000_000_000_000_000 + self._counter * 10 + len(self.endpoints))
        endpoint = f"{prefix}/endpoints/{endpoint_id}"
        self.endpoints[endpoint_id] = dict(self._answers.get(job_id, {}))
        checkpoints = [
            {"checkpointId": str(epoch), "epoch": str(epoch), "step": str(steps * epoch // epochs)}
            for epoch in range(1, epochs + 1)
        ]
        checkpoints[-1]["endpoint"] = endpoint
        job.update(
            state="JOB_STATE_SUCCEEDED",
            endTime=now,
            tuningJobMetadata={
                "completedStepCount": str(steps),
                "completedEpochCount": str(epochs),
            },
            tunedModel={
                "model": f"{prefix}/models/{job_id[-6:]}@1",
                "endpoint": endpoint,
                "checkpoints": checkpoints,
            },
        )

    @staticmethod
    def _spec(job: Mapping[str, Any]) -> dict[str, Any]:
        return dict(job.get("supervisedTuningSpec") or job["preferenceOptimizationSpec"])

    @staticmethod
    def _stats(job: Mapping[str, Any]) -> dict[str, Any]:
        stats = job.get("tuningDataStats") or {}
        return dict(
            stats.get("supervisedTuningDataStats")
            or stats.get("preferenceOptimizationDataStats")
            or {}
        )

    def _read_dataset(self, job_id: str) -> tuple[int, str] | None:
        """Read and check the training file; set the data statistics. A problem is returned
        as a ``google.rpc.Status`` code and message (the job then fails)."""
        job = self.jobs[job_id]
        spec = self._spec(job)
        uri = spec["trainingDatasetUri"]
        preference = "preferenceOptimizationSpec" in job
        examples, characters = MIN_EXAMPLES, 16 * MIN_EXAMPLES
        answers: dict[str, str] = {}
        if self.gcs_reader is not None:
            try:
                data = self.gcs_reader(uri)
            except Exception as exc:  # the object is missing or unreadable
                return 5, f"Failed to read the training dataset {uri}: {exc}"
            try:
                examples, characters, answers = _parse_dataset(data, preference)
            except ValueError as exc:
                return 3, f"Invalid training dataset {uri}: {exc}"
            if examples < MIN_EXAMPLES:
                return 3, (
                    f"The training dataset {uri} has {examples} examples; at least "
                    f"{MIN_EXAMPLES} are required."
                )
        epochs = int(spec["hyperParameters"]["epochCount"])
        tokens = max(characters // 4, examples)
        stats = {
            "tuningDatasetExampleCount": str(examples),
            "totalBillableTokenCount": str(tokens),
            "tuningStepCount": str(max(1, math.ceil(examples * epochs / BATCH_SIZE))),
        }
        if preference:
            job["tuningDataStats"] = {"preferenceOptimizationDataStats": stats}
        else:
            stats["totalBillableCharacterCount"] = str(characters)
            stats["totalTuningCharacterCount"] = str(characters)
            job["tuningDataStats"] = {"supervisedTuningDataStats": stats}
        self._answers[job_id] = answers
        return None

    def _cancel(self, job_id: str) -> Any:
        import httpx2

        job = self.jobs.get(job_id)
        if job is None:
            return _error(404, f'TuningJob "{self.job_name(job_id)}" not found.', "NOT_FOUND")
        if job["state"] not in self.rules["cancel.states"]:
            return _error(
                400,
                f"TuningJob {self.job_name(job_id)} is in state {job['state']} and cannot be "
                "cancelled.",
                "FAILED_PRECONDITION",
            )
        job.update(state="JOB_STATE_CANCELLING", updateTime=self._tick())
        job.pop("tuningJobState", None)
        self._cancelling[job_id] = self.cancelling_polls
        return httpx2.Response(200, json={})

    def _list(self, params: Any, violations: list[Violation]) -> Any:
        allowed = set(self.rules["list.query_parameters"])
        for name in params:
            if name not in allowed:
                violations.append(
                    Violation(
                        name,
                        f'Invalid JSON payload received. Unknown name "{name}": Cannot bind '
                        f"query parameter. Field '{name}' could not be found in request message.",
                    )
                )
        paging = self.rules["list.page_size"]
        raw_size = params.get("pageSize", params.get("page_size", "0"))
        try:
            size = int(raw_size)
        except ValueError:
            violations.append(
                Violation("page_size", f"Invalid value at 'page_size' (TYPE_INT32), \"{raw_size}\"")
            )
            size = 0
        if size < 0:
            violations.append(
                Violation("page_size", f"page_size must not be negative, got {size}.")
            )
        text = params.get("filter", "")
        fields = dict(self.rules["list.filter"]["fields"])
        predicate = None
        try:
            predicate = parse_filter(text, fields, self.rules["states.job"])
        except FilterError as exc:
            violations.append(Violation("filter", str(exc)))
        token = params.get("pageToken", params.get("page_token", ""))
        start = 0
        if token:
            known = self._page_tokens.get(token)
            if known is None:
                violations.append(
                    Violation(
                        "page_token", f'Invalid page token "{token}": not one this API issued.'
                    )
                )
            elif known[1] != text:
                violations.append(
                    Violation(
                        "page_token",
                        f'The page token was issued for filter "{known[1]}"; a request with '
                        f'filter "{text}" must start from the first page.',
                    )
                )
            else:
                start = known[0]
        if violations or predicate is None:
            return _bad_request(violations)
        size = min(size or int(paging["default"]), int(paging["maximum"]), self.page_size_cap)
        newest_first = [job for job in reversed(list(self.jobs.values())) if predicate(job)]
        page = newest_first[start : start + size]
        body: dict[str, Any] = {"tuningJobs": page} if page else {}  # proto3 JSON omits []
        if start + size < len(newest_first):
            next_token = f"page-{len(self._page_tokens) + 1}-{start + size}"
            self._page_tokens[next_token] = (start + size, text)
            body["nextPageToken"] = next_token
        return self._respond(body, "ListTuningJobsResponse")

    # --- inference -----------------------------------------------------------------------------

    def _generate(self, model: str, body: Mapping[str, Any]) -> Any:
        if model.startswith("endpoints/"):
            answers = self.endpoints.get(model.split("/", 1)[1])
            if answers is None:
                return _error(404, f"Endpoint `{model}` not found.")
        else:
            name = model.rsplit("/", 1)[1]
            if not name.startswith("gemini-"):
                return _error(
                    404,
                    f"Publisher Model `projects/{self.project}/locations/{self.location}/{model}` "
                    "was not found or your project does not have access to it.",
                )
            answers = {}
        contents = body.get("contents") or []
        prompt = "".join(
            part.get("text", "") for part in (contents[-1].get("parts") if contents else []) or []
        )
        answer = answers.get(prompt)
        if answer is None and answers and self.generalize is not None:
            answer = self.generalize(prompt, list(answers.items()))
        if answer is None:
            answer = prompt
        response = {
            "candidates": [
                {
                    "content": {"role": "model", "parts": [{"text": answer}]},
                    "finishReason": "STOP",
                    "avgLogprobs": -0.05,
                }
            ],
            "usageMetadata": {
                "promptTokenCount": max(len(prompt) // 4, 1),
                "candidatesTokenCount": max(len(answer) // 4, 1),
                "totalTokenCount": max(len(prompt) // 4, 1) + max(len(answer) // 4, 1),
                "trafficType": "ON_DEMAND",
            },
            "modelVersion": model,
            "createTime": self._tick(),
            "responseId": f"resp-{self._counter}-{len(self.requests)}",
        }
        return self._respond(response, "GenerateContentResponse")


def _texts(content: Mapping[str, Any]) -> str:
    return "".join(str(part.get("text", "")) for part in content.get("parts") or [])


def _parse_dataset(data: bytes, preference: bool) -> tuple[int, int, dict[str, str]]:
    """Count and check the examples of a training file; prompt -> answer of each example."""
    examples, characters, answers = 0, 0, {}
    for number, line in enumerate(data.decode("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            contents = record["contents"]
            roles = [content["role"] for content in contents]
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"line {number}: not a Vertex tuning example ({exc})") from None
        if any(role not in ("user", "model") for role in roles):
            raise ValueError(f"line {number}: roles must be user or model, got {roles}")
        if preference:
            completions = record.get("completions") or []
            if len(completions) != 2:
                raise ValueError(f"line {number}: preference examples need 2 completions")
            best = max(completions, key=lambda c: c.get("score", 0))
            answer = _texts(best["completion"])
            prompt_turns = contents
        else:
            if roles[-1] != "model":
                raise ValueError(f"line {number}: the last turn must be the model's")
            answer = _texts(contents[-1])
            prompt_turns = contents[:-1]
        prompt = _texts(prompt_turns[-1]) if prompt_turns else ""
        answers[prompt] = answer
        characters += sum(len(_texts(c)) for c in contents) + len(answer)
        examples += 1
    return examples, characters, answers


# --- Cloud Storage emulator ---------------------------------------------------------------------


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` right now."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class GcsEmulator:
    """``gcp-storage-emulator`` in a child process on a free loopback port (in memory).

    Use as a context manager or call :meth:`start` / :meth:`stop`. Point the provider at it
    with ``storage_endpoint=emulator.endpoint`` (or ``STORAGE_EMULATOR_HOST``).
    """

    def __init__(self, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> GcsEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout: float = 15.0) -> GcsEmulator:
        """Start the emulator and wait until it answers."""
        import importlib.util

        if importlib.util.find_spec("gcp_storage_emulator") is None:
            raise RuntimeError(
                "gcp-storage-emulator is not installed: pip install "
                "'modelops-provider-vertex[test]' (or gcp-storage-emulator)."
            )
        command = [sys.executable, "-m", "gcp_storage_emulator", "start", "--host", self.host]
        command += ["--port", str(self.port), "--in-memory", "-q"]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                error = self._process.stderr.read().decode() if self._process.stderr else ""
                raise RuntimeError(f"gcp-storage-emulator exited on start: {error}")
            try:
                self._call("GET", "/storage/v1/b?project=emulator")
                return self
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"gcp-storage-emulator did not answer on {self.endpoint}")

    def stop(self) -> None:
        """Stop the emulator process (it keeps nothing: in-memory storage)."""
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            if self._process.stderr:
                self._process.stderr.close()
            self._process = None

    def _call(self, method: str, path: str, body: bytes | None = None) -> bytes:
        request = urllib.request.Request(self.endpoint + path, data=body, method=method)
        if body is not None:
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=5) as response:
            return bytes(response.read())

    def create_bucket(self, name: str) -> str:
        """Create a bucket and return its name."""
        self._call("POST", "/storage/v1/b?project=emulator", json.dumps({"name": name}).encode())
        return name

    def objects(self, bucket: str) -> list[str]:
        """The object names in ``bucket``."""
        listing = json.loads(self._call("GET", f"/storage/v1/b/{bucket}/o"))
        return sorted(item["name"] for item in listing.get("items", []))

    def read(self, uri: str) -> bytes:
        """The bytes of ``gs://bucket/name`` (raises when there is no such object)."""
        if not uri.startswith("gs://"):
            raise ValueError(f"not a gs:// uri: {uri}")
        bucket, _, name = uri[len("gs://") :].partition("/")
        quoted = urllib.parse.quote(name, safe="")
        try:
            return self._call("GET", f"/storage/v1/b/{bucket}/o/{quoted}?alt=media")
        except urllib.error.HTTPError as exc:
            raise FileNotFoundError(f"{uri}: HTTP {exc.code}") from exc


def supervised_records(count: int = 16) -> list[dict[str, Any]]:
    """Valid ``vertex`` training records: ``capital of country N?`` -> ``city N``."""
    return [
        {
            "systemInstruction": {"role": "system", "parts": [{"text": "Answer briefly."}]},
            "contents": [
                {"role": "user", "parts": [{"text": f"capital of country {i}?"}]},
                {"role": "model", "parts": [{"text": f"city {i}"}]},
            ],
        }
        for i in range(count)
    ]


def preference_records(count: int = 16) -> list[dict[str, Any]]:
    """Valid ``vertex-preference`` records: a preferred and a rejected answer each."""
    return [
        {
            "contents": [{"role": "user", "parts": [{"text": f"capital of country {i}?"}]}],
            "completions": [
                {"score": 1, "completion": {"role": "model", "parts": [{"text": f"city {i}"}]}},
                {"score": 0, "completion": {"role": "model", "parts": [{"text": "no idea"}]}},
            ],
        }
        for i in range(count)
    ]


def write_jsonl(path: Any, records: list[dict[str, Any]]) -> str:
    """Write ``records`` as JSON lines and return the path as a string."""
    from pathlib import Path

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return str(target)
