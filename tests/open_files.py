"""What this process holds open, read from ``/proc/self/fd`` (Linux): how the facade tests see
that a store was really closed, and how they pull a descriptor from under a store."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

FD_TABLE = Path("/proc/self/fd")

#: what an open embedded store (SQLite database + local artifact store) holds under its home
OPEN_STORE = [
    "artifacts/blobs",
    "modelops.db",
    "modelops.db-shm",
    "modelops.db-wal",
    "modelops.db.writer-lock",
]


def closed_message(facade: str, action: str) -> str:
    """What a facade says when it is used after close()."""
    return (
        f"This {facade} was closed (by close() or the end of its `with` block), so it cannot "
        f"{action}. Create a new {facade} for more work, or do the work inside "
        f"`with {facade}(...) as ...:`."
    )


def open_files_under(folder: Path) -> list[str]:
    """The files and folders under ``folder`` this process has open, relative, sorted."""
    if not FD_TABLE.is_dir():
        pytest.skip("no /proc/self/fd on this system")
    root = str(folder.resolve())
    found = []
    for fd in os.listdir(FD_TABLE):
        try:
            target = os.readlink(FD_TABLE / fd)
        except OSError:  # closed meanwhile (e.g. the descriptor listdir itself used)
            continue
        if target == root or target.startswith(root + os.sep):
            found.append(os.path.relpath(target, root))
    return sorted(found)


@contextmanager
def closed_underneath(path: Path) -> Iterator[None]:
    """Close this process's descriptor of ``path`` behind its owner's back (a real fault: the
    owner's own ``os.close`` then fails with EBADF), for the length of the block.

    The owner still holds the number afterwards: the block's end parks /dev/null on it, so
    whatever the owner closes later is that, not a file the process opened since.
    """
    wanted = str(path.resolve())
    for name in os.listdir(FD_TABLE):
        try:
            target = os.readlink(FD_TABLE / name)
        except OSError:
            continue
        if target == wanted:
            fd = int(name)
            break
    else:
        raise AssertionError(f"{path} is not open in this process")
    os.close(fd)
    try:
        yield
    finally:
        try:
            os.fstat(fd)
        except OSError:  # still free: park /dev/null on it
            parked = os.open(os.devnull, os.O_RDONLY)
            if parked != fd:
                os.dup2(parked, fd)
                os.close(parked)
