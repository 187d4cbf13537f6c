"""``modelops monitor performance``: multiclass and binary files, the estimate per chunk equal
to the Python API's, realized metrics when labels arrived, alerts fired once per window to the
log sink, --fail-on-alert, and named errors (missing column, unknown label, both kinds)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from project_env import enter_project

from modelops_core.cli.main import main
from modelops_core.monitoring.performance import CBPE, MulticlassCBPE

CLASSES = ["cat", "dog", "fox"]
PROBAS = [f"--proba={name}=p_{name}" for name in CLASSES]


@pytest.fixture(autouse=True)
def in_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return enter_project(tmp_path, monkeypatch)


def drawn(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    probabilities = rng.dirichlet(np.full(3, 0.7), size=rows).round(6)
    labels = np.minimum(
        (rng.uniform(size=rows)[:, None] > probabilities.cumsum(axis=1)).sum(axis=1), 2
    )
    return probabilities, labels


def write(path: Path, probabilities: np.ndarray, labels: np.ndarray | None) -> Path:
    header = ",".join(f"p_{name}" for name in CLASSES) + ("" if labels is None else ",label")
    lines = [header]
    for row, values in enumerate(probabilities):
        cells = [repr(float(v)) for v in values]
        lines.append(",".join(cells + ([] if labels is None else [CLASSES[labels[row]]])))
    path.write_text("\n".join(lines) + "\n")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["monitor", "performance", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_multiclass_estimates_per_chunk_equal_the_python_api(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    reference, reference_labels = drawn(2_000, seed=1)
    current, _ = drawn(1_001, seed=2)
    write(tmp_path / "ref.csv", reference, reference_labels)
    write(tmp_path / "cur.csv", current, None)
    code, out, err = run(
        capsys, "ref.csv", "cur.csv", "--label", "label", *PROBAS, "--chunk-size", "500", "--json"
    )
    assert code == 0, err
    document = json.loads(out)
    assert document["kind"] == "multiclass" and document["classes"] == CLASSES
    assert [(c["start"], c["rows"]) for c in document["chunks"]] == [(0, 500), (500, 501)]
    estimator = MulticlassCBPE.fit(
        reference, np.array(CLASSES)[reference_labels], classes=CLASSES, chunk_size=500,
        metrics=("accuracy", "precision_macro", "recall_macro", "f1_macro", "roc_auc_macro"),
    )  # fmt: skip
    expected = estimator.estimate_chunks(current, 500)
    for chunk, estimate in zip(document["chunks"], expected, strict=True):
        assert chunk["metrics"] == dict(estimate.metrics)
        assert chunk["band"] == {name: list(bounds) for name, bounds in estimate.band.items()}
    assert [c["class"] for c in document["calibration"]] == CLASSES


def test_labels_in_current_show_the_realized_performance_beside(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    reference, reference_labels = drawn(1_000, seed=3)
    current, labels = drawn(400, seed=4)
    write(tmp_path / "ref.csv", reference, reference_labels)
    write(tmp_path / "cur.csv", current, labels)
    code, out, err = run(capsys, "ref.csv", "cur.csv", "--label", "label", *PROBAS)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "CBPE (multiclass: cat, dog, fox) of cur.csv fitted on ref.csv"
    assert lines[4] == "rows 0-399 (400)"
    accuracy = next(line for line in lines if line.lstrip().startswith("accuracy"))
    realized = float(np.mean(current.argmax(axis=1) == labels))
    assert accuracy.split()[2] == f"{realized:.4f}"


def test_binary_scores_with_a_band_alert_once_per_window_to_the_log_sink(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    pytest.importorskip("modelops_alerts")
    (tmp_path / "modelops.toml").write_text('[alerts]\nwindow = 1e9\nsinks = ["log"]\n')
    rng = np.random.default_rng(5)
    scores = rng.uniform(size=4_000).round(4)
    labels = (rng.uniform(size=4_000) < scores).astype(int)
    rows = "".join(f"{s},{y}\n" for s, y in zip(scores, labels, strict=True))
    (tmp_path / "ref.csv").write_text("score,label\n" + rows)
    (tmp_path / "cur.csv").write_text("score\n" + "0.52\n0.48\n" * 500)  # an unsure model
    argv = ["ref.csv", "cur.csv", "--label", "label", "--score", "score", "--chunk-size", "500"]
    for _ in range(2):
        code, out, err = run(capsys, *argv, "--metric", "accuracy", "--fail-on-alert")
        assert code == 1, err
    assert "alert performance.estimated.accuracy [cur.csv]: duplicate" in out
    logged = (tmp_path / ".modelops" / "alerts.jsonl").read_text().splitlines()
    assert [json.loads(line)["name"] for line in logged] == ["performance.estimated.accuracy"]
    estimator = CBPE.fit(scores, labels, chunk_size=500, metrics=("accuracy",))
    assert json.loads(logged[0])["details"]["lower"] == estimator.band["accuracy"][0]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--proba", "cat=p_cat", "--score", "p_cat"], "give --score COLUMN (binary) or one"),
        (["--proba=cat=p_cat", "--proba=dog=p_dog", "--proba=fox=p_fax"], "no column 'p_fax'"),
        (["--proba=cat=p_cat", "--proba=dog=p_dog", "--proba=bat=p_fox"], "label 'fox' at row"),
    ],
)
def test_what_the_command_cannot_use_is_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], message: str
) -> None:
    reference, reference_labels = drawn(50, seed=6)
    write(tmp_path / "ref.csv", reference, reference_labels)
    code, _, err = run(capsys, "ref.csv", "ref.csv", "--label", "label", *argv)
    assert code == 2 and message in err
