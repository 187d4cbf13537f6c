"""A/B comparison of two evaluation results: tests, effect sizes, corrections, a decision.

Paired when both results hold per-example data on the same examples (same references, same
dataset fingerprint when known):

- accuracy / exact match: McNemar's exact test (``tests=["mcnemar-mid-p"]`` or ``mid_p=True``
  for the mid-p variant, ``"mcnemar-chi2"`` / ``"mcnemar-chi2-corrected"`` for chi-square
  without / with continuity correction);
- MSE / MAE / RMSE / log loss / Brier: Wilcoxon signed-rank on per-example losses
  (``tests=["paired-t"]`` for the paired t-test);
- any other scalar metric: a paired bootstrap of the difference (shared resamples).

Unpaired otherwise: the two-proportion z-test for accuracy-type metrics, Welch's t-test on
per-example losses, and for other metrics a z-test whose standard errors come from
independent bootstraps. Every row carries the difference A - B with its interval and a
standardized effect; p-values are adjusted across metrics (Holm by default, or
Benjamini-Hochberg); a row whose test is not significant and whose power to detect the
observed difference is below 80% carries a warning with the sample size that would be needed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from modelops_core.evaluation.metric_spec import Columns, MetricSpec, is_scalar
from modelops_core.evaluation.result import EvaluationError, EvaluationResult
from modelops_core.evaluation.stats.significance import TestResult

if TYPE_CHECKING:
    from modelops_core.evaluation.evaluator import EvaluationDataset
    from modelops_core.runtime import Runtime

#: the tests ``compare(tests=...)`` and ``modelops eval compare --test`` can choose: one McNemar
#: variant for accuracy-type metrics, one paired test for per-example losses
PAIRED_TESTS = (
    "mcnemar-exact",
    "mcnemar-mid-p",
    "mcnemar-chi2",
    "mcnemar-chi2-corrected",
    "wilcoxon",
    "paired-t",
)
A_WINS = "A wins"
B_WINS = "B wins"
NO_DIFFERENCE = "no significant difference"
CORRECTNESS = ("accuracy", "exact_match")
LOSSES = {
    "mse": "squared",
    "rmse": "squared",
    "mae": "absolute",
    "log_loss": "log",
    "brier": "brier",
}


@attrs.frozen
class MetricComparison:
    """One metric compared: values, difference A - B with its interval, test and decision."""

    metric: str
    a: float
    b: float
    difference: float
    low: float
    high: float
    test: str
    p_value: float
    adjusted_p: float
    standardized: float | None
    decision: str
    power: float | None = None
    required_n: float | None = None
    warning: str | None = None


@attrs.frozen
class Comparison:
    """The comparison of result A with result B."""

    rows: tuple[MetricComparison, ...]
    paired: bool
    adjust: str
    alpha: float
    primary: str
    decision: str
    model_a: str | None = None
    model_b: str | None = None
    warnings: tuple[str, ...] = ()

    def __getitem__(self, metric: str) -> MetricComparison:
        for row in self.rows:
            if row.metric == metric:
                return row
        raise KeyError(f"{metric!r} was not compared; compared: {[r.metric for r in self.rows]}")

    @property
    def winner(self) -> str | None:
        """The winning model's id (or "A" / "B"), None when there is no significant difference."""
        if self.decision == A_WINS:
            return self.model_a or "A"
        if self.decision == B_WINS:
            return self.model_b or "B"
        return None

    def to_pandas(self) -> Any:
        """One row per compared metric as a pandas DataFrame (``pip install pandas``)."""
        from modelops_core.evaluation.report.notebook import comparison_frame

        return comparison_frame(self)

    def _repr_html_(self) -> str:
        """The comparison as a table in Jupyter."""
        from modelops_core.evaluation.report.notebook import comparison_html

        return comparison_html(self)

    def to_dict(self) -> dict[str, Any]:
        from modelops_core.evaluation.result import _jsonable

        document = attrs.asdict(self)
        document["rows"] = [attrs.asdict(row) for row in self.rows]
        return dict(_jsonable(document))


def is_paired(result_a: EvaluationResult, result_b: EvaluationResult) -> bool:
    """Whether both results hold per-example data on the same examples."""
    if result_a.per_example is None or result_b.per_example is None:
        return False
    fingerprints = (result_a.dataset_fingerprint, result_b.dataset_fingerprint)
    if None not in fingerprints and fingerprints[0] != fingerprints[1]:
        return False
    return result_a.per_example.get("reference") == result_b.per_example.get("reference")


