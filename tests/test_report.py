"""The HTML report is self-contained and holds the plots and the values."""

from __future__ import annotations

import re
import xml.dom.minidom

import numpy as np
import pytest

from modelops_core import EvaluationResult, Evaluator, Runtime
from modelops_core.config import parse_config

pytest.importorskip("modelops_metrics", reason="the metric names come from modelops-metrics")


@pytest.fixture
def result():
    runtime = Runtime(parse_config({}, source="test"), environ={})
    rng = np.random.default_rng(0)
    references = rng.integers(0, 2, 300)
    scores = np.clip(references * 0.35 + rng.random(300) * 0.65, 0, 1)
    return Evaluator(["accuracy", "auc_roc"], runtime=runtime, bootstrap=100).evaluate_result(
        (scores > 0.5).astype(int), references, scores=scores,
        groups=rng.choice(["north", "south"], 300), model_id="churn-v2",
    )  # fmt: skip


def test_report_holds_every_plot_as_valid_inline_svg(result, tmp_path):
    path = tmp_path / "report.html"
    html = result.to_html(path)
    assert path.read_text(encoding="utf-8") == html
    charts = re.findall(r'data-chart="(\w+)"', html)
    assert {"roc", "pr", "calibration", "confusion", "groups"} <= set(charts)
    for svg in re.findall(r"<svg.*?</svg>", html, re.DOTALL):
        xml.dom.minidom.parseString(svg)  # well-formed
    assert "<script" not in html and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )


def test_report_shows_the_values_intervals_and_groups(result):
    html = result.to_html()
    low, high = result.intervals["auc_roc"].low, result.intervals["auc_roc"].high
    assert f"{result.auc_roc:.4f}" in html and f"[{low:.4f}, {high:.4f}]" in html
    assert "churn-v2" in html and "north" in html and "south" in html
    assert f"AUC {result.auc_roc:.3f}" in html


def test_roc_polyline_runs_from_the_origin_to_the_top_right(result):
    html = result.to_html()
    roc = re.search(r'data-chart="roc".*?<polyline data-series="[^"]*" points="([^"]+)"', html,
                    re.DOTALL)  # fmt: skip
    points = [tuple(map(float, p.split(","))) for p in roc.group(1).split()]
    (x0, y0), (x1, y1) = points[0], points[-1]
    assert x0 < x1 and y0 > y1  # SVG y grows downwards: (0, 0) bottom-left to (1, 1) top-right


def chart_of(html: str, kind: str) -> str:
    return re.search(rf'<svg[^>]*data-chart="{kind}".*?</svg>', html, re.DOTALL).group(0)


def test_pr_legend_gives_the_average_precision_and_the_prevalence_baseline():
    runtime = Runtime(parse_config({}, source="test"), environ={})
    # ranked: + - + - -  ->  AP = 1/2 * 1/1 + 1/2 * 2/3 = 0.8333, prevalence 2/5
    scores, references = [0.9, 0.8, 0.7, 0.6, 0.5], [1, 0, 1, 0, 0]
    result = Evaluator(["accuracy"], runtime=runtime).evaluate_result(
        [1, 1, 1, 0, 0], references, scores=scores
    )
    assert result.curves["pr"]["average_precision"] == pytest.approx(5 / 6)
    assert result.curves["pr"]["prevalence"] == 0.4
    pr = chart_of(result.to_html(), "pr")
    assert "model (AP 0.833)" in pr and "chance: prevalence 0.400" in pr
    baseline = re.search(r'<line class="baseline"[^>]* y1="([\d.]+)" x2="[\d.]+" y2="([\d.]+)"', pr)
    assert float(baseline.group(1)) == float(baseline.group(2)) == 256 - 0.4 * 228  # y of 0.4
    assert "model (AUC 0.833)" in chart_of(result.to_html(), "roc")  # 5 of 6 pairs ranked right


def test_multiclass_scores_get_one_vs_rest_curves_with_micro_and_macro_averages():
    from modelops_core import AUCROCMetric

    runtime = Runtime(parse_config({}, source="test"), environ={})
    rng = np.random.default_rng(3)
    names = np.array(["billing", "shipping", "technical"])
    actual = rng.integers(0, 3, 400)
    scores = rng.random((400, 3)) + np.eye(3)[actual] * 0.6
    scores /= scores.sum(axis=1, keepdims=True)
    result = Evaluator(["auc_roc"], runtime=runtime).evaluate_result(
        names[scores.argmax(axis=1)], names[actual], scores=scores
    )
    ovr = result.curves["one_vs_rest"]
    per_class = AUCROCMetric(average=None).compute(scores, names[actual])
    assert {e["label"]: e["auc"] for e in ovr["per_class"]} == pytest.approx(per_class)
    assert ovr["macro"]["auc"] == pytest.approx(result.auc_roc)
    pooled = AUCROCMetric().compute(scores.ravel(), np.eye(3, dtype=int)[actual].ravel())
    assert ovr["micro"]["auc"] == pytest.approx(pooled)
    assert [e["support"] for e in ovr["per_class"]] == np.bincount(actual).tolist()

    html = result.to_html()
    roc, pr = chart_of(html, "roc_ovr"), chart_of(html, "pr_ovr")
    assert re.findall(r'<polyline data-series="([^"]+)"', roc) == [
        f"micro average (AUC {ovr['micro']['auc']:.3f})",
        f"macro average (AUC {result.auc_roc:.3f})",
        *[f"{e['label']} (AUC {e['auc']:.3f})"
          for e in sorted(ovr["per_class"], key=lambda e: e["auc"])],
    ]  # fmt: skip
    assert f"micro average (AP {ovr['micro']['average_precision']:.3f})" in pr
    assert "chance (micro): prevalence 0.333" in pr


