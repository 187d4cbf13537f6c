"""A trained model as a directory: ``config.json`` plus ``.npy`` arrays (never pickle).

Layout::

    config.json        {"format": "modelops-local-model/1", "kind": "classifier" | "retrieval",
                        "features": {...}, "classes" | "completions": [...], ...}
    columns.npy        the hashed columns that carry weights (int64)
    weights.npy        classifier: len(columns) x n_classes (float64)
    intercepts.npy     classifier: n_classes (float64)
    idf.npy            retrieval: one weight per column
    prompts_data.npy, prompts_indices.npy, prompts_indptr.npy
                       retrieval: the TF-IDF rows of the training prompts (CSR)

Arrays are read with ``allow_pickle=False``; a directory is written under a temporary name and
renamed into place, so a model directory is either complete or absent.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from modelops_provider_local.classifier import LinearWeights
from modelops_provider_local.features import HashedFeatures
from modelops_provider_local.retrieval import RetrievalIndex

FORMAT = "modelops-local-model/1"


class ArtifactFormatError(ValueError):
    """A model directory that is not a local-provider model (or a newer format)."""


@attrs.frozen
class ClassifierModel:
    """Hashed features -> logistic regression -> one of ``classes``."""

    features: HashedFeatures
    classes: list[str]
    weights: LinearWeights

    def predict(self, inputs: Sequence[str]) -> list[str]:
        """The predicted class of each input (vectorized)."""
        indices = self.weights.predict(self.features.transform(inputs))
        return [self.classes[index] for index in indices.tolist()]


@attrs.frozen
class RetrievalModel:
    """Hashed features -> TF-IDF nearest training prompt -> its completion."""

    features: HashedFeatures
    index: RetrievalIndex

    def predict(self, inputs: Sequence[str]) -> list[str]:
        """The completion of the nearest training prompt for each input."""
        return self.index.predict(self.features.transform(inputs))


Model = ClassifierModel | RetrievalModel


def save_model(model: Model, directory: Path, metadata: Mapping[str, Any]) -> Path:
    """Write ``model`` to ``directory`` (which must not exist) atomically; returns it."""
    import numpy as np

    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".partial-", dir=directory.parent))
    try:
        config: dict[str, Any] = {
            "format": FORMAT,
            "features": model.features.to_config(),
            **metadata,
        }
        if isinstance(model, ClassifierModel):
            config["kind"] = "classifier"
            config["classes"] = model.classes
            arrays = {
                "columns": model.weights.columns,
                "weights": model.weights.weights,
                "intercepts": model.weights.intercepts,
            }
        else:
            index = model.index
            config["kind"] = "retrieval"
            config["completions"] = index.completions
            config["fallback"] = index.fallback
            arrays = {
                "columns": index.columns,
                "idf": index.idf,
                "prompts_data": index.prompts.data,
                "prompts_indices": index.prompts.indices.astype(np.int64),
                "prompts_indptr": index.prompts.indptr.astype(np.int64),
            }
        for name, array in arrays.items():
            np.save(staging / f"{name}.npy", np.ascontiguousarray(array), allow_pickle=False)
        (staging / "config.json").write_text(
            json.dumps(config, indent=2, ensure_ascii=False), encoding="utf-8"
        )
        os.replace(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return directory


def load_config(directory: Path) -> dict[str, Any]:
    """The ``config.json`` of a model directory, checked for the format."""
    try:
        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ArtifactFormatError(
            f"{directory} is not a local-provider model: cannot read config.json ({exc})."
        ) from exc
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        found = config.get("format") if isinstance(config, dict) else None
        raise ArtifactFormatError(
            f"{directory}/config.json has format {found!r}; this modelops-provider-local "
            f"reads {FORMAT!r}. Upgrade the plugin or retrain the model."
        )
    return config


def load_model(directory: Path) -> Model:
    """The model saved by :func:`save_model` in ``directory``."""
    import numpy as np

    # scipy has no type hints (scipy-stubs is not a dependency): its names are Any
    from scipy import sparse  # type: ignore[import-untyped,unused-ignore]

    config = load_config(directory)

    def array(name: str) -> Any:
        return np.load(directory / f"{name}.npy", allow_pickle=False)

    features = HashedFeatures.from_config(config["features"])
    if config.get("kind") == "classifier":
        weights = LinearWeights(array("columns"), array("weights"), array("intercepts"))
        return ClassifierModel(features, list(config["classes"]), weights)
    if config.get("kind") == "retrieval":
        columns = array("columns")
        completions = list(config["completions"])
        prompts = sparse.csr_matrix(
            (array("prompts_data"), array("prompts_indices"), array("prompts_indptr")),
            shape=(len(completions), len(columns)),
        )
        index = RetrievalIndex(columns, array("idf"), prompts, completions, config["fallback"])
        return RetrievalModel(features, index)
    raise ArtifactFormatError(
        f"{directory}/config.json has kind {config.get('kind')!r}; expected 'classifier' or "
        "'retrieval'."
    )