def compare(
    result_a: EvaluationResult,
    result_b: EvaluationResult,
    *,
    metrics: Sequence[str] | None = None,
    alpha: float = 0.05,
    adjust: str = "holm",
    mid_p: bool = False,
    resamples: int = 1000,
    seed: int | None = 0,
    level: float = 0.95,
    runtime: Runtime | None = None,
    primary: str | None = None,
    tests: Sequence[str] = (),
) -> Comparison:
    """Compare every scalar metric the two results share (or ``metrics``).

    :param adjust: ``holm`` (family-wise), ``bh`` (false discovery rate) or ``none``.
    :param tests: paired tests to use instead of the defaults, from :data:`PAIRED_TESTS`: at
        most one McNemar variant (accuracy-type metrics; default ``mcnemar-exact``, or
        ``mcnemar-mid-p`` with ``mid_p=True``) and one of ``wilcoxon`` (default) and
        ``paired-t`` (per-example losses).
    :param runtime: rebuilds metrics chosen by name from the plugins, for the paired bootstrap
        of metrics other than accuracy and the losses (default: one from the configuration).
    :param primary: the metric that decides the overall winner (default: the first).
    """
    from modelops_core.evaluation.stats.multiple import adjust as adjust_p

    shared = [
        name
        for name in (metrics or list(result_a))
        if name in result_a and name in result_b
        and is_scalar(result_a[name]) and is_scalar(result_b[name])
    ]  # fmt: skip
    if metrics is not None:
        missing = [name for name in metrics if name not in shared]
        if missing:
            raise EvaluationError(
                f"cannot compare {', '.join(missing)}: each metric must be a number in both "
                f"results (A has {', '.join(result_a)}; B has {', '.join(result_b)})."
            )
    if not shared:
        raise EvaluationError("the two results share no scalar metric to compare.")
    paired = is_paired(result_a, result_b)
    mcnemar_method, loss_test = _chosen_tests(tests, mid_p)
    context = _Context(result_a, result_b, paired, mcnemar_method, loss_test, resamples, seed,
                       level, runtime)  # fmt: skip
    results = [context.test(name) for name in shared]
    p_values = [t.p_value if not math.isnan(t.p_value) else 1.0 for t in results]
    adjusted = adjust_p(p_values, adjust)
    rows = []
    for name, test, p_adjusted in zip(shared, results, adjusted, strict=True):
        rows.append(_row(name, test, p_adjusted, result_a, result_b, alpha, paired))
    chosen = primary or shared[0]
    if chosen not in shared:
        raise EvaluationError(f"primary={chosen!r} is not among the compared metrics {shared}.")
    decision = next(row.decision for row in rows if row.metric == chosen)
    return Comparison(
        rows=tuple(rows),
        paired=paired,
        adjust=adjust,
        alpha=alpha,
        primary=chosen,
        decision=decision,
        model_a=result_a.model_id,
        model_b=result_b.model_id,
        warnings=tuple(row.warning for row in rows if row.warning),
    )


def _chosen_tests(tests: Sequence[str], mid_p: bool) -> tuple[str, str]:
    """(McNemar method, paired test of losses) from ``tests``; unknown or clashing refused."""
    unknown = [test for test in tests if test not in PAIRED_TESTS]
    if unknown:
        raise EvaluationError(
            f"test {unknown[0]!r} is not one of {', '.join(PAIRED_TESTS)}; choose at most one "
            "McNemar variant and one of wilcoxon and paired-t."
        )
    mcnemar = sorted({test for test in tests if test.startswith("mcnemar-")})
    losses = sorted({test for test in tests if not test.startswith("mcnemar-")})
    for chosen in (mcnemar, losses):
        if len(chosen) > 1:
            raise EvaluationError(
                f"tests {' and '.join(chosen)} apply to the same metrics; choose one of them."
            )
    if mcnemar and mid_p and mcnemar[0] != "mcnemar-mid-p":
        raise EvaluationError(f"mid_p=True (--mid-p) contradicts the test {mcnemar[0]!r}; "
                              "choose one.")  # fmt: skip
    method = mcnemar[0].removeprefix("mcnemar-") if mcnemar else ("mid-p" if mid_p else "exact")
    return method, losses[0] if losses else "wilcoxon"


def _row(
    name: str,
    test: TestResult,
    p_adjusted: float,
    result_a: EvaluationResult,
    result_b: EvaluationResult,
    alpha: float,
    paired: bool,
) -> MetricComparison:
    from modelops_core.evaluation.stats.significance import power_for_effect

    direction = result_a.higher_is_better.get(name, True)
    if direction is None:
        direction = True
    significant = not math.isnan(test.p_value) and p_adjusted < alpha
    decision = NO_DIFFERENCE
    if significant and test.effect != 0:
        a_better = (test.effect > 0) == bool(direction)
        decision = A_WINS if a_better else B_WINS
    n = min(result_a.n, result_b.n)
    power = power_for_effect(test.effect, test.standard_error, n, alpha=alpha)
    warning = None
    if not significant and test.effect != 0 and power.power < 0.8:
        warning = (
            f"{name}: {n} examples are too few to detect a difference of {test.effect:+.4g} "
            f"(power {power.power:.0%} at alpha {alpha}); about {power.required_n:.0f} "
            f"{'paired ' if paired else ''}examples per model would be needed."
        )
    return MetricComparison(
        metric=name,
        a=float(result_a[name]),
        b=float(result_b[name]),
        difference=float(result_a[name]) - float(result_b[name]),
        low=test.low,
        high=test.high,
        test=test.test,
        p_value=test.p_value,
        adjusted_p=p_adjusted,
        standardized=test.standardized,
        decision=decision,
        power=power.power,
        required_n=power.required_n,
        warning=warning,
    )


