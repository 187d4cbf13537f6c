"""The ``register`` and ``promote`` steps: store the tuned model with lineage; move an alias."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelops_core.pipeline.runner import StepContext
    from modelops_core.registry.model_registry import ModelRegistry

#: The version metadata naming the step attempt that registered it.
ATTEMPT_KEY = "pipeline_attempt"

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
    The attempt is journaled (and stored in the version's metadata) before registering, so a
    run killed right after the registry committed finds that version instead of
    registering the same model twice.

    :param name: the registered model name.
    :param version: an explicit version; default: auto-increment.
    """

    def __init__(self, name: str, version: str | None = None) -> None:
        from modelops_core.registry.model_registry import validate_model_name

        self.name = validate_model_name(name)
        self.version = version

    def run(self, context: StepContext) -> Mapping[str, Any]:
        from modelops_core.registry.model_registry import ModelRegistry

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
            registered = self._registered_before(registry, context)
            if registered is not None:
                context.say(
                    f"{registered.name} {registered.version} (registered by the interrupted run)"
                )
                return {"model_name": registered.name, "model_version": registered.version}
            attempt = uuid.uuid4().hex
            context.record(attempt=attempt)
            registered = registry.register(
                self.name,
                self.version,
                model=None if artifact else {"model_id": model_id},
                model_path=artifact,
                metadata={"model_id": model_id, ATTEMPT_KEY: attempt},
                lineage=lineage,
                evaluation=evaluation,
            )
            context.checkpoint("registered")
            context.record(version=registered.version)
        context.say(f"{registered.name} {registered.version}")
        return {"model_name": registered.name, "model_version": registered.version}

    def _registered_before(self, registry: ModelRegistry, context: StepContext) -> Any:
        """The version an interrupted attempt of this step registered (found by the attempt
        it journaled before registering), or None."""
        attempt = context.journal.get("attempt")
        if not attempt:
            return None
        found = registry.search(self.name, metadata={ATTEMPT_KEY: attempt}, include_archived=True)
        mine = [version for version in found if version.name == self.name]
        return mine[-1] if mine else None

    def plan(self, context: StepContext) -> str:
        """For ``--dry-run``: which version it would register."""
        return f"would register a new version of {self.name}"


class PromoteStep:
    """Point ``alias`` (default ``production``) at the version ``register`` stored."""

    cacheable = False  # moving an alias is the point of running it

    def __init__(self, alias: str = "production") -> None:
        from modelops_core.registry.model_registry import validate_alias

        self.alias = validate_alias(alias)

    def run(self, context: StepContext) -> Mapping[str, Any]:
        from modelops_core.registry.model_registry import ModelRegistry

        name = context.latest("model_name")
        version = context.latest("model_version")
        with ModelRegistry(context.runtime) as registry:
            previous = registry.set_alias(name, self.alias, version)
        context.say(f"{name}@{self.alias} -> {version} (was {previous or 'unset'})")
        return {"alias": self.alias, "previous_version": previous}

    def plan(self, context: StepContext) -> str:
        """For ``--dry-run``: the alias move it would make (``production 2 -> 1``)."""
        from modelops_core.registry.model_registry import ModelRegistry
        from modelops_core.store.contract import AliasNotFoundError, ModelNotFoundError

        name = context.latest("model_name", None) or _registered_name(context)
        if name is None:
            return f"would move {self.alias} to the version an earlier step registers"
        version = context.latest("model_version", None)
        target = version if version is not None else "the version register stores"
        with ModelRegistry(context.runtime) as registry:
            try:
                current: str | None = registry.get_by_alias(name, self.alias).version
            except (AliasNotFoundError, ModelNotFoundError):
                current = None
        if current is not None and current == version:
            return f"{name}@{self.alias} stays at {version}"
        return f"would move {name}@{self.alias} {current or 'unset'} -> {target}"


def _registered_name(context: StepContext) -> str | None:
    """The ``name`` option of the last ``register`` step before this one (dry runs)."""
    name = None
    for step in context.pipeline.steps:
        if step.id == context.step.id:
            break
        if step.uses == "register" and isinstance(step.options.get("name"), str):
            name = step.options["name"]
    return name
