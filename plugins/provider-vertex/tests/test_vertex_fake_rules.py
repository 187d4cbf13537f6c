"""The fake refuses what Vertex AI refuses, as Vertex AI does (HTTP 400 INVALID_ARGUMENT with a
google.rpc.BadRequest naming each field), stores nothing then, and accepts what the service
accepts; requests are sent as any client could (``fake.raw``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from modelops_provider_vertex.mapping import labels_of
from modelops_provider_vertex.rules import check_answer, load_rules
from modelops_provider_vertex.testing import ExchangeLog, FakeVertex, SpecViolation

Make = Callable[..., FakeVertex]
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
SPEC = "tuning_job.supervised_tuning_spec"
HYPER = f"{SPEC}.hyper_parameters"


def job(**changes: Any) -> dict[str, Any]:
    """A valid create body; ``changes`` replace top-level fields, ``hyper`` the
    hyperparameters, ``spec`` spec fields."""
    hyper = changes.pop("hyper", {"epochCount": 2})
    spec = {"trainingDatasetUri": "gs://tuning-data/train.jsonl", "hyperParameters": hyper}
    spec.update(changes.pop("spec", {}))
    body: dict[str, Any] = {"baseModel": "gemini-2.5-flash", "supervisedTuningSpec": spec}
    body.update(changes)
    return body


def refused(fake: FakeVertex, method: str, path: str, body: Any = None, **params: Any) -> Any:
    """The error object of a request the fake must refuse with 400 INVALID_ARGUMENT."""
    with fake.expect_violations() as seen:
        response = fake.raw(method, path, body, **params)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["code"], error["status"]) == (400, "INVALID_ARGUMENT")
    assert len(seen) == 1 and seen[0].status == 400
    (details,) = error["details"]
    assert details["@type"] == BAD_REQUEST
    return error


@pytest.fixture
def offline(make_fake: Make) -> FakeVertex:
    """A fake that does not read the datasets (16 examples assumed)."""
    return make_fake(gcs_reader=None)


def test_an_unknown_hyperparameter_is_refused_and_nothing_is_stored(offline: FakeVertex) -> None:
    error = refused(offline, "POST", "tuningJobs", job(hyper={"epochCount": 2, "warmupSteps": 9}))
    message = (
        f"Invalid JSON payload received. Unknown name \"warmupSteps\" at '{HYPER}': Cannot find "
        "field."
    )
    assert error["message"] == message
    assert error["details"][0]["fieldViolations"] == [{"field": HYPER, "description": message}]
    assert offline.jobs == {}
    listed = offline.raw("GET", "tuningJobs")  # every later list still works
    assert (listed.status_code, listed.json()) == (200, {})


@pytest.mark.parametrize(
    ("body", "field", "description"),
    [
        (
            job(hyper={"adapterSize": "ADAPTER_SIZE_THREE"}),
            f"{HYPER}.adapter_size",
            f"Invalid value at '{HYPER}.adapter_size' (type.googleapis.com/google.cloud."
            'aiplatform.v1beta1.AdapterSize), "ADAPTER_SIZE_THREE"',
        ),
        (
            job(warmup=True),
            "tuning_job",
            "Invalid JSON payload received. Unknown name \"warmup\" at 'tuning_job': Cannot "
            "find field.",
        ),
        (
            job(tunedModelDisplayName="x" * 129),
            "tuning_job.tuned_model_display_name",
            "The display name is 129 characters long; at most 128 are allowed.",
        ),
        (
            job(labels={"Team": "ml"}),
            "tuning_job.labels[Team]",
            'Label key "Team" must start with a lowercase letter.',
        ),
        (
            job(labels={"team": "ML"}),
            "tuning_job.labels[team]",
            "Label value \"ML\" has characters that are not allowed: 'LM'; use lowercase "
            "letters, digits, '_' and '-'.",
        ),
        (
            job(labels={"k": "v" * 64}),
            "tuning_job.labels[k]",
            f'Label value "{"v" * 64}" is 64 characters long; at most 63 are allowed.',
        ),
        (
            job(labels={f"k{i}": "" for i in range(65)}),
            "tuning_job.labels",
            "Too many labels: 65; at most 64 are allowed.",
        ),
        (
            job(spec={"validationDatasetUri": "https://storage.googleapis.com/b/v.jsonl"}),
            f"{SPEC}.validation_dataset_uri",
            "validation_dataset_uri must be a Cloud Storage uri gs://bucket/path/file.jsonl, "
            'got "https://storage.googleapis.com/b/v.jsonl".',
        ),
        (
            job(hyper={"epochCount": "four"}),
            f"{HYPER}.epoch_count",
            f"Invalid value at '{HYPER}.epoch_count' (TYPE_INT64), \"four\"",
        ),
        (
            job(hyper={"epochCount": -1}),
            f"{HYPER}.epoch_count",
            "epoch_count must be positive, got -1.",
        ),
        (
            job(hyper={"batchSize": 8}),
            f"{HYPER}.batch_size",
            "batch_size is only available for open models; Gemini base models take "
            "learning_rate_multiplier and epoch_count.",
        ),
        (
            job(hyper={"learningRateMultiplier": -0.5}),
            f"{HYPER}.learning_rate_multiplier",
            "learning_rate_multiplier must be above 0, got -0.5.",
        ),
        (
            job(preferenceOptimizationSpec={"trainingDatasetUri": "gs://tuning-data/p.jsonl"}),
            "tuning_job",
            "Exactly one tuning spec must be set",
        ),
    ],
    ids=[
        "adapter-size",
        "unknown-top-level-field",
        "display-name-129",
        "label-key-capital",
        "label-value-capitals",
        "label-value-64",
        "65-labels",
        "validation-uri-not-gs",
        "epoch-count-word",
        "epoch-count-negative",
        "batch-size-on-gemini",
        "negative-multiplier",
        "two-specs",
    ],
)
def test_a_create_outside_the_rules_is_refused_naming_the_field(
    offline: FakeVertex, body: dict[str, Any], field: str, description: str
) -> None:
    error = refused(offline, "POST", "tuningJobs", body)
    violations = error["details"][0]["fieldViolations"]
    assert {v["field"] for v in violations} == {field}
    assert violations[0]["description"].startswith(description)
    assert offline.jobs == {}


def test_epoch_count_as_a_string_is_valid_proto3_json(offline: FakeVertex) -> None:
    created = offline.raw("POST", "tuningJobs", job(hyper={"epoch_count": "4"}))
    assert created.status_code == 200, created.text
    body = created.json()
    assert body["supervisedTuningSpec"]["hyperParameters"] == {"epochCount": "4"}
    assert body["state"] == "JOB_STATE_PENDING" and "sdkHttpResponse" not in body


def test_output_only_fields_of_a_request_are_ignored(offline: FakeVertex) -> None:
    body = job(state="JOB_STATE_SUCCEEDED", name="projects/x/locations/y/tuningJobs/1")
    created = offline.raw("POST", "tuningJobs", body).json()
    assert created["state"] == "JOB_STATE_PENDING"
    assert created["name"] == offline.job_name("4000000000000000001")


def test_the_list_filter_is_honoured(offline: FakeVertex) -> None:
    names = [
        offline.raw("POST", "tuningJobs", job(labels={"team": team})).json()["name"]
        for team in ("a", "b", "a")
    ]
    first = names[0].rsplit("/", 1)[1]
    assert offline.raw("POST", f"tuningJobs/{first}:cancel").status_code == 200

    def listed(text: str) -> list[str]:
        response = offline.raw("GET", "tuningJobs", filter=text)
        assert response.status_code == 200, response.text
        return [j["name"] for j in response.json().get("tuningJobs", [])]

    assert listed('labels.team="a"') == [names[2], names[0]]
    assert listed("state=JOB_STATE_CANCELLING") == [names[0]]
    assert listed('labels.team="a" AND NOT state="JOB_STATE_CANCELLING"') == [names[2]]
    # OR binds tighter than the (AND) sequence: (team b or a) and pending
    either = 'labels.team="b" OR labels.team="a" state="JOB_STATE_PENDING"'
    assert listed(either) == [names[2], names[1]]
    assert listed("labels.team:*") == list(reversed(names))
    assert listed('create_time>"2026-01-01T00:00:05Z"') == [names[2], names[1]]


@pytest.mark.parametrize(
    ("params", "field", "description"),
    [
        ({"filter": 'colour="red"'}, "filter", 'Unsupported field "colour" in filter'),
        ({"filter": 'state="DONE"'}, "filter", "Invalid filter: state takes one of"),
        ({"filter": "state="}, "filter", 'Invalid filter "state=": expected a value'),
        ({"pageSize": "abc"}, "page_size", "Invalid value at 'page_size' (TYPE_INT32), \"abc\""),
        ({"pageSize": "-1"}, "page_size", "page_size must not be negative, got -1."),
        ({"pageToken": "2"}, "page_token", 'Invalid page token "2": not one this API issued.'),
        ({"limit": "5"}, "limit", 'Invalid JSON payload received. Unknown name "limit": Cannot'),
    ],
    ids=["unknown-field", "bad-state", "syntax", "size-word", "size-negative", "token", "param"],
)
def test_a_list_outside_the_rules_is_refused(
    offline: FakeVertex, params: dict[str, str], field: str, description: str
) -> None:
    error = refused(offline, "GET", "tuningJobs", **params)
    (violation,) = error["details"][0]["fieldViolations"]
    assert violation["field"] == field
    assert violation["description"].startswith(description)


def test_a_page_token_only_goes_with_its_filter(make_fake: Make) -> None:
    fake = make_fake(gcs_reader=None, page_size_cap=1)
    for _ in range(2):
        fake.raw("POST", "tuningJobs", job())
    token = fake.raw("GET", "tuningJobs").json()["nextPageToken"]
    assert fake.raw("GET", "tuningJobs", pageToken=token).status_code == 200
    error = refused(fake, "GET", "tuningJobs", pageToken=token, filter="state=JOB_STATE_PENDING")
    assert "must start from the first page" in error["message"]


def test_strict_mode_fails_the_test_on_a_request_outside_the_rules() -> None:
    own_log = ExchangeLog()  # kept out of the session's log: these refusals are on purpose
    strict = FakeVertex(log=own_log)
    with pytest.raises(SpecViolation, match="tuned_model_display_name: The display name is 200"):
        strict.raw("POST", "tuningJobs", job(tunedModelDisplayName="x" * 200))
    lenient = FakeVertex(strict=False, log=own_log)
    response = lenient.raw("POST", "tuningJobs", job(tunedModelDisplayName="x" * 200))
    assert response.status_code == 400 and lenient.jobs == {} and strict.jobs == {}
    assert [e.status for e in lenient.violations] == [400]
    assert len(own_log.unexpected()) == 2


def test_faults_drawn_from_a_seed_are_the_same_every_run(make_fake: Make) -> None:
    def statuses(fake: FakeVertex) -> list[int]:
        import httpx2

        seen = []
        for _ in range(30):
            try:
                seen.append(fake.raw("GET", "tuningJobs").status_code)
            except httpx2.ReadTimeout:
                seen.append(0)
        return seen

    first = statuses(make_fake(gcs_reader=None, seed=11, fault_rate=0.5))
    assert first == statuses(make_fake(gcs_reader=None, seed=11, fault_rate=0.5))
    assert {200, 429, 503, 0} <= set(first)


def test_a_throttled_answer_carries_retry_info(offline: FakeVertex) -> None:
    offline.fail_next(429, "Resource exhausted.", retry_delay=2.5)
    error = offline.raw("GET", "tuningJobs").json()["error"]
    assert error == {
        "code": 429,
        "message": "Resource exhausted.",
        "status": "RESOURCE_EXHAUSTED",
        "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2.500s"}],
    }


def test_answers_outside_the_api_are_caught() -> None:
    rules = load_rules()
    job_answer = {"name": "n", "tuningJobMetadata": {"completedStepCount": 3}}
    assert check_answer(job_answer, "TuningJob", rules) == [
        "TuningJob.tuningJobMetadata.completedStepCount: int64 must be a JSON string, got 3"
    ]
    problems = check_answer({"sdkHttpResponse": {"headers": {}}}, "TuningJob", rules)
    assert problems == ["TuningJob.sdkHttpResponse: an SDK-only field the REST API never sends"]


def test_every_rule_names_its_source() -> None:
    rules = load_rules()
    assert all(rule.source.strip() for rule in rules.by_name.values())
    assert rules["tuning_job.tuned_model_display_name.max_length"] == 128
    assert "google-genai" in rules.revision


def test_the_provider_makes_labels_vertex_accepts() -> None:
    labels = labels_of({"1st": "X", "Team Name": "ML Ops", **{f"k{i}": "v" for i in range(70)}})
    assert list(labels.items())[:2] == [("m-1st", "x"), ("team_name", "ml_ops")]
    assert len(labels) == 64
    assert labels_of({}, "ab12") == {"modelops-request": "ab12"}
