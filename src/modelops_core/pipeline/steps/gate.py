"""The ``gate`` step: stop the pipeline before ``register`` when the metrics are not good enough."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from modelops_core.errors import ModelOpsError

if TYPE_CHECKING:
    from modelops_core.pipeline.runner import StepContext


class GateFailedError(ModelOpsError):
    """The evaluated metrics failed a threshold; the message lists every failing number."""


class GateStep:
    """Thresholds on the latest ``metrics``, and optionally no regression against an alias.

    :param min: metric -> lowest acceptable value (``{ accuracy = 0.8 }``).
    :param max: metric -> highest acceptable value (``{ log_loss = 0.5 }``).
    :param compare_alias: compare with the version holding this alias (``"production"``) of
        the model named ``model``; each metric in ``min`` may drop by at most ``max_drop``.
    :param model: the registered model name for ``compare_alias``.
    :param max_drop: the largest allowed drop against the alias's recorded evaluation.
    :param allow_different_test_sets: compare with the alias's evaluation even when it was
        measured on another test set than this one (different data, ``test_size`` or
        ``seed``). By default the gate refuses: the fingerprints of both test sets are
        recorded and must be equal for the numbers to be comparable.
    """

    cacheable = False  # the alias it compares against can move between runs

    def __init__(
        self,
        min: Mapping[str, float] | None = None,
        max: Mapping[str, float] | None = None,
        compare_alias: str | None = None,
        model: str | None = None,
        max_drop: float = 0.0,
        allow_different_test_sets: bool = False,
    ) -> None:
        if compare_alias is not None and model is None:
            raise ValueError("compare_alias needs model = '<registered model name>' too.")
        self.minimum = dict(min or {})
        self.maximum = dict(max or {})
        self.compare_alias = compare_alias
        self.model = model
        self.max_drop = max_drop
        self.allow_different_test_sets = allow_different_test_sets

    def run(self, context: StepContext) -> Mapping[str, Any]:
        metrics: Mapping[str, Any] = context.latest("metrics")
        failures = []
        for name, bound in self.minimum.items():
            value = _metric(metrics, name, context)
            if value < bound:
                failures.append(f"{name} = {value:.4f} is below the minimum {bound}")
        for name, bound in self.maximum.items():
            value = _metric(metrics, name, context)
            if value > bound:
                failures.append(f"{name} = {value:.4f} is above the maximum {bound}")
        baseline = self._baseline(context)
        for name, reference in baseline.items():
            if name in metrics and float(metrics[name]) < reference - self.max_drop:
                failures.append(
                    f"{name} = {float(metrics[name]):.4f} dropped below {self.compare_alias}'s "
                    f"{reference:.4f} by more than {self.max_drop}"
                )
        if failures:
            raise GateFailedError(
                "The gate refused the model, so nothing was registered:\n  - "
                + "\n  - ".join(failures)
                + "\nImprove the model or change the thresholds in the pipeline file."
            )
        context.say(f"passed ({len(self.minimum) + len(self.maximum)} thresholds)")
        return {"gate": "passed", "baseline": baseline}

    def _baseline(self, context: StepContext) -> dict[str, float]:
        if self.compare_alias is None or self.model is None:
            return {}
        from modelops_core.registry.model_registry import ModelRegistry
        from modelops_core.store.contract import AliasNotFoundError, ModelNotFoundError

        with ModelRegistry(context.runtime) as registry:
            try:
                holder = registry.get_by_alias(self.model, self.compare_alias)
            except (AliasNotFoundError, ModelNotFoundError):
                context.say(f"no {self.compare_alias!r} version yet: nothing to compare with")
                return {}
        evaluation = holder.metadata.get("evaluation") or {}
        if not isinstance(evaluation, Mapping):
            evaluation = {}
        self._check_same_test_set(context, holder.version, evaluation)
        values = evaluation.get("values", evaluation)
        return {
            name: float(values[name])
            for name in self.minimum
            if isinstance(values.get(name), int | float)
        }

    def _check_same_test_set(
        self, context: StepContext, version: str, evaluation: Mapping[str, Any]
    ) -> None:
        """Refuse to compare with an evaluation of another (or an unknown) test set."""
        if self.allow_different_test_sets:
            return
        ours = _test_fingerprint(context)
        theirs = evaluation.get("test_fingerprint")
        if ours is not None and ours == theirs:
            return
        raise GateFailedError(
            f"{context.step.where}: the gate compares with {self.model} {version} "
            f"({self.compare_alias}), which was evaluated on test set "
            f"{_short(theirs)}, and this model on test set {_short(ours)}: metrics of "
            "different test sets are not comparable, so nothing was registered. Evaluate "
            "both on the same test set (the dataset step's data, test_size and seed as "
            "before), or set allow_different_test_sets = true on this step to compare anyway."
        )


def _test_fingerprint(context: StepContext) -> str | None:
    fingerprint = context.latest("test_fingerprint", None)
    if fingerprint is None:
        summary = context.latest("evaluation_summary", None)
        if isinstance(summary, Mapping):
            fingerprint = summary.get("test_fingerprint")
    return str(fingerprint) if fingerprint else None


def _short(fingerprint: Any) -> str:
    if not fingerprint:
        return "(not recorded)"
    return str(fingerprint)[:23]


def _metric(metrics: Mapping[str, Any], name: str, context: StepContext) -> float:
    if name not in metrics:
        raise GateFailedError(
            f"{context.step.where}: the gate checks {name!r}, which the evaluation did not "
            f"compute (it has: {', '.join(sorted(metrics))}). Add it to the evaluate step's "
            "metrics."
        )
    value = metrics[name]
    if not isinstance(value, int | float):
        raise GateFailedError(f"{context.step.where}: {name!r} is not a number ({value!r}).")
    return float(value)
