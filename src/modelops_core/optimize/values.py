"""The values and errors of inference optimization, shared by the facade and the plugins.

An optimized model is a registry version whose ``metadata["optimization"]`` holds an
:class:`OptimizationRecord`: the parent model id and provider, and each technique with its
settings. Its model id is ``optimized:<name>:<version>`` (:func:`optimized_model_id`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from modelops_core.config import frozen_mapping
from modelops_core.errors import ModelOpsError

#: A predict function: one output per input.
Predict = Callable[[Sequence[str]], list[Any]]

#: The prefix of every optimized model id.
OPTIMIZED_PREFIX = "optimized:"

#: The techniques each target picks when ``techniques`` is not given.
TARGET_TECHNIQUES: Mapping[str, tuple[str, ...]] = frozen_mapping(
    {
        "latency": ("response_cache", "micro_batch"),
        "cost": ("response_cache",),
        "memory": ("int8",),
    }
)

#: The techniques each target picks for a registered scikit-learn model (``NAME/VERSION``).
ESTIMATOR_TECHNIQUES: Mapping[str, tuple[str, ...]] = frozen_mapping({"latency": ("onnx",)})

#: Where a technique sits: the model layer replaces the parent's model with a built artifact;
#: the others wrap the call below them, lowest first (limit, then batch, then cache outermost).
LAYER_MODEL = 0
LAYER_CONCURRENCY = 10
LAYER_BATCHING = 20
LAYER_CACHE = 30


class OptimizeError(ModelOpsError):
    """An optimization could not be built, recorded or served."""


class QualityGateError(OptimizeError):
    """The optimized model lost more of the chosen metric than the tolerance allows.

    Nothing was registered. The numbers are attributes too.
    """

    def __init__(
        self,
        message: str,
        *,
        metric: str,
        original: float,
        optimized: float,
        drop: float,
        tolerance: float,
    ) -> None:
        super().__init__(message)
        self.metric = metric
        self.original = original
        self.optimized = optimized
        self.drop = drop
        self.tolerance = tolerance


@attrs.frozen
class TechniqueSetting:
    """One technique of an optimized model: its optimizer name and JSON settings."""

    name: str
    settings: Mapping[str, Any] = attrs.field(factory=dict, converter=frozen_mapping)
    layer: int = LAYER_CACHE
    report: Mapping[str, Any] = attrs.field(factory=dict, converter=frozen_mapping)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "settings": dict(self.settings),
            "layer": self.layer,
            "report": dict(self.report),
        }


@attrs.frozen
class OptimizationRecord:
    """What the ``optimized`` provider needs to serve an optimized model.

    :param parent_model_id: the model the optimized one wraps (a provider model id).
    :param parent_provider: the provider that serves the parent.
    :param techniques: innermost first (model layer, then the wrappers).
    :param has_artifact: True when a model-layer technique built the registered artifact.
    :param target: the target it was optimized for (``latency``, ``cost``, ``memory``).
    """

    parent_model_id: str
    parent_provider: str
    techniques: tuple[TechniqueSetting, ...]
    has_artifact: bool = False
    target: str | None = None

    @property
    def cache_namespace(self) -> str:
        """What produces the outputs: the parent and the model-layer settings (wrappers do not
        change outputs, so two optimized variants of one parent share cached responses)."""
        model_layer = [t.to_json() for t in self.techniques if t.layer == LAYER_MODEL]
        for item in model_layer:
            item.pop("report", None)
        digest = hashlib.sha256(json.dumps(model_layer, sort_keys=True).encode()).hexdigest()
        return f"{self.parent_model_id}#{digest[:16]}"

    def technique_names(self) -> list[str]:
        return [technique.name for technique in self.techniques]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": "modelops-optimization/1",
            "parent_model_id": self.parent_model_id,
            "parent_provider": self.parent_provider,
            "techniques": [technique.to_json() for technique in self.techniques],
            "has_artifact": self.has_artifact,
            "target": self.target,
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any], where: str) -> OptimizationRecord:
        if document.get("format") != "modelops-optimization/1":
            raise OptimizeError(
                f"{where} holds no optimization record this modelops-core reads (format "
                f"{document.get('format')!r}); re-run InferenceOptimizer.optimize on its parent."
            )
        techniques = tuple(
            TechniqueSetting(
                str(item["name"]),
                item.get("settings", {}),
                int(item.get("layer", LAYER_CACHE)),
                item.get("report", {}),
            )
            for item in document.get("techniques", [])
        )
        return cls(
            parent_model_id=str(document["parent_model_id"]),
            parent_provider=str(document["parent_provider"]),
            techniques=techniques,
            has_artifact=bool(document.get("has_artifact", False)),
            target=document.get("target"),
        )


@attrs.frozen
class BuildRequest:
    """What a technique gets at optimize time.

    :param parent_model_id: the model being optimized.
    :param provider: the parent's provider component (``model_path(model_id)`` gives the local
        directory of a local-provider model).
    :param directory: an empty directory a model-layer technique writes its artifact into.
    """

    parent_model_id: str
    provider: Any
    directory: Path


@attrs.frozen
class ServingContext:
    """What a technique gets when the optimized model is served.

    :param model_id: the optimized model id (or ``"<candidate>"`` during the quality gate).
    :param parent_model_id: the model under the optimization.
    :param cache_namespace: the key prefix for cached responses (see
        :attr:`OptimizationRecord.cache_namespace`).
    :param artifact: the directory a model-layer technique built, when there is one.
    :param report: what the technique's ``build`` reported.
    """

    model_id: str
    parent_model_id: str
    cache_namespace: str
    artifact: Path | None = None
    report: Mapping[str, Any] = attrs.field(factory=dict, converter=frozen_mapping)


def optimized_model_id(name: str, version: str) -> str:
    """The model id of the registered optimized version ``name`` ``version``."""
    return f"{OPTIMIZED_PREFIX}{name}:{version}"


def is_optimized_model_id(model_id: str) -> bool:
    return model_id.startswith(OPTIMIZED_PREFIX)


def parse_optimized_model_id(model_id: str) -> tuple[str, str]:
    """``(name, version)`` of ``optimized:<name>:<version>``."""
    parts = model_id.split(":")
    if len(parts) != 3 or parts[0] + ":" != OPTIMIZED_PREFIX or not parts[1] or not parts[2]:
        raise OptimizeError(
            f"{model_id!r} is not an optimized model id; they look like "
            "'optimized:<registered name>:<version>' (what InferenceOptimizer.optimize returns)."
        )
    return parts[1], parts[2]
