"""Splitting a sanitizer run between processes, with the serial run's output and report.

A large input is cut into consecutive slices (byte ranges of a file at line boundaries, or
ranges of records in memory). The parent creates the pipeline's components, then forks one
child per slice but the first: each child inherits the components as they are (compiled
patterns, the random hash salt), runs its slice through them and sends back its components'
reports. The parent runs the first slice itself, then folds each child's slice in, in order:
its output appended, its reports absorbed by the parent's components (``absorb``) as if its
records had followed.

Only pipelines whose every component says it is record-local (``record_local = True``: what it
does to a record depends on nothing but the record) and can absorb the report of a later slice
(``absorb(report, records_before)``) are split; a component may refuse one report
(``can_absorb(report)`` false), and a child can fail: either way the parent runs that slice
itself, which gives the serial result.

Forking needs ``os.fork`` (Linux: not macOS, where forking a process that loaded system
frameworks is unsafe, nor Windows); ``workers=None`` (auto) also wants more than one usable
CPU that no other process is busy on, an input large enough (``minimum``: see
:data:`~modelops_core.datasets.sanitize.SPLIT_MIN_BYTES`), and no other thread in the process (a
fork copies a lock another thread holds, locked for ever).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

# Deciding whether to split imports nothing (logging alone costs ~6 ms of a 1 MB run):
# what a split run needs is imported when it runs.

POLL_SECONDS = 0.1
"""How often progress is passed on while the parent waits for a child."""
CHILD_FAILED = 70
"""The exit status of a child whose slice raised an unexpected error (os.EX_SOFTWARE)."""
SLOT_BYTES = 8
"""A child's progress counter: a signed 64-bit integer in shared memory."""


def splittable(components: Sequence[Any]) -> bool:
    """Whether every component is record-local and can absorb a later slice's report."""
    return bool(components) and all(
        getattr(component, "record_local", False) is True
        and callable(getattr(component, "absorb", None))
        for component in components
    )


def usable_cpus() -> int:
    """The CPUs this process may run on."""
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        return len(affinity(0))
    return os.cpu_count() or 1


