"""Drift: the values are scipy's (as Evidently computes them), the automatic rule is
Evidently's, and what Evidently lacks (effect floor, Benjamini-Hochberg, schema findings,
notes on bad input) works; drifted columns raise ``modelops_on_alert``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import distance

from modelops_core import Monitor, Profile, hookimpl
from modelops_core.monitoring.drift import automatic_method, benjamini_hochberg
from modelops_core.monitoring.errors import DriftMethodError
from modelops_core.testing.fixtures import make_runtime

RNG = np.random.default_rng(20261207)
REF_SMALL = RNG.normal(0, 1, 800)
CUR_SMALL = RNG.normal(0.2, 1.1, 600)
REF_LARGE = RNG.normal(5, 2, 2000)  # over 1,000: distances; up to k = 2048: exact sketches
CUR_LARGE = RNG.normal(5.5, 2, 1500)
CATS_REF = RNG.choice(list("abcd"), 900, p=[0.4, 0.3, 0.2, 0.1])
CATS_CUR = RNG.choice(list("abcde"), 700, p=[0.3, 0.3, 0.2, 0.1, 0.1])


def _drift(reference: Any, current: Any, **options: Any) -> Any:
    return Monitor({"x": list(reference)}, **options).drift({"x": list(current)})["x"]


def _sketch_quantiles(values: Any, size: int) -> Any:
    """``size`` evenly spaced quantiles of the column's sketch, as a drift method takes them."""
    fractions = (np.arange(size) + 0.5) / size
    return Profile.build({"x": list(values)}).columns["x"].quantiles.quantiles(fractions)


def test_ks_is_scipys_ks_2samp() -> None:
    finding = _drift(REF_SMALL, CUR_SMALL)
    expected = stats.ks_2samp(REF_SMALL, CUR_SMALL)
    assert (finding.method, finding.threshold) == ("ks", 0.05)
    assert finding.value == expected.pvalue and finding.effect == expected.statistic
    assert finding.drifted is bool(expected.pvalue < 0.05)


def test_wasserstein_is_scipys_distance_normed_by_the_reference_std() -> None:
    finding = _drift(REF_LARGE, CUR_LARGE)
    expected = stats.wasserstein_distance(REF_LARGE, CUR_LARGE) / np.std(REF_LARGE)
    assert (finding.method, finding.threshold) == ("wasserstein", 0.1)
    assert finding.value == pytest.approx(expected, rel=1e-12)
    assert finding.drifted is bool(expected >= 0.1)


def test_sketched_columns_stay_within_half_a_percent_of_scipy() -> None:
    rng = np.random.default_rng(4)
    reference, current = rng.normal(0, 1, 100_000), rng.normal(0.3, 1.2, 80_000)
    finding = _drift(reference, current)
    expected = stats.wasserstein_distance(reference, current) / np.std(reference)
    assert finding.method == "wasserstein" and finding.value != expected
    assert finding.value == pytest.approx(expected, rel=5e-3)
    ks = _drift(reference, current, method="ks")
    assert ks.effect == pytest.approx(stats.ks_2samp(reference, current).statistic, abs=0.005)


@pytest.mark.parametrize("shift", [0.0, 0.02, 0.3])
def test_wasserstein_of_large_columns_is_within_a_fifth_of_a_percent_of_scipy(
    shift: float,
) -> None:
    """Undrifted columns too: their distance is about 1 / sqrt(n) of the std, finer than the
    quantile sketches' rank error (their values were off by up to 40 % at 10^6 rows); the
    grid histograms give it within 0.2 % (measured 0.13 % at most on 10^5 and 10^6 rows)."""
    rng = np.random.default_rng(17)
    reference = rng.normal(10, 2, 150_000).round(4)
    current = rng.normal(10 + shift, 2, 120_000).round(4)
    finding = _drift(reference, current)
    expected = stats.wasserstein_distance(reference, current) / np.std(reference)
    assert finding.method == "wasserstein" and finding.notes == ()
    assert finding.value == pytest.approx(expected, rel=2e-3)
    # a profile saved before grids (and tails) existed: the distance comes from the sketches
    saved = Profile.build({"x": reference}).to_dict()
    for key in ("grid", "tails", "magnitudes"):
        del saved["columns"][0][key]
    old = Monitor(Profile.from_dict(saved)).drift({"x": current})["x"]
    assert old.notes == ("from the quantile sketches (within their rank error)",)
    assert old.value == pytest.approx(expected, rel=0.02 if shift > 0.1 else 0.5)


