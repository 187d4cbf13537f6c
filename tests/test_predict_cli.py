"""``modelops predict MODEL --input FILE --output FILE`` then ``modelops eval run`` on it, as a
user types them: a registered scikit-learn model (through its flavor), a tuned local model
registered as a provider model id, and the model id itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from project_env import enter_project

from modelops_core.cli.main import main

pytest.importorskip("modelops_provider_local.provider", reason="modelops-provider-local missing")
pytest.importorskip("modelops_store_sql.plugin", reason="modelops-store-sql is not installed")


@pytest.fixture(scope="module")
def tuned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A real local classifier tuned on 120 generated tickets (inline, well under a second)."""
    from modelops_provider_local.provider import LocalProvider
    from modelops_provider_local.synthetic import support_tickets

    from modelops_core.finetune.provider_contract import TuningRequest

    directory = tmp_path_factory.mktemp("tuned")
    records = support_tickets(150, seed=3)
    (directory / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records[:120]))
    root = directory / "local"
    job = LocalProvider(root=str(root), inline=True).start(
        TuningRequest(
            model="local:logreg",
            training_file=str(directory / "train.jsonl"),
            hyperparameters={"epochs": 2, "learning_rate": 0.05, "seed": 1},
        )
    )
    assert job.fine_tuned_model is not None, job.error
    expected = LocalProvider(root=str(root)).predict(
        job.fine_tuned_model, [r["prompt"] for r in records[120:]]
    )
    return {"model_id": job.fine_tuned_model, "root": root, "test": records[120:],
            "expected": expected}  # fmt: skip


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tuned: dict[str, Any]) -> Path:
    enter_project(tmp_path, monkeypatch)
    (tmp_path / "modelops.toml").write_text(f'[providers.local]\nroot = "{tuned["root"]}"\n')
    (tmp_path / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in tuned["test"]))
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_tuned_model_registered_by_alias_predicts_and_eval_run_reads_it(
    capsys: pytest.CaptureFixture[str], project: Path, tuned: dict[str, Any]
) -> None:
    from modelops_core.registry.model_registry import ModelRegistry

    document = {"provider": "local", "model_id": tuned["model_id"], "base_model": "local:logreg"}
    with ModelRegistry() as registry:  # what `finetune start --register-as` stores
        metadata = {"fine_tuned_model": tuned["model_id"]}
        registry.register("router", model=document, metadata=metadata)
        registry.set_alias("router", "production", "1")
    code, out, err = run(capsys, "predict", "router@production", "--input", "test.jsonl",
                         "--output", "predictions.jsonl")  # fmt: skip
    assert code == 0, err
    assert out.strip() == "wrote 30 predictions of router@production to predictions.jsonl"
    written = rows(project / "predictions.jsonl")
    assert [r["prediction"] for r in written] == tuned["expected"]
    assert [r["reference"] for r in written] == [r["completion"] for r in tuned["test"]]
    code, out, err = run(capsys, "eval", "run", "--predictions", "predictions.jsonl",
                         "--metrics", "exact_match", "--json")  # fmt: skip
    assert code == 0, err
    hits = sum(p == r["completion"] for p, r in zip(tuned["expected"], tuned["test"], strict=True))
    assert json.loads(out)["values"]["exact_match"] == pytest.approx(hits / 30)


def test_a_version_and_a_provider_model_id_predict_the_same(
    capsys: pytest.CaptureFixture[str], project: Path, tuned: dict[str, Any]
) -> None:
    from modelops_core.registry.model_registry import ModelRegistry

    with ModelRegistry() as registry:
        registry.register("router", model={"provider": "local", "model_id": tuned["model_id"]})
    code, _, err = run(
        capsys, "predict", "router/1", "--input", "test.jsonl", "--output", "a.jsonl"
    )
    assert code == 0, err
    code, _, err = run(capsys, "predict", tuned["model_id"], "--input", "test.jsonl",
                       "--output", "b.jsonl")  # fmt: skip
    assert code == 0, err
    assert [r["prediction"] for r in rows(project / "a.jsonl")] == tuned["expected"]
    assert rows(project / "a.jsonl") == rows(project / "b.jsonl")


def test_a_registered_sklearn_model_predicts_through_its_flavor(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    pytest.importorskip("modelops_flavor_sklearn")
    from sklearn.linear_model import LogisticRegression

    from modelops_core.registry.model_registry import ModelRegistry

    features = [[0.0, 1.0], [1.0, 0.0], [0.2, 0.9], [0.9, 0.1], [0.5, 0.4], [0.1, 0.7]]
    labels = [0, 1, 0, 1, 1, 0]
    estimator = LogisticRegression().fit(features, labels)
    with ModelRegistry() as registry:
        registry.register("churn", model=estimator, sample=features[:2])
    lines = [f"{a},{b},{y}\n" for (a, b), y in zip(features, labels, strict=True)]
    (project / "rows.csv").write_text("a,b,label\n" + "".join(lines))
    code, _, err = run(capsys, "predict", "churn/1", "--input", "rows.csv", "--output", "p.jsonl")
    assert code == 0, err
    expected = estimator.predict(features).tolist()
    assert rows(project / "p.jsonl") == [
        {"prediction": p, "reference": y} for p, y in zip(expected, labels, strict=True)
    ]


def test_what_cannot_predict_is_refused_with_the_command_to_run(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    from modelops_core.registry.model_registry import ModelRegistry

    (project / "weights.bin").write_bytes(b"\x00\x01")
    with ModelRegistry() as registry:
        registry.register("blob", model_path=project / "weights.bin")
    code, _, err = run(capsys, "predict", "blob/1", "--input", "test.jsonl", "--output", "p.jsonl")
    assert code == 2
    assert "blob 1 cannot predict" in err and "`modelops predict MODEL_ID --provider NAME" in err
    assert not (project / "p.jsonl").exists()
    code, _, err = run(capsys, "predict", "ghost@production", "--input", "test.jsonl",
                       "--output", "p.jsonl")  # fmt: skip
    assert code == 2 and "ghost" in err
    code, _, err = run(capsys, "predict", "blob/1", "--input", "test.jsonl",
                       "--output", "test.jsonl")  # fmt: skip
    assert code == 2 and "is the --input file" in err
