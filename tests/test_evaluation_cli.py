"""`modelops eval run` with intervals, groups, report and output; `modelops eval compare`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from project_env import enter_project

from modelops_core.cli.main import main

pytest.importorskip("modelops_metrics", reason="the metric names come from modelops-metrics")


@pytest.fixture(autouse=True)
def in_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return enter_project(tmp_path, monkeypatch)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def predictions(path: Path, accuracy: float, seed: int = 0, n: int = 200) -> Path:
    rng = np.random.default_rng(seed)
    truth = np.random.default_rng(99).integers(0, 2, n)
    labels = np.where(rng.random(n) < accuracy, truth, 1 - truth)
    scores = np.clip(0.5 + (labels - 0.5) * rng.random(n), 0, 1)
    groups = np.where(np.arange(n) % 2 == 0, "web", "app")
    rows = [{"prediction": int(p), "score": float(s), "group": str(g)}
            for p, s, g in zip(labels, scores, groups, strict=True)]  # fmt: skip
    write_jsonl(path.with_name("references.jsonl"), [{"reference": int(t)} for t in truth])
    return write_jsonl(path, rows)


def test_eval_run_with_intervals_groups_report_and_output(capsys, in_project):
    path = predictions(in_project / "a.jsonl", 0.85)
    code, out, err = run(
        capsys, "eval", "run", "--predictions", str(path), "--references",
        str(in_project / "references.jsonl"), "--metrics", "accuracy,f1,auc_roc",
        "--scores", "score", "--groups", "group", "--bootstrap", "200", "--seed", "1",
        "--report", "report.html", "--output", "a.json",
    )  # fmt: skip
    assert code == 0, err
    assert "interval" in out and "accuracy by group" in out
    document = json.loads((in_project / "a.json").read_text())
    assert document["schema_version"] == 1 and document["seed"] == 1
    assert set(document["intervals"]) == {"accuracy", "f1", "auc_roc"}
    assert set(document["per_group"]["accuracy"]) == {"web", "app"}
    assert 'data-chart="roc"' in (in_project / "report.html").read_text()


def test_eval_run_reads_csv(capsys, in_project):
    (in_project / "p.csv").write_text("prediction,reference\n1,1\n0,1\n1,1\n0,0\n")
    code, out, _ = run(capsys, "eval", "run", "--predictions", "p.csv", "--metrics", "accuracy",
                       "--json")  # fmt: skip
    assert code == 0 and json.loads(out)["values"] == {"accuracy": 0.75}


@pytest.mark.parametrize(
    ("rows", "options", "message"),
    [
        (
            [{"prediction": 1, "reference": 1, "score": float("nan")}],
            ["--metrics", "auc_roc", "--scores", "score"],
            "scores[0]",
        ),
        (
            [{"prediction": 1, "reference": 1, "score": 1.5}],
            ["--metrics", "log_loss", "--scores", "score"],
            "outside [0, 1]",
        ),
        (
            [{"prediction": 1, "reference": 3}],
            ["--metrics", "accuracy", "--labels", "0,1"],
            "references[0] is 3",
        ),
        ([{"prediction": 1}], ["--metrics", "accuracy"], "has no 'reference' field"),
        ([{"prediction": 1, "reference": 1}], ["--metrics", "acuracy"], "Did you mean"),
    ],
)
def test_bad_input_is_named(capsys, in_project, rows, options, message):
    path = in_project / "p.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, _, err = run(capsys, "eval", "run", "--predictions", str(path), *options)
    assert code == 2 and message in err


def test_eval_run_refuses_files_of_different_lengths(capsys, in_project):
    write_jsonl(in_project / "p.jsonl", [{"prediction": 1}, {"prediction": 0}])
    write_jsonl(in_project / "r.jsonl", [{"reference": 1}])
    code, _, err = run(capsys, "eval", "run", "--predictions", "p.jsonl", "--references",
                       "r.jsonl", "--metrics", "accuracy")  # fmt: skip
    assert code == 2 and "mismatch" in err


def test_eval_compare_prints_a_table_and_a_decision(capsys, in_project, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # a wide terminal: no cell wraps
    for name, accuracy, seed in (("a", 0.9, 1), ("b", 0.7, 2)):
        path = predictions(in_project / f"{name}.jsonl", accuracy, seed)
        code, _, err = run(capsys, "eval", "run", "--predictions", str(path), "--references",
                           "references.jsonl", "--metrics", "accuracy,f1", "--output",
                           f"{name}.json")  # fmt: skip
        assert code == 0, err
    code, out, err = run(capsys, "eval", "compare", "a.json", "b.json", "--bootstrap", "200")
    assert code == 0, err
    assert "mcnemar-exact" in out and "paired-bootstrap" in out and "p (holm)" in out
    assert "Decision (accuracy): A wins" in out
    code, out, _ = run(capsys, "eval", "compare", "a.json", "b.json", "--json")
    assert json.loads(out)["decision"] == "A wins"
    code, out, _ = run(capsys, "eval", "compare", "a.json", "b.json", "--level", "0.9")
    assert code == 0 and "A - B [90% CI]" in out
    code, out, err = run(capsys, "eval", "compare", "a.json", "b.json", "--json", "--test",
                         "mcnemar-chi2-corrected", "--test", "paired-t")  # fmt: skip
    assert code == 0, err
    rows = {row["metric"]: row for row in json.loads(out)["rows"]}
    assert rows["accuracy"]["test"] == "mcnemar-chi2-corrected"
    code, _, err = run(capsys, "eval", "compare", "a.json", "b.json", "--test", "chi2")
    assert code == 2 and "'chi2' is not one of" in err


def scored(path: Path, n: int = 400) -> Path:
    rng = np.random.default_rng(7)
    truth = rng.integers(0, 2, n)
    scores = np.clip(rng.normal(0.35 + 0.3 * truth, 0.2), 0, 1)
    return write_jsonl(path, [{"score": float(s), "reference": int(t)}
                              for s, t in zip(scores, truth, strict=True)])  # fmt: skip


def test_eval_threshold_chooses_by_every_criterion_and_writes_the_sweep(capsys, in_project):
    import sklearn.metrics as sk

    path = scored(in_project / "scores.jsonl")
    code, out, err = run(capsys, "eval", "threshold", "--predictions", str(path), "--fp-cost",
                         "1", "--fn-cost", "5", "--min-precision", "0.8", "--json",
                         "--output", "sweep.csv")  # fmt: skip
    assert code == 0, err
    choices = {choice["criterion"]: choice for choice in json.loads(out)["choices"]}
    assert list(choices) == ["f1", "youden", "cost", "precision"]
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    truth = np.array([row["reference"] for row in rows])
    scores = np.array([row["score"] for row in rows])
    precision, recall, _ = sk.precision_recall_curve(truth, scores)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-300)
    assert choices["f1"]["f1"] == pytest.approx(f1.max(), abs=1e-12)
    false_positive, true_positive, _ = sk.roc_curve(truth, scores, drop_intermediate=False)
    assert choices["youden"]["youden_j"] == pytest.approx(
        (true_positive - false_positive).max(), abs=1e-12
    )
    assert choices["precision"]["precision"] >= 0.8
    predicted = scores >= choices["cost"]["threshold"]
    cost = ((predicted == 1) & (truth == 0)).sum() + 5 * ((predicted == 0) & (truth == 1)).sum()
    assert choices["cost"]["cost"] == cost
    header = (in_project / "sweep.csv").read_text().splitlines()[0]
    assert header == "thresholds,precision,recall,f1,fpr,tpr"


def test_eval_threshold_table_and_missing_target(capsys, in_project, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    scored(in_project / "scores.jsonl")
    code, out, err = run(capsys, "eval", "threshold", "--predictions", "scores.jsonl",
                         "--min-recall", "0.95")  # fmt: skip
    assert code == 0, err
    assert "max F1" in out and "max precision at recall >= 0.95" in out
    code, _, err = run(capsys, "eval", "threshold", "--predictions", "scores.jsonl",
                       "--criterion", "recall")  # fmt: skip
    assert code == 2 and "--min-recall" in err
    code, _, err = run(capsys, "eval", "threshold", "--predictions", "scores.jsonl",
                       "--scores", "probability")  # fmt: skip
    assert code != 0 and "'probability'" in err


def test_eval_run_says_why_bleu_is_zero_next_to_the_value(capsys, in_project):
    # the demo's answers are queue names: one word each, so BLEU-4 has nothing to count
    rows = [{"prediction": p, "reference": r} for p, r in
            [("billing", "billing"), ("returns", "sales"), ("shipping", "shipping")]]  # fmt: skip
    write_jsonl(in_project / "answers.jsonl", rows)
    code, out, _ = run(
        capsys, "eval", "run", "--predictions", "answers.jsonl", "--metrics", "bleu,exact_match"
    )
    assert code == 0
    lines = {line.split("\t")[0]: line.split("\t")[1] for line in out.splitlines()[2:]}
    assert lines["bleu"] == (
        "0.0000 (no prediction has 2 tokens, so BLEU-4 has no 2-grams to match; for short "
        "answers use exact_match or token_f1)"
    )
    assert lines["exact_match"] == "0.6667"