def _ratings(rng: np.random.Generator, size: int, levels: int) -> Any:
    return rng.integers(1, levels + 1, size)  # numpy int64: an integer column in pandas


def test_an_integer_column_with_at_most_ten_values_is_categorical_as_in_evidently() -> None:
    """Evidently types a pandas integer column with at most 10 distinct values in the current
    data as categorical (``INTEGER_CARDINALITY_LIMIT``), so its ratings from 1 to 8 get
    Jensen-Shannon over one bin per value (chi-square with a small reference), where any
    other numeric column with more than 5 values gets Wasserstein (KS)."""
    rng = np.random.default_rng(41)
    reference, current = _ratings(rng, 5000, 12), _ratings(rng, 3000, 8)
    finding = Monitor({"r": reference}).drift({"r": current})["r"]
    values = np.union1d(reference, current)
    shares = [np.array([np.mean(side == v) for v in values]) for side in (reference, current)]
    assert finding.method == "jensenshannon"
    assert finding.value == pytest.approx(distance.jensenshannon(*shares), rel=1e-12)
    small = Monitor({"r": reference[:800]}).drift({"r": current})["r"]
    assert small.method == "chisquare"
    # the same numbers as floats, with a null, or with 11 values: numeric, as in Evidently
    as_floats = Monitor({"r": reference}).drift({"r": current.astype(float)})["r"]
    with_null = Monitor({"r": reference}).drift({"r": [*current.tolist(), None]})["r"]
    eleven = Monitor({"r": reference}).drift({"r": _ratings(rng, 3000, 11)})["r"]
    assert as_floats.method == with_null.method == eleven.method == "wasserstein"
    # Python ints and pandas, and merged windows, are integer columns too
    assert Monitor({"r": reference}).drift({"r": current.tolist()})["r"].method == "jensenshannon"
    windows = [Profile.build({"r": part}) for part in np.array_split(current, 3)]
    merged = windows[0].merge(windows[1]).merge(windows[2])
    assert merged.columns["r"].integers == 3000
    assert Monitor({"r": reference}).drift(merged)["r"].value == finding.value


def test_integer_columns_of_a_csv_file_keep_their_type(tmp_path: Path) -> None:
    """Arrow reads a CSV column of integers as integers, as pandas does; one empty cell makes
    it floats in both; a saved profile keeps the count, one saved before it has none."""
    path = tmp_path / "data.csv"
    path.write_text("n,m\n" + "".join(f"{i % 7},{i % 5 if i != 3 else ''}\n" for i in range(500)))
    profile = Profile.build(path)
    n, m = profile.columns["n"], profile.columns["m"]
    assert (n.integers, n.count, m.integers, m.nulls) == (500, 500, 0, 1)
    saved = profile.to_dict()
    assert Profile.from_dict(saved).columns["n"].integers == 500
    del saved["columns"][0]["integers"]
    assert Profile.from_dict(saved).columns["n"].integers == 0


def test_wasserstein_of_a_large_column_against_itself_is_zero() -> None:
    """The grids' CDFs agree at every edge: each bin's area is 0 (not 0 / 0)."""
    values = np.random.default_rng(44).normal(10, 2, 10_000).round(3)
    finding = _drift(values, values)
    assert (finding.method, finding.value, finding.notes) == ("wasserstein", 0.0, ())


