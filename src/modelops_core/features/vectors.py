"""Vector operations every feature store backend shares: validation, exact top-k, int8 codes.

Imported only when embeddings are used (it imports numpy).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from modelops_core.features.values import (
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


def distances(
    data: Matrix,
    query: npt.NDArray[np.float32],
    metric: str,
    squared_norms: Matrix | None = None,
) -> Matrix:
    """Distances from ``query`` to every row (smaller is nearer): one float32 matrix-vector
    product. ``squared_norms`` (l2 only) are the rows' squared lengths, cached by the caller
    so they are not recomputed over the whole matrix per query."""
    products: Matrix = data @ query
    if metric == "l2":
        if squared_norms is None:
            squared_norms = row_norms(data)
        products *= -2
        products += squared_norms
        products += float(query @ query)
        return np.maximum(products, 0, out=products)
    np.subtract(1, products, out=products)
    return products


def row_norms(data: Matrix) -> Matrix:
    """The squared length of every row (for l2 distances)."""
    found: Matrix = np.einsum("ij,ij->i", data, data, dtype=np.float32)
    return found


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
    squared_norms: Matrix | None = None,
) -> tuple[npt.NDArray[np.intp], Matrix]:
    """Exact top-``k`` over ``data`` (or only its ``rows``): row numbers and distances."""
    if rows is not None:
        if rows.size == 0:
            return rows, np.empty(0, dtype=np.float32)
        norms = squared_norms[rows] if squared_norms is not None else None
        subset = distances(data[rows], query, metric, norms)
        best = top_k(subset, k)
        return rows[best], subset[best]
    if data.shape[0] == 0:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.float32)
    found = distances(data, query, metric, squared_norms)
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

# Rows scored per block in the int8 pass: the block's float32 copy (256 x dim x 4 bytes, 384 KiB
# at dim 384) stays in cache for the matrix-vector product, so memory traffic is the int8 codes.
_INT8_BLOCK = 256


def quantize_int8(data: Matrix) -> tuple[npt.NDArray[np.int8], Matrix]:
    """Symmetric per-vector int8 codes and their scales (4x smaller than float32)."""
    codes = np.empty(data.shape, dtype=np.int8)
    scales = np.empty(data.shape[0], dtype=np.float32)
    for start in range(0, data.shape[0], _CHUNK):
        block = np.asarray(data[start : start + _CHUNK], dtype=np.float32)
        scale = np.abs(block).max(axis=1) / 127.0
        scale[scale == 0] = 1.0
        codes[start : start + _CHUNK] = np.clip(np.rint(block / scale[:, None]), -127, 127)
        scales[start : start + _CHUNK] = scale
    return codes, scales


def int8_scores(
    codes: npt.NDArray[np.int8], scales: Matrix, query: npt.NDArray[np.float32]
) -> Matrix:
    """Approximate dot products of ``query`` with every row, from the int8 codes."""
    total, dim = codes.shape
    found = np.empty(total, dtype=np.float32)
    block = np.empty((min(_INT8_BLOCK, total), dim), dtype=np.float32)
    for start in range(0, total, _INT8_BLOCK):
        rows = codes[start : start + _INT8_BLOCK]
        chunk = block[: rows.shape[0]]
        np.copyto(chunk, rows, casting="unsafe")
        np.dot(chunk, query, out=found[start : start + rows.shape[0]])
    found *= scales
    return found


def int8_search(
    codes: npt.NDArray[np.int8],
    scales: Matrix,
    query: npt.NDArray[np.float32],
    k: int,
    metric: str,
    data: Matrix | None = None,
    squared_norms: Matrix | None = None,
    candidates: int = 100,
) -> tuple[npt.NDArray[np.intp], Matrix]:
    """Top-``k`` in two passes: the ``max(candidates, 4k)`` best rows by int8 scores, then
    those rows re-ranked exactly on the float32 ``data`` (only they are read; without
    ``data`` the int8 distances are returned). ``squared_norms`` are needed for l2."""
    total = codes.shape[0]
    if total == 0:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.float32)
    scores = int8_scores(codes, scales, query)
    if metric == "l2":
        if squared_norms is None:
            raise ValueError("int8 search with the l2 metric needs the rows' squared norms")
        coarse = squared_norms - 2 * scores
    else:
        coarse = np.subtract(1, scores, out=scores)
    shortlist = top_k(coarse, max(candidates, 4 * k))
    if data is None:
        best = shortlist[:k]
        found = coarse[best]
        if metric == "l2":
            found = np.maximum(found + float(query @ query), 0)
        return best, found.astype(np.float32)
    shortlist = np.sort(shortlist)  # reads the memory-mapped rows in file order
    norms = squared_norms[shortlist] if squared_norms is not None else None
    exact = distances(np.asarray(data[shortlist]), query, metric, norms)
    best = top_k(exact, k)
    return shortlist[best], exact[best]


def recall_at_k(approximate: Sequence[Sequence[int]], exact: Sequence[Sequence[int]]) -> float:
    """The fraction of exact top-k rows an approximate search also returned (mean per query)."""
    if not exact:
        return 1.0
    total = 0.0
    for found, truth in zip(approximate, exact, strict=True):
        total += len(set(found) & set(truth)) / max(len(truth), 1)
    return total / len(exact)
