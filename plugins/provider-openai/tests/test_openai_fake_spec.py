"""The fake refuses what OpenAI refuses, accepts what it accepts and produces what it produces
(issue 17): every request and response checked against the OpenAPI document."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx2
import pytest
from modelops_provider_openai.errors import InvalidHyperparameterError
from modelops_provider_openai.openapi import OpenAPIRules
from modelops_provider_openai.testing import FakeOpenAI, chat_records

from modelops_core.finetune.provider_contract import (
    JobStatus,
    ProviderRejectedError,
    ProviderUnavailableError,
    TuningMethod,
    TuningRequest,
)

MODEL = "gpt-4o-mini-2024-07-18"
HYPER = "method.supervised.hyperparameters"


def call(fake: FakeOpenAI, method: str, path: str, **kwargs: Any) -> httpx2.Response:
    """One raw HTTP exchange with the fake (what the SDK would send, or not)."""
    with fake.http_client() as http:
        headers = {"Authorization": "Bearer sk-test"}
        return http.request(method, fake.base_url + path, headers=headers, **kwargs)


def upload(fake: FakeOpenAI, purpose: str = "fine-tune", name: str = "train.jsonl") -> Any:
    content = "".join(json.dumps(r) + "\n" for r in chat_records()).encode()
    return call(fake, "POST", "/files", data={"purpose": purpose}, files={"file": (name, content)})


def create(fake: FakeOpenAI, **fields: Any) -> httpx2.Response:
    training = upload(fake).json()["id"]
    return call(
        fake,
        "POST",
        "/fine_tuning/jobs",
        json={"model": MODEL, "training_file": training, **fields},
    )


def error_of(response: httpx2.Response) -> tuple[int, str | None, str | None]:
    error = response.json()["error"]
    return response.status_code, error["param"], error["code"]


def supervised(**hyper: Any) -> dict[str, Any]:
    return {"type": "supervised", "supervised": {"hyperparameters": hyper}}


REFUSED = [
    ({"suffix": "s" * 65}, ("suffix", "string_above_max_length"), "maximum length 64"),
    ({"suffix": ""}, ("suffix", "empty_string"), "empty string"),
    ({"seed": -1}, ("seed", "integer_below_min_value"), ">= 0, but got -1"),
    ({"seed": 2**31}, ("seed", "integer_above_max_value"), "<= 2147483647"),
    ({"method": supervised(n_epochs=0)}, (f"{HYPER}.n_epochs", "integer_below_min_value"), ">= 1"),
    (
        {"method": supervised(n_epochs=51)},
        (f"{HYPER}.n_epochs", "integer_above_max_value"),
        "<= 50",
    ),
    (
        {"method": supervised(n_epochs="3")},
        (f"{HYPER}.n_epochs", "invalid_type"),
        "'auto' or an integer",
    ),
    (
        {"method": supervised(batch_size=257)},
        (f"{HYPER}.batch_size", "integer_above_max_value"),
        "<= 256",
    ),
    (
        {"method": supervised(learning_rate_multiplier=0)},
        (f"{HYPER}.learning_rate_multiplier", "integer_below_min_value"),
        "> 0",
    ),
    (
        {"method": supervised(learning_rate_multiplier=-0.5)},
        (f"{HYPER}.learning_rate_multiplier", "decimal_below_min_value"),
        "> 0",
    ),
    (
        {"method": {"type": "dpo", "dpo": {"hyperparameters": {"beta": 0}}}},
        ("method.dpo.hyperparameters.beta", "integer_below_min_value"),
        "> 0",
    ),
    (
        {"method": {"type": "dpo", "dpo": {"hyperparameters": {"beta": 3}}}},
        ("method.dpo.hyperparameters.beta", "integer_above_max_value"),
        "<= 2",
    ),
    (
        {"method": supervised(beta=0.1)},
        (f"{HYPER}.beta", "unknown_parameter"),
        "Known: batch_size, learning_rate_multiplier, n_epochs",
    ),
    (
        {"method": supervised(warmup_steps=10)},
        (f"{HYPER}.warmup_steps", "unknown_parameter"),
        "'method.supervised.hyperparameters.warmup_steps'",
    ),
    (
        {"metadata": {f"k{i}": "v" for i in range(17)}},
        ("metadata", "object_above_max_properties"),
        "at most 16",
    ),
    ({"metadata": {"epochs": 3}}, ("metadata.epochs", "invalid_type"), "expected a string"),
    ({"metadata": {"k" * 65: "v"}}, ("metadata", "string_above_max_length"), "maximum length 64"),
    (
        {"metadata": {"k": "v" * 513}},
        ("metadata.k", "string_above_max_length"),
        "maximum length 512",
    ),
    (
        {"learning_rate": 0.1},
        ("learning_rate", "unknown_parameter"),
        "Unknown parameter: 'learning_rate'",
    ),
]


@pytest.mark.parametrize(("fields", "where", "says"), REFUSED, ids=[str(r[1]) for r in REFUSED])
def test_a_job_request_outside_the_spec_is_refused_naming_the_field(
    fake: FakeOpenAI, fields: dict[str, Any], where: tuple[str, str], says: str
) -> None:
    response = create(fake, **fields)
    assert error_of(response) == (400, *where)
    assert says in response.json()["error"]["message"]
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert fake.jobs == {}
    assert [(v.side, v.param, v.code) for v in fake.take_violations()] == [("request", *where)]


def test_a_valid_dpo_job_at_the_limits_is_accepted(fake: FakeOpenAI) -> None:
    dpo = {
        "type": "dpo",
        "dpo": {"hyperparameters": {"beta": 2, "n_epochs": 50, "batch_size": 256}},
    }
    metadata = {f"k{i:02d}" + "k" * 60: "v" * 512 for i in range(16)}
    response = create(fake, method=dpo, suffix="s" * 64, seed=2**31 - 1, metadata=metadata)
    assert response.status_code == 200, response.json()
    assert response.json()["method"]["dpo"]["hyperparameters"] == {
        "beta": 2, "n_epochs": 50, "batch_size": 256, "learning_rate_multiplier": "auto",
    }  # fmt: skip


def test_a_training_file_for_another_purpose_is_refused(fake: FakeOpenAI) -> None:
    results = upload(fake, purpose="batch").json()
    assert results["purpose"] == "batch"  # a batch upload is valid in itself
    response = call(
        fake, "POST", "/fine_tuning/jobs", json={"model": MODEL, "training_file": results["id"]}
    )
    assert error_of(response) == (400, "training_file", "invalid_file_purpose")
    assert "purpose 'batch'" in response.json()["error"]["message"]


def test_a_fine_tune_results_file_cannot_train(fake: FakeOpenAI, tmp_path: Path) -> None:
    provider = fake.provider()
    job = provider.start(TuningRequest(model=MODEL, training_file=_train(tmp_path)))
    while not provider.get(job.id).status.finished:
        pass
    (results,) = fake.jobs[job.id]["result_files"]
    assert fake.files[results]["purpose"] == "fine-tune-results"
    response = call(
        fake, "POST", "/fine_tuning/jobs", json={"model": MODEL, "training_file": results}
    )
    assert error_of(response) == (400, "training_file", "invalid_file_purpose")


def test_uploads_for_fine_tuning_must_be_jsonl(fake: FakeOpenAI) -> None:
    response = upload(fake, name="train.csv")
    assert error_of(response) == (400, "file", "invalid_file_format")
    assert "Must be .jsonl" in response.json()["error"]["message"]
    assert upload(fake, purpose="vision", name="cat.png").status_code == 200  # other purposes
    bad_purpose = upload(fake, purpose="fine-tune-results")  # set by OpenAI, not uploadable
    assert error_of(bad_purpose) == (400, "purpose", "invalid_value")
    assert [v.param for v in fake.take_violations()] == ["purpose"]


@pytest.mark.parametrize(
    ("query", "where"),
    [
        ({"limit": "abc"}, ("limit", "invalid_type")),
        ({"limit": "2", "colour": "red"}, ("colour", "unknown_parameter")),
    ],
)
def test_bad_query_parameters_are_a_400_not_a_crash(
    fake: FakeOpenAI, query: dict[str, str], where: tuple[str, str]
) -> None:
    response = call(fake, "GET", "/fine_tuning/jobs", params=query)
    assert error_of(response) == (400, *where)
    assert [(v.param, v.code) for v in fake.take_violations()] == [where]


def test_list_filters_by_metadata_as_the_spec_allows(fake: FakeOpenAI) -> None:
    create(fake, metadata={"team": "a"})
    create(fake, metadata={"team": "b"})
    response = call(fake, "GET", "/fine_tuning/jobs", params={"metadata[team]": "b", "limit": 5})
    assert [job["metadata"] for job in response.json()["data"]] == [{"team": "b"}]


def test_responses_carry_only_spec_fields(fake: FakeOpenAI) -> None:
    rules = OpenAPIRules.load()
    job = create(fake, suffix="capitals").json()
    declared = set(rules.schemas["FineTuningJob"]["properties"])
    assert set(job) <= declared
    assert "user_provided_suffix" not in job and "usage_metrics" not in job
    file = upload(fake).json()
    assert set(file) == {"id", "object", "bytes", "created_at", "filename", "purpose", "status"}


def test_pause_and_resume_follow_the_spec(fake: FakeOpenAI, tmp_path: Path) -> None:
    provider = fake.provider()
    job = provider.start(TuningRequest(model=MODEL, training_file=_train(tmp_path)))
    early = call(fake, "POST", f"/fine_tuning/jobs/{job.id}/pause")
    assert error_of(early) == (400, "fine_tuning_job_id", "invalid_job_status")
    assert [provider.get(job.id).status for _ in range(2)] == [JobStatus.QUEUED, JobStatus.RUNNING]
    paused = provider.pause(job.id)
    assert (paused.status, paused.raw_status) == (JobStatus.PAUSED, "paused")
    assert provider.get(job.id).status is JobStatus.PAUSED  # it stays paused while polled
    assert not JobStatus.PAUSED.finished
    resumed = provider.resume(job.id)
    assert (resumed.status, resumed.raw_status) == (JobStatus.QUEUED, "queued")
    statuses = [provider.get(job.id).status for _ in range(4)]
    assert statuses[-1] is JobStatus.SUCCEEDED
    messages = [e.message for e in provider.events(job.id)]
    assert "Fine-tuning job paused" in messages and "Fine-tuning job resumed" in messages


def test_a_job_fails_after_training_started_with_a_realistic_code(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    provider = fake.provider()
    fake.scenario("fails_while_training")
    job = provider.start(TuningRequest(model=MODEL, training_file=_train(tmp_path)))
    seen = [provider.get(job.id) for _ in range(3)]
    assert [j.raw_status for j in seen] == ["queued", "running", "failed"]
    assert seen[-1].details["error_code"] == "server_error"
    assert seen[-1].error is not None and "internal error" in seen[-1].error
    assert [e.level for e in provider.events(job.id)][-1] == "error"


def test_a_429_carries_the_headers_openai_sends_and_the_sdk_reads(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.scenario("throttled_while_polling")
    job_id = create(fake).json()["id"]
    path = f"/fine_tuning/jobs/{job_id}"
    assert call(fake, "GET", path).status_code == 200
    throttled = call(fake, "GET", path)
    assert error_of(throttled) == (429, None, "rate_limit_exceeded")
    assert {k: v for k, v in throttled.headers.items() if "retry" in k or "ratelimit" in k} == {
        "retry-after-ms": "2500",
        "retry-after": "3",
        "x-ratelimit-limit-requests": "60",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "2.5s",
        "x-ratelimit-limit-tokens": "250000",
        "x-ratelimit-remaining-tokens": "249000",
        "x-ratelimit-reset-tokens": "240ms",
    }
    assert call(fake, "GET", path).json()["status"] == "running"  # the job went on meanwhile


def test_the_provider_reads_retry_after_ms_first(fake: FakeOpenAI, tmp_path: Path) -> None:
    provider = fake.provider()
    fake.scenario("throttled_while_polling")
    job = provider.start(TuningRequest(model=MODEL, training_file=_train(tmp_path)))
    provider.get(job.id)
    with pytest.raises(ProviderUnavailableError, match="Rate limit reached") as caught:
        provider.get(job.id)
    assert caught.value.retry_after == 2.5  # retry-after-ms (2500) wins over retry-after (3)
    assert provider.get(job.id).status is JobStatus.RUNNING


def test_the_sdk_retries_a_429_after_the_retry_after_ms_it_reads(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.fail_next(429, "Rate limit reached", type="requests", code="rate_limit_exceeded",
                   headers={"retry-after-ms": "10", "retry-after": "30"})  # fmt: skip
    provider = fake.provider(max_retries=1)
    assert provider.list_jobs() == []  # retried after 10 ms, not 30 s
    assert [r.status for r in fake.exchanges] == [429, 200]


def test_5xx_and_timeouts_are_unavailable_and_the_job_goes_on(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    provider = fake.provider()
    fake.scenario("timeout_while_polling")
    job = provider.start(TuningRequest(model=MODEL, training_file=_train(tmp_path)))
    provider.get(job.id)
    with pytest.raises(ProviderUnavailableError, match="Could not reach OpenAI"):
        provider.get(job.id)
    assert provider.get(job.id).status is JobStatus.RUNNING


def test_unknown_hyperparameters_are_refused_before_anything_is_uploaded(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    provider = fake.provider()
    request = TuningRequest(
        model=MODEL, training_file=_train(tmp_path), hyperparameters={"warmup_steps": 10}
    )
    with pytest.raises(InvalidHyperparameterError) as caught:
        provider.start(request)
    assert str(caught.value) == (
        "OpenAI has no supervised hyperparameter 'warmup_steps'; valid ones: batch_size, "
        "epochs, learning_rate, learning_rate_multiplier, n_epochs, seed. Nothing was uploaded."
    )
    assert isinstance(caught.value, ProviderRejectedError)
    assert fake.requests == []


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        (
            {"hyperparameters": {"epochs": 0}},
            "n_epochs must be 'auto' or an integer at least 1 and at most 50, got 0",
        ),
        ({"hyperparameters": {"epochs": "3"}}, "got '3'"),
        (
            {"hyperparameters": {"batch_size": 257}},
            "batch_size must be 'auto' or an integer at least 1 and at most 256",
        ),
        ({"hyperparameters": {"learning_rate_multiplier": 0}}, "above 0"),
        ({"hyperparameters": {"seed": -1}}, "seed must be an integer within 0..2147483647, got -1"),
        (
            {"hyperparameters": {"beta": 3}, "method": TuningMethod.PREFERENCE},
            "beta must be 'auto' or a number above 0 and at most 2, got 3",
        ),
        ({"suffix": "s" * 65}, "has 65 characters; OpenAI takes 1 to 64"),
        ({"suffix": ""}, "has 0 characters"),
        (
            {"metadata": {f"k{i}": "v" for i in range(17)}},
            "metadata has 17 keys; OpenAI takes at most 16",
        ),
        ({"metadata": {"epochs": 3}}, "metadata['epochs'] must be a string"),
    ],
)
def test_the_provider_refuses_what_openai_would_before_uploading(
    fake: FakeOpenAI, tmp_path: Path, changes: dict[str, Any], says: str
) -> None:
    request = TuningRequest(model=MODEL, training_file=_train(tmp_path), **changes)
    with pytest.raises(ProviderRejectedError, match=re.escape(says)):
        fake.provider().start(request)
    assert fake.requests == []


def _train(tmp_path: Path) -> str:
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in chat_records()), encoding="utf-8")
    return str(path)