def _heavy_tailed(name: str, rng: np.random.Generator, size: int, shift: float) -> Any:
    if name == "pareto":  # incomes, file sizes: tail index 1.5 (no finite variance)
        return rng.pareto(1.5, size) * (1 + shift)
    if name == "lognormal":  # prices, latencies
        return rng.lognormal(shift, 2, size)
    if name == "student-t":  # returns: both signs, two degrees of freedom
        return rng.standard_t(2, size) + shift
    return rng.standard_cauchy(size) + shift


@pytest.mark.parametrize("shift", [0.0, 0.1])
@pytest.mark.parametrize("name", ["pareto", "lognormal", "student-t", "cauchy"])
def test_wasserstein_of_heavy_tailed_columns_is_within_one_percent_of_scipy(
    name: str, shift: float
) -> None:
    """A few large values make the even grid too coarse for the bulk; the quantile sketch and
    the exact tails were 2 % to 150 % off at 10^5 rows (Pareto: 0.0066 where scipy says
    0.0027). Bins of even width in log2 |x| are as fine near zero as at the top: within 1 %."""
    rng = np.random.default_rng(31)
    reference = _heavy_tailed(name, rng, 100_000, 0.0)
    current = _heavy_tailed(name, rng, 75_000, shift)
    expected = stats.wasserstein_distance(reference, current) / np.std(reference, ddof=1)
    finding = Monitor({"x": reference}).drift({"x": current})["x"]
    assert finding.method == "wasserstein" and finding.notes == ()
    assert finding.value == pytest.approx(expected, rel=0.01)
    # the same from windows merged and from a saved reference
    windows = [Profile.build({"x": part}) for part in np.array_split(current, 5)]
    merged = windows[0]
    for window in windows[1:]:
        merged = merged.merge(window)
    saved = Profile.from_dict(Profile.build({"x": reference}).to_dict())
    assert Monitor(saved).drift(merged)["x"].value == pytest.approx(finding.value, rel=1e-9)


def test_a_reference_saved_before_magnitude_grids_falls_back_to_the_tails() -> None:
    rng = np.random.default_rng(32)
    reference, current = rng.pareto(1.5, 20_000), rng.pareto(1.5, 15_000) * 1.1
    saved = Profile.build({"x": reference}).to_dict()
    del saved["columns"][0]["magnitudes"]
    old = Profile.from_dict(saved)
    assert not old.columns["x"].magnitudes.known
    assert not old.merge(Profile.build({"x": current})).columns["x"].magnitudes.known
    finding = Monitor(old).drift({"x": current})["x"]
    assert finding.notes == (
        "from the quantile sketches (within their rank error) and the exact tails",
    )


@pytest.mark.parametrize("outlier", [1e4, 1e5, 1e6])
def test_a_few_outliers_count_in_full_in_the_wasserstein_distance(outlier: float) -> None:
    """One value of 10^6 in 5,000 of N(0, 100) is a distance of 2.0 (scipy, Evidently): it makes
    the grid too coarse, and the quantile sketch alone kept none of it (0.026, no drift). The
    64 smallest and largest values of each side count exactly."""
    rng = np.random.default_rng(23)
    reference, current = rng.normal(0, 100, 5000), rng.normal(0, 100, 5000)
    current[[10, 20]] = [outlier, -outlier / 2]
    expected = stats.wasserstein_distance(reference, current) / np.std(reference)
    finding = _drift(reference, current)
    assert finding.notes == (
        "from the quantile sketches (within their rank error) and the exact tails",
    )
    assert finding.value == pytest.approx(expected, rel=5e-3)
    assert finding.drifted is bool(expected >= 0.1)
    # the same from a current profile merged from windows, and from a saved reference
    windows = [Profile.build({"x": part}) for part in np.array_split(current, 7)]
    merged = windows[0]
    for window in windows[1:]:
        merged = merged.merge(window)
    saved = Profile.from_dict(Profile.build({"x": reference}).to_dict())
    assert Monitor(saved).drift(merged)["x"].value == pytest.approx(expected, rel=5e-3)


