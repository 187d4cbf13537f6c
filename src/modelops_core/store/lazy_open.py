"""The backend and artifact store a facade opens lazily from the config and closes with itself.

:class:`ModelRegistry` and :class:`ExperimentTracker` are :class:`StoreFacade` s: a component
passed in by the caller is used as is (and never closed here); one built from the configuration
is built on first use and closed by :meth:`~modelops_core.store.facade.Facade.close`, which
also ends the facade (see :mod:`modelops_core.store.facade`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from modelops_core.plugins.kinds import Kind
from modelops_core.store.contract import ArtifactStore, StorageError
from modelops_core.store.facade import Facade

if TYPE_CHECKING:
    from modelops_core.config import ComponentChoice
    from modelops_core.runtime import Runtime


class StoreFacade(Facade):
    """A backend (``[registry]`` or ``[tracking]``) and the ``[artifacts]`` store, opened lazily.

    :param runtime: the runtime whose configuration chooses the components.
    :param section: ``"registry"`` or ``"tracking"``: the config table naming the backend.
    :param protocol: the protocol the backend must implement (named in the error otherwise).
    :param backend: a backend object to use instead of the configured one.
    :param artifacts: an artifact store to use instead of the configured one.
    """

    _component_attributes: ClassVar[tuple[str, ...]] = ("_backend", "_artifacts")

    def __init__(
        self,
        runtime: Runtime,
        section: str,
        protocol: type,
        *,
        backend: Any = None,
        artifacts: ArtifactStore | None = None,
    ) -> None:
        super().__init__()
        self.runtime = runtime
        self._section = section
        self._protocol = protocol
        self._backend: Any = backend
        self._artifacts: ArtifactStore | None = artifacts

    def _opened_backend(self) -> Any:
        """The backend, built from ``[<section>] backend`` on first use."""
        backend = self._backend
        if backend is None:
            backend = self._open("_backend", self._build_backend)
        return backend

    def _opened_artifacts(self) -> ArtifactStore:
        """The artifact store, built from ``[artifacts] store`` on first use."""
        artifacts = self._artifacts
        if artifacts is None:
            artifacts = self._open("_artifacts", self._build_artifacts)
        return artifacts

    def _build_backend(self) -> Any:
        config = self.runtime.config
        choice: ComponentChoice = getattr(config, self._section)
        built = self.runtime.create(Kind.REGISTRY_BACKEND, choice, home=str(config.home))
        if not isinstance(built, self._protocol):
            close = getattr(built, "close", None)
            if callable(close):
                close()
            raise StorageError(
                f"The backend {choice.name!r} chosen by [{self._section}] backend in "
                f"{choice.where} does not implement {self._protocol.__name__}. "
                'Choose one that does, such as backend = "sql".'
            )
        return built

    def _build_artifacts(self) -> ArtifactStore:
        config = self.runtime.config
        built: ArtifactStore = self.runtime.create(
            Kind.ARTIFACT_STORE, config.artifacts, home=str(config.home)
        )
        return built
