"""Profiling a large CSV file in bounded memory: a measurement, not a test.

Run: python benchmarks/drift_memory.py [--rows 10000000] [--folder /tmp]

Writes a CSV of ``--rows`` rows x 20 columns (10 numeric, 10 categorical, as
``benchmarks/drift.py``; written block by block with pyarrow, never held in memory), then
profiles it in a fresh process (``Profile.build(path)``, chunks of 65,536 rows) and prints the
rows, columns, file size, seconds and that process's peak resident memory (``VmHWM`` from
``/proc/self/status``) next to its resident memory before profiling (libraries loaded).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

BLOCK = 200_000


def write_csv(path: Path, rows: int, seed: int = 0) -> None:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    rng = np.random.default_rng(seed)
    categories = np.array([f"cat{i}" for i in range(12)])
    with pcsv.CSVWriter(path, _schema()) as writer:
        for start in range(0, rows, BLOCK):
            size = min(BLOCK, rows - start)
            arrays = [rng.normal(10 * i, 1 + i / 10, size).round(5) for i in range(10)]
            arrays += [categories[rng.integers(0, 12, size)] for _ in range(10)]
            writer.write_table(pa.table(dict(zip(_schema().names, arrays, strict=True))))


def _schema() -> object:
    import pyarrow as pa

    fields = [pa.field(f"num{i}", pa.float64()) for i in range(10)]
    fields += [pa.field(f"cat{i}", pa.string()) for i in range(10)]
    return pa.schema(fields)


PROFILE_SCRIPT = textwrap.dedent(
    """
    import re, sys, time
    from modelops_core.monitoring.profile import Profile

    def status(key):
        return int(re.search(key + r":\\s+(\\d+) kB", open("/proc/self/status").read()).group(1))

    Profile.build({"x": [1.0, 2.0], "c": ["a", "b"]})  # numpy and the sketches loaded
    import pyarrow.csv  # the CSV reader's library loaded
    before = status("VmRSS")
    start = time.perf_counter()
    profile = Profile.build(sys.argv[1])
    seconds = time.perf_counter() - start
    print(profile.rows, len(profile.columns), before, status("VmHWM"), round(seconds, 1))
    """
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--folder", default="/tmp")
    args = parser.parse_args()
    path = Path(args.folder) / f"drift-memory-{args.rows}.csv"
    try:
        start = time.perf_counter()
        write_csv(path, args.rows)
        written = time.perf_counter() - start
        result = subprocess.run(
            [sys.executable, "-c", PROFILE_SCRIPT, str(path)],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        rows, columns, before, peak, seconds = result.stdout.split()
        size = path.stat().st_size / 2**30
    finally:
        path.unlink(missing_ok=True)
    print(f"{int(rows):,} rows x {columns} columns, {size:.2f} GiB of CSV", end=" ")
    print(f"(written in {written:.0f} s)")
    print(f"profiled in {seconds} s, load {os.getloadavg()[0]:.1f}")
    mib = int(before) / 1024, int(peak) / 1024
    print(f"resident before: {mib[0]:.0f} MiB; peak (VmHWM): {mib[1]:.0f} MiB")


if __name__ == "__main__":
    main()
