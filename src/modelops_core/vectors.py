"""Vector operations every feature store backend shares: validation, exact top-k, int8 codes.

Imported only when embeddings are used (it imports numpy).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from modelops_core.feature_types import (
    METRICS,
    EmbeddingDimensionError,
    EmbeddingError,
    EmbeddingValueError,
)

Matrix = npt.NDArray[np.float32]
MetadataFilter = Mapping[str, Any] | Callable[[Mapping[str, Any]], bool]
_CHUNK = 16384


def check_metric(metric: str, index: str) -> str:
    """Return ``metric`` if it is known, else raise naming the index."""
    if metric not in METRICS:
        raise EmbeddingError(
            f"Unknown metric {metric!r} for index {index!r}; use one of {', '.join(METRICS)}."
        )
    return metric


def as_matrix(matrix: Any, ids: Sequence[str], index: str, dim: int | None, metric: str) -> Matrix:
    """``matrix`` as a C-contiguous float32 (n, dim) array, checked and prepared for ``metric``.

    :raises EmbeddingDimensionError: the width differs from ``dim`` or the row count from ids.
    :raises EmbeddingValueError: a row holds NaN/inf, or is all zeros in a cosine index.
    """
    array = np.array(matrix, dtype=np.float32, copy=True, order="C")
    if array.ndim == 1 and len(ids) == 1:
        array = array.reshape(1, -1)
    if array.ndim != 2:
        raise EmbeddingDimensionError(
            f"Embeddings for index {index!r} must be a 2-D matrix (one row per id), got shape "
            f"{array.shape}."
        )
    if array.shape[0] != len(ids):
        raise EmbeddingDimensionError(
            f"Index {index!r}: {len(ids)} ids but {array.shape[0]} rows; give one row per id."
        )
    if dim is not None and array.shape[1] != dim:
        raise EmbeddingDimensionError(
            f"Index {index!r} holds {dim}-dimensional vectors; the vector of id {ids[0]!r} has "
            f"{array.shape[1]}. Use the same embedding model, or push to another index."
        )
    bad = ~np.isfinite(array).all(axis=1)
    if bad.any():
        shown = [ids[i] for i in np.flatnonzero(bad)[:5]]
        raise EmbeddingValueError(
            f"Index {index!r}: the vectors of {int(bad.sum())} id(s) hold NaN or infinity "
            f"(first: {', '.join(map(repr, shown))}). Nothing was stored; fix or drop them."
        )
    if metric == "cosine":
        norms = np.linalg.norm(array, axis=1)
        zero = norms == 0
        if zero.any():
            shown = [ids[i] for i in np.flatnonzero(zero)[:5]]
            raise EmbeddingValueError(
                f"Index {index!r} uses cosine and the vectors of {', '.join(map(repr, shown))} "
                "are all zeros (no direction). Drop them, or use metric='l2'."
            )
        array /= norms[:, None]
    return array


def as_query(vector: Any, index: str, dim: int, metric: str) -> npt.NDArray[np.float32]:
    """One query vector as float32 (dim,), checked and prepared for ``metric``."""
    array = np.asarray(vector, dtype=np.float32)
    if array.ndim == 2 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 1 or array.shape[0] != dim:
        raise EmbeddingDimensionError(
            f"Index {index!r} holds {dim}-dimensional vectors; the query has shape "
            f"{array.shape}. Embed the query with the index's model."
        )
    if not np.isfinite(array).all():
        raise EmbeddingValueError(f"The query vector for index {index!r} holds NaN or infinity.")
    if metric == "cosine":
        norm = float(np.linalg.norm(array))
        if norm == 0:
            raise EmbeddingValueError(
                f"The query vector for index {index!r} is all zeros; cosine needs a direction."
            )
        array = array / norm
    return np.ascontiguousarray(array, dtype=np.float32)


def distances(data: Matrix, query: npt.NDArray[np.float32], metric: str) -> Matrix:
    """Distances from ``query`` to every row (smaller is nearer)."""
    products = data @ query
    if metric == "l2":
        squared: Matrix = np.einsum("ij,ij->i", data, data)
        return np.maximum(squared - 2 * products + float(query @ query), 0).astype(np.float32)
    return (1 - products).astype(np.float32)


def top_k(values: npt.NDArray[Any], k: int) -> npt.NDArray[np.intp]:
    """Positions of the ``k`` smallest values, nearest first."""
    if k >= values.shape[0]:
        return np.argsort(values, kind="stable")
    part = np.argpartition(values, k - 1)[:k]
    return part[np.argsort(values[part], kind="stable")]


def exact_search(
    data: Matrix,
    query: npt.NDArray[np.float32],
    k: int,
    metric: str,
    rows: npt.NDArray[np.intp] | None = None,
) -> tuple[npt.NDArray[np.intp], Matrix]:
    """Exact top-``k`` over ``data`` (or only its ``rows``): row numbers and distances."""
    if rows is not None:
        if rows.size == 0:
            return rows, np.empty(0, dtype=np.float32)
        subset = distances(data[rows], query, metric)
        best = top_k(subset, k)
        return rows[best], subset[best]
    if data.shape[0] == 0:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.float32)
    found = distances(data, query, metric)
    best = top_k(found, k)
    return best, found[best]


def matching_rows(
    metadata: Sequence[Mapping[str, Any]], where: MetadataFilter
) -> npt.NDArray[np.intp]:
    """Rows whose metadata matches ``where``: a callable, or ``{key: value}`` equality where a
    list/tuple/set value means "one of"."""
    if callable(where):
        test = where
    else:
        wanted = dict(where)

        def test(item: Mapping[str, Any]) -> bool:
            for key, value in wanted.items():
                if key not in item:
                    return False
                if isinstance(value, list | tuple | set | frozenset):
                    if item[key] not in value:
                        return False
                elif item[key] != value:
                    return False
            return True

    return np.fromiter((row for row, item in enumerate(metadata) if test(item)), dtype=np.intp)


# --- int8 quantization -------------------------------------------------------------------------


def quantize_int8(data: Matrix) -> tuple[npt.NDArray[np.int8], Matrix]:
    """Symmetric per-vector int8 codes and their scales (4x smaller than float32)."""
    scales = np.abs(data).max(axis=1) / 127.0
    scales[scales == 0] = 1.0
    codes = np.clip(np.rint(data / scales[:, None]), -127, 127).astype(np.int8)
    return codes, scales.astype(np.float32)


def int8_search(
    codes: npt.NDArray[np.int8],
    scales: Matrix,
    query: npt.NDArray[np.float32],
    k: int,
    metric: str,
) -> tuple[npt.NDArray[np.intp], Matrix]:
    """Top-``k`` over int8 codes, dequantized a chunk at a time (bounded extra memory)."""
    total = codes.shape[0]
    if total == 0:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.float32)
    found = np.empty(total, dtype=np.float32)
    for start in range(0, total, _CHUNK):
        chunk = codes[start : start + _CHUNK].astype(np.float32)
        chunk *= scales[start : start + _CHUNK, None]
        found[start : start + _CHUNK] = distances(chunk, query, metric)
    best = top_k(found, k)
    return best, found[best]


def recall_at_k(approximate: Sequence[Sequence[int]], exact: Sequence[Sequence[int]]) -> float:
    """The fraction of exact top-k rows an approximate search also returned (mean per query)."""
    if not exact:
        return 1.0
    total = 0.0
    for found, truth in zip(approximate, exact, strict=True):
        total += len(set(found) & set(truth)) / max(len(truth), 1)
    return total / len(exact)
