"""Duplicate detection in bounded memory: every example's key and line are logged in arrays, and
the duplicates are found once, at the end, by sorting the keys.

A key is a 64-bit hash of an example's canonical content (see :class:`Checker
<modelops_core.datasets.validate.Checker>`), so the log holds 16 bytes per example (a dict of
keys to lines would hold about 100), and logging a block of keys is one array append instead of
a random memory access per example.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

#: keys added one at a time are moved into an array every this many.
_PENDING = 65_536


class DuplicateLog:
    """Keys of examples in the order they are added, with their lines."""

    def __init__(self) -> None:
        self._keys: list[NDArray[np.int64]] = []
        self._lines: list[NDArray[np.int64]] = []
        self._pending_keys: list[int] = []
        self._pending_lines: list[int] = []

    def add(self, key: int, line: int) -> None:
        """Log one example."""
        self._pending_keys.append(key)
        self._pending_lines.append(line)
        if len(self._pending_keys) >= _PENDING:
            self._flush()

    def add_run(self, keys: NDArray[np.int64], lines: Sequence[int]) -> None:
        """Log consecutive examples: their keys and lines."""
        import numpy as np

        self._flush()
        self._keys.append(keys)
        if isinstance(lines, range):
            self._lines.append(np.arange(lines.start, lines.stop, dtype=np.int64))
        else:
            self._lines.append(np.asarray(lines, dtype=np.int64))

    def duplicates(self) -> list[tuple[int, int, int]]:
        """``(index, line, first line)`` of every example whose key an earlier one had, in the
        order they were added (``index`` counts the examples from 0, ``first line`` is the line
        of the first example with that key)."""
        import numpy as np

        self._flush()
        if not self._keys:
            return []
        keys = np.concatenate(self._keys)
        order = np.argsort(keys, kind="stable")  # stable: the first of equal keys comes first
        ordered = keys[order]
        repeats = np.flatnonzero(ordered[1:] == ordered[:-1]) + 1
        if not repeats.size:
            return []
        starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
        firsts = order[starts[np.searchsorted(starts, repeats, side="right") - 1]]
        indexes = order[repeats]
        lines = np.concatenate(self._lines)
        found = zip(indexes.tolist(), lines[indexes].tolist(), lines[firsts].tolist(), strict=True)
        return sorted(found)

    def _flush(self) -> None:
        if self._pending_keys:
            import numpy as np

            self._keys.append(np.array(self._pending_keys, dtype=np.int64))
            self._lines.append(np.array(self._pending_lines, dtype=np.int64))
            self._pending_keys, self._pending_lines = [], []
