"""The "user path" rows every benchmark prints: what a user waits for, peer beside it.

A user-path figure times the public call or CLI command a user runs, set-up included (imports,
plugin loading, compilation, reading and writing files), as the wall-clock median of at least
five runs, with the peer measured in the same run on the same input. Inner-loop figures (CPU
time of one function, set-up excluded) may stand beside these rows, never alone.

Peers run in their own virtual environments under ``/tmp/peers/<name>`` (never in this
project's dependencies); :func:`peer_python` finds them and says how to make one.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

MINIMUM_RUNS = 5
PEERS = Path("/tmp/peers")


@dataclass(frozen=True)
class Row:
    """One user-path figure: our call or command, and the peer's, medians in seconds."""

    what: str
    ours: float | None
    peer: str
    theirs: float | None
    runs: int
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """Peer time / our time (> 1: we are faster)."""
        if self.ours is None or self.theirs is None or self.ours <= 0:
            return None
        return self.theirs / self.ours


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def median_call(run: Callable[[], object], runs: int = MINIMUM_RUNS) -> float:
    """The median wall-clock seconds of ``runs`` calls of ``run`` (in this process)."""
    times = []
    for _ in range(max(runs, MINIMUM_RUNS)):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def median_pair(
    ours: Callable[[], object], theirs: Callable[[], object], runs: int = MINIMUM_RUNS
) -> tuple[float, float]:
    """The median wall-clock seconds of both calls, run alternately (a load that changes
    during the measurement weighs on both alike)."""
    ours_times: list[float] = []
    their_times: list[float] = []
    for _ in range(max(runs, MINIMUM_RUNS)):
        for run, times in ((ours, ours_times), (theirs, their_times)):
            started = time.perf_counter()
            run()
            times.append(time.perf_counter() - started)
    return statistics.median(ours_times), statistics.median(their_times)


def median_process(
    command: Sequence[str],
    runs: int = MINIMUM_RUNS,
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    warm_up: bool = True,
    timeout: float = 3600.0,
) -> float:
    """The median wall-clock seconds of ``runs`` fresh processes running ``command``.

    One unmeasured run first (``warm_up``) writes bytecode and caches, as an installed package
    has them after its first use. A failing command raises with its stderr.
    """
    return process_medians(command, runs, env=env, cwd=cwd, warm_up=warm_up, timeout=timeout)[0]


def process_medians(
    command: Sequence[str],
    runs: int = MINIMUM_RUNS,
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    warm_up: bool = True,
    timeout: float = 3600.0,
    minimum: int = MINIMUM_RUNS,
) -> tuple[float, float]:
    """:func:`median_process`, and the median CPU seconds (user + system) of the processes:
    on a machine shared with other work the CPU time grows far less than the wall time.
    ``minimum``: the fewest runs allowed (lower it only for a peer that takes minutes)."""
    import resource

    environment = user_environment(env)

    def once() -> tuple[float, float]:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        finished = subprocess.run(
            list(command), env=environment, cwd=cwd, capture_output=True, timeout=timeout
        )
        elapsed = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if finished.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} failed ({finished.returncode}): "
                f"{finished.stderr.decode(errors='replace')[-2000:]}"
            )
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return elapsed, cpu

    if warm_up:
        once()
    measured = [once() for _ in range(max(runs, minimum))]
    return (
        statistics.median(wall for wall, _ in measured),
        statistics.median(cpu for _, cpu in measured),
    )


def user_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment with ``env``, as a user's shell has it: without
    ``PYTHONDONTWRITEBYTECODE`` (set in some sandboxes and CI images), which would make every
    run compile our modules from source, a cost an installed package never pays."""
    environment = {**os.environ, **(env or {})}
    if "PYTHONDONTWRITEBYTECODE" not in (env or {}):
        environment.pop("PYTHONDONTWRITEBYTECODE", None)
    return environment


def peer_python(name: str, install: str) -> str | None:
    """The interpreter of the peer's virtual environment ``/tmp/peers/<name>``, or ``None``
    after printing how to make it (``install``: the pip arguments)."""
    python = PEERS / name / "bin" / "python"
    if python.exists():
        return str(python)
    print(
        f"peer {name} not installed: python3 -m venv {PEERS / name} && "
        f"{PEERS / name}/bin/pip install {install}",
        file=sys.stderr,
    )
    return None


def print_rows(title: str, rows: Sequence[Row]) -> None:
    """The user-path table: ours, the peer, peer/ours, with the machine's load."""
    print(f"\nuser path: {title} (wall-clock medians, set-up included; load {load_average()})")
    width = max([len("call or command"), *(len(row.what) for row in rows)])
    print(
        f"  {'call or command':{width}} {'ours s':>9} {'peer':>22} {'peer s':>9} {'ratio':>8}  runs"
    )
    for row in rows:
        ours = "-" if row.ours is None else f"{row.ours:.4g}"
        theirs = "-" if row.theirs is None else f"{row.theirs:.4g}"
        ratio = "-" if row.ratio is None else f"{row.ratio:.1f}x"
        print(f"  {row.what:{width}} {ours:>9} {row.peer:>22} {theirs:>9} {ratio:>8}  {row.runs}")
        if row.note:
            print(f"      {row.note}")
