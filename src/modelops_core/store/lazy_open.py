"""The backend and artifact store a facade opens lazily from the config and closes with itself.

:class:`ModelRegistry` and :class:`ExperimentTracker` share this: a component passed in by
the caller is used as is (and never closed here); one built from the configuration is built on
first use and closed by :meth:`OpenedStores.close`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modelops_core.plugins.kinds import Kind
from modelops_core.store.contract import ArtifactStore, StorageError

if TYPE_CHECKING:
    from modelops_core.config import ComponentChoice
    from modelops_core.runtime import Runtime


class OpenedStores:
    """A backend (``[registry]`` or ``[tracking]``) and the ``[artifacts]`` store, opened lazily.

    :param runtime: the runtime whose configuration chooses the components.
    :param section: ``"registry"`` or ``"tracking"``: the config table naming the backend.
    :param protocol: the protocol the backend must implement (named in the error otherwise).
    :param backend: a backend object to use instead of the configured one.
    :param artifacts: an artifact store to use instead of the configured one.
    """

    def __init__(
        self,
        runtime: Runtime,
        section: str,
        protocol: type,
        *,
        backend: Any = None,
        artifacts: ArtifactStore | None = None,
    ) -> None:
        self.runtime = runtime
        self.section = section
        self.protocol = protocol
        self._backend = backend
        self._artifacts = artifacts
        self._owned: list[Any] = []

    def backend(self) -> Any:
        """The backend, built from ``[<section>] backend`` on first use."""
        if self._backend is None:
            config = self.runtime.config
            choice: ComponentChoice = getattr(config, self.section)
            built = self.runtime.create(Kind.REGISTRY_BACKEND, choice, home=str(config.home))
            self._owned.append(built)
            if not isinstance(built, self.protocol):
                self.close()
                raise StorageError(
                    f"The backend {choice.name!r} chosen by [{self.section}] backend in "
                    f"{choice.where} does not implement {self.protocol.__name__}. "
                    'Choose one that does, such as backend = "sql".'
                )
            self._backend = built
        return self._backend

    def artifacts(self) -> ArtifactStore:
        """The artifact store, built from ``[artifacts] store`` on first use."""
        if self._artifacts is None:
            config = self.runtime.config
            built = self.runtime.create(
                Kind.ARTIFACT_STORE, config.artifacts, home=str(config.home)
            )
            self._owned.append(built)
            self._artifacts = built
        return self._artifacts

    def close(self) -> None:
        """Close what this object built (idempotent); later use builds them again."""
        owned, self._owned = self._owned, []
        for component in owned:
            if component is self._backend:
                self._backend = None
            if component is self._artifacts:
                self._artifacts = None
            close = getattr(component, "close", None)
            if callable(close):
                close()
