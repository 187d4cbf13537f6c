"""Multivariate drift (issue 20): MMD over the rows of all numeric columns, on seeded,
mergeable row samples; checked against a small exact computation."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest

from modelops_core import Monitor, Profile
from modelops_core.cli.main import main
from modelops_core.monitoring.errors import DriftMethodError
from modelops_core.monitoring.methods import mmd_test
from modelops_core.monitoring.profile import merge_all


def brute_force_mmd(
    reference: list[list[float]], current: list[list[float]]
) -> tuple[float, float]:
    """(exact permutation p-value, biased MMD²) with plain loops: columns scaled by the pooled
    standard deviation, Gaussian kernel with the median squared distance as bandwidth."""
    pooled = reference + current
    columns = list(zip(*pooled, strict=True))
    scales = []
    for column in columns:
        mean = sum(column) / len(column)
        std = math.sqrt(sum((v - mean) ** 2 for v in column) / len(column))
        scales.append(std if std > 0 else 1.0)
    rows = [[v / s for v, s in zip(row, scales, strict=True)] for row in pooled]
    distance = [[sum((a - b) ** 2 for a, b in zip(x, y, strict=True)) for y in rows] for x in rows]
    positive = sorted(d for line in distance for d in line if d > 0)
    middle = len(positive) // 2
    bandwidth = (
        positive[middle] if len(positive) % 2 else (positive[middle - 1] + positive[middle]) / 2
    )
    kernel = [[math.exp(-d / bandwidth) for d in line] for line in distance]

    def mmd2(first: tuple[int, ...]) -> float:
        second = [i for i in range(len(rows)) if i not in first]

        def mean_kernel(a: list[int] | tuple[int, ...], b: list[int] | tuple[int, ...]) -> float:
            return sum(kernel[i][j] for i in a for j in b) / (len(a) * len(b))

        return (
            mean_kernel(first, first) + mean_kernel(second, second) - 2 * mean_kernel(first, second)
        )

    observed = mmd2(tuple(range(len(reference))))
    splits = list(itertools.combinations(range(len(rows)), len(reference)))
    extreme = sum(mmd2(split) >= observed - 1e-12 for split in splits)
    return extreme / len(splits), observed


def test_mmd_equals_a_small_exact_computation() -> None:
    rng = np.random.default_rng(12)
    reference = rng.normal(0, 1, (5, 3)).round(3)
    current = (rng.normal(0.8, 1, (4, 3)) * [1, 2, 0.5]).round(3)
    p_value, statistic = mmd_test(reference, current, seed=0)  # C(9, 5) = 126 splits: exact
    expected_p, expected_statistic = brute_force_mmd(reference.tolist(), current.tolist())
    assert statistic == pytest.approx(expected_statistic, rel=1e-12)
    assert p_value == pytest.approx(expected_p, rel=1e-12)
    assert round(expected_p * 126) == round(p_value * 126)  # a count of splits, not an estimate


def correlated(n: int, rho: float, seed: int) -> dict[str, list[float]]:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, n)
    y = rho * x + math.sqrt(1 - rho**2) * rng.normal(0, 1, n)
    return {"x": x.round(4).tolist(), "y": y.round(4).tolist()}


def test_rows_drift_when_the_columns_alone_do_not(tmp_path: Path) -> None:
    """The same marginals, a new correlation: no column drifts, the rows do."""
    reference, current = correlated(2000, 0.0, seed=1), correlated(2000, 0.9, seed=2)
    report = Monitor(reference, multivariate="mmd", seed=4).drift(current)
    assert [(c.column, c.drifted) for c in report.columns] == [("x", False), ("y", False)]
    rows = report.rows
    assert rows is not None
    assert (rows.column, rows.method, rows.threshold) == ("rows of x, y", "mmd", 0.05)
    assert rows.value == pytest.approx(1 / 201) and rows.drifted
    assert rows.notes[0].endswith("on 500 and 500 sampled rows")
    assert report.to_dict()["multivariate"]["drifted"] is True
    same = Monitor(reference, multivariate="mmd", seed=4).drift(correlated(2000, 0.0, seed=3))
    assert same.rows is not None and not same.rows.drifted
    again = Monitor(reference, multivariate="mmd", seed=4).drift(current)
    assert again.rows == rows  # seeded
    html = report.write_html(Path(tmp_path) / "drift.html").read_text()
    assert '<p class="meta" data-multivariate="true">multivariate: mmd on the rows of x, y' in html
    assert html.index('<table class="summary"') < html.index("data-multivariate")
    assert html.index("data-multivariate") < html.index('<div class="plots">')


def test_the_row_sample_of_a_union_is_the_merge_of_the_samples() -> None:
    data = correlated(3000, 0.5, seed=7)
    data["x"][10] = None  # type: ignore[call-overload]
    whole = Profile.build(data, sample_rows=300, chunk_rows=700)
    parts = [
        Profile.build({k: v[start : start + 500] for k, v in data.items()}, sample_rows=300)
        for start in range(0, 3000, 500)
    ]
    for merged in (merge_all(parts), merge_all(parts[::-1])):
        assert merged.sample is not None and whole.sample is not None
        assert np.array_equal(merged.sample.values, whole.sample.values, equal_nan=True)
        assert np.array_equal(merged.sample.priorities, whole.sample.priorities)
    assert whole.sample.values.shape == (300, 2)
    other_seed = Profile.build(data, sample_rows=300, seed=1).sample
    assert other_seed is not None and not np.array_equal(other_seed.values, whole.sample.values)


def test_bad_multivariate_requests_are_named_errors() -> None:
    with pytest.raises(DriftMethodError, match="the reference profile has none; build it"):
        Monitor(Profile.build({"x": [1.0, 2.0]}), multivariate="mmd")
    with pytest.raises(DriftMethodError, match="the multivariate method is 'mmd'"):
        Monitor({"x": [1.0, 2.0]}, multivariate="energy")


def test_the_cli_reports_multivariate_drift(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, rho, seed in (("ref.csv", 0.0, 1), ("cur.csv", 0.9, 2)):
        data = correlated(1500, rho, seed)
        rows = zip(data["x"], data["y"], strict=True)
        Path(name).write_text("x,y\n" + "".join(f"{x},{y}\n" for x, y in rows))
    code = main(["monitor", "profile", "ref.csv", "-o", "ref.profile.json", "--sample-rows", "500"])
    assert code == 0 and "profiled 1500 rows, 2 columns" in capsys.readouterr().out
    for reference in ("ref.csv", "ref.profile.json"):
        code = main(["monitor", "drift", reference, "cur.csv", "--multivariate", "mmd", "--json"])
        out, err = capsys.readouterr()
        assert code == 0, err
        rows = json.loads(out)["multivariate"]
        assert (rows["column"], rows["method"], rows["drifted"]) == ("rows of x, y", "mmd", True)
    code = main(["monitor", "drift", "ref.csv", "cur.csv", "--multivariate", "mmd"])
    assert "multivariate mmd on the rows of x, y: 0.004975 (drifted)" in capsys.readouterr().out


def test_identical_constant_samples_tie_with_every_permutation() -> None:
    """Every permuted statistic equals the observed one (up to rounding): p = 1, not 1/201."""
    p_value, statistic = mmd_test(np.zeros((30, 1)), np.zeros((30, 1)), seed=1)
    assert p_value == 1.0 and abs(statistic) < 1e-12
