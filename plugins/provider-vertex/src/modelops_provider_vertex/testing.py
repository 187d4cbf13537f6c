"""Offline test doubles: a stateful fake of the Vertex AI tuning API served through the Gen AI
SDK's HTTP transport, and a Cloud Storage emulator process.

``FakeVertex`` answers the REST calls ``google-genai`` makes in Vertex AI mode
(``tuningJobs`` create/get/list/cancel, ``generateContent`` on endpoints and publisher
models) with JSON shaped like the ``TuningJob`` resource, keeps state between calls and moves
a job one stage on per GET::

    fake = FakeVertex(gcs_reader=emulator.read)
    provider = fake.provider(bucket="b", storage_endpoint=emulator.endpoint)

Every JSON body the fake answers with is validated against the SDK's own pydantic models
(``extra="forbid"``, camelCase aliases) before it is sent, so the fake cannot drift from the
schema the SDK knows without the tests failing. ``fake.requests`` records what the SDK sent.

``GcsEmulator`` runs ``gcp-storage-emulator`` (a test dependency) on a free loopback port.
"""

from __future__ import annotations

import functools
import json
import math
import re
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

import attrs

#: Base models the fake accepts for tuning.
TUNABLE_MODELS = (
    "gemini-2.5-flash",
    "gemini-2.5-flash-lite",
    "gemini-2.5-pro",
    "gemini-2.0-flash-001",
    "gemini-2.0-flash-lite-001",
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


@attrs.frozen
class RecordedRequest:
    """One request the fake received: method, full URL, path after the API version, body."""

    method: str
    url: str
    path: str
    headers: Mapping[str, str]
    json: Any = None


@attrs.frozen
class _Failure:
    status: int
    message: str
    status_name: str
    headers: Mapping[str, str]
    path: str | None


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """One default TLS context for every fake-wired client of the process."""
    return ssl.create_default_context()


def _rfc3339(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + ".000000Z"


def _error(
    status: int, message: str, status_name: str | None = None, headers: Mapping[str, str] = {}
) -> Any:
    import httpx2

    name = status_name or _STATUS_NAMES.get(status, "UNKNOWN")
    body = {"error": {"code": status, "message": message, "status": name}}
    return httpx2.Response(status, json=body, headers=dict(headers))


class FakeVertex:
    """The fake API. Jobs live in plain dicts shaped like the REST ``TuningJob`` resource.

    :param project: the project id the fake serves; names it returns use ``project_number``,
        as Vertex AI does.
    :param running_polls: how many GETs a job spends tuning before it succeeds.
    :param waiting_polls: GETs spent waiting for capacity before tuning (sub-state).
    :param page_size_cap: the most jobs one list page returns.
    :param gcs_reader: ``uri -> bytes`` to read training files (e.g. ``GcsEmulator.read``);
        without it the fake cannot see the data and assumes 16 examples.
    :param strict: validate every answer against the SDK's models (default on).
    """

    base_url = "http://fake.vertex.test/"

    def __init__(
        self,
        *,
        project: str = "fake-project",
        project_number: str = "123456789012",
        location: str = "us-central1",
        tokens: tuple[str, ...] = (FAKE_TOKEN,),
        running_polls: int = 2,
        waiting_polls: int = 0,
        page_size_cap: int = 100,
        gcs_reader: Callable[[str], bytes] | None = None,
        strict: bool = True,
        generalize: Callable[[str, list[tuple[str, str]]], str | None] | None = None,
    ) -> None:
        """``generalize(prompt, trained_pairs)`` answers a tuned endpoint's unseen prompts
        (from its ``(prompt, answer)`` training pairs); by default they are echoed."""
        self.project = project
        self.generalize = generalize
        self.project_number = project_number
        self.location = location
        self.tokens = tokens
        self.running_polls = running_polls
        self.waiting_polls = waiting_polls
        self.page_size_cap = page_size_cap
        self.gcs_reader = gcs_reader
        self.strict = strict
        self.jobs: dict[str, dict[str, Any]] = {}
        self.requests: list[RecordedRequest] = []
        self.endpoints: dict[str, dict[str, str]] = {}  # endpoint id -> prompt -> answer
        self._plans: dict[str, list[str]] = {}
        self._positions: dict[str, int] = {}
        self._answers: dict[str, dict[str, str]] = {}
        self._failures: list[_Failure] = []
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

    def fail_next(
        self,
        status: int,
        message: str,
        *,
        status_name: str | None = None,
        headers: Mapping[str, str] | None = None,
        path: str | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` requests (whose path contains ``path``) with an error."""
        name = status_name or _STATUS_NAMES.get(status, "UNKNOWN")
        failure = _Failure(status, message, name, dict(headers or {}), path)
        self._failures.extend([failure] * times)

    def requests_to(self, method: str, path_suffix: str) -> list[RecordedRequest]:
        """The recorded requests with this method whose path ends with ``path_suffix``."""
        return [r for r in self.requests if r.method == method and r.path.endswith(path_suffix)]

    def job_name(self, job_id: str) -> str:
        return f"projects/{self.project_number}/locations/{self.location}/tuningJobs/{job_id}"

    # --- dispatch ------------------------------------------------------------------------------

    def handle(self, request: Any) -> Any:
        """The transport handler: record, authenticate, inject failures, route."""
        body = request.read()
        match = _ROUTE.fullmatch(request.url.path)
        path = request.url.path.split("/", 2)[-1] if match else request.url.path
        payload = json.loads(body) if body else None
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.requests.append(
            RecordedRequest(request.method, str(request.url), path, headers, payload)
        )
        if headers.get("authorization", "") not in {f"Bearer {t}" for t in self.tokens}:
            return _error(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                "login cookie or other valid authentication credential. See "
                "https://developers.google.com/identity/sign-in/web/devconsole-project.",
            )
        for index, failure in enumerate(self._failures):
            if failure.path is None or failure.path in path:
                del self._failures[index]
                return _error(failure.status, failure.message, failure.status_name, failure.headers)
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
        return self._route(request.method, rest, request.url.params, payload)

    def _route(self, method: str, rest: str, params: Any, payload: Any) -> Any:
        if rest == "tuningJobs" and method == "POST":
            return self._create(payload or {})
        if rest == "tuningJobs" and method == "GET":
            return self._list(params)
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

        if self.strict and model is not None:
            _check_schema(body, model)
        return httpx2.Response(200, json=body)

    # --- tuning jobs ---------------------------------------------------------------------------

    def _create(self, body: Mapping[str, Any]) -> Any:
        base = body.get("baseModel")
        if base not in TUNABLE_MODELS:
            return _error(
                400,
                f"Base model {base} is not supported for tuning. Supported base models: "
                + ", ".join(TUNABLE_MODELS)
                + ".",
            )
        specs = [k for k in ("supervisedTuningSpec", "preferenceOptimizationSpec") if k in body]
        if len(specs) != 1:
            return _error(400, "Exactly one tuning spec must be set.")
        spec = body[specs[0]]
        uri = spec.get("trainingDatasetUri", "")
        if not str(uri).startswith("gs://"):
            return _error(400, f"Training dataset uri must be a Cloud Storage uri: {uri!r}.")
        hyper = dict(spec.get("hyperParameters") or {})
        epochs = hyper.get("epochCount", 3)
        if not isinstance(epochs, int) or not 1 <= epochs <= 100:
            return _error(400, f"Invalid epoch count {epochs}: must be between 1 and 100.")
        multiplier = hyper.get("learningRateMultiplier")
        if multiplier is not None and not multiplier > 0:
            return _error(400, f"Invalid learning rate multiplier {multiplier}: must be > 0.")
        job_id = self._next_id()
        now = self._tick()
        echoed_spec = {**spec, "hyperParameters": {**hyper, "epochCount": str(epochs)}}
        job: dict[str, Any] = {
            "name": self.job_name(job_id),
            "tunedModelDisplayName": body.get("tunedModelDisplayName") or f"{base}-tuned-{job_id}",
            "baseModel": base,
            specs[0]: echoed_spec,
            "state": "JOB_STATE_PENDING",
            "createTime": now,
            "updateTime": now,
        }
        for key in ("description", "labels"):
            if body.get(key):
                job[key] = body[key]
        self.jobs[job_id] = job
        self._plans[job_id] = (
            ["TUNING_JOB_STATE_PROCESSING_DATASET"]
            + ["TUNING_JOB_STATE_WAITING_FOR_CAPACITY"] * self.waiting_polls
            + ["TUNING_JOB_STATE_TUNING"] * self.running_polls
            + ["JOB_STATE_SUCCEEDED"]
        )
        self._positions[job_id] = 0
        return self._respond(job, "TuningJob")

    def _get(self, job_id: str) -> Any:
        job = self.jobs.get(job_id)
        if job is None:
            return _error(404, f'TuningJob "{self.job_name(job_id)}" not found.')
        self._advance(job_id)
        return self._respond(job, "TuningJob")

    def _advance(self, job_id: str) -> None:
        job = self.jobs[job_id]
        if job["state"] == "JOB_STATE_CANCELLING":
            now = self._tick()
            job.pop("tuningJobState", None)
            job.update(
                state="JOB_STATE_CANCELLED",
                endTime=now,
                updateTime=now,
                error={"code": 1, "message": "CANCELED"},
            )
            return
        if job["state"] not in ("JOB_STATE_PENDING", "JOB_STATE_RUNNING"):
            return
        plan, position = self._plans[job_id], self._positions[job_id]
        stage = plan[position]
        self._positions[job_id] = position + 1
        now = self._tick()
        job["updateTime"] = now
        if stage == "TUNING_JOB_STATE_PROCESSING_DATASET":
            job.update(state="JOB_STATE_RUNNING", tuningJobState=stage, startTime=now)
            problem = self._read_dataset(job_id)
            if problem is not None:
                code, message = problem
                job.pop("tuningJobState", None)
                job.update(
                    state="JOB_STATE_FAILED", endTime=now, error={"code": code, "message": message}
                )
            return
        if stage == "TUNING_JOB_STATE_WAITING_FOR_CAPACITY":
            job["tuningJobState"] = stage
            return
        epochs = int(self._spec(job)["hyperParameters"]["epochCount"])
        steps = int(self._stats(job)["tuningStepCount"])
        if stage == "TUNING_JOB_STATE_TUNING":
            done = plan[: position + 1].count(stage)
            job["tuningJobState"] = stage
            job["tuningJobMetadata"] = {
                "completedStepCount": str(steps * done // (self.running_polls + 1)),
                "completedEpochCount": str(epochs * done // (self.running_polls + 1)),
            }
            return
        self._succeed(job_id, job, epochs, steps, now)

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
        job.pop("tuningJobState", None)
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
        stats = job["tuningDataStats"]
        return dict(
            stats.get("supervisedTuningDataStats") or stats["preferenceOptimizationDataStats"]
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
            return _error(404, f'TuningJob "{self.job_name(job_id)}" not found.')
        if job["state"] not in ("JOB_STATE_PENDING", "JOB_STATE_RUNNING"):
            return _error(
                400,
                f"TuningJob {self.job_name(job_id)} is in state {job['state']} and cannot be "
                "cancelled.",
                "FAILED_PRECONDITION",
            )
        job.update(state="JOB_STATE_CANCELLING", updateTime=self._tick())
        return httpx2.Response(200, json={})

    def _list(self, params: Any) -> Any:
        size = min(int(params.get("pageSize") or 100), self.page_size_cap)
        start = int(params.get("pageToken") or 0)
        newest_first = list(reversed(list(self.jobs.values())))
        page = newest_first[start : start + size]
        body: dict[str, Any] = {"tuningJobs": page}
        if start + size < len(newest_first):
            body["nextPageToken"] = str(start + size)
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


def _check_schema(body: Any, model: str) -> None:
    """Validate ``body`` (REST JSON, camelCase) against the SDK model named ``model``."""
    import pydantic
    from google.genai import types

    try:
        getattr(types, model).model_validate(body)
    except pydantic.ValidationError as exc:
        raise AssertionError(
            f"FakeVertex answered with a {model} the google-genai SDK does not accept; fix the "
            f"fake:\n{exc}"
        ) from exc


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
