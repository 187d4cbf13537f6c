"""Prediction drift on model outputs (issue 20): scores, labels, and the lengths of an LLM's
answers as the derived column ``<column>.length``; the values are scipy's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from modelops_core import Monitor, Profile, ProfileError
from modelops_core.cli.main import main
from modelops_core.monitoring.errors import DriftMethodError

RNG = np.random.default_rng(2020)
WORDS = [
    "the",
    "model",
    "answers",
    "a",
    "question",
    "with",
    "some",
    "words",
    "of",
    "varying",
    "length",
]


def answers(n: int, mean_words: float, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, max(1, int(rng.poisson(mean_words))))) for _ in range(n)]


def test_score_and_label_drift_are_scipys() -> None:
    reference = {
        "score": RNG.beta(2, 5, 800).round(4).tolist(),
        "label": RNG.choice(["churn", "stay"], 800, p=[0.3, 0.7]).tolist(),
        "intent": RNG.choice(["buy", "cancel", "ask"], 800, p=[0.5, 0.2, 0.3]).tolist(),
    }
    current = {
        "score": RNG.beta(2, 3, 500).round(4).tolist(),
        "label": RNG.choice(["churn", "stay"], 500, p=[0.45, 0.55]).tolist(),
        "intent": RNG.choice(["buy", "cancel", "ask"], 500, p=[0.5, 0.2, 0.3]).tolist(),
    }
    report = Monitor(reference).drift(current)
    score = report["score"]
    expected = stats.ks_2samp(reference["score"], current["score"])
    assert (score.method, score.value, score.effect) == ("ks", expected.pvalue, expected.statistic)
    assert score.drifted

    label = report["label"]
    n1, n2 = 800, 500
    p1 = reference["label"].count("stay") / n1  # the share of what is not the first key
    p2 = current["label"].count("stay") / n2
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    assert label.method == "z"
    assert label.value == pytest.approx(2 * (1 - stats.norm.cdf(abs(z))), rel=1e-12)
    assert label.drifted

    intent = report["intent"]
    keys = sorted(set(reference["intent"]))
    observed = [current["intent"].count(k) for k in keys]
    expected_counts = [reference["intent"].count(k) * n2 / n1 for k in keys]
    assert intent.method == "chisquare"
    assert intent.value == pytest.approx(stats.chisquare(observed, expected_counts).pvalue)
    assert intent.drifted is bool(intent.value < 0.05)


def test_the_length_of_llm_answers_drifts_as_a_numeric_column() -> None:
    reference = {"answer": answers(700, 6, seed=1)}
    current = {"answer": answers(400, 9, seed=2)}
    report = Monitor(reference, lengths=["answer"]).drift(current)
    assert [f.column for f in report.columns] == ["answer", "answer.length"]
    length = report["answer.length"]
    expected = stats.ks_2samp(
        [len(a) for a in reference["answer"]], [len(a) for a in current["answer"]]
    )
    assert (length.kind, length.method) == ("numeric", "ks")
    assert (length.value, length.effect) == (expected.pvalue, expected.statistic)
    assert length.drifted
    profile = report.reference.columns["answer.length"]
    assert profile.mean == pytest.approx(np.mean([len(a) for a in reference["answer"]]))


def test_windows_take_the_references_lengths_and_keep_them_through_merge_and_save(
    tmp_path: Path,
) -> None:
    reference = Profile.build({"answer": ["yes", "no", None, "maybe"]}, lengths=["answer"])
    window = Profile.build({"answer": ["okay", "", "sure thing"]}, reference=reference)
    assert window.lengths == ("answer",)
    length = window.columns["answer.length"]
    assert (length.count, length.nulls, length.minimum, length.maximum) == (3, 1, 4, 10)
    merged = reference.merge(window)
    assert merged.lengths == ("answer",) and merged.columns["answer.length"].count == 7
    loaded = Profile.load(merged.save(tmp_path / "answers.profile.json"))
    assert loaded.lengths == ("answer",)
    assert loaded.columns["answer.length"].quantiles.weighted()[0].tolist() == [2, 3, 4, 5, 10]


def test_a_length_of_an_unknown_column_is_a_named_error() -> None:
    with pytest.raises(
        ProfileError, match=r"lengths=\['answr'\]: no such column in .*; its columns are answer"
    ):
        Profile.build({"answer": ["a", "b"]}, lengths=["answr"])
    profile = Profile.build({"answer": ["a", "b"]})
    with pytest.raises(DriftMethodError, match=r"the reference profile has no text lengths"):
        Monitor(profile, lengths=["answer"])


@pytest.mark.parametrize("distinct", [12, 3000], ids=["dictionary-encoded", "plain-strings"])
def test_the_cli_tests_answer_lengths_from_csv_files(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    distinct: int,
) -> None:
    """Few distinct answers are dictionary-encoded by the CSV reader, many are plain
    strings: the lengths are the same either way."""
    monkeypatch.chdir(tmp_path)
    pool_ref, pool_cur = answers(distinct, 5, seed=3), answers(distinct, 8, seed=4)
    rng = np.random.default_rng(5)
    # over 1,000 reference values (Wasserstein), under k = 2048 (exact sketches)
    ref = [pool_ref[i] for i in rng.integers(0, distinct, 1500)]
    cur = [pool_cur[i] for i in rng.integers(0, distinct, 1200)]
    for name, rows in (("ref.csv", ref), ("cur.csv", cur)):
        Path(name).write_text("answer\n" + "".join(f'"{a}"\n' for a in rows))
    code = main(["monitor", "drift", "ref.csv", "cur.csv", "--length", "answer", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    length = json.loads(out)["columns"][1]
    assert (length["column"], length["kind"], length["method"]) == (
        "answer.length",
        "numeric",
        "wasserstein",
    )
    expected = stats.wasserstein_distance([len(a) for a in ref], [len(a) for a in cur]) / np.std(
        [len(a) for a in ref]
    )
    assert length["value"] == pytest.approx(expected, rel=1e-12) and length["drifted"]
