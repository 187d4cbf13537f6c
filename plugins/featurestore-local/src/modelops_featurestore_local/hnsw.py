"""An HNSW graph over an index's rows (usearch), keys being row numbers.

usearch ships wheels for CPython 3.11+ on Linux, macOS and Windows (no compiler at install
time; hnswlib, used before, has none for 3.11/3.12). It is optional: :func:`available` says
whether it can be imported. The graph file is ``graph.usearch`` (:data:`FILE`); a generation
written by an older version holds ``hnsw.bin`` (hnswlib's format) instead, which is not read:
the graph of such a generation is built again from its ``vectors.npy`` on its first search.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

# The graph's file in a generation folder.
FILE = "graph.usearch"
# Rows added per call (bounds the contiguous copy of a memory-mapped matrix).
_BATCH = 10_000
_PARALLEL_MIN_ROWS = 4_096
# Threads for building: every core (the build is the slow part of a first push).
_THREADS = max(os.cpu_count() or 1, 1)


def available() -> bool:
    """Whether usearch is installed."""
    try:
        import usearch.index  # noqa: F401
    except ImportError:
        return False
    return True


class HnswGraph:
    """A wrapper keeping usearch's settings in one place.

    :param metric: ``cosine`` (rows are unit-length, so inner product), ``ip`` or ``l2``.
        The graph picks candidate rows; their distances are computed again exactly by the
        caller (a cosine graph holds half-precision copies of the rows).
    """

    def __init__(self, dim: int, metric: str, *, m: int, ef_construction: int, ef: int) -> None:
        from usearch.index import Index

        self.dim = dim
        self.ef = ef
        self.m = m
        self.ef_construction = ef_construction
        self._index: Any = Index(
            ndim=dim,
            metric="l2sq" if metric == "l2" else "ip",
            # Unit-length cosine rows fit half precision: half the memory, about twice as
            # fast to build and search; ip and l2 rows may hold any magnitude, so float32.
            dtype="f16" if metric == "cosine" else "f32",
            connectivity=m,
            expansion_add=ef_construction,
            expansion_search=ef,
        )

    def __len__(self) -> int:
        return len(self._index)

    def build(self, data: Any) -> None:
        """Index every row of ``data`` (keys 0..n-1), a batch at a time."""
        for start in range(0, data.shape[0], _BATCH):
            stop = min(start + _BATCH, data.shape[0])
            self.add(data[start:stop], np.arange(start, stop))

    def add(self, rows: Any, labels: Any) -> None:
        """Add rows, or replace the vectors of keys already present."""
        if rows.shape[0] == 0:
            return
        keys = np.asarray(labels, dtype=np.uint64)
        present = keys[self._index.contains(keys)] if len(self._index) else keys[:0]
        if present.size:
            self._index.remove(present)
        rows = np.ascontiguousarray(rows, dtype=np.float32)
        # Small batches are added by one thread: the same graph every time (concurrent inserts
        # link rows in whatever order the threads reach them), and threads gain little there.
        threads = _THREADS if rows.shape[0] >= _PARALLEL_MIN_ROWS else 1
        self._index.add(keys, rows, threads=threads)

    def search(self, query: Any, k: int) -> tuple[Any, Any]:
        """Row numbers and distances of (at most) the ``k`` nearest rows."""
        self._index.expansion_search = max(self.ef, k)
        found = self._index.search(np.asarray(query, dtype=np.float32), k, threads=1)
        return found.keys.astype(np.intp), found.distances

    def save(self, path: Path) -> None:
        """Write the graph to ``path`` atomically (a temporary file renamed over it)."""
        fd, temp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        os.close(fd)
        try:
            self._index.save(temp)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def load(self, path: Path, count: int) -> bool:
        """Read a graph written by :meth:`save`; False when the file is not a graph of
        ``count`` rows of this width (damaged, or written by something else): the caller then
        builds a new graph instead of using this one."""
        from usearch.index import Index

        try:
            described = Index.metadata(str(path))
        except (OSError, RuntimeError, ValueError):
            described = None
        if not described or described.get("dimensions") != self.dim:
            return False
        try:
            self._index.load(str(path))
        except (OSError, RuntimeError, ValueError):
            return False
        self._index.expansion_search = self.ef
        return len(self._index) == count
