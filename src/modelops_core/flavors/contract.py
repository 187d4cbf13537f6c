"""The model-flavor contract (``modelops_register_model_flavors``).

A flavor is an object with:

- ``name``: stored with every version it writes (``ModelVersion.serializer``);
- ``accepts(model) -> bool``: whether it can store this in-memory model; a flavor with
  ``explicit = True`` is never chosen by ``accepts`` alone (``pickle``), only by name;
- either ``dumps(model) -> bytes`` and ``loads(data) -> model`` (one byte string), or
  ``save(model, path) -> details`` and ``load(path, details) -> model`` (``path`` is a folder
  the flavor fills; ``details`` is a JSON mapping it returns, stored with the version and given
  back to ``load``);
- optionally ``libraries() -> {distribution: version}`` (recorded at registration and compared
  at load) and ``describe(model) -> {"input": Schema | None, "output": Schema | None}`` for
  models whose schema is known without a sample (scikit-learn's ``feature_names_in_``).

What ``load`` returns with a ``predict`` method is wrapped in
:class:`~modelops_core.flavors.model.FlavorModel`: the model is loaded once, ``predict``,
``predict_proba`` and ``decision_function`` call it, and inputs are checked against the
recorded schema. The suite that checks a flavor is
:class:`modelops_core.testing.contracts.flavors.ModelFlavorContract`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from modelops_core.store.contract import StorageError

__all__ = [
    "BytesFlavor",
    "FlavorError",
    "FlavorVersionWarning",
    "ModelFlavor",
    "PathFlavor",
    "UntrustedModelError",
]


class FlavorError(StorageError):
    """No flavor stores the model, the one it was stored with is missing, or it cannot load."""


class UntrustedModelError(FlavorError):
    """Loading the artifact would run code of types nobody declared trusted (a pickle, or a
    skops file naming types outside the trusted list)."""


class FlavorVersionWarning(UserWarning):
    """The model was stored with other versions of its libraries than the installed ones."""


@runtime_checkable
class ModelFlavor(Protocol):
    """What every flavor offers (plus the byte or path methods below)."""

    name: str

    def accepts(self, model: Any) -> bool: ...


@runtime_checkable
class BytesFlavor(ModelFlavor, Protocol):
    """A flavor that stores a model as one byte string."""

    def dumps(self, model: Any) -> bytes: ...

    def loads(self, data: bytes) -> Any: ...


@runtime_checkable
class PathFlavor(ModelFlavor, Protocol):
    """A flavor that writes a model into a folder (one or many files)."""

    def save(self, model: Any, path: Path) -> dict[str, Any]: ...

    def load(self, path: Path, details: dict[str, Any]) -> Any: ...
