"""The ``local`` model flavor: the local provider's models (hashed-feature classifier or TF-IDF
retrieval) in the registry, stored as their model directory (``config.json`` and ``.npy``
arrays, never pickle; see :mod:`modelops_provider_local.artifact`).

    registry.register("tickets", model=load_model(Path(job.details["artifact_path"])))
    registry.load("tickets").predict(["my invoice is wrong"])
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modelops_core.flavors.contract import FlavorError
from modelops_core.flavors.schema import Schema
from modelops_provider_local.artifact import (
    FORMAT,
    ArtifactFormatError,
    ClassifierModel,
    RetrievalModel,
    load_model,
    save_model,
)

_FOLDER = "model"


class LocalModelFlavor:
    """Stores :class:`ClassifierModel` and :class:`RetrievalModel` objects."""

    name = "local"

    def accepts(self, model: Any) -> bool:
        return isinstance(model, ClassifierModel | RetrievalModel)

    def save(self, model: Any, path: Path) -> dict[str, Any]:
        save_model(model, path / _FOLDER, {})
        kind = "classifier" if isinstance(model, ClassifierModel) else "retrieval"
        return {"format": FORMAT, "kind": kind}

    def load(self, path: Path, details: dict[str, Any]) -> Any:
        try:
            return load_model(path / _FOLDER)
        except (ArtifactFormatError, OSError, ValueError, KeyError) as exc:
            raise FlavorError(
                f"local flavor: {path} does not hold a readable local-provider model ({exc}). "
                "The artifact is damaged or was stored by another flavor."
            ) from exc

    def libraries(self) -> dict[str, str]:
        import numpy

        # scipy has no type hints (scipy-stubs is not a dependency): its names are Any
        import scipy  # type: ignore[import-untyped,unused-ignore]

        return {"numpy": numpy.__version__, "scipy": scipy.__version__}

    def describe(self, model: Any) -> dict[str, Any]:
        """Texts in, texts out."""
        text = Schema("tensor", dtype="str", shape=(-1,))
        return {"input": text, "output": text}
