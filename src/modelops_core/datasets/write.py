"""Atomic writes: a temporary file beside the target, fsync, then ``os.replace``.

A reader never sees half a file, a failure leaves the old file in place, and writing over the
file being read is safe (the input is replaced only once the output is complete).

The temporary file is named ``.<name>.<pid>-<8 hex>.tmp``. A process killed while writing
(SIGKILL, out of memory) cannot remove it itself, so:

- the next atomic write of the same file removes the temporary files of processes that no
  longer run (and those of older versions, ``.<name>.<8 characters>.tmp``, untouched for
  :data:`LEGACY_STALE_SECONDS`); a temporary file of a running writer is left alone;
- with ``watch=True`` (used by the streaming commands, whose runs are long), a watcher process
  (``/bin/sh``, in its own session) holds the read end of a pipe and removes the temporary
  file when the writer's end closes: when the writer dies, however it dies. After a
  successful write the name is gone already, so it removes nothing.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from modelops_core.datasets.errors import DatasetError

TEMPORARY_SUFFIX = ".tmp"
LEGACY_STALE_SECONDS = 3600
"""Age after which a temporary file without a process id (written by an older version) is
taken as left by a killed writer."""
# Patterns, compiled (and cached) by re when a temporary file is first looked at.
_TEMPORARY = r"(?P<pid>[1-9][0-9]{0,9})-[0-9a-f]{8}"
_LEGACY_TEMPORARY = r"[a-z0-9_]{8}"  # tempfile.mkstemp's names
# ``[`` is a shell builtin: after a successful write (the name is gone) no ``rm`` is started.
_WATCHER_SCRIPT = 'read -r _; [ -e "$1" ] && exec rm -f -- "$1"'


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str], *, watch: bool = False) -> Iterator[IO[bytes]]:
    """A binary file that becomes ``path`` when the block ends without an error.

    :param watch: start a watcher process that removes the temporary file if this process
        dies before the end (even by SIGKILL); costs a ``/bin/sh`` start (about a millisecond).
    """
    target = Path(path)
    if target.is_dir():
        raise DatasetError(f"{target} is a directory; give a file path to write.")
    temporary = target.with_name(
        f".{target.name}.{os.getpid()}-{os.urandom(4).hex()}{TEMPORARY_SUFFIX}"
    )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(target)
    except OSError as exc:
        raise DatasetError(f"Cannot write {target}: {exc.strerror or exc}.") from exc
    watcher = _start_watcher(temporary) if watch else None
    try:
        try:
            descriptor = os.open(
                temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600
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
    finally:
        if watcher is not None:
            _stop_watcher(watcher)


def remove_stale_temporaries(target: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files of ``target`` left by writers that no longer run; the
    removed paths. Temporary files of running processes (this one included) stay."""
    target = Path(target)
    prefix = f".{target.name}."
    removed: list[Path] = []
    try:
        entries = list(os.scandir(target.parent))
    except FileNotFoundError:
        return removed
    for entry in entries:
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(TEMPORARY_SUFFIX)):
            continue
        middle = name[len(prefix) : -len(TEMPORARY_SUFFIX)]
        ours = re.fullmatch(_TEMPORARY, middle)
        if ours is not None:
            stale = not _running(int(ours["pid"]))
        elif re.fullmatch(_LEGACY_TEMPORARY, middle) is not None:
            try:
                stale = time.time() - entry.stat().st_mtime > LEGACY_STALE_SECONDS
            except FileNotFoundError:
                continue
        else:
            continue
        if stale and entry.is_file(follow_symlinks=False):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists; True when it cannot be told (never remove wrongly)."""
    if pid == os.getpid():
        return True
    if os.name != "posix":  # os.kill(pid, 0) would terminate the process on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):  # EPERM: it exists, under another user
        return True
    return True


def _start_watcher(temporary: Path) -> Any:
    """A ``/bin/sh`` that removes ``temporary`` once the pipe to it closes; None without one.

    Started with ``os.posix_spawn`` (importing :mod:`subprocess` costs more than the shell):
    its stdin is the pipe's read end, its output goes to ``/dev/null``, and it runs in a
    session of its own, so a signal to our process group does not stop it.
    """
    if os.name != "posix" or not hasattr(os, "posix_spawn"):
        return None
    read_end, write_end = os.pipe()  # not inheritable: only the dup2 copies reach the shell
    devnull = os.open(os.devnull, os.O_WRONLY)
    arguments = ["/bin/sh", "-c", _WATCHER_SCRIPT, "modelops-tmp-watcher", str(temporary)]
    actions = [
        (os.POSIX_SPAWN_DUP2, read_end, 0),
        (os.POSIX_SPAWN_DUP2, devnull, 1),
        (os.POSIX_SPAWN_DUP2, devnull, 2),
    ]
    try:
        pid = os.posix_spawn("/bin/sh", arguments, os.environ, file_actions=actions, setsid=True)
    except (OSError, NotImplementedError):
        os.close(write_end)
        return None  # no shell: the next write of the file removes a leftover
    finally:
        os.close(read_end)
        os.close(devnull)
    return pid, write_end


def _stop_watcher(watcher: Any) -> None:
    """Close the pipe (the watcher removes the temporary file if it is still there) and reap
    it; one that has not ended after 10 s is killed."""
    pid, write_end = watcher
    with contextlib.suppress(OSError):
        os.close(write_end)
    deadline = time.monotonic() + 10
    pause = 0.0002
    try:
        while os.waitpid(pid, os.WNOHANG) == (0, 0):
            if time.monotonic() > deadline:
                import signal  # here: only a watcher that hangs needs it

                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
    except ChildProcessError:  # already reaped
        return


def rejected_path(output: str | os.PathLike[str]) -> Path:
    """Where ``--skip-invalid`` writes the rejected lines of ``output``:
    ``<output>.rejected.jsonl``."""
    out = Path(output)
    return out.with_name(f"{out.name}.rejected.jsonl")