@attrs.define
class _Context:
    result_a: EvaluationResult
    result_b: EvaluationResult
    paired: bool
    mcnemar_method: str
    loss_test: str
    resamples: int
    seed: int | None
    level: float
    runtime: Runtime | None
    _columns: tuple[Columns, Columns] | None = None
    _specs: tuple[dict[str, MetricSpec], dict[str, MetricSpec]] | None = None

    def columns(self) -> tuple[Columns, Columns] | None:
        from modelops_core.evaluation.run import columns_of

        if self._columns is None and self.result_a.per_example and self.result_b.per_example:
            self._columns = (columns_of(self.result_a), columns_of(self.result_b))
        return self._columns

    def specs(self, name: str) -> tuple[MetricSpec, MetricSpec] | None:
        from modelops_core.evaluation.run import specs_of

        if name not in self.result_a.metric_choices or name not in self.result_b.metric_choices:
            return None
        if self._specs is None:
            if self.runtime is None:
                from modelops_core.runtime import Runtime

                self.runtime = Runtime()
            self._specs = (specs_of(self.result_a, self.runtime),
                           specs_of(self.result_b, self.runtime))  # fmt: skip
        return self._specs[0].get(name), self._specs[1].get(name)  # type: ignore[return-value]

    def test(self, name: str) -> TestResult:
        component = str(self.result_a.metric_choices.get(name, {}).get("component", name))
        columns = self.columns()
        if self.paired and columns is not None:
            paired: TestResult = self._paired(name, component, *columns)
            return paired
        return self._unpaired(name, component, columns)

    # --- paired --------------------------------------------------------------------------------

    def _paired(self, name: str, component: str, a: Columns, b: Columns) -> TestResult:
        from modelops_core.evaluation.stats.significance import mcnemar, paired_t, wilcoxon

        bootstrap = self._paired_bootstrap(name, a, b)
        if component in CORRECTNESS:
            test = mcnemar(_hits(a, component), _hits(b, component), method=self.mcnemar_method,
                           level=self.level)  # fmt: skip
            return _with_interval(test, bootstrap, self.level)
        losses_a, losses_b = _losses(component, a), _losses(component, b)
        if losses_a is not None and losses_b is not None:
            if self.loss_test == "paired-t":
                test = paired_t(losses_a, losses_b, level=self.level)
            else:
                test = wilcoxon(losses_a, losses_b)
            # the test is on losses (B - A is an improvement of A): report the metric difference
            effect = float(self.result_a[name]) - float(self.result_b[name])
            result = attrs.evolve(test, effect=effect, standardized=test.standardized)
            return _with_interval(result, bootstrap, self.level)
        if bootstrap is None:
            return _untestable(self.result_a[name], self.result_b[name])
        return _bootstrap_test(bootstrap, "paired-bootstrap", self.level)

    def _paired_bootstrap(self, name: str, a: Columns, b: Columns) -> Any:
        from modelops_core.evaluation.intervals import paired_difference

        specs = self.specs(name)
        if specs is None or specs[0] is None or specs[1] is None:
            return None
        values = (self.result_a[name], self.result_b[name])
        return paired_difference(specs[0], specs[1], a, b, values, resamples=self.resamples,
                                 seed=self.seed)  # fmt: skip

    # --- unpaired ------------------------------------------------------------------------------

    def _unpaired(
        self, name: str, component: str, columns: tuple[Columns, Columns] | None
    ) -> TestResult:
        from modelops_core.evaluation.stats.significance import two_proportion_z, welch_t

        value_a, value_b = float(self.result_a[name]), float(self.result_b[name])
        n_a, n_b = self.result_a.n, self.result_b.n
        if component in CORRECTNESS and n_a and n_b:
            return two_proportion_z(round(value_a * n_a), n_a, round(value_b * n_b), n_b,
                                    level=self.level)  # fmt: skip
        if columns is not None and component in ("mse", "mae"):
            losses_a, losses_b = _losses(component, columns[0]), _losses(component, columns[1])
            if losses_a is not None and losses_b is not None:
                return welch_t(losses_a, losses_b, level=self.level)
        se_a = _standard_error(self.result_a, name)
        se_b = _standard_error(self.result_b, name)
        if se_a is None or se_b is None:
            return _untestable(value_a, value_b)
        return _z_test(value_a - value_b, math.sqrt(se_a**2 + se_b**2), self.level)


