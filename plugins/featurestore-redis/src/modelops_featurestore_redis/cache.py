"""A client-side copy of one Redis vector index, kept current by applying only what changed.

Every push appends the list of ids it wrote to the index's log (a Redis list), so a client
that has applied the first ``n`` log entries reads entries ``n..`` and fetches only those ids'
vectors and metadata, instead of the whole index again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from modelops_core.features.values import Neighbor
from modelops_core.features.vectors import (
    Matrix,
    MetadataFilter,
    exact_search,
    int8_search,
    matching_rows,
    quantize_int8,
    row_norms,
)


class VectorCache:
    """The rows of one index in memory: ids, float32 vectors (grown geometrically), metadata,
    and derived arrays (int8 codes, squared norms) updated for the changed rows only.

    :param applied: how many log entries these rows reflect.
    """

    def __init__(self, dim: int, metric: str) -> None:
        self.dim = dim
        self.metric = metric
        self.applied = 0
        self.ids: list[str] = []
        self.rows: dict[str, int] = {}
        self.metadata: list[Mapping[str, Any]] = []
        self._buffer: Matrix = np.empty((0, dim), dtype=np.float32)
        self._codes: Any = None
        self._scales: Any = None
        self._norms: Any = None

    @property
    def data(self) -> Matrix:
        """The vectors, one row per id (a view, no copy)."""
        return self._buffer[: len(self.ids)]

    def apply(
        self,
        ids: Sequence[str],
        vectors: Sequence[bytes | None],
        metadata: Sequence[Mapping[str, Any]],
    ) -> None:
        """Upsert rows (an id whose vector is None is skipped: it was never stored)."""
        targets: list[int] = []
        chunks: list[bytes] = []
        kept: list[Mapping[str, Any]] = []
        for item, vector, meta in zip(ids, vectors, metadata, strict=True):
            if vector is None:
                continue
            row = self.rows.get(item)
            if row is None:
                row = self.rows[item] = len(self.ids)
                self.ids.append(item)
                self.metadata.append(meta)
            targets.append(row)
            chunks.append(vector)
            kept.append(meta)
        if not targets:
            return
        count = len(self.ids)
        if count > self._buffer.shape[0]:
            grown = np.empty((max(count, 2 * self._buffer.shape[0]), self.dim), dtype=np.float32)
            grown[: self._buffer.shape[0]] = self._buffer
            self._buffer = grown
        changed = np.array(targets, dtype=np.intp)
        rows = np.frombuffer(b"".join(chunks), dtype=np.float32).reshape(-1, self.dim)
        self._buffer[changed] = rows
        for row, meta in zip(targets, kept, strict=True):
            self.metadata[row] = meta
        self._update_derived(changed, rows, count)

    def _update_derived(self, changed: Any, rows: Matrix, count: int) -> None:
        if self._norms is not None:
            self._norms = _grown(self._norms, count)
            self._norms[changed] = row_norms(rows)
        if self._codes is not None:
            codes, scales = quantize_int8(rows)
            self._codes = _grown(self._codes, count)
            self._scales = _grown(self._scales, count)
            self._codes[changed] = codes
            self._scales[changed] = scales

    def search(
        self, query: Any, k: int, where: MetadataFilter | None, method: str
    ) -> list[Neighbor]:
        """Exact (or ``int8`` then exactly re-ranked) top-``k``; filtered searches are exact."""
        data, metric = self.data, self.metric
        norms = None
        if metric == "l2":
            if self._norms is None:
                self._norms = row_norms(data)
            norms = self._norms
        if where is not None:
            rows, found = exact_search(
                data, query, k, metric, matching_rows(self.metadata, where), norms
            )
        elif method == "int8":
            if self._codes is None:
                self._codes, self._scales = quantize_int8(data)
            rows, found = int8_search(self._codes, self._scales, query, k, metric, data, norms)
        else:
            rows, found = exact_search(data, query, k, metric, squared_norms=norms)
        return [
            Neighbor(self.ids[row], float(distance), self.metadata[row])
            for row, distance in zip(rows.tolist(), found.tolist(), strict=True)
        ]


def _grown(array: Any, count: int) -> Any:
    """``array`` with at least ``count`` rows (new rows are set by the caller)."""
    if array.shape[0] >= count:
        return array
    grown = np.empty((count, *array.shape[1:]), dtype=array.dtype)
    grown[: array.shape[0]] = array
    return grown