@pytest.mark.parametrize(
    ("key", "damaged"),
    [
        ("tails", {"low": [2.0, 1.0], "high": [3.0, 4.0]}),  # not ascending
        ("tails", {"low": [float("nan")], "high": [1.0]}),
        ("tails", {"low": [1.0], "high": [1.0, 2.0]}),  # ends of different lengths
        ("tails", {"low": list(range(65)), "high": list(range(65))}),
        ("magnitudes", {"negative": {"exponent": -7, "start": 0, "counts": [-1]}, "zeros": 0,
                        "positive": {"exponent": -7, "start": 0, "counts": [1]}}),
        ("magnitudes", {"negative": {"exponent": -7, "start": 0, "counts": []}, "zeros": -2,
                        "positive": {"exponent": -7, "start": 0, "counts": [1]}}),
        ("magnitudes", {"negative": {"exponent": -7, "start": 0, "counts": [1] * 4097},
                        "zeros": 0, "positive": {"exponent": -7, "start": 0, "counts": []}}),
        ("magnitudes", {"zeros": 0, "positive": {"exponent": -7, "start": 0, "counts": [1]}}),
    ],
)  # fmt: skip
def test_a_saved_profile_with_damaged_tails_or_magnitudes_is_a_named_error(
    tmp_path: Path, key: str, damaged: dict[str, Any]
) -> None:
    from modelops_core.monitoring.errors import ProfileError

    data = Profile.build({"x": np.arange(5000.0)}).to_dict()
    data["columns"][0][key] = damaged
    path = tmp_path / "ref.profile.json"
    path.write_text(json.dumps(data))
    named = "tails" if key == "tails" else "magnitude|negative"
    with pytest.raises(ProfileError, match=f"ref.profile.json: a damaged profile .*({named})"):
        Profile.load(path)


def test_a_column_keeps_its_smallest_and_largest_values_exactly() -> None:
    values = np.random.default_rng(5).permutation(np.arange(10_000.0))
    column = Profile.build({"x": values}, chunk_rows=1000).columns["x"]
    assert column.tails.low.tolist() == list(range(64)) and column.tails.known
    assert column.tails.high.tolist() == list(range(10_000 - 64, 10_000))
    small = Profile.build({"x": [3.0, 1.0, 2.0]}).columns["x"]
    assert small.tails.low.tolist() == small.tails.high.tolist() == [1.0, 2.0, 3.0]


def test_chi_square_is_scipys_with_evidentlys_expected_counts() -> None:
    finding = _drift(CATS_REF, CATS_CUR)
    keys = sorted(set(CATS_REF) | set(CATS_CUR))
    observed = [int(np.sum(k == CATS_CUR)) for k in keys]
    expected = [int(np.sum(k == CATS_REF)) * len(CATS_CUR) / len(CATS_REF) for k in keys]
    assert finding.method == "chisquare"
    assert finding.value == stats.chisquare(observed, expected).pvalue == 0.0
    assert finding.drifted is True  # "e" is new: an infinite statistic


def test_jensen_shannon_of_categories_is_scipys() -> None:
    reference = np.concatenate([CATS_REF, CATS_REF])  # 1,800 values: the large-sample rule
    finding = _drift(reference, CATS_CUR)
    keys = sorted(set(reference) | set(CATS_CUR))
    ref = [np.mean(reference == k) for k in keys]
    cur = [np.mean(k == CATS_CUR) for k in keys]
    assert finding.method == "jensenshannon"
    assert finding.value == pytest.approx(distance.jensenshannon(ref, cur), rel=1e-12)


def test_a_binary_column_uses_the_two_proportion_z_test() -> None:
    reference, current = ["y"] * 60 + ["n"] * 40, ["y"] * 45 + ["n"] * 55
    finding = _drift(reference, current)
    p1, p2, pooled = 0.6, 0.45, 105 / 200  # shares of "y" (not the first key "n")
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1 / 100 + 1 / 100))
    assert finding.method == "z"
    assert finding.value == pytest.approx(2 * (1 - stats.norm.cdf(abs(z))), rel=1e-12)
    assert finding.effect == pytest.approx(0.15)