def _hits(columns: Columns, component: str) -> np.ndarray[Any, Any]:
    if component == "exact_match":
        stripped = np.char.strip(columns.predictions.astype(str))
        result: np.ndarray[Any, Any] = stripped == np.char.strip(columns.references.astype(str))
        return result
    return np.asarray(columns.predictions == columns.references)


def _losses(component: str, columns: Columns) -> np.ndarray[Any, Any] | None:
    kind = LOSSES.get(component)
    if kind is None:
        return None
    if kind in ("squared", "absolute"):
        if columns.predictions.dtype.kind not in "biuf":
            return None
        error = columns.predictions.astype(float) - columns.references.astype(float)
        return np.asarray(np.abs(error) if kind == "absolute" else error**2)
    scores, references = columns.scores, columns.references
    if scores is None or scores.ndim != 1 or references.dtype.kind not in "biuf":
        return None
    positive = references.astype(float)
    if kind == "brier":
        return np.asarray((scores - positive) ** 2)
    clipped = np.clip(scores, 1e-15, 1 - 1e-15)
    return np.asarray(-(positive * np.log(clipped) + (1 - positive) * np.log(1 - clipped)))


def _standard_error(result: EvaluationResult, name: str) -> float | None:
    from modelops_core.evaluation.stats.significance import _z

    interval = result.intervals.get(name)
    if interval is None or not math.isfinite(interval.high - interval.low):
        return None
    return (interval.high - interval.low) / (2 * _z(interval.level))


def _z_test(effect: float, se: float, level: float) -> TestResult:
    from scipy.stats import norm  # type: ignore[import-untyped,unused-ignore]

    from modelops_core.evaluation.stats.significance import _z

    if se <= 0:
        return TestResult("bootstrap-z", 0.0, 1.0 if effect == 0 else 0.0, effect, effect,
                          effect, 0.0)  # fmt: skip
    z = effect / se
    margin = _z(level) * se
    return TestResult("bootstrap-z", z, float(2 * norm.sf(abs(z))), effect, effect - margin,
                      effect + margin, se)  # fmt: skip


def _bootstrap_test(estimate: Any, name: str, level: float) -> TestResult:
    """p-value of "difference = 0" from bootstrap replicates of the difference (centred)."""
    replicates = estimate.replicates[~np.isnan(estimate.replicates)]
    effect = float(estimate.statistic)
    low, high = estimate.interval(level, "percentile")
    extreme = int((np.abs(replicates - effect) >= abs(effect)).sum())
    p = (1 + extreme) / (1 + replicates.shape[0]) if effect != 0 else 1.0
    se = float(replicates.std(ddof=1)) if replicates.shape[0] > 1 else float("nan")
    standardized = effect / se if se and math.isfinite(se) and se > 0 else None
    return TestResult(name, effect, min(1.0, p), effect, low, high, se, standardized)


def _with_interval(test: TestResult, bootstrap: Any, level: float) -> TestResult:
    """The test with the effect's ``level`` interval (and standard error) from the bootstrap."""
    if bootstrap is None:
        return test
    low, high = bootstrap.interval(level, "percentile")
    replicates = bootstrap.replicates[~np.isnan(bootstrap.replicates)]
    se = float(replicates.std(ddof=1)) if replicates.shape[0] > 1 else test.standard_error
    return attrs.evolve(test, low=low, high=high, standard_error=se)


def _untestable(value_a: Any, value_b: Any) -> TestResult:
    effect = float(value_a) - float(value_b)
    nan = float("nan")
    return TestResult("none (no per-example data or intervals)", nan, nan, effect, nan, nan, nan)


def compare_models(
    model_a: str,
    model_b: str,
    dataset: EvaluationDataset,
    *,
    metrics: Sequence[Any] | None = None,
    runtime: Runtime | None = None,
    provider: str | None = None,
    provider_b: str | None = None,
    **options: Any,
) -> Comparison:
    """Evaluate two models on the same dataset and compare them pairwise (see :func:`compare`).

    :param provider_b: the provider of ``model_b`` when it differs from ``provider``.
    """
    from modelops_core.evaluation.evaluator import ModelEvaluator

    evaluator = ModelEvaluator(runtime)
    result_a = evaluator.evaluate(model_a, dataset, metrics, provider)
    result_b = evaluator.evaluate(model_b, dataset, metrics, provider_b or provider)
    return compare(result_a, result_b, runtime=evaluator.runtime, **options)
