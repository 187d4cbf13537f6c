"""Serving an optimized model: the parent provider's predict with the techniques around it.

Used twice: by :class:`~modelops_core.optimize.optimizer.InferenceOptimizer` on the candidate before
the quality gate, and by the ``optimized`` provider (``modelops-optimizers``) on registered ones.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelops_core.optimize.values import (
    LAYER_MODEL,
    OptimizationRecord,
    OptimizeError,
    Predict,
    ServingContext,
    TechniqueSetting,
    is_optimized_model_id,
    parse_optimized_model_id,
)
from modelops_core.plugins.kinds import Kind
from modelops_core.store.facade import Facade

if TYPE_CHECKING:
    from modelops_core.config import ComponentChoice
    from modelops_core.plugins.protocols import OptimizerComponent
    from modelops_core.runtime import Runtime

MASK = "***"


def configured_choice(runtime: Runtime, name: str) -> ComponentChoice | None:
    """The ``[optimize] optimizers`` entry for ``name``, if the configuration has one."""
    for choice in runtime.config.optimizers:
        if choice.name == name:
            return choice
    return None


def create_technique(
    runtime: Runtime, name: str, options: Mapping[str, Any] | None = None
) -> OptimizerComponent:
    """The optimizer ``name`` with the configured options overlaid by ``options``."""
    from modelops_core.config import ComponentChoice

    configured = configured_choice(runtime, name)
    merged = {**(configured.options if configured else {}), **(options or {})}
    where = configured.where if configured is not None else "code"
    choice = ComponentChoice(name, merged, where, reserved=("name",))
    component: OptimizerComponent = runtime.create(Kind.OPTIMIZER, choice)
    return component


def serving_options(runtime: Runtime, setting: TechniqueSetting, model_id: str) -> dict[str, Any]:
    """The recorded settings, with masked secrets taken from the configuration again."""
    configured = configured_choice(runtime, setting.name)
    options = dict(setting.settings)
    for key, value in setting.settings.items():
        if isinstance(value, str) and MASK in value:
            found = configured.options.get(key) if configured is not None else None
            if found is None:
                raise OptimizeError(
                    f"{model_id} uses {setting.name} with {key} = {value!r}, whose secret is "
                    f"not stored in the registry. Set it in [optimize] optimizers = "
                    f'[{{ name = "{setting.name}", {key} = ... }}] in '
                    f"{runtime.config.source}."
                )
            options[key] = found
    return options


class ParentCounter:
    """Counts the calls, inputs and (estimated) tokens that reach the parent model."""

    def __init__(self, predict: Predict) -> None:
        self._predict = predict
        self._lock = threading.Lock()
        self.calls = 0
        self.inputs = 0
        self.input_tokens = 0
        self.output_tokens = 0

    def __call__(self, inputs: Sequence[str]) -> list[Any]:
        from modelops_core.datasets.tokens import count_tokens

        outputs = self._predict(inputs)
        tokens_in = sum(count_tokens(text) for text in inputs)
        tokens_out = sum(count_tokens(str(output)) for output in outputs)
        with self._lock:
            self.calls += 1
            self.inputs += len(inputs)
            self.input_tokens += tokens_in
            self.output_tokens += tokens_out
        return outputs

    def reset(self) -> None:
        with self._lock:
            self.calls = self.inputs = self.input_tokens = self.output_tokens = 0


class ServedModel(Facade):
    """An optimized model ready to serve: ``predict(inputs)`` runs through every technique.

    Thread-safe: micro-batching groups calls made from several threads. It owns its techniques
    and parent provider: :meth:`close` (or the end of a ``with`` block) closes them, outermost
    technique first and the parent last, and ``predict`` raises
    :class:`~modelops_core.store.facade.FacadeClosedError` afterwards.
    """

    _reopen_hint = "Serve the model again with InferenceOptimizer(runtime).serve(model_id)."

    def __init__(
        self,
        model_id: str,
        record: OptimizationRecord,
        predict: Predict,
        components: Sequence[Any],
        parent: Any,
        counter: ParentCounter,
    ) -> None:
        super().__init__()
        self.model_id = model_id
        self.record = record
        self._predict = predict
        self._components = list(components)
        self.parent = parent
        self.counter = counter
        # closed in reverse: the outermost technique first, the parent they wrap last
        for component in [parent, *self._components]:
            self._adopt(component)

    def predict(self, inputs: Sequence[str]) -> list[Any]:
        if self._closed:
            self._check_open("predict")
        if isinstance(inputs, str):
            raise TypeError("predict() takes a list of inputs; wrap a single text in [text].")
        return list(self._predict(list(inputs)))


def assemble(
    model_id: str,
    record: OptimizationRecord,
    components: Sequence[OptimizerComponent],
    parent: Any,
    artifact: Path | None,
) -> ServedModel:
    """Wrap ``parent.predict(record.parent_model_id, …)`` with ``components`` (in record order,
    innermost first)."""
    parent_id = record.parent_model_id

    def parent_predict(inputs: Sequence[str]) -> list[Any]:
        return list(parent.predict(parent_id, list(inputs)))

    counter = ParentCounter(parent_predict)
    predict: Predict = counter
    for component, setting in zip(components, record.techniques, strict=True):
        context = ServingContext(
            model_id=model_id,
            parent_model_id=parent_id,
            cache_namespace=record.cache_namespace,
            artifact=artifact if setting.layer == LAYER_MODEL else None,
            report=setting.report,
        )
        predict = component.wrap(predict, context)
    return ServedModel(model_id, record, predict, components, parent, counter)


def create_parent(runtime: Runtime, provider: str) -> Any:
    """The provider component that serves a parent model."""
    return runtime.create(Kind.PROVIDER, runtime.config.provider(provider))


def load_served(runtime: Runtime, model_id: str) -> ServedModel:
    """The registered optimized model ``model_id`` (``optimized:<name>:<version>``)."""
    from modelops_core.registry.model_registry import ModelRegistry

    name, version = parse_optimized_model_id(model_id)
    with ModelRegistry(runtime) as registry:
        stored = registry.get_version(name, version)
        document = stored.metadata.get("optimization")
        if not isinstance(document, Mapping):
            raise OptimizeError(
                f"{name} {version} is registered but was not made by InferenceOptimizer "
                "(its metadata has no 'optimization' record); serve it with its own provider."
            )
        record = OptimizationRecord.from_json(document, f"{name} {version}")
        artifact = Path(registry.get_model(name, version)) if record.has_artifact else None
    components = [
        create_technique(runtime, setting.name, serving_options(runtime, setting, model_id))
        for setting in record.techniques
    ]
    parent = create_parent(runtime, record.parent_provider)
    return assemble(model_id, record, components, parent, artifact)


def check_parent(model_id: str) -> None:
    """Refuse to optimize an optimized model (optimize its parent with more techniques)."""
    if is_optimized_model_id(model_id):
        raise OptimizeError(
            f"{model_id} is already optimized; optimize its parent model with all the "
            "techniques you want instead (techniques=[...])."
        )
