"""``int8``: int8 weights for a local-provider classifier, served without the float weights.

Symmetric quantization: ``q = clip(round(w / s), -qmax, qmax)`` with ``qmax = 2**(bits-1) - 1``
and ``s = clip * max|w| / qmax`` taken per class (a column of the ``features x classes``
matrix; the default), per row (a hashed feature) or over the whole tensor. The scores are
``sum_j x_j * q_j * s``: the rows of ``q`` a batch touches are gathered as int8, scaled by
the inputs' feature values and summed per input; a per-class or per-tensor scale multiplies
the ``n x classes`` result once. Nothing float-sized of the weight matrix is ever built.

The artifact is a directory (``config.json`` + ``.npy``, never pickle)::

    config.json        {"format": "modelops-int8-model/1", "features": {...}, "classes": [...],
                        "bits": 8, "granularity": "per_class", "clip": 1.0, ...}
    columns.npy        the hashed columns that carry weights (int64)
    weights_int8.npy   len(columns) x n_classes, int8
    scales.npy         float32: 1 x n_classes, len(columns) x 1, or 1 x 1
    intercepts.npy     float64
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from modelops_core.optimize.values import (
    LAYER_MODEL,
    BuildRequest,
    OptimizeError,
    Predict,
    ServingContext,
)

FORMAT = "modelops-int8-model/1"
GRANULARITIES = ("per_class", "per_row", "per_tensor")
_FILES = ("columns", "weights_int8", "scales", "intercepts")


def _local_provider_modules() -> tuple[Any, Any, Any]:
    try:
        from modelops_provider_local import artifact, classifier, features
    except ImportError as exc:
        raise OptimizeError(
            "int8 quantizes models of the local provider and reads them with its code: "
            "pip install 'modelops-optimizers[int8]' (modelops-provider-local)."
        ) from exc
    return artifact, classifier, features


def quantize(weights: Any, bits: int, granularity: str, clip: float) -> tuple[Any, Any]:
    """``(int8 weights, float32 scales)`` of a ``features x classes`` float matrix."""
    import numpy as np

    qmax = 2 ** (bits - 1) - 1
    magnitude = np.abs(weights)
    if granularity == "per_class":
        peak = magnitude.max(axis=0, keepdims=True)
    elif granularity == "per_row":
        peak = magnitude.max(axis=1, keepdims=True)
    else:
        peak = np.full((1, 1), magnitude.max() if magnitude.size else 0.0)
    scales = (clip * peak / qmax).astype(np.float32)
    scales[scales == 0] = 1.0  # an all-zero group stays zero with any scale
    quantized = np.clip(np.rint(weights / scales), -qmax, qmax).astype(np.int8)
    return quantized, scales


class Int8Model:
    """A quantized classifier loaded from its directory; ``predict(texts)`` -> labels."""

    def __init__(self, directory: Path) -> None:
        import numpy as np

        _, _, features = _local_provider_modules()
        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
        if config.get("format") != FORMAT:
            raise OptimizeError(
                f"{directory} is not an int8 model (format {config.get('format')!r}, expected "
                f"{FORMAT!r}); re-run the optimization."
            )
        arrays = {name: np.load(directory / f"{name}.npy", allow_pickle=False) for name in _FILES}
        self.config = config
        self.classes: list[str] = list(config["classes"])
        self.features = features.HashedFeatures.from_config(config["features"])
        self.columns = arrays["columns"]
        self.weights = arrays["weights_int8"]
        self.scales = arrays["scales"]
        self.intercepts = arrays["intercepts"]
        self.per_row = config["granularity"] == "per_row"

    def scores(self, texts: Sequence[str]) -> Any:
        """The ``n x classes`` scores (float32) of ``texts``."""
        import numpy as np

        _, classifier, _ = _local_provider_modules()
        compact = classifier.select_columns(self.features.transform(texts), self.columns)
        n, k = compact.shape[0], self.weights.shape[1]
        totals = np.zeros((n, k), dtype=np.float32)
        if compact.nnz:
            gathered = self.weights[compact.indices].astype(np.float32)
            gathered *= compact.data.astype(np.float32)[:, None]
            if self.per_row:
                gathered *= self.scales[compact.indices]
            counts = np.diff(compact.indptr)
            filled = counts > 0
            totals[filled] = np.add.reduceat(gathered, compact.indptr[:-1][filled], axis=0)
        if not self.per_row:
            totals *= self.scales
        return totals + self.intercepts

    def predict(self, texts: Sequence[str]) -> list[str]:
        import numpy as np

        best = np.argmax(self.scores(texts), axis=1)
        return [self.classes[index] for index in best.tolist()]


class Int8Quantization:
    """Quantize a local-provider classifier's weights to int8 and serve the int8 model.

    :param bits: levels used, 2 to 8 (``qmax = 2**(bits-1) - 1``); always stored as int8.
    :param granularity: ``per_class`` (default), ``per_row`` or ``per_tensor`` scales.
    :param clip: the quantization range as a share of ``max|w|`` in each group; below 1
        saturates outliers for finer steps, above 1 wastes levels (too large rounds weights
        to zero, which the quality gate refuses).
    """

    name = "int8"
    layer = LAYER_MODEL

    def __init__(self, bits: int = 8, granularity: str = "per_class", clip: float = 1.0) -> None:
        if not 2 <= bits <= 8:
            raise ValueError(f"bits must be between 2 and 8, got {bits}")
        if granularity not in GRANULARITIES:
            raise ValueError(
                f"granularity must be one of {', '.join(GRANULARITIES)}, got {granularity!r}"
            )
        if clip <= 0:
            raise ValueError(f"clip must be positive, got {clip}")
        self.bits = bits
        self.granularity = granularity
        self.clip = clip

    def settings(self) -> dict[str, Any]:
        return {"bits": self.bits, "granularity": self.granularity, "clip": self.clip}

    def build(self, request: BuildRequest) -> dict[str, Any]:
        import numpy as np

        artifact, _, _ = _local_provider_modules()
        model_path = getattr(request.provider, "model_path", None)
        if not callable(model_path):
            name = getattr(request.provider, "name", type(request.provider).__name__)
            raise OptimizeError(
                f"int8 needs the weights of {request.parent_model_id}, and its provider {name!r} "
                "does not expose model_path(); int8 works on local-provider classifiers. Use "
                "response_cache or micro_batch for hosted models."
            )
        source = Path(model_path(request.parent_model_id))
        config = artifact.load_config(source)
        if config.get("kind") != "classifier":
            raise OptimizeError(
                f"int8 quantizes classifier weights; {request.parent_model_id} is a "
                f"{config.get('kind')!r} model. Use response_cache for it."
            )
        weights = np.load(source / "weights.npy", allow_pickle=False)
        quantized, scales = quantize(weights, self.bits, self.granularity, self.clip)
        target = request.directory
        target.mkdir(parents=True, exist_ok=True)
        np.save(target / "columns.npy", np.load(source / "columns.npy", allow_pickle=False))
        np.save(target / "weights_int8.npy", quantized)
        np.save(target / "scales.npy", scales)
        np.save(target / "intercepts.npy", np.load(source / "intercepts.npy", allow_pickle=False))
        stored = {
            "format": FORMAT,
            "parent_model_id": request.parent_model_id,
            "features": config["features"],
            "classes": config["classes"],
            **self.settings(),
        }
        (target / "config.json").write_text(json.dumps(stored, indent=2), encoding="utf-8")
        restored = quantized.astype(np.float64) * scales
        error = float(np.abs(restored - weights).max()) if weights.size else 0.0
        original_bytes = int(weights.nbytes)
        quantized_bytes = int(quantized.nbytes + scales.nbytes)
        return {
            "weights_bytes_before": original_bytes,
            "weights_bytes_after": quantized_bytes,
            "size_reduction": original_bytes / quantized_bytes if quantized_bytes else None,
            "artifact_bytes_before": _directory_bytes(source),
            "artifact_bytes_after": _directory_bytes(target),
            "max_abs_weight_error": error,
            "zero_weights_share": float(np.mean(quantized == 0)) if quantized.size else 0.0,
        }

    def wrap(self, predict: Predict, context: ServingContext) -> Predict:
        if context.artifact is None:
            raise OptimizeError(
                f"{context.model_id} uses int8 but has no int8 artifact; re-run the optimization."
            )
        directory = context.artifact
        lock = threading.Lock()
        loaded: list[Int8Model] = []

        def quantized_predict(inputs: Sequence[str]) -> list[Any]:
            if not loaded:
                with lock:
                    if not loaded:
                        loaded.append(Int8Model(directory))
            return loaded[0].predict(inputs)

        return quantized_predict


def _directory_bytes(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.iterdir() if path.is_file())
