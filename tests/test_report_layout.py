"""The evaluation report as a person sees it: rendered by a real browser (headless Chromium),
with the layout measured in the page. Labels never overlap and are never cut, legends never
cover a curve, and a narrow window scrolls nothing sideways.

Each report is opened with a small measuring script appended (the report itself has none);
``--dump-dom`` returns the page with the measured boxes as JSON.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import tempfile
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from modelops_core import Evaluator, Runtime
from modelops_core.config import parse_config

pytest.importorskip("modelops_metrics", reason="the metric names come from modelops-metrics")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="needs Chromium to render the report (apt-get install -y chromium; .ci/run does)",
)

MEASURE = """
(function () {
  function box(el) {
    var r = el.getBoundingClientRect();
    return [r.left, r.top, r.right, r.bottom];
  }
  function own(el) {
    return Array.from(el.childNodes).filter(function (n) { return n.nodeType === 3; })
      .map(function (n) { return n.data; }).join("");
  }
  var charts = Array.from(document.querySelectorAll("svg.chart")).map(function (svg) {
    var plot = svg.querySelector(".plot-area");
    return {
      chart: svg.dataset.chart, box: box(svg), plot: plot ? box(plot) : null,
      legends: Array.from(svg.querySelectorAll("g.legend")).map(box),
      texts: Array.from(svg.querySelectorAll("text")).map(function (t) {
        return {text: own(t), full: t.getAttribute("data-full"),
                kind: t.getAttribute("class") || "", legend: !!t.closest("g.legend"),
                box: box(t)};
      })
    };
  });
  var hash = document.querySelector(".hash");
  var out = document.createElement("pre");
  out.id = "layout";
  out.textContent = JSON.stringify({
    charts: charts, innerWidth: window.innerWidth,
    scrollWidth: document.documentElement.scrollWidth, hash: hash ? box(hash) : null,
    classes: Array.from(document.querySelectorAll("tr[data-class]"))
      .map(function (row) { return row.dataset.class; })
  });
  document.body.appendChild(out);
})();
"""

LONG_NAMES = (
    "account_security_incident", "international_shipping", "billing_dispute_chargeback",
    "refund_request_partial_order", "password_reset", "technical",
    "subscription_cancellation_request_after_trial_period_ended",
)  # fmt: skip
DEMO_LABELS = ("account", "billing", "returns", "security", "shipping", "technical")
HASH = "sha256:" + "0123456789abcdef" * 4


def measure(report: Path, width: int = 1280) -> dict[str, Any]:
    """The layout of ``report`` in Chromium at ``width`` px: every chart's box, its texts'
    boxes (and shown / full text), its plotting area and legend entries."""
    page = report.with_name(report.stem + ".measured.html")
    source = report.read_text(encoding="utf-8")
    page.write_text(source.replace("</body>", f"<script>{MEASURE}</script></body>"), "utf-8")
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={profile}", f"--window-size={width},1200",
             "--dump-dom", page.as_uri()],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    found = re.search(r'<pre id="layout">(.*?)</pre>', done.stdout, re.DOTALL)
    assert found, f"chromium printed no layout (exit {done.returncode}): {done.stderr[-2000:]}"
    layout: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return layout


def chart(layout: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(c for c in layout["charts"] if c["chart"] == kind)


def overlapping(boxes: list[list[float]], slack: float = 0.5) -> list[tuple[int, int]]:
    """Pairs of boxes that share more than ``slack`` px in both directions."""
    return [
        (i, j)
        for (i, a), (j, b) in combinations(enumerate(boxes), 2)
        if min(a[2], b[2]) - max(a[0], b[0]) > slack and min(a[3], b[3]) - max(a[1], b[1]) > slack
    ]


def outside(inner: list[float], outer: list[float], slack: float = 0.5) -> bool:
    return (
        inner[0] < outer[0] - slack
        or inner[1] < outer[1] - slack
        or inner[2] > outer[2] + slack
        or inner[3] > outer[3] + slack
    )


def clipped(found: dict[str, Any]) -> list[str]:
    return [t["text"] for t in found["texts"] if outside(t["box"], found["box"])]


@pytest.fixture(scope="module")
def runtime() -> Runtime:
    return Runtime(parse_config({}, source="test"), environ={})


def multiclass(runtime: Runtime, names: list[str], n: int, seed: int = 0) -> Any:
    rng = np.random.default_rng(seed)
    k = len(names)
    labels = np.array(sorted(names))
    actual = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), actual] += 2.5
    scores = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return Evaluator(["accuracy", "auc_roc"], runtime=runtime, bootstrap=50).evaluate_result(
        labels[scores.argmax(axis=1)], labels[actual], scores=scores,
        groups=rng.choice(["web", "app", "phone"], n), model_id="ticket-router",
        dataset_fingerprint=HASH,
    )  # fmt: skip


def test_fifty_long_class_names_neither_overlap_nor_get_cut(runtime, tmp_path):
    names = [f"{LONG_NAMES[i % 7]}_{i}" for i in range(50)]
    result = multiclass(runtime, names, 1500)
    result.to_html(tmp_path / "fifty.html")
    layout = measure(tmp_path / "fifty.html")

    confusion = chart(layout, "confusion")
    assert clipped(confusion) == []
    assert overlapping([t["box"] for t in confusion["texts"]]) == []
    columns = [t for t in confusion["texts"] if t["kind"] == "column-label"]
    rows = [t for t in confusion["texts"] if t["kind"] == "row-label"]
    assert len(columns) == len(rows) == 50
    # a shortened label keeps its full name (tooltip), and the per-class table lists them all
    assert sorted(t["full"] or t["text"] for t in rows) == sorted(names)
    assert {t["text"] for t in rows if t["full"]} <= {t["text"] for t in columns}
    assert len({t["text"] for t in rows}) == 50  # shortened names stay distinguishable
    assert sorted(layout["classes"]) == sorted(names)

    for kind in ("roc_ovr", "pr_ovr"):
        curves = chart(layout, kind)
        assert clipped(curves) == [] and overlapping([t["box"] for t in curves["texts"]]) == []
        assert [legend for legend in curves["legends"] if not outside(legend, curves["plot"])] == []


def test_the_demo_labels_are_shown_whole(runtime, tmp_path):
    rng = np.random.default_rng(7)
    labels = np.array(DEMO_LABELS)
    actual = labels[rng.integers(0, 6, 600)]
    predicted = np.where(rng.random(600) < 0.8, actual, labels[rng.integers(0, 6, 600)])
    result = Evaluator(["accuracy"], runtime=runtime).evaluate_result(predicted, actual)
    result.to_html(tmp_path / "demo.html")
    confusion = chart(measure(tmp_path / "demo.html"), "confusion")

    assert clipped(confusion) == []  # "technical" was cut at the left edge
    assert overlapping([t["box"] for t in confusion["texts"]]) == []
    shown = sorted(t["text"] for t in confusion["texts"] if t["kind"] == "row-label")
    assert shown == sorted(DEMO_LABELS)  # whole, nothing shortened


def test_binary_legends_sit_below_the_axes_and_a_narrow_window_does_not_scroll(runtime, tmp_path):
    rng = np.random.default_rng(0)
    references = rng.integers(0, 2, 300)
    scores = np.clip(references * 0.35 + rng.random(300) * 0.65, 0, 1)
    result = Evaluator(["accuracy", "auc_roc", "log_loss"], runtime=runtime, bootstrap=50)
    result = result.evaluate_result(
        (scores > 0.5).astype(int), references, scores=scores,
        groups=rng.choice(["north", "south"], 300), model_id="churn-v2",
        dataset_fingerprint=HASH,
    )  # fmt: skip
    result.to_html(tmp_path / "binary.html")
    layout = measure(tmp_path / "binary.html")

    for kind in ("roc", "pr", "calibration", "confusion", "groups"):
        found = chart(layout, kind)
        assert clipped(found) == [], kind
        assert overlapping([t["box"] for t in found["texts"]]) == [], kind
    for kind in ("roc", "pr"):
        found = chart(layout, kind)
        assert found["legends"] and all(outside(box, found["plot"]) for box in found["legends"])
    legend = [t["text"] for t in chart(layout, "pr")["texts"] if t["legend"]]
    prevalence = float(np.mean(references == 1))
    assert legend == [
        f"model (AP {result.curves['pr']['average_precision']:.3f})",
        f"chance: prevalence {prevalence:.3f}",
    ]

    narrow = measure(tmp_path / "binary.html", width=480)
    assert narrow["scrollWidth"] <= narrow["innerWidth"]
    assert narrow["hash"][2] <= narrow["innerWidth"]
