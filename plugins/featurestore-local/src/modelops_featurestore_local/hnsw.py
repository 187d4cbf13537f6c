"""An HNSW graph over an index's rows (hnswlib), labels being row numbers.

hnswlib is optional: :func:`available` says whether it can be imported.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

# Rows added per add_items call (bounds the contiguous copy of a memory-mapped matrix).
_BATCH = 10_000
# hnswlib threads for building: every core (the build is the slow part of a first push).
_THREADS = max(os.cpu_count() or 1, 1)


def available() -> bool:
    """Whether hnswlib is installed."""
    try:
        import hnswlib  # noqa: F401
    except ImportError:
        return False
    return True


class HnswGraph:
    """A wrapper keeping hnswlib's settings in one place.

    :param metric: ``cosine`` (rows are unit-length, so inner product), ``ip`` or ``l2``.
    """

    def __init__(self, dim: int, metric: str, *, m: int, ef_construction: int, ef: int) -> None:
        import hnswlib

        self.dim = dim
        self.ef = ef
        self.m = m
        self.ef_construction = ef_construction
        self._index: Any = hnswlib.Index(space="l2" if metric == "l2" else "ip", dim=dim)
        self._capacity = 0

    def build(self, data: Any) -> None:
        """Index every row of ``data`` (labels 0..n-1), a batch at a time."""
        self._capacity = max(int(data.shape[0] * 1.25), 16)
        self._index.init_index(
            max_elements=self._capacity, ef_construction=self.ef_construction, M=self.m
        )
        for start in range(0, data.shape[0], _BATCH):
            stop = min(start + _BATCH, data.shape[0])
            self.add(data[start:stop], np.arange(start, stop))

    def add(self, rows: Any, labels: Any) -> None:
        """Add rows, or replace the vectors of labels already present."""
        if rows.shape[0] == 0:
            return
        needed = int(labels.max()) + 1
        if needed > self._capacity:
            self._capacity = max(needed, int(self._capacity * 1.5))
            self._index.resize_index(self._capacity)
        rows = np.ascontiguousarray(rows, dtype=np.float32)
        self._index.add_items(rows, labels, num_threads=_THREADS)

    def search(self, query: Any, k: int) -> tuple[Any, Any]:
        """Row numbers and distances of the ``k`` nearest rows."""
        count = self._index.get_current_count()
        k = min(k, count)
        self._index.set_ef(max(self.ef, k))
        labels, found = self._index.knn_query(query, k=k, num_threads=1)
        return labels[0].astype(np.intp), found[0]

    def save(self, path: Path) -> None:
        """Write the graph to ``path`` atomically (a temporary file renamed over it)."""
        fd, temp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        os.close(fd)
        try:
            self._index.save_index(temp)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def load(self, path: Path, count: int) -> None:
        """Read a graph written by :meth:`save`."""
        self._capacity = max(int(count * 1.25), 16)
        self._index.load_index(str(path), max_elements=self._capacity)