def test_anderson_darling_psi_and_hellinger_by_name() -> None:
    anderson = _drift(REF_SMALL, CUR_SMALL, method="anderson")
    expected = stats.anderson_ksamp([REF_SMALL, CUR_SMALL]).pvalue
    assert anderson.value == pytest.approx(expected, rel=1e-12)
    bins = np.histogram_bin_edges(np.concatenate([REF_LARGE, CUR_LARGE]), bins="sturges")
    ref = np.histogram(REF_LARGE, bins)[0] / len(REF_LARGE)
    cur = np.histogram(CUR_LARGE, bins)[0] / len(CUR_LARGE)
    hellinger = _drift(REF_LARGE, CUR_LARGE, method="hellinger")
    assert hellinger.value == pytest.approx(np.sqrt(1 - np.sum(np.sqrt(ref * cur))), rel=1e-9)
    ref[ref == 0], cur[cur == 0] = 0.0001, 0.0001
    psi = _drift(REF_LARGE, CUR_LARGE, method="psi")
    assert psi.value == pytest.approx(float(np.sum((ref - cur) * np.log(ref / cur))), rel=1e-9)


def test_psi_gives_empty_bins_evidentlys_small_share() -> None:
    """Evidently's rule: an empty bin gets the side's smallest share / 10^6 when that share is
    at most 0.0001 (here exactly 0.0001), else 0.0001."""
    finding = _drift(["a"] * 9999 + ["b"], ["a"] * 150 + ["c"] * 50, method="psi")
    ref = np.array([0.9999, 0.0001, 0.0001 / 10**6])  # keys a, b, c
    cur = np.array([0.75, 0.0001, 0.25])
    assert finding.value == pytest.approx(float(np.sum((ref - cur) * np.log(ref / cur))), rel=1e-12)


def test_a_one_value_window_is_binned_with_its_one_value() -> None:
    finding = _drift(REF_LARGE, [5.0], method="hellinger")
    bins = np.histogram_bin_edges(np.append(REF_LARGE, 5.0), bins="sturges")
    ref = np.histogram(REF_LARGE, bins)[0] / len(REF_LARGE)
    cur = np.histogram([5.0], bins)[0] / 1
    assert finding.value == pytest.approx(np.sqrt(1 - np.sum(np.sqrt(ref * cur))), rel=1e-9)
    assert "only 1 values in the current data: the test has little power" in finding.notes


def test_anderson_darling_is_scipys_on_the_values_then_on_2048_quantiles() -> None:
    rng = np.random.default_rng(2)
    reference, current = rng.normal(0, 1, 600), rng.normal(0.04, 1, 500)
    expected = stats.anderson_ksamp([reference, current]).pvalue
    assert 0.001 < expected < 0.25  # not one of scipy's caps: a different sample would show
    exact = _drift(reference, current, method="anderson")
    assert exact.value == pytest.approx(expected, rel=1e-12) and exact.notes == ()
    rng = np.random.default_rng(0)
    reference, current = rng.normal(0, 1, 5000), rng.normal(0.03, 1, 5000)  # beyond k = 2048
    quantiles = [_sketch_quantiles(side, 2048) for side in (reference, current)]
    expected = stats.anderson_ksamp(quantiles).pvalue
    assert 0.001 < expected < 0.25
    sketched = _drift(reference, current, method="anderson")
    assert sketched.value == pytest.approx(expected, rel=1e-12)
    assert sketched.notes == ("on 2048 quantiles of each sketch",)


def test_the_z_test_of_three_values_compares_the_first_in_sorted_order() -> None:
    reference = ["b"] * 30 + ["a"] * 50 + ["c"] * 20
    current = ["c"] * 40 + ["a"] * 35 + ["b"] * 25
    finding = _drift(reference, current, method="z")
    p1, p2 = 0.5, 0.65  # shares of the values that are not "a"
    pooled = (p1 * 100 + p2 * 100) / 200
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1 / 100 + 1 / 100))
    assert finding.value == pytest.approx(2 * (1 - stats.norm.cdf(abs(z))), rel=1e-12)
    assert "3 values: the Z-test compares the first" in finding.notes


