"""InferenceOptimizer: faster, cheaper or smaller models that must prove they are as good.

    optimizer = InferenceOptimizer()
    fast_id = optimizer.optimize("local:logreg:ft-0123456789ab", target="latency",
                                 holdout="test.jsonl")
    optimizer.benchmark(fast_id, inputs=[...])   # the optimized model and its original

``optimize`` builds each technique (optimizer plugins: ``response_cache``, ``micro_batch``,
``concurrency_limit``, ``int8`` from ``modelops-optimizers``), evaluates the optimized model
against the original on the held-out data, refuses it with :class:`QualityGateError` when the
metric drops by more than ``tolerance``, and otherwise registers it with its lineage. The
returned id (``optimized:<name>:<version>``) is served by the ``optimized`` provider.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from modelops_core.config import frozen_mapping
from modelops_core.optimize.estimator import EstimatorGate
from modelops_core.optimize.values import (
    ESTIMATOR_TECHNIQUES,
    LAYER_MODEL,
    TARGET_TECHNIQUES,
    BuildRequest,
    OptimizationRecord,
    OptimizeError,
    QualityGateError,
    TechniqueSetting,
    is_optimized_model_id,
    optimized_model_id,
)

if TYPE_CHECKING:
    from modelops_core.datasets.dataset import Dataset
    from modelops_core.optimize.stack import ServedModel
    from modelops_core.plugins.protocols import OptimizerComponent
    from modelops_core.runtime import Runtime

__all__ = ["TARGET_TECHNIQUES", "InferenceOptimizer", "OptimizationResult", "QualityGateError"]

#: A technique as a name, ``(name, options)``, or ``{"name": ..., option: ...}``.
TechniqueRequest = str | tuple[str, Mapping[str, Any]] | Mapping[str, Any]


@attrs.frozen
class OptimizationResult:
    """What :meth:`InferenceOptimizer.optimize_result` registered and measured.

    :param drop: how much the metric got worse (negative when it improved).
    :param reports: technique name -> what its build reported (e.g. int8 size reduction).
    """

    model_id: str
    name: str
    version: str
    parent_model_id: str
    techniques: tuple[str, ...]
    metric: str
    original: float
    optimized: float
    drop: float
    tolerance: float
    reports: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict, converter=frozen_mapping)

    def to_json(self) -> dict[str, Any]:
        return {
            "optimized_model_id": self.model_id,
            "name": self.name,
            "version": self.version,
            "parent_model_id": self.parent_model_id,
            "techniques": list(self.techniques),
            "metric": self.metric,
            "original": self.original,
            "optimized": self.optimized,
            "drop": self.drop,
            "tolerance": self.tolerance,
            "reports": {name: dict(report) for name, report in self.reports.items()},
        }


class InferenceOptimizer:
    """Optimize a model for a target, prove it on held-out data, register it; benchmark.

    :param runtime: the runtime whose plugins and configuration are used (default: one from
        the configuration). ``[optimize] optimizers`` gives each technique's default options.
    """

    def __init__(self, runtime: Runtime | None = None) -> None:
        if runtime is None:
            from modelops_core.runtime import Runtime

            runtime = Runtime()
        self.runtime = runtime

    # --- optimizing ----------------------------------------------------------------------------

    def optimize(
        self,
        model_id: str,
        target: str = "latency",
        *,
        holdout: Dataset | str | os.PathLike[str] | None = None,
        metric: str = "accuracy",
        tolerance: float = 0.01,
        techniques: Sequence[TechniqueRequest] | Mapping[str, Mapping[str, Any]] | None = None,
        provider: str | None = None,
        name: str | None = None,
        greater_is_better: bool = True,
        references: str = "label",
        gate: EstimatorGate | Mapping[str, Any] | None = None,
    ) -> str:
        """A new model id (``optimized:<name>:<version>``) registered with lineage to
        ``model_id``; see :meth:`optimize_result` for the arguments."""
        return self.optimize_result(
            model_id, target, holdout=holdout, metric=metric, tolerance=tolerance,
            techniques=techniques, provider=provider, name=name,
            greater_is_better=greater_is_better, references=references, gate=gate,
        ).model_id  # fmt: skip

    def optimize_result(
        self,
        model_id: str,
        target: str = "latency",
        *,
        holdout: Dataset | str | os.PathLike[str] | None = None,
        metric: str = "accuracy",
        tolerance: float = 0.01,
        techniques: Sequence[TechniqueRequest] | Mapping[str, Mapping[str, Any]] | None = None,
        provider: str | None = None,
        name: str | None = None,
        greater_is_better: bool = True,
        references: str = "label",
        gate: EstimatorGate | Mapping[str, Any] | None = None,
    ) -> OptimizationResult:
        """Optimize ``model_id`` for ``target`` and register the result if it passes the gate.

        :param target: ``latency`` (response_cache + micro_batch), ``cost`` (response_cache)
            or ``memory`` (int8); ignored when ``techniques`` is given.
        :param holdout: held-out data (a Dataset or a JSONL path) both models are evaluated on.
        :param metric: the metric the quality gate compares (higher is better unless
            ``greater_is_better=False``).
        :param tolerance: the largest allowed drop of ``metric`` (absolute).
        :param techniques: names, ``(name, options)`` pairs, ``{"name": ..., ...}`` tables or
            a mapping name -> options; options overlay ``[optimize] optimizers``.
        :param provider: the provider serving ``model_id`` (default: inferred from the id).
        :param name: the registered name (default: ``<model id, slugged>-optimized``).
        :param references: for a registered scikit-learn model (``NAME/VERSION`` or
            ``NAME@ALIAS``) given a DataFrame holdout: the column of expected answers
            (``holdout=(X, y)`` works too); see :mod:`modelops_core.optimize.estimator`.
        :param gate: that model's quality gate (:class:`EstimatorGate` or a mapping of its
            fields: ``label_agreement``, ``max_proba_diff``, ``relative_interval``,
            ``latency_slack`` …).
        :raises QualityGateError: the metric dropped by more than ``tolerance`` (for a
            registered estimator: a check of the gate failed); nothing is registered.
        :raises ConversionError: the converter cannot convert the registered estimator.
        """
        from modelops_core.finetune.job import infer_provider
        from modelops_core.optimize.stack import assemble, check_parent, create_parent

        estimator = self._registered_estimator(model_id)
        if estimator is not None:
            from modelops_core.optimize.estimator import optimize_registered

            requests = _technique_requests(target, techniques, ESTIMATOR_TECHNIQUES)
            return optimize_registered(  # type: ignore[no-any-return]
                self.runtime, estimator, requests, holdout=holdout, references=references,
                metric=metric, gate=EstimatorGate.of(gate), name=name,
                target=None if techniques is not None else target,
            )  # fmt: skip
        check_parent(model_id)
        if tolerance < 0:
            raise OptimizeError(f"tolerance must be >= 0, got {tolerance}.")
        dataset, holdout_path = _holdout(holdout)
        pairs = dataset.pairs()
        if not pairs:
            raise OptimizeError("The holdout has no examples; the quality gate needs some.")
        parent_provider = provider or infer_provider(model_id, self.runtime.config)
        requests = _technique_requests(target, techniques)
        components = self._components(requests)
        parent = create_parent(self.runtime, parent_provider)
        build_root = Path(self.runtime.config.home) / "optimize" / "build"
        build_root.mkdir(parents=True, exist_ok=True)
        directory = Path(tempfile.mkdtemp(prefix="candidate-", dir=build_root))
        served: ServedModel | None = None
        try:
            settings = []
            for component in components:
                report = component.build(BuildRequest(model_id, parent, directory))
                settings.append(
                    TechniqueSetting(component.name, component.settings(), component.layer, report)
                )
            record = OptimizationRecord(
                parent_model_id=model_id,
                parent_provider=parent_provider,
                techniques=tuple(settings),
                has_artifact=any(s.layer == LAYER_MODEL for s in settings),
                target=None if techniques is not None else target,
            )
            artifact = directory if record.has_artifact else None
            served = assemble("<candidate>", record, components, parent, artifact)
            inputs = [pair[0] for pair in pairs]
            answers = [pair[1] for pair in pairs]
            original_value = self._score(parent.predict(model_id, inputs), answers, metric)
            optimized_value = self._score(served.predict(inputs), answers, metric)
            drop = original_value - optimized_value
            if not greater_is_better:
                drop = -drop
            if drop > tolerance + 1e-12:
                raise QualityGateError(
                    f"The optimized {model_id} ({', '.join(record.technique_names())}) was "
                    f"refused: {metric} fell from {original_value:.4f} to {optimized_value:.4f} "
                    f"on the holdout ({len(pairs)} examples), a drop of {drop:.4f}, more than the "
                    f"tolerance {tolerance}. Nothing was registered. Use gentler settings or a "
                    "larger tolerance.",
                    metric=metric,
                    original=original_value,
                    optimized=optimized_value,
                    drop=drop,
                    tolerance=tolerance,
                )
            gate = {
                "metric": metric,
                "original": original_value,
                "optimized": optimized_value,
                "drop": drop,
                "tolerance": tolerance,
                "examples": len(pairs),
                "dataset_fingerprint": dataset.fingerprint(),
            }
            return self._register(
                record, name, directory if record.has_artifact else None, gate, holdout_path
            )
        finally:
            if served is not None:
                served.close()
            else:
                _close_all([*components, parent])
            shutil.rmtree(directory, ignore_errors=True)

    def _registered_estimator(self, model_id: str) -> tuple[str, str | None, str | None] | None:
        """``(name, version, alias)`` when ``model_id`` names a registered sklearn version."""
        from modelops_core.optimize.estimator import registered_reference
        from modelops_core.registry.model_registry import ModelRegistry
        from modelops_core.store.contract import StorageError

        reference = registered_reference(model_id)
        if reference is None:
            return None
        try:
            with ModelRegistry(self.runtime) as registry:
                record = registry.get_version(reference[0], reference[1], alias=reference[2])
        except (StorageError, ValueError):
            return None  # not a registered version: a provider's model id with a slash
        return reference if record.serializer == "sklearn" else None

    def _components(self, requests: list[tuple[str, dict[str, Any]]]) -> list[OptimizerComponent]:
        from modelops_core.optimize.stack import create_technique

        built = [create_technique(self.runtime, name, options) for name, options in requests]
        ordered = sorted(built, key=lambda component: component.layer)
        model_layer = [c.name for c in ordered if c.layer == LAYER_MODEL]
        if len(model_layer) > 1:
            _close_all(built)
            raise OptimizeError(
                f"{' and '.join(model_layer)} both replace the model's weights; choose one."
            )
        names = [c.name for c in ordered]
        if len(set(names)) != len(names):
            _close_all(built)
            raise OptimizeError(f"A technique is listed twice: {', '.join(names)}.")
        return ordered

    def _score(self, outputs: Sequence[Any], references: Sequence[Any], metric: str) -> float:
        from modelops_core.evaluation.evaluator import Evaluator

        result = Evaluator(runtime=self.runtime).evaluate_result(
            list(outputs), list(references), metrics=[metric]
        )
        value = result[metric]
        if not isinstance(value, int | float):
            raise OptimizeError(f"The metric {metric!r} is not a number ({value!r}).")
        return float(value)

    def _register(
        self,
        record: OptimizationRecord,
        name: str | None,
        artifact: Path | None,
        gate: Mapping[str, Any],
        holdout_path: str | None,
    ) -> OptimizationResult:
        from modelops_core.registry.model_registry import ModelRegistry

        registered_name = name or default_name(record.parent_model_id)
        techniques = [t.to_json() for t in record.techniques]
        lineage: dict[str, Any] = {
            "base_model": record.parent_model_id,
            "provider": record.parent_provider,
            "dataset_fingerprint": gate["dataset_fingerprint"],
            "parent_model_id": record.parent_model_id,
            "techniques": techniques,
            "target": record.target,
        }
        metadata: dict[str, Any] = {"optimization": record.to_json(), "quality_gate": dict(gate)}
        if holdout_path is not None:
            metadata["holdout_path"] = holdout_path
        with ModelRegistry(self.runtime) as registry:
            version = registry.register(
                registered_name,
                None,
                model=None if artifact is not None else record.to_json(),
                model_path=artifact,
                metadata=metadata,
                lineage=lineage,
                evaluation={gate["metric"]: gate["optimized"]},
            )
        model_id = optimized_model_id(version.name, version.version)
        return OptimizationResult(
            model_id=model_id,
            name=version.name,
            version=version.version,
            parent_model_id=record.parent_model_id,
            techniques=tuple(record.technique_names()),
            metric=str(gate["metric"]),
            original=float(gate["original"]),
            optimized=float(gate["optimized"]),
            drop=float(gate["drop"]),
            tolerance=float(gate["tolerance"]),
            reports={t.name: t.report for t in record.techniques if t.report},
        )

    # --- serving and measuring -----------------------------------------------------------------

    def serve(self, model_id: str) -> ServedModel:
        """The registered optimized model, ready to ``predict`` (``close()`` it when done)."""
        from modelops_core.optimize.stack import load_served

        return load_served(self.runtime, model_id)

    def benchmark(
        self,
        model_id: str,
        inputs: Sequence[str] | None = None,
        *,
        repeats: int = 3,
        concurrency: int = 1,
        provider: str | None = None,
    ) -> dict[str, Any]:
        """Latency (p50/p95/p99 per call), throughput, peak memory and a cost estimate.

        For an optimized model the same figures for its original come side by side
        (``{"model": ..., "original": ..., "speedup": ...}``); for any other model only
        ``"model"``.

        :param inputs: the texts to send, one per call (default: the holdout file the model
            was optimized with, when it was given as a path).
        :param repeats: passes over ``inputs``.
        :param concurrency: threads calling at once (micro-batching needs more than one).
        :param provider: the provider of a model that is not optimized (default: inferred).
        """
        from modelops_core.optimize.benchmark import run_benchmark

        return run_benchmark(
            self.runtime, model_id, inputs, repeats=repeats, concurrency=concurrency,
            provider=provider,
        )  # fmt: skip


def default_name(model_id: str) -> str:
    """The registered name of an optimized ``model_id``: its id slugged, plus ``-optimized``."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", model_id).strip("-._") or "model"
    return f"{slug[:110]}-optimized"


