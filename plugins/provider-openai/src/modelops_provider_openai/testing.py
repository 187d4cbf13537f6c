"""A stateful fake of the OpenAI API for offline tests, served through the SDK's HTTP transport.

``FakeOpenAI`` answers the endpoints the provider uses (files, fine-tuning jobs with events
and checkpoints, chat completions) with schema-complete JSON, keeps state between calls and
advances every job one stage per retrieve::

    fake = FakeOpenAI()
    client = fake.client()            # openai.OpenAI with strict response validation
    provider = OpenAIProvider(api_key="sk-test", base_url=fake.base_url,
                              http_client=fake.http_client(), strict_response_validation=True)

Build clients with ``_strict_response_validation=True`` (``fake.client()`` does): the SDK then
validates every response against its own models, so the fake cannot drift from the real schema
without the tests failing. ``fake.requests`` records what the SDK sent, for assertions.

The fake also answers Azure OpenAI URLs (``{endpoint}/openai/...?api-version=...``,
``/openai/deployments/{name}/chat/completions``) with the ``api-key`` header.
"""

from __future__ import annotations

import email
import email.policy
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast
from urllib.parse import parse_qsl

import attrs

# the SDK's HTTP stack: openai >= 3 uses httpx2, an API-identical fork of httpx
import httpx2 as httpx

#: Base models the fake accepts for fine-tuning and chat.
FINE_TUNABLE_MODELS = (
    "gpt-4o-mini-2024-07-18",
    "gpt-4o-2024-08-06",
    "gpt-4.1-2025-04-14",
    "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-nano-2025-04-14",
)
STARTED_AT = 1_767_225_600  # 2026-01-01T00:00:00Z: timestamps are deterministic


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
class _Failure:
    status: int
    message: str
    type: str
    code: str | None
    headers: Mapping[str, str]
    path: str | None


