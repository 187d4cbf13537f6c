"""What ``validate`` and ``start`` refuse, and how they say it."""

from __future__ import annotations

from pathlib import Path

import pytest
from local_provider_files import write_jsonl
from modelops_provider_local.provider import LocalProvider

from modelops_core.finetune.provider_contract import (
    ProviderRejectedError,
    TuningMethod,
    TuningRequest,
)


@pytest.fixture
def provider(tmp_path: Path) -> LocalProvider:
    return LocalProvider(home=str(tmp_path / ".modelops"), inline=True)


def test_every_bad_line_is_reported_with_its_number(
    provider: LocalProvider, tmp_path: Path
) -> None:
    train = tmp_path / "train.jsonl"
    train.write_text(
        '{"prompt": "refund please", "completion": "billing"}\n'
        "{oops\n"
        '{"prompt": "where is my order"}\n'
        "\n"
        '{"prompt": "", "completion": "shipping"}\n'
        '{"messages": [{"role": "user", "content": "hi"}]}\n'
        "[1, 2]\n"
        '{"prompt": "app crashes", "completion": 3}\n'
    )
    problems = provider.validate(str(train), "supervised", "local:logreg")
    text = "\n".join(problems)
    assert f"{train}:2: invalid JSON" in text
    assert f"{train}:3: missing 'completion'" in text
    assert f"{train}:5: 'prompt' is empty" in text
    assert f"{train}:6: the chat has no non-empty assistant message" in text
    assert f"{train}:7: expected a JSON object, got list" in text
    assert f"{train}:8: 'completion' must be a string" in text
    assert len(problems) == 6


def test_an_empty_file_and_a_missing_file_are_problems(
    provider: LocalProvider, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    assert "no examples" in provider.validate(str(empty), "supervised", "local:auto")[0]
    missing = provider.validate(str(tmp_path / "nope.jsonl"), "supervised", "local:auto")
    assert "Cannot open the training file" in missing[0]


def test_a_classifier_needs_two_classes(provider: LocalProvider, tmp_path: Path) -> None:
    train = write_jsonl(
        tmp_path / "t.jsonl", [{"prompt": f"q{i}", "completion": "yes"} for i in range(9)]
    )
    problems = provider.validate(str(train), "supervised", "local:logreg")
    assert problems and "at least 2 different completions" in problems[0]


def test_many_problems_are_summarized(provider: LocalProvider, tmp_path: Path) -> None:
    train = tmp_path / "t.jsonl"
    train.write_text("bad\n" * 50)
    problems = provider.validate(str(train), "supervised", "local:auto")
    assert len(problems) == 21 and "30 more problems" in problems[-1]


def test_preference_tuning_is_refused_clearly(provider: LocalProvider, tmp_path: Path) -> None:
    train = write_jsonl(tmp_path / "t.jsonl", [{"prompt": "a", "completion": "b"}] * 3)
    problems = provider.validate(str(train), "preference", "local:auto")
    assert "does not support 'preference' tuning" in problems[0]
    request = TuningRequest("local:auto", str(train), method=TuningMethod.PREFERENCE)
    with pytest.raises(ProviderRejectedError, match="does not support 'preference'"):
        provider.start(request)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"model": "local:gpt"}, "no base model 'local:gpt'"),
        ({"hyperparameters": {"momentum": 0.9}}, "no hyperparameter 'momentum'"),
        ({"hyperparameters": {"epochs": 0}}, "'epochs' must be a positive integer"),
        ({"hyperparameters": {"optimizer": "sgd"}}, "'adam' or 'lbfgs'"),
        ({"training_file": "/no/such/file.jsonl"}, "does not exist"),
    ],
)
def test_start_refuses_bad_requests(
    provider: LocalProvider, tmp_path: Path, changes: dict[str, object], message: str
) -> None:
    train = write_jsonl(tmp_path / "t.jsonl", [{"prompt": "a", "completion": "b"}] * 3)
    fields: dict[str, object] = {"model": "local:auto", "training_file": str(train), **changes}
    with pytest.raises(ProviderRejectedError, match=message):
        provider.start(TuningRequest(**fields))  # type: ignore[arg-type]


def test_unknown_models_and_jobs_are_named(provider: LocalProvider) -> None:
    with pytest.raises(ProviderRejectedError, match="local:logreg:ft-000000000000"):
        provider.predict("local:logreg:ft-000000000000", ["hi"])
    with pytest.raises(ProviderRejectedError, match="not a local fine-tuned model id"):
        provider.predict("gpt-4o", ["hi"])
    with pytest.raises(ProviderRejectedError, match="local-nope"):
        provider.events("local-nope")


def test_the_provider_is_built_from_the_config_with_the_runtime_home(tmp_path: Path) -> None:
    from modelops_provider_local import plugin

    from modelops_core.plugins.kinds import Kind
    from modelops_core.testing.fixtures import make_runtime

    runtime = make_runtime(tmp_path / ".modelops", [("modelops-provider-local", plugin)])
    built = runtime.create(Kind.PROVIDER, "local", home=str(tmp_path / ".modelops"), inline=True)
    assert built.root == tmp_path / ".modelops" / "providers" / "local"
    assert built.inline is True