def test_identifiers_and_free_text_are_not_tested_as_categories() -> None:
    """A column whose values hardly repeat (over half of them distinct on both sides:
    Evidently's rule for text) gets no category test, which would flag every window (its
    categories never meet: Jensen-Shannon 0.83 on user ids); Evidently runs its text drift
    there and finds none. A method named explicitly still runs."""
    rng = np.random.default_rng(42)
    reference = [f"u{n}" for n in rng.integers(0, 10**9, 30_000)]  # over the 10,000 cap
    current = [f"u{n}" for n in rng.integers(0, 10**9, 2_000)]
    report = Monitor({"user": reference, "plan": ["a", "b"] * 15_000}).drift(
        {"user": current, "plan": ["a"] * 2_000}
    )
    user = report["user"]
    assert (user.method, user.value, user.drifted) == ("none", None, False)
    assert "text or identifiers" in user.notes[0] and "--length user" in user.notes[0]
    assert report.share_drifted == 0.5  # plan drifted, user not
    named = _drift(reference[:3000], current, method="jensenshannon")
    assert named.method == "jensenshannon" and named.drifted
    # a window of mostly distinct values of a column with few categories is still tested
    cities = [f"c{i % 40}" for i in range(4000)]
    window = Monitor({"city": cities}).drift({"city": [f"c{i}" for i in range(12)]})["city"]
    assert window.method == "jensenshannon"


def test_categories_are_binned_one_per_value_however_many_there_are() -> None:
    rng = np.random.default_rng(8)
    names = [f"c{i:02d}" for i in range(25)]  # more than the 20 values of numeric bins
    reference, current = rng.choice(names, 3000), rng.choice(names[:20], 1000)
    finding = _drift(reference, current, method="jensenshannon")
    ref = [np.mean(reference == name) for name in names]
    cur = [np.mean(current == name) for name in names]
    assert finding.value == pytest.approx(distance.jensenshannon(ref, cur), rel=1e-12)
    one = _drift(reference, ["c03"], method="hellinger")  # a one-value window
    assert one.value == pytest.approx(np.sqrt(1 - np.sqrt(ref[3])), rel=1e-12)


def test_chi_square_reports_the_total_variation_distance_as_its_effect() -> None:
    reference = ["a"] * 600 + ["b"] * 300 + ["c"] * 100
    current = ["a"] * 200 + ["b"] * 200 + ["c"] * 100
    finding = _drift(reference, current, method="chisquare")
    assert finding.effect == pytest.approx(0.5 * (0.2 + 0.1 + 0.1), rel=1e-12)


def test_hellinger_of_identical_shares_is_zero_whatever_their_float_sum() -> None:
    """Shares 9/28, 9/28, 9/28 and 1/28 sum to 1 + 2e-16 in floats: the overlap is capped at
    1, so the distance is 0, not the square root of a negative number."""
    from modelops_core.monitoring.methods import _fill_zeroes

    values = ["a"] * 9 + ["b"] * 9 + ["c"] * 9 + ["d"]
    shares = np.array([9, 9, 9, 1]) / 28
    assert np.sum(np.sqrt(shares * shares)) > 1.0
    assert _drift(values, values, method="hellinger").value == 0.0
    assert _fill_zeroes(np.zeros(3)).tolist() == [0.0, 0.0, 0.0]


def test_mmd_is_seeded_with_zero_by_default() -> None:
    from modelops_core.monitoring.methods import mmd_test

    rng = np.random.default_rng(6)
    reference, current = rng.normal(0, 1, (600, 2)), rng.normal(0.1, 1, (600, 2))
    assert mmd_test(reference, current) == mmd_test(reference, current, seed=0)
    assert mmd_test(reference, current) != mmd_test(reference, current, seed=1)


def test_the_jensen_shannon_distance_normalizes_counts_as_scipy_does() -> None:
    from modelops_core.monitoring.methods import jensen_shannon_distance

    p, q = np.array([1.0, 2.0, 3.0, 0.0]), np.array([6.0, 2.0, 1.0, 1.0])
    assert jensen_shannon_distance(p, q) == pytest.approx(distance.jensenshannon(p, q), rel=1e-12)


