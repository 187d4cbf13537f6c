"""A mergeable, seeded sample of rows (the numeric columns) for multivariate drift (MMD).

Each row gets a priority, a 64-bit hash of its values and the seed; a sample keeps the ``size``
rows of lowest priority. The priority depends on the row alone, so the sample of ``A + B`` is
exactly the merge of the samples of ``A`` and ``B`` (whatever the chunks, order or merge tree),
and the same data with the same seed gives the same sample.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from modelops_core.monitoring.errors import ProfileError
from modelops_core.monitoring.sketches import DEFAULT_SAMPLE_ROWS, FloatArray, hash_floats

_MIX = np.uint64(0x9E3779B97F4A7C15)


def row_priorities(columns: Sequence[FloatArray], seed: int) -> npt.NDArray[np.uint64]:
    """A 64-bit priority per row: the hashes of its values (NaN as itself) mixed in column
    order with the seed."""
    count = len(columns[0]) if columns else 0
    priority = np.full(count, np.uint64(seed & 0xFFFFFFFFFFFFFFFF), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for values in columns:
            priority = _mix(priority * _MIX ^ hash_floats(values))
    return priority


def _mix(z: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """The splitmix64 finalizer (a bijection of 64-bit values)."""
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    mixed: npt.NDArray[np.uint64] = z ^ (z >> np.uint64(31))
    return mixed


def _encode(array: npt.NDArray[Any]) -> str:
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")


@attrs.frozen(eq=False)
class RowSample:
    """The ``size`` rows of lowest priority of the columns ``columns`` (numeric)."""

    columns: tuple[str, ...]
    values: FloatArray = attrs.field(factory=lambda: np.empty((0, 0)))
    priorities: npt.NDArray[np.uint64] = attrs.field(factory=lambda: np.empty(0, dtype=np.uint64))
    size: int = DEFAULT_SAMPLE_ROWS
    seed: int = 0

    def add(self, chunk: Mapping[str, FloatArray]) -> RowSample:
        """The sample with the rows of ``chunk`` (column -> floats, NaN where missing)."""
        arrays = [np.asarray(chunk[name], dtype=np.float64) for name in self.columns]
        if not arrays or len(arrays[0]) == 0:
            return self
        other = RowSample(
            self.columns, np.column_stack(arrays), row_priorities(arrays, self.seed), self.size,
            self.seed,
        )  # fmt: skip
        return self.merge(other)

    def merge(self, other: RowSample) -> RowSample:
        if other.columns != self.columns:
            raise ProfileError(
                f"row samples of different columns ({list(self.columns)} and "
                f"{list(other.columns)}); build window profiles against the same reference"
            )
        size = min(self.size, other.size)
        values = np.concatenate([self.values.reshape(-1, len(self.columns)), other.values])
        priorities = np.concatenate([self.priorities, other.priorities])
        keep = np.argsort(priorities, kind="stable")[:size]  # the same rows in any order
        return RowSample(self.columns, values[keep], priorities[keep], size, self.seed)

    def complete_rows(self) -> FloatArray:
        """The sampled rows without a missing or infinite value."""
        values = self.values.reshape(-1, len(self.columns))
        kept: FloatArray = values[np.all(np.isfinite(values), axis=1)]
        return kept

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": list(self.columns),
            "size": self.size,
            "seed": self.seed,
            "values": _encode(self.values.astype("<f8")),
            "priorities": _encode(self.priorities.astype("<u8")),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RowSample:
        columns = tuple(str(name) for name in data["columns"])
        values = np.frombuffer(base64.b64decode(data["values"]), dtype="<f8").astype(np.float64)
        priorities = np.frombuffer(base64.b64decode(data["priorities"]), dtype="<u8")
        return cls(
            columns,
            values.reshape(-1, len(columns)) if columns else np.empty((0, 0)),
            priorities.astype(np.uint64),
            int(data["size"]),
            int(data.get("seed", 0)),
        )
