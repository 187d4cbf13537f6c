"""The ``register`` and ``promote`` steps: store the tuned model with lineage; move an alias."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelops_core.pipeline import StepContext

_LINEAGE_OUTPUTS = {
    "dataset_fingerprint": "dataset_fingerprint",
    "job_id": "training_job",
    "base_model": "base_model",
    "provider": "provider",
}


class RegisterStep:
    """Register the latest fine-tuned model under ``name`` with its lineage and evaluation.

    The artifact is the provider's model folder when there is one (``artifact_path``), else a
    small record of the provider's model id. Reused runs keep the version they registered.

    :param name: the registered model name.
    :param version: an explicit version; default: auto-increment.
    """

    def __init__(self, name: str, version: str | None = None) -> None:
        from modelops_core.registry import validate_model_name

        self.name = validate_model_name(name)
        self.version = version

    def run(self, context: StepContext) -> Mapping[str, Any]:
        from modelops_core.registry import ModelRegistry

        model_id = context.latest("model_id")
        artifact = context.latest("artifact_path", None)
        lineage = {
            field: context.latest(output)
            for output, field in _LINEAGE_OUTPUTS.items()
            if context.latest(output, None) is not None
        }
        if context.run is not None:
            lineage["run_id"] = context.run.id
        evaluation = context.latest("evaluation_summary", None) or context.latest("metrics", None)
        with ModelRegistry(context.runtime) as registry:
            registered = registry.register(
                self.name,
                self.version,
                model=None if artifact else {"model_id": model_id},
                model_path=artifact,
                metadata={"model_id": model_id},
                lineage=lineage,
                evaluation=evaluation,
            )
        context.say(f"{registered.name} {registered.version}")
        return {"model_name": registered.name, "model_version": registered.version}


class PromoteStep:
    """Point ``alias`` (default ``production``) at the version ``register`` stored."""

    cacheable = False  # moving an alias is the point of running it

    def __init__(self, alias: str = "production") -> None:
        from modelops_core.registry import validate_alias

        self.alias = validate_alias(alias)

    def run(self, context: StepContext) -> Mapping[str, Any]:
        from modelops_core.registry import ModelRegistry

        name = context.latest("model_name")
        version = context.latest("model_version")
        with ModelRegistry(context.runtime) as registry:
            previous = registry.set_alias(name, self.alias, version)
        context.say(f"{name}@{self.alias} -> {version} (was {previous or 'unset'})")
        return {"alias": self.alias, "previous_version": previous}