def _holdout(holdout: Dataset | str | os.PathLike[str] | None) -> tuple[Dataset, str | None]:
    from modelops_core.datasets.dataset import Dataset

    if holdout is None:
        raise OptimizeError(
            "optimize() needs holdout=<Dataset or JSONL path>: every optimized model is "
            "evaluated against the original on held-out data before it is registered."
        )
    if isinstance(holdout, str | os.PathLike):
        path = Path(holdout)
        return Dataset.from_jsonl(path), str(path.resolve())
    return holdout, None


def _technique_requests(
    target: str,
    techniques: Sequence[TechniqueRequest] | Mapping[str, Mapping[str, Any]] | None,
    table: Mapping[str, tuple[str, ...]] = TARGET_TECHNIQUES,
) -> list[tuple[str, dict[str, Any]]]:
    if techniques is None:
        if target not in table:
            raise OptimizeError(
                f"Unknown target {target!r}; choose one of {', '.join(table)} "
                "(or pass techniques=[...])."
            )
        return [(name, {}) for name in table[target]]
    if isinstance(techniques, Mapping):
        return [(str(name), dict(options or {})) for name, options in techniques.items()]
    requests: list[tuple[str, dict[str, Any]]] = []
    for item in techniques:
        if isinstance(item, str):
            requests.append((item, {}))
        elif isinstance(item, tuple) and len(item) == 2:
            requests.append((str(item[0]), dict(item[1])))
        elif isinstance(item, Mapping) and isinstance(item.get("name"), str):
            requests.append((item["name"], {k: v for k, v in item.items() if k != "name"}))
        else:
            raise OptimizeError(
                f"techniques item {item!r} is not a name, a (name, options) pair or a table "
                'with name = "...".'
            )
    if not requests:
        raise OptimizeError("techniques is empty; name at least one (or pass target=).")
    return requests


def _close_all(components: Sequence[Any]) -> None:
    for component in components:
        close = getattr(component, "close", None)
        if callable(close):
            close()


def is_optimized(model_id: str) -> bool:
    """True for ids :meth:`InferenceOptimizer.optimize` returned."""
    return is_optimized_model_id(model_id)
