"""Optimizing a registered scikit-learn model: ONNX candidates behind a strict quality gate.

    optimizer.optimize("bc/1.0", target="latency", holdout=(X_test, y_test))

A model id ``NAME/VERSION`` or ``NAME@ALIAS`` names a registered version. For one stored with
the ``sklearn`` flavor, ``target="latency"`` picks the ``onnx`` technique
(``modelops-optimizers``), which converts the model with skl2onnx and offers candidates
(int8-quantized where the graph has MatMul/Gemm, float32, float64). Each candidate is compared
with the original on the held-out data, and the first that passes every check is registered
as an ONNX version with its lineage; when none passes, :class:`QualityGateError` gives every
candidate's numbers and nothing is registered. The checks (:class:`EstimatorGate`):

- label agreement with the original's ``predict`` >= ``label_agreement`` (0.999);
- the largest ``predict_proba`` difference <= ``max_proba_diff`` (1e-4), for classifiers; for
  regressors, the largest prediction difference relative to the predictions' scale;
- the paired bootstrap interval of the metric's difference (original - optimized) within
  ``relative_interval`` (1%) of the original's value on both sides;
- p50 and p95 latency of one-row calls not worse than the original's (times ``1 +
  latency_slack``); measured alternating one call each, ``latency_rows`` rows, wall clock.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from modelops_core.optimize.values import OptimizeError, QualityGateError

if TYPE_CHECKING:
    from modelops_core.runtime import Runtime

__all__ = ["Candidate", "ConversionError", "EstimatorGate", "registered_reference"]

_REFERENCE = re.compile(r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]{0,127})(?:/(?P<version>[^/@:]+)|"
                        r"@(?P<alias>[A-Za-z][A-Za-z0-9._-]{0,63}))")  # fmt: skip
FORMAT = "modelops-estimator-optimization/1"


class ConversionError(OptimizeError):
    """The converter cannot convert the model; nothing was registered, the original stays."""


@attrs.frozen
class Candidate:
    """One converted model a technique offers: ``label`` (``int8``, ``float32`` …), its file
    and what the technique reports about it."""

    label: str
    path: Path
    report: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class EstimatorGate:
    """The checks an optimized estimator must pass (see the module docstring)."""

    label_agreement: float = 0.999
    max_proba_diff: float = 1e-4
    relative_interval: float = 0.01
    latency_slack: float = 0.0
    latency_rows: int = 200
    resamples: int = 1000

    @classmethod
    def of(cls, value: EstimatorGate | Mapping[str, Any] | None) -> EstimatorGate:
        if value is None:
            return cls()
        if isinstance(value, EstimatorGate):
            return value
        known = {field.name for field in attrs.fields(cls)}
        unknown = sorted(set(value) - known)
        if unknown:
            raise OptimizeError(
                f"gate has unknown keys {', '.join(unknown)}; it takes {', '.join(sorted(known))}."
            )
        return cls(**dict(value))


def registered_reference(model_id: str) -> tuple[str, str | None, str | None] | None:
    """``(name, version, alias)`` of ``NAME/VERSION`` or ``NAME@ALIAS``, else None."""
    found = _REFERENCE.fullmatch(model_id)
    if found is None:
        return None
    return found["name"], found["version"], found["alias"]


# --- the gate -------------------------------------------------------------------------------------


def _split(holdout: Any, references: str) -> tuple[Any, Any]:
    from modelops_core.tabular.frames import column, column_names, is_table

    if isinstance(holdout, tuple) and len(holdout) == 2:
        return holdout
    if is_table(holdout):
        names = column_names(holdout)
        if references not in names:
            raise OptimizeError(
                f"the holdout has no column {references!r} with the expected answers (it has: "
                f"{', '.join(map(str, names))}); pass references='<column>' or holdout=(X, y)."
            )
        return holdout.drop(columns=[references]), column(holdout, references, "the holdout")
    raise OptimizeError(
        "optimizing a registered scikit-learn model needs holdout=(X, y) or a DataFrame with "
        f"the answers in a column (references=...), got {type(holdout).__name__}."
    )


def _rows(inputs: Any, start: int, stop: int) -> Any:
    return inputs.iloc[start:stop] if hasattr(inputs, "iloc") else inputs[start:stop]


def _latency(original: Any, candidate: Any, inputs: Any, rows: int) -> dict[str, float]:
    """p50/p95 of one-row ``predict`` calls, alternating the two models, in milliseconds.

    Each model takes a row the way it is fastest fed: the original as the holdout gives it (a
    one-row DataFrame for a model fitted on one), the ONNX model as an array, the conversion
    of the row timed with it."""
    import numpy as np

    def optimized(row: Any) -> Any:
        return candidate.predict(np.asarray(row))

    count = min(rows, len(inputs))
    for _ in range(3):  # warm-up: first calls load code and allocate
        original.predict(_rows(inputs, 0, 1))
        optimized(_rows(inputs, 0, 1))
    times: dict[str, list[float]] = {"original": [], "optimized": []}
    for index in range(count):
        row = _rows(inputs, index, index + 1)
        for side, call in (("original", original.predict), ("optimized", optimized)):
            start = time.perf_counter()
            call(row)
            times[side].append(time.perf_counter() - start)
    figures: dict[str, float] = {}
    for side, values in times.items():
        figures[f"{side}_p50_ms"] = float(np.percentile(values, 50) * 1000)
        figures[f"{side}_p95_ms"] = float(np.percentile(values, 95) * 1000)
    return figures


def check(
    runtime: Runtime,
    original: Any,
    candidate: Any,
    inputs: Any,
    answers: Any,
    metric: str,
    gate: EstimatorGate,
) -> tuple[dict[str, Any], list[str]]:
    """The gate's numbers for ``candidate`` against ``original`` and the checks it failed."""
    import numpy as np

    from modelops_core.evaluation.compare import compare
    from modelops_core.evaluation.evaluator import Evaluator

    expected = np.asarray(original.predict(inputs))
    got = np.asarray(candidate.predict(inputs)).reshape(expected.shape)
    references = list(np.asarray(answers).tolist())
    numbers: dict[str, Any] = {"examples": len(references)}
    failed: list[str] = []
    classifier = callable(getattr(original, "predict_proba", None))
    if classifier:
        agreement = float(np.mean(got == expected))
        numbers["label_agreement"] = agreement
        if agreement < gate.label_agreement:
            failed.append(f"label agreement {agreement:.4%} < {gate.label_agreement:.4%}")
        if callable(getattr(candidate, "predict_proba", None)):
            diff = float(np.max(np.abs(np.asarray(candidate.predict_proba(inputs), dtype=float)
                                       - np.asarray(original.predict_proba(inputs)))))  # fmt: skip
            numbers["max_proba_diff"] = diff
            if diff > gate.max_proba_diff:
                failed.append(f"max probability difference {diff:.3g} > {gate.max_proba_diff:g}")
    else:
        scale = float(np.max(np.abs(expected))) or 1.0
        diff = float(np.max(np.abs(got.astype(float) - expected.astype(float)))) / scale
        numbers["max_relative_diff"] = diff
        if diff > gate.max_proba_diff:
            failed.append(
                f"max relative prediction difference {diff:.3g} > {gate.max_proba_diff:g}"
            )
    evaluator = Evaluator(runtime=runtime)
    result_a = evaluator.evaluate_result(expected.tolist(), references, metrics=[metric])
    result_b = evaluator.evaluate_result(got.tolist(), references, metrics=[metric])
    row = compare(result_a, result_b, metrics=[metric], resamples=gate.resamples,
                  runtime=runtime)[metric]  # fmt: skip
    bound = gate.relative_interval * abs(row.a)
    numbers |= {"metric": metric, "original": row.a, "optimized": row.b,
                "difference_low": row.low, "difference_high": row.high,
                "interval_bound": bound}  # fmt: skip
    if max(abs(row.low), abs(row.high)) > bound + 1e-12:
        failed.append(
            f"{metric} difference interval [{row.low:.4g}, {row.high:.4g}] exceeds "
            f"±{bound:.4g} ({gate.relative_interval:.0%} of {row.a:.4g})"
        )
    if not failed:  # timing only what could pass
        numbers |= _latency(original, candidate, inputs, gate.latency_rows)
        slack = 1 + gate.latency_slack
        for share in ("p50", "p95"):
            before, after = numbers[f"original_{share}_ms"], numbers[f"optimized_{share}_ms"]
            if after > before * slack:
                failed.append(f"{share} latency {after:.3f} ms > original {before:.3f} ms")
    return numbers, failed


