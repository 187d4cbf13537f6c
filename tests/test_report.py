"""The HTML report is self-contained and holds the plots and the values."""

from __future__ import annotations

import re
import xml.dom.minidom

import numpy as np
import pytest

from modelops_core import Evaluator, Runtime
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