def test_a_one_value_reference_is_its_one_value() -> None:
    finding = _drift(["a"], ["a", "b"], method="hellinger")  # shares (1, 0) and (0.5, 0.5)
    assert finding.value == pytest.approx(np.sqrt(1 - np.sqrt(0.5)), rel=1e-12)


def test_chi_square_says_when_expected_counts_are_small() -> None:
    small = _drift(["a"] * 97 + ["b"] * 3, ["a"] * 90 + ["b"] * 10, method="chisquare")
    assert "some expected counts are below 5: the chi-square p-value is rough" in small.notes
    large = _drift(CATS_REF, CATS_REF[:500], method="chisquare")
    assert not any("below 5" in note for note in large.notes)


def test_mmd_of_sketched_columns_runs_on_500_quantiles_of_each() -> None:
    from modelops_core.monitoring.methods import mmd_test

    rng = np.random.default_rng(9)
    reference, current = rng.normal(0, 1, 5000), rng.normal(0.05, 1, 4000)  # beyond k = 2048
    quantiles = [_sketch_quantiles(side, 500)[:, None] for side in (reference, current)]
    p_value, _ = mmd_test(*quantiles, seed=4)
    assert _drift(reference, current, method="mmd", seed=4).value == p_value


def test_mmd_is_seeded_and_finds_a_shift() -> None:
    first = _drift(REF_SMALL, REF_SMALL + 1, method="mmd", seed=3)
    again = _drift(REF_SMALL, REF_SMALL + 1, method="mmd", seed=3)
    assert first == again and first.value == pytest.approx(1 / 201) and first.drifted


@pytest.mark.parametrize(
    ("reference", "current", "expected"),
    [
        (list(range(1000)), list(range(10)), "ks"),
        ([1, 2, 3, 4] * 250, [1, 2] * 5, "chisquare"),
        ([0, 1] * 500, [0] * 10, "z"),
        (list(range(1001)), list(range(10)), "wasserstein"),
        ([1, 2, 3] * 400, [1] * 10, "jensenshannon"),
        (["a", "b", "c"] * 400, ["a"] * 10, "jensenshannon"),
        (["a", "b", "c"] * 300, ["a"] * 10, "chisquare"),
    ],
)
def test_the_automatic_rule_is_evidentlys(
    reference: list[Any], current: list[Any], expected: str
) -> None:
    ref = Profile.build({"x": reference}).columns["x"]
    cur = Profile.build({"x": current}).columns["x"]
    assert automatic_method(ref, cur) == expected


def test_a_huge_sample_does_not_flag_a_negligible_effect() -> None:
    rng = np.random.default_rng(1)
    reference, current = rng.normal(0, 1, 200_000), rng.normal(0.03, 1, 200_000)
    floored = _drift(reference, current, method="ks")
    assert floored.value < 1e-10 and floored.effect < 0.05 and not floored.drifted
    assert any("below min_effect 0.05" in note for note in floored.notes)
    assert _drift(reference, current, method="ks", min_effect=0).drifted


def test_benjamini_hochberg_adjusts_across_columns() -> None:
    p_values = [0.01, 0.04, 0.03, 0.2]
    assert benjamini_hochberg(p_values) == pytest.approx(
        list(stats.false_discovery_control(p_values))
    )
    rng = np.random.default_rng(8)
    reference = {f"c{i}": rng.normal(0, 1, 300).tolist() for i in range(10)}
    current = {f"c{i}": rng.normal(0.25 if i == 0 else 0, 1, 300).tolist() for i in range(10)}
    plain = Monitor(reference).drift(current)
    corrected = Monitor(reference, correction="bh").drift(current)
    raw = [plain[f"c{i}"].value for i in range(10)]
    assert [c.p_adjusted for c in corrected.columns] == pytest.approx(benjamini_hochberg(raw))
    assert [c.drifted for c in corrected.columns] == [p < 0.05 for p in benjamini_hochberg(raw)]