# --- optimizing -----------------------------------------------------------------------------------


def optimize_registered(
    runtime: Runtime,
    reference: tuple[str, str | None, str | None],
    requests: list[tuple[str, dict[str, Any]]],
    *,
    holdout: Any,
    references: str,
    metric: str,
    gate: EstimatorGate,
    name: str | None,
    target: str | None,
) -> Any:
    """Optimize the registered version ``reference``; an :class:`OptimizationResult`."""
    import shutil
    import tempfile

    from modelops_core.optimize.optimizer import OptimizationResult, default_name
    from modelops_core.optimize.stack import create_technique
    from modelops_core.registry.model_registry import ModelRegistry

    if len(requests) != 1:
        raise OptimizeError(
            f"a registered scikit-learn model is optimized by one conversion technique (onnx); "
            f"got {', '.join(n for n, _ in requests)}."
        )
    inputs, answers = _split(holdout, references)
    if len(answers) == 0:
        raise OptimizeError("The holdout has no examples; the quality gate needs some.")
    technique_name, options = requests[0]
    component: Any = create_technique(runtime, technique_name, options)
    if not callable(getattr(component, "candidates", None)):
        raise OptimizeError(
            f"{technique_name} does not convert registered estimators (it has no "
            "candidates()); use techniques=['onnx'] for a scikit-learn model."
        )
    label, version, alias = reference
    build_root = Path(runtime.config.home) / "optimize" / "build"
    build_root.mkdir(parents=True, exist_ok=True)
    directory = Path(tempfile.mkdtemp(prefix="candidate-", dir=build_root))
    try:
        with ModelRegistry(runtime) as registry:
            record = registry.get_version(label, version, alias=alias)
            parent_id = f"{record.name}/{record.version}"
            loaded = registry.load(record.name, record.version)
            native = getattr(loaded, "native", loaded)
            width = getattr(native, "n_features_in_", None)
            if record.serializer != "sklearn" or width is None:
                raise OptimizeError(
                    f"{parent_id} is stored with the {record.serializer or 'file'!r} flavor; the "
                    f"{technique_name} technique converts fitted scikit-learn models."
                )
            tried: list[dict[str, Any]] = []
            chosen: tuple[Any, dict[str, Any]] | None = None
            for candidate in component.candidates(native, int(width), directory):
                model = component.load(candidate.path)
                numbers, failed = check(runtime, native, model, inputs, answers, metric, gate)
                tried.append({"candidate": candidate.label, **dict(candidate.report), **numbers,
                              "failed": failed})  # fmt: skip
                if not failed:
                    chosen = (model, tried[-1])
                    break
            if chosen is None:
                lines = "; ".join(f"{t['candidate']}: {', '.join(t['failed'])}" for t in tried)
                last = tried[-1]
                raise QualityGateError(
                    f"The ONNX conversion of {parent_id} was refused by the quality gate on "
                    f"{len(answers)} held-out examples: {lines}. Nothing was registered; "
                    f"{parent_id} stays as it is. Loosen the gate (gate={{...}}) only if these "
                    "differences are acceptable.",
                    metric=metric,
                    original=float(last.get("original", float("nan"))),
                    optimized=float(last.get("optimized", float("nan"))),
                    drop=float(last.get("original", 0.0)) - float(last.get("optimized", 0.0)),
                    tolerance=gate.relative_interval,
                )
            model, passed = chosen
            settings = dict(component.settings())
            document = {
                "format": FORMAT,
                "parent_model_id": parent_id,
                "technique": {"name": technique_name, "settings": settings},
                "chosen": passed["candidate"],
                "target": target,
            }
            gate_record = {**attrs.asdict(gate), "candidates": tried}
            stored = registry.register(
                name or default_name(parent_id),
                None,
                model=model,
                flavor="onnx",
                metadata={"optimization": document, "quality_gate": gate_record},
                lineage={"parent_version": record.version, "parent_model_id": parent_id,
                         "base_model": parent_id, "techniques": [technique_name]},
                evaluation={metric: passed["optimized"]},
            )  # fmt: skip
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return OptimizationResult(
        model_id=f"{stored.name}/{stored.version}",
        name=stored.name,
        version=stored.version,
        parent_model_id=parent_id,
        techniques=(technique_name,),
        metric=metric,
        original=float(passed["original"]),
        optimized=float(passed["optimized"]),
        drop=float(passed["original"]) - float(passed["optimized"]),
        tolerance=gate.relative_interval,
        reports={technique_name: {k: v for k, v in passed.items() if k != "failed"}},
    )
