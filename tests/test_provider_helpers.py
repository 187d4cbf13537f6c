"""Provider plugins share one reading of Retry-After, one mapping of HTTP errors, one file check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelops_core.finetune.provider_contract import (
    JobStatus,
    MissingCredentialsError,
    ProviderJob,
    ProviderRejectedError,
    ProviderUnavailableError,
    cancel_unless_finished,
    error_for_status,
    retry_after_seconds,
    training_file_problems,
)

WHERE = "acme provider, jobs.get for job j-1"


def test_retry_after_ms_wins_over_seconds() -> None:
    assert retry_after_seconds({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5


def test_retry_after_takes_seconds_or_a_date_that_counts_down() -> None:
    assert retry_after_seconds({"retry-after": "2.5"}) == 2.5
    date = "Thu, 01 Jan 2026 00:00:30 GMT"
    assert retry_after_seconds({"Retry-After": date}, now=1_767_225_600) == 30.0
    assert retry_after_seconds({"Retry-After": "-3"}) == 0.0


def test_retry_after_is_none_when_absent_or_unreadable() -> None:
    assert retry_after_seconds({}) is None
    assert retry_after_seconds(None) is None
    assert retry_after_seconds({"Retry-After": "soon"}) is None


@pytest.mark.parametrize("status", [408, 429, 500, 503])
def test_timeouts_rate_limits_and_5xx_are_unavailable_with_the_wait_asked(status: int) -> None:
    error = error_for_status(
        status, "slow down", service="Acme", where=WHERE, headers={"Retry-After": "7"}
    )
    assert isinstance(error, ProviderUnavailableError)
    assert error.retry_after == 7.0
    assert str(error) == (
        f"Acme is unavailable or rate-limiting ({WHERE}, HTTP {status}): slow down "
        "[transient: retry after 7 s]"
    )


def test_the_caller_can_say_a_429_is_not_worth_waiting_for() -> None:
    error = error_for_status(
        429, "out of quota", service="Acme", where=WHERE, transient=False, request_id="req-9"
    )
    assert isinstance(error, ProviderRejectedError)
    assert str(error) == (
        f"Acme rejected the request ({WHERE}, HTTP 429) (request id req-9): out of quota"
    )


def test_a_4xx_is_rejected_with_the_message_verbatim_and_the_hint() -> None:
    error = error_for_status(
        403, "Permission denied.", service="Acme", where=WHERE, detail="HTTP 403 DENIED",
        hint="Grant the role.",
    )  # fmt: skip
    assert isinstance(error, ProviderRejectedError)
    assert not isinstance(error, ProviderUnavailableError)
    assert str(error) == (
        f"Acme rejected the request ({WHERE}, HTTP 403 DENIED): Permission denied. Grant the role."
    )


def test_a_401_is_missing_credentials_saying_what_to_set() -> None:
    error = error_for_status(
        401, "Bad key.", service="Acme", where=WHERE, credentials_fix="Set ACME_API_KEY."
    )
    assert isinstance(error, MissingCredentialsError)
    assert (
        str(error)
        == f"Acme refused the credentials ({WHERE}, HTTP 401): Bad key. Set ACME_API_KEY."
    )


def write_chats(path: Path, count: int, *, broken_line: bool = False) -> str:
    lines = [
        json.dumps(
            {
                "messages": [
                    {"role": "user", "content": f"question {i}"},
                    {"role": "assistant", "content": f"answer {i}"},
                ]
            }
        )
        for i in range(count)
    ]
    if broken_line:
        lines.append("{not json")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


@pytest.mark.usefixtures("provider_plugins")
def test_a_valid_training_file_has_no_problems(tmp_path: Path) -> None:
    path = write_chats(tmp_path / "train.jsonl", 20)
    assert training_file_problems(path, export_format="openai", model="gpt-4o-mini") == []


@pytest.mark.usefixtures("provider_plugins")
def test_every_problem_of_a_training_file_is_one_text(tmp_path: Path) -> None:
    path = write_chats(tmp_path / "train.jsonl", 20, broken_line=True)
    problems = training_file_problems(path, export_format="openai", model="gpt-4o-mini")
    assert any(problem.startswith("line 21") for problem in problems), problems
    described = training_file_problems(
        path, export_format="openai", model="gpt-4o-mini", describe=lambda p: f"#{p.line}"
    )
    assert "#21" in described


def test_a_missing_training_file_is_one_problem_naming_it(tmp_path: Path) -> None:
    missing = str(tmp_path / "nowhere.jsonl")
    problems = training_file_problems(missing, export_format="openai", model="gpt-4o-mini")
    assert len(problems) == 1 and "nowhere.jsonl" in problems[0]


def snapshot(status: str) -> ProviderJob:
    return ProviderJob(
        id="j-1", provider="acme", status=JobStatus(status), raw_status=status, model="m"
    )


def refuse() -> ProviderJob:
    raise ProviderRejectedError("the job cannot be cancelled")


def test_cancelling_a_running_job_returns_what_the_provider_answered() -> None:
    assert cancel_unless_finished(lambda: snapshot("cancelled"), refuse).status == "cancelled"


def test_cancelling_a_finished_job_returns_it_as_it_is() -> None:
    assert cancel_unless_finished(refuse, lambda: snapshot("succeeded")).status == "succeeded"


def test_a_refused_cancel_of_a_job_still_running_is_raised() -> None:
    with pytest.raises(ProviderRejectedError, match="cannot be cancelled"):
        cancel_unless_finished(refuse, lambda: snapshot("running"))
