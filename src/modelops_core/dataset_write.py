"""Atomic writes: a temporary file beside the target, fsync, then ``os.replace``.

A reader never sees half a file, a failure leaves the old file in place, and writing over the
file being read is safe (the input is replaced only once the output is complete).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from modelops_core.dataset_errors import DatasetError


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """A binary file that becomes ``path`` when the block ends without an error."""
    target = Path(path)
    if target.is_dir():
        raise DatasetError(f"{target} is a directory; give a file path to write.")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
        )
    except OSError as exc:
        raise DatasetError(f"Cannot write {target}: {exc.strerror or exc}.") from exc
    try:
        with os.fdopen(descriptor, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def rejected_path(output: str | os.PathLike[str]) -> Path:
    """Where ``--skip-invalid`` writes the rejected lines of ``output``:
    ``<output>.rejected.jsonl``."""
    out = Path(output)
    return out.with_name(f"{out.name}.rejected.jsonl")