class FakeOpenAI:
    """The fake API. State lives in plain dicts shaped like the API's own JSON objects.

    :param api_keys: keys accepted in ``Authorization: Bearer`` or ``api-key`` headers.
    :param page_size_cap: the most items one list page returns, whatever ``limit`` asks.
    :param running_polls: how many retrieves a job spends running before it succeeds.
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
    ) -> None:
        """``generalize(prompt, trained_pairs)`` answers a tuned model's unseen prompts
        (from its ``(prompt, answer)`` training pairs); by default they are echoed."""
        self.api_keys = api_keys
        self.generalize = generalize
        self.page_size_cap = page_size_cap
        self.running_polls = running_polls
        self.files: dict[str, dict[str, Any]] = {}
        self.file_contents: dict[str, bytes] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.events: dict[str, list[dict[str, Any]]] = {}
        self.checkpoints: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[RecordedRequest] = []
        self._progress: dict[str, dict[str, int]] = {}
        self._failures: list[_Failure] = []
        self._clock = STARTED_AT
        self._counter = 0

    # --- wiring --------------------------------------------------------------------------------

    def http_client(self) -> httpx.Client:
        """An HTTP client whose transport is this fake (pass as ``http_client=``)."""
        return httpx.Client(transport=httpx.MockTransport(self.handle))

    def client(self, **options: Any) -> Any:
        """An ``openai.OpenAI`` client on this fake with strict response validation."""
        import openai

        settings: dict[str, Any] = {
            "api_key": "sk-test",
            "base_url": self.base_url,
            "http_client": self.http_client(),
            "max_retries": 0,
            "_strict_response_validation": True,
        }
        settings.update(options)
        return openai.OpenAI(**settings)

    def provider(self, **options: Any) -> Any:
        """An ``OpenAIProvider`` on this fake: strict response validation, no SDK retries."""
        from modelops_provider_openai.provider import OpenAIProvider

        settings: dict[str, Any] = {
            "api_key": "sk-test",
            "base_url": self.base_url,
            "http_client": self.http_client(),
            "max_retries": 0,
            "strict_response_validation": True,
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
        failure = _Failure(status, message, type, code, dict(headers or {}), path)
        self._failures.extend([failure] * times)

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        """The recorded requests with this method and path (after the API root)."""
        return [r for r in self.requests if r.method == method and r.path == path]

    # --- dispatch ------------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        """The transport handler: record, authenticate, inject failures, route."""
        path = _api_path(request.url.path)
        body = request.read()
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
            json=_json_or_none(request.headers.get("content-type", ""), body),
            form=_multipart(request.headers.get("content-type", ""), body),
        )
        self.requests.append(recorded)
        key = _presented_key(recorded.headers)
        if key not in self.api_keys:
            shown = (key[:3] + "*" * 8 + key[-4:]) if key else ""
            return _error(
                401,
                f"Incorrect API key provided: {shown}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                code="invalid_api_key",
            )
        for index, failure in enumerate(self._failures):
            if failure.path is None or failure.path == path:
                del self._failures[index]
                return _error(
                    failure.status,
                    failure.message,
                    type=failure.type,
                    code=failure.code,
                    headers=failure.headers,
                )
        for method, pattern, route in self._routes():
            match = re.fullmatch(pattern, path)
            if match and method == request.method:
                return route(recorded, *match.groups())
        return _error(404, f"Invalid URL ({request.method} {path})")

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
        purpose = request.form.get("purpose")
        upload = request.form.get("file")
        if not isinstance(upload, tuple):
            return _error(400, "Missing required parameter: 'file'.", param="file")
        if purpose != "fine-tune":
            return _error(400, f"Invalid value for 'purpose': {purpose!r}.", param="purpose")
        filename, content = upload
        file_id = self._next_id("file-")
        self.file_contents[file_id] = content
        self.files[file_id] = {
            "id": file_id,
            "object": "file",
            "bytes": len(content),
            "created_at": self._tick(),
            "filename": filename,
            "purpose": "fine-tune",
            "status": "processed",
            "status_details": None,
            "expires_at": None,
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
        body = request.json or {}
        model = body.get("model")
        if model not in FINE_TUNABLE_MODELS:
            return _error(
                400,
                f"Model {model} is not available for fine-tuning or does not exist.",
                param="model",
                code="model_not_available",
            )
        for key in ("training_file", "validation_file"):
            file_id = body.get(key)
            if (key == "training_file" or file_id is not None) and file_id not in self.files:
                return _error(400, f"invalid {key}: {file_id}", param=key)
        method = body.get("method") or {"type": "supervised", "supervised": {}}
        kind = method.get("type")
        if kind not in ("supervised", "dpo"):
            return _error(400, f"Invalid value for 'method.type': {kind!r}.", param="method")
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
            "seed": body.get("seed", 1234),
            "estimated_finish": None,
            "integrations": [],
            "metadata": body.get("metadata"),
            "method": {"type": kind, kind: {"hyperparameters": resolved}},
            "user_provided_suffix": body.get("suffix"),
            "usage_metrics": None,
            "shared_with_openai": False,
            "eval_id": None,
        }
        self.jobs[job_id] = job
        self.events[job_id] = []
        self._event(job_id, f"Validating training file: {body['training_file']}")
        return _json(job)

    def _job_or_404(self, job_id: str) -> dict[str, Any] | httpx.Response:
        if job_id not in self.jobs:
            return _error(404, f"Fine-tuning job {job_id} not found.", param="fine_tuning_job_id")
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
            return _error(400, f"Job has already completed: {job_id}", param="fine_tuning_job_id")
        job["status"] = "cancelled"
        job["finished_at"] = self._tick()
        job["estimated_finish"] = None
        self._event(job_id, "Fine-tuning job cancelled")
        return _json(job)

    def _list_jobs(self, request: RecordedRequest) -> httpx.Response:
        newest_first = sorted(self.jobs.values(), key=lambda j: j["created_at"], reverse=True)
        return self._page(request, newest_first)

    def _list_events(self, request: RecordedRequest, job_id: str) -> httpx.Response:
        if job_id not in self.jobs:
            return self._job_or_404(job_id)  # type: ignore[return-value]
        return self._page(request, list(reversed(self.events[job_id])))

    def _list_checkpoints(self, request: RecordedRequest, job_id: str) -> httpx.Response:
        if job_id not in self.jobs:
            return self._job_or_404(job_id)  # type: ignore[return-value]
        return self._page(request, list(reversed(self.checkpoints.get(job_id, []))))

    def _page(self, request: RecordedRequest, items: list[dict[str, Any]]) -> httpx.Response:
        """A cursor page: ``after`` is the id of the last item of the previous page."""
        limit = min(int(request.query.get("limit", 20)), self.page_size_cap)
        after = request.query.get("after")
        start = 0
        if after is not None:
            ids = [item["id"] for item in items]
            start = ids.index(after) + 1 if after in ids else len(items)
        chunk = items[start : start + limit]
        page: dict[str, Any] = {"object": "list", "data": chunk}
        page["has_more"] = start + limit < len(items)
        if items and "fine_tuning_job_id" in items[0]:  # checkpoints pages carry cursors
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
        if status == "validating_files":
            problem = self._training_file_problem(job)
            if problem:
                job.update(status="failed", finished_at=self._tick())
                job["error"] = {
                    "code": "invalid_training_file",
                    "message": problem,
                    "param": "training_file",
                }
                self._event(job_id, problem, level="error")
                return
            job["status"] = "queued"
            self._event(job_id, "Files validated, moving job to queued state")
        elif status == "queued":
            job["status"] = "running"
            job["estimated_finish"] = self._clock + 600
            self._event(job_id, f"Fine-tuning job started: {job_id}")
        elif status == "running":
            state = self._progress.setdefault(job_id, {"step": 0, "total": self._total_steps(job)})
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
            if step >= total:
                self._succeed(job, total)

    def _succeed(self, job: dict[str, Any], total_steps: int) -> None:
        job_id = job["id"]
        suffix = job.get("user_provided_suffix") or ""
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
            "status_details": None,
            "expires_at": None,
        }
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
                "usage": {
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
                },
                "service_tier": "default",
                "system_fingerprint": "fp_fake",
            }
        )

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


def _json_or_none(content_type: str, body: bytes) -> Any:
    if "json" in content_type and body:
        return json.loads(body)
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