def test_a_fifty_class_report_draws_the_eight_hardest_classes_and_names_the_rest():
    runtime = Runtime(parse_config({}, source="test"), environ={})
    rng = np.random.default_rng(5)
    names = np.array([f"intent_{i:02d}" for i in range(50)])
    actual = rng.integers(0, 50, 2000)
    scores = rng.random((2000, 50)) + np.eye(50)[actual] * rng.random(50)[actual, None]
    scores /= scores.sum(axis=1, keepdims=True)
    result = Evaluator(["accuracy"], runtime=runtime).evaluate_result(
        names[scores.argmax(axis=1)], names[actual], scores=scores
    )
    hardest = sorted(result.curves["one_vs_rest"]["per_class"], key=lambda e: e["auc"])[:8]
    roc = chart_of(result.to_html(), "roc_ovr")
    drawn = re.findall(r'<polyline data-series="([^"]+) \(AUC', roc)
    assert drawn == ["micro average", "macro average", *[e["label"] for e in hardest]]
    assert "8 of 50 classes drawn: those of lowest AUC" in roc
    assert len(re.findall(r"<tr data-class=", result.to_html())) == 50  # the full table


def test_group_bars_hold_values_of_any_sign_even_when_the_largest_is_zero():
    runtime = Runtime(parse_config({}, source="test"), environ={})

    def negative_error(predictions, references):  # 0 is perfect, below 0 is worse
        return -float(np.mean(np.asarray(predictions) != np.asarray(references)))

    result = Evaluator([negative_error], runtime=runtime).evaluate_result(
        [1, 1, 0, 0, 1, 0, 1, 1], [1, 1, 1, 0, 0, 1, 1, 1],
        groups=["a", "a", "b", "b", "c", "c", "a", "a"],
    )  # fmt: skip
    assert result.per_group["negative_error"] == {"a": 0.0, "b": -0.5, "c": -1.0}
    bars = chart_of(result.to_html(), "groups")  # a ZeroDivisionError before
    widths = {
        g: float(w) for g, w in re.findall(r'data-group="(\w) \(n=\d\)"[^>]*width="([\d.]+)"', bars)
    }
    zero = float(re.search(r'<line class="zero" x1="([\d.]+)"', bars).group(1))
    starts = dict(re.findall(r'data-group="(\w) \(n=\d\)"[^>]*x="([\d.]+)"', bars))
    assert widths == {"a": 0.0, "b": 100.0, "c": 200.0}  # 200 px span from -1 to 0
    assert float(starts["c"]) == pytest.approx(zero - 200, abs=0.1)
    assert float(starts["b"]) == pytest.approx(zero - 100, abs=0.1)


def test_group_bars_carry_each_groups_own_interval_and_say_which_way_is_better(tmp_path):
    runtime = Runtime(parse_config({}, source="test"), environ={})
    rng = np.random.default_rng(1)
    references = rng.integers(0, 2, 400)
    scores = np.clip(references * 0.3 + rng.random(400) * 0.7, 0.01, 0.99)
    groups = rng.choice(["north", "south"], 400)
    evaluator = Evaluator(["accuracy", "log_loss"], runtime=runtime, bootstrap=200, seed=4)
    predictions = (scores > 0.5).astype(int)
    result = evaluator.evaluate_result(predictions, references, scores=scores, groups=groups)

    north = groups == "north"  # the group evaluated on its own: the same interval
    alone = evaluator.evaluate_result(predictions[north], references[north], scores=scores[north])
    assert result.group_intervals["accuracy"]["north"] == alone.intervals["accuracy"]
    assert result.group_intervals["log_loss"]["north"] == alone.intervals["log_loss"]

    html = result.to_html()
    for metric, note in (("accuracy", "higher is better"), ("log_loss", "lower is better")):
        bars = re.search(rf'<svg[^>]*data-chart="groups"[^>]*><title>{metric} by group.*?</svg>',
                         html, re.DOTALL).group(0)  # fmt: skip
        assert f"{note} · bars show the 95% interval" in bars
        for group in ("north", "south"):
            interval = result.group_intervals[metric][group]
            bar = f'data-group="{group} (n={result.group_sizes[group]})" '
            assert f'{bar}data-low="{interval.low!r}" data-high="{interval.high!r}"' in bars
    assert "<td>lower is better</td>" in html  # the values table says it too

    result.to_json(tmp_path / "result.json")
    again = EvaluationResult.from_json(tmp_path / "result.json")
    assert again.group_intervals == result.group_intervals