def test_schema_drift_is_a_finding_not_a_crash() -> None:
    reference = {"kept": [1.0, 2.0, 3.0], "gone": ["a", "b", "c"], "retyped": [1, 2, 3]}
    current = {"kept": [1.0, 2.0, 3.0], "retyped": ["x", "y", "z"], "new": [1, 2, 3]}
    report = Monitor(reference).drift(current)
    summary = [(c.column, c.method, c.drifted, c.notes[-1]) for c in report.columns]
    assert summary[1:] == [
        ("gone", "schema", True, "missing from the current data"),
        (
            "retyped",
            "schema",
            True,
            "numeric in the reference, categorical now (3 of 3 values are not numbers)",
        ),
        ("new", "schema", True, "a new column: not in the reference"),
    ]
    assert report.share_drifted == 0.75 and report.drifted


def test_bad_values_are_findings_with_notes() -> None:
    reference = {
        "all_null": [None] * 50,
        "emptied": list(range(50)),
        "constant": [7.0] * 50,
    }
    current = {"all_null": [None], "emptied": [None], "constant": [7.0]}
    report = Monitor(reference).drift(current)
    assert (report["all_null"].method, report["all_null"].drifted) == ("none", False)
    assert report["all_null"].notes == ("no values on either side: not tested",)
    assert (report["emptied"].method, report["emptied"].drifted) == ("values", True)
    constant = report["constant"]
    assert (constant.method, constant.value, constant.drifted) == ("z", 1.0, False)
    assert "only 1 values in the current data: the test has little power" in constant.notes
    with_inf = Monitor({"x": [*range(48), float("inf"), float("nan")]}).drift(
        {"x": [float("-inf"), float("-inf"), 1.0]}
    )["x"]
    assert with_inf.method == "ks" and with_inf.value == pytest.approx(
        stats.ks_2samp(range(48), [1.0]).pvalue
    )
    assert "2 infinite values in the current data were left out" in with_inf.notes
    assert "1 infinite values in the reference data were left out" in with_inf.notes


def test_an_unknown_method_is_a_named_error() -> None:
    with pytest.raises(DriftMethodError, match="unknown drift method 'kss'; use one of: auto"):
        Monitor({"x": [1.0]}, method="kss", runtime=make_runtime(Path("."), []))


def test_a_method_that_cannot_test_a_kind_falls_back_with_a_note() -> None:
    finding = _drift(CATS_REF, CATS_CUR, method="ks")
    assert finding.method == "chisquare"
    assert "ks does not test categorical columns: chisquare used" in finding.notes


def test_drifted_columns_raise_alerts(tmp_path: Path) -> None:
    heard: list[tuple[str, str, str]] = []

    class Listener:
        @hookimpl
        def modelops_on_alert(self, name: str, severity: str, details: Any) -> None:
            heard.append((name, severity, details["column"]))

    from modelops_core import builtin

    runtime = make_runtime(tmp_path, [("modelops-core", builtin), ("listener", Listener())])
    Monitor({"a": REF_SMALL.tolist(), "b": REF_SMALL.tolist()}, runtime=runtime).drift(
        {"a": (REF_SMALL + 1).tolist(), "b": REF_SMALL.tolist()}
    )
    assert heard == [("drift.ks", "warning", "a")]


def test_a_drift_report_shows_as_a_table_in_jupyter() -> None:
    report = Monitor({"x": list(REF_SMALL), "<b>": list(CATS_REF[:800])}).drift(
        {"x": list(CUR_SMALL), "<b>": list(CATS_CUR[:600])}
    )
    shown = report._repr_html_()
    ks = report["x"]
    assert shown.startswith(f"<p><b>{'drifted' if report.drifted else 'no drift'}</b>")
    assert f"<td>x</td><td>numeric</td><td>ks</td><td>{ks.value:.4g}</td><td>0.05</td>" in shown
    assert "<td>&lt;b&gt;</td>" in shown and "<td><b></td>" not in shown  # names are escaped
    assert shown.count("<tr>") == 3  # the header and one row per column
