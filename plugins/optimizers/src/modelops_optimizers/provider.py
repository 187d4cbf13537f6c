"""The ``optimized`` provider: serves ``optimized:<name>:<version>`` model ids.

``predict`` reads the version's optimization record from the registry (parent model id, parent
provider, techniques and their settings), builds the parent provider and the techniques once,
and runs the inputs through them (:mod:`modelops_core.optimize.stack`). Served models are kept
per id, so micro-batching groups calls across threads that share this provider.

It serves; it does not train: ``start`` and the job methods refuse with a pointer to
``InferenceOptimizer.optimize``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelops_core.finetune.provider_contract import (
    JobEvent,
    ProviderJob,
    ProviderRejectedError,
    TuningRequest,
)
from modelops_core.optimize.values import is_optimized_model_id

if TYPE_CHECKING:
    from modelops_core.optimize.stack import ServedModel
    from modelops_core.plugins.protocols import ProviderComponent
    from modelops_core.runtime import Runtime

_NOT_TRAINING = (
    "The optimized provider serves optimized models and does not fine-tune; fine-tune with "
    "the parent's provider, then InferenceOptimizer().optimize(model_id, target=...)."
)


class OptimizedProvider:
    """Serve optimized models; options come from ``[providers.optimized]``.

    :param home: the modelops home (given by the core).
    :param config: the configuration file whose registry, providers and ``[optimize]`` serve
        the models, when no ``runtime`` is given (default: ``modelops.toml`` found from the
        working directory, with ``home``).
    :param runtime: the runtime to use (``runtime.create(Kind.PROVIDER, "optimized",
        runtime=runtime)``); an embedding host passes its own.
    :param fallback: a provider for ids that are not optimized (so ``[providers] default =
        "optimized"`` serves every model); default: refuse them.
    """

    name = "optimized"
    export_format = "local"

    def __init__(
        self,
        home: str = ".modelops",
        config: str | None = None,
        runtime: Runtime | None = None,
        fallback: str | None = None,
    ) -> None:
        if fallback == self.name:
            raise ValueError("fallback cannot be 'optimized' itself; name the parent provider")
        self.home = home
        self.config_path = config
        self._runtime = runtime
        self.fallback = fallback
        self._served: dict[str, ServedModel] = {}
        self._fallback: ProviderComponent | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"OptimizedProvider(home={self.home!r}, fallback={self.fallback!r})"

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            import attrs

            from modelops_core.config import load_config
            from modelops_core.runtime import Runtime

            config = load_config(self.config_path)
            self._runtime = Runtime(attrs.evolve(config, home=Path(self.home)))
        return self._runtime

    def served(self, model_id: str) -> ServedModel:
        """The served optimized model ``model_id`` (built on first use, then kept)."""
        from modelops_core.optimize.stack import load_served

        with self._lock:
            served = self._served.get(model_id)
            if served is None:
                served = self._served[model_id] = load_served(self.runtime, model_id)
            return served

    def predict(self, model_id: str, inputs: Sequence[str]) -> list[Any]:
        """One output per input, through the model's techniques."""
        if isinstance(inputs, str):
            raise TypeError("predict() takes a list of inputs; wrap a single text in [text].")
        if not is_optimized_model_id(model_id):
            return self._fallback_provider(model_id).predict(model_id, list(inputs))
        return self.served(model_id).predict(list(inputs))

    def model_path(self, model_id: str) -> Path:
        """The directory of an optimized model's built artifact (int8), for the registry."""
        from modelops_core.optimize.values import OptimizeError, parse_optimized_model_id
        from modelops_core.registry.model_registry import ModelRegistry

        name, version = parse_optimized_model_id(model_id)
        served = self.served(model_id)
        if not served.record.has_artifact:
            raise OptimizeError(
                f"{model_id} has no artifact of its own (its techniques wrap "
                f"{served.record.parent_model_id}); use the parent's artifact."
            )
        with ModelRegistry(self.runtime) as registry:
            return Path(registry.get_model(name, version))

    def _fallback_provider(self, model_id: str) -> ProviderComponent:
        if self.fallback is None:
            raise ProviderRejectedError(
                f"{model_id!r} is not an optimized model id (optimized:<name>:<version>). Use "
                "its own provider, or set [providers.optimized] fallback = '<provider>'."
            )
        with self._lock:
            if self._fallback is None:
                from modelops_core.optimize.stack import create_parent

                self._fallback = create_parent(self.runtime, self.fallback)
            return self._fallback

    def close(self) -> None:
        """Close every served model (its techniques' connections and parent provider)."""
        with self._lock:
            served, self._served = list(self._served.values()), {}
            fallback, self._fallback = self._fallback, None
        for model in served:
            model.close()
        close = getattr(fallback, "close", None)
        if callable(close):
            close()

    # --- not a training provider -----------------------------------------------------------

    def validate(self, path: str, method: str, model: str) -> list[str]:
        return [_NOT_TRAINING]

    def start(self, request: TuningRequest) -> ProviderJob:
        raise ProviderRejectedError(_NOT_TRAINING)

    def get(self, job_id: str) -> ProviderJob:
        raise ProviderRejectedError(f"No job {job_id!r}: {_NOT_TRAINING}")

    def cancel(self, job_id: str) -> ProviderJob:
        raise ProviderRejectedError(f"No job {job_id!r}: {_NOT_TRAINING}")

    def list_jobs(self, limit: int = 20) -> list[ProviderJob]:
        return []

    def events(self, job_id: str) -> list[JobEvent]:
        raise ProviderRejectedError(f"No job {job_id!r}: {_NOT_TRAINING}")