def worker_count(
    requested: int | None, *, size: int, minimum: int, components: Sequence[Any]
) -> int:
    """How many processes sanitize an input of ``size`` (bytes or records): ``requested``
    (1: serial), or by default (None) one per usable CPU when ``size`` reaches ``minimum``
    and no other thread runs; 1 whenever the pipeline cannot be split or there is no fork."""
    if requested == 1 or (requested is None and size < minimum):
        return 1
    if not hasattr(os, "fork") or sys.platform == "darwin" or not splittable(components):
        return 1
    if requested is not None:
        return max(1, min(requested, size))
    if threads_running() != 1:
        return 1
    return max(1, min(usable_cpus(), idle_cpus(), size // max(1, minimum // 2)))


def threads_running() -> int:
    """The threads of this process (1 when :mod:`threading` was never imported: no thread
    was started with it)."""
    threading = sys.modules.get("threading")
    return 1 if threading is None else int(threading.active_count())


def idle_cpus() -> int:
    """The CPUs no other process is running on at this instant (``/proc/loadavg``'s count of
    runnable tasks, this one included): on a busy machine a split run would wait for a CPU
    and end later than one process. Without ``/proc``, every CPU counts as idle."""
    try:
        with open("/proc/loadavg", "rb") as handle:
            running = int(handle.read().split()[3].split(b"/")[0])
    except (OSError, ValueError, IndexError):
        return usable_cpus()
    return max(1, usable_cpus() - max(0, running - 1))


def line_cuts(path: str | os.PathLike[str], parts: int) -> list[int]:
    """Byte offsets splitting the file into at most ``parts`` non-empty ranges of whole lines:
    ``[0, ..., size]``, each inner cut just after the first ``\\n`` at or after ``k*size/parts``."""
    size = os.path.getsize(path)
    cuts = [0]
    with open(path, "rb") as handle:
        for part in range(1, parts):
            position = max(part * size // parts, cuts[-1])
            handle.seek(position)
            while True:
                chunk = handle.read(1 << 16)
                if not chunk:
                    position = size
                    break
                newline = chunk.find(b"\n")
                if newline >= 0:
                    position += newline + 1
                    break
                position += len(chunk)
            if cuts[-1] < position < size:
                cuts.append(position)
    cuts.append(size)
    return cuts


def even_cuts(count: int, parts: int) -> list[int]:
    """``[0, ..., count]``: ``parts`` ranges of records as even as they can be."""
    return sorted({part * count // parts for part in range(parts + 1)})


class ProgressSlots:
    """Byte counters the children write (one 8-byte slot each, in memory shared across fork)
    and the parent reads, to pass the children's progress on."""

    def __init__(self, slots: int, progress: Callable[[int], None] | None) -> None:
        import mmap
        import struct

        self.memory = mmap.mmap(-1, max(1, slots) * SLOT_BYTES)
        self.slot = struct.Struct("q")
        self.progress = progress
        self.reported = 0
        self.slots = slots

    def adder(self, slot: int) -> Callable[[int], None]:
        """A progress callback for the child of ``slot``: adds to its counter."""
        offset = slot * SLOT_BYTES
        memory, counter = self.memory, self.slot

        def add(read: int) -> None:
            counter.pack_into(memory, offset, counter.unpack_from(memory, offset)[0] + read)

        return add

    def poll(self) -> None:
        """Pass on what the children read since the last poll."""
        if self.progress is None:
            return
        unpack = self.slot.unpack_from
        total = sum(unpack(self.memory, k * SLOT_BYTES)[0] for k in range(self.slots))
        if total > self.reported:
            self.progress(total - self.reported)
            self.reported = total

    def finish(self, total: int) -> None:
        """Bring the children's progress to ``total`` (a slice run again by the parent
        reported nothing)."""
        self.poll()
        if self.progress is not None and total > self.reported:
            self.progress(total - self.reported)
            self.reported = total

    def close(self) -> None:
        self.memory.close()


class Child:
    """A forked child running one slice; its answer comes through a pipe."""

    def __init__(self, pid: int, answer: int, slot: int) -> None:
        self.pid = pid
        self.answer = answer
        self.slot = slot
        self.done = False

    def collect(self, slots: ProgressSlots | None = None) -> bytes | None:
        """The child's answer, once it has exited; None when it died or failed (its exit
        status is logged) or never started."""
        import select

        if not self.pid:
            return None
        chunks: list[bytes] = []
        try:
            while True:
                if slots is not None:
                    ready, _, _ = select.select([self.answer], [], [], POLL_SECONDS)
                    slots.poll()
                    if not ready:
                        continue
                chunk = os.read(self.answer, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
        finally:
            os.close(self.answer)
        _, status = os.waitpid(self.pid, 0)
        self.done = True
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            how = f"was killed by signal {-code}" if code < 0 else f"failed (exit status {code})"
            _warn(
                "sanitizer worker %d (pid %d) %s; this process runs its slice itself.",
                self.slot,
                self.pid,
                how,
            )
            return None
        return b"".join(chunks)

    def stop(self) -> None:
        """Kill and reap the child if it has not been collected (an error in the parent)."""
        if self.done:
            return
        self.done = True
        import contextlib
        import signal

        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.close(self.answer)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


def fork(slot: int, work: Callable[[], bytes]) -> Child:
    """Fork a child that runs ``work`` and writes its answer to a pipe, then exits with
    ``os._exit`` (no atexit handler of the parent, no second flush of its buffers)."""
    sys.stdout.flush()
    sys.stderr.flush()
    parent = os.getpid()
    try:
        read_end, write_end = os.pipe()
    except OSError as exc:
        return _not_started(slot, exc)
    try:
        pid = os.fork()
    except OSError as exc:  # EAGAIN, ENOMEM: no process to be had
        os.close(read_end)
        os.close(write_end)
        return _not_started(slot, exc)
    if pid == 0:  # the child
        code = CHILD_FAILED
        try:
            os.close(read_end)
            _die_with(parent)
            answer = memoryview(work())
            while answer:
                answer = answer[os.write(write_end, answer) :]
            code = 0
        except BaseException:  # the parent runs the slice again, and raises if it must
            pass
        finally:
            os._exit(code)
    os.close(write_end)
    return Child(pid, read_end, slot)


def _die_with(parent: int) -> None:
    """Have the kernel kill this child when the parent dies (Linux ``PR_SET_PDEATHSIG``): a
    killed run leaves no worker running on, holding its temporary files' watchers open."""
    import signal

    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(CHILD_FAILED)


def _not_started(slot: int, error: OSError) -> Child:
    """A child that could not be forked: its slice is run by the parent."""
    _warn(
        "sanitizer worker %d could not start (%s); this process runs its slice itself.", slot, error
    )
    child = Child(0, -1, slot)
    child.done = True
    return child


def _warn(message: str, *arguments: object) -> None:
    import logging

    logging.getLogger(__name__).warning(message, *arguments)


def absorbable(components: Sequence[Any], reports: Sequence[Mapping[str, Any]]) -> bool:
    """Whether every component can absorb its report exactly (``can_absorb``, when it has one)."""
    if len(reports) != len(components):
        return False
    for component, report in zip(components, reports, strict=True):
        check = getattr(component, "can_absorb", None)
        if callable(check) and not check(report):
            return False
    return True


def absorb(
    components: Sequence[Any],
    reports: Sequence[Mapping[str, Any]],
    stage_totals: list[int],
    stage_counts: Sequence[int],
) -> None:
    """Fold a later slice's reports into the components; ``stage_totals`` (records each
    component saw so far) grows by the slice's ``stage_counts``."""
    for stage, (component, report) in enumerate(zip(components, reports, strict=True)):
        component.absorb(report, stage_totals[stage])
        stage_totals[stage] += stage_counts[stage]


def json_native(value: Any) -> bool:
    """Whether ``value`` holds only what msgpack gives back as it was: dicts with string keys,
    lists, strings, 64-bit integers, floats, booleans and None.

    Checked a level of nesting at a time with C-level passes over the whole level (a Python
    step per value would cost more than the transfer it guards).
    """
    import itertools
    import operator

    level = [value]
    while level:
        kinds = list(map(type, level))
        found = set(kinds)
        if not found <= _NATIVE:
            return False
        if int in found:
            numbers = list(itertools.compress(level, map(operator.is_, kinds, _repeat(int))))
            if min(numbers) < -(1 << 63) or max(numbers) >= 1 << 64:
                return False
        containers: list[Any] = []
        if dict in found:
            dicts = list(itertools.compress(level, map(operator.is_, kinds, _repeat(dict))))
            if not set(map(type, itertools.chain.from_iterable(dicts))) <= {str}:
                return False
            containers = list(itertools.chain.from_iterable(map(dict.values, dicts)))
        if list in found:
            lists = itertools.compress(level, map(operator.is_, kinds, _repeat(list)))
            containers += itertools.chain.from_iterable(lists)
        level = containers
    return True


def _repeat(kind: type) -> Iterator[type]:
    import itertools

    return itertools.repeat(kind)


_NATIVE = frozenset({dict, list, str, int, float, bool, type(None)})


__all__ = [
    "Child",
    "ProgressSlots",
    "absorb",
    "absorbable",
    "even_cuts",
    "fork",
    "idle_cpus",
    "json_native",
    "line_cuts",
    "splittable",
    "threads_running",
    "usable_cpus",
    "worker_count",
]
