"""JSONL read + validate throughput on a generated chat file, against its peers in the same run.

    python benchmarks/jsonl.py [--quick] [--size-mb 300] [--path /tmp/modelops-bench-chat.jsonl]

User path (printed first): whole processes, wall-clock median of ``--runs`` (>= 5):
``modelops dataset validate FILE`` and ``Dataset.from_jsonl(FILE)`` in ``python -c``, against a
``python -c`` script calling ``json.loads`` per line (parse only) and ``pandas.read_json(lines=
True)``. ``--quick``: a 30 MB file. The inner-loop figures below call the readers in-process.

- ours: ``modelops_core.datasets.stream.validate_file`` (256 KB blocks read into one reused
  buffer, decoded as msgspec typed structs in one call per block, GC paused; checks JSON,
  shape, roles, weights, empty contents, assistant turns and duplicates), alone, with the
  fingerprint, and for ``openai`` (token limit, minimum examples); ``Dataset.from_jsonl``
  (canonical dicts in memory) with ``--with-dataset``;
- peers: ``json.loads`` per line (parse only, no checks) and ``pandas.read_json(lines=True)``
  (parse only), when pandas is installed.

Each reader gets ``--repeat`` runs (default 3, best kept; the first run of each also pays its
imports: numpy and msgspec for ours, pandas for pandas). Wall time and process CPU time are
both printed: on a loaded machine the CPU time is the steadier figure, and the ratios (ours
against each peer, same run) are what compare across machines.
The file is generated once (seeded) and reused; it is left in /tmp for reruns.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import userpath

WORDS = [
    "the",
    "model",
    "answers",
    "questions",
    "about",
    "invoices",
    "shipping",
    "refunds",
    "accounts",
    "passwords",
    "orders",
    "and",
    "returns",
    "with",
    "short",
    "polite",
    "sentences",
    "while",
    "citing",
    "the",
    "policy",
    "number",
    "when",
    "needed",
]


def generate(path: Path, size_mb: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    target = size_mb * 1024 * 1024
    written = 0
    with path.open("w", encoding="utf-8") as handle:
        index = 0
        while written < target:

            def text(low: int, high: int) -> str:
                return " ".join(rng.choices(WORDS, k=rng.randint(low, high)))

            record = {
                "messages": [
                    {"role": "system", "content": "You are a helpful support agent."},
                    {"role": "user", "content": f"#{index} " + text(8, 40)},
                    {"role": "assistant", "content": text(10, 80)},
                ]
            }
            line = json.dumps(record, ensure_ascii=False) + "\n"
            handle.write(line)
            written += len(line)
            index += 1


def timed(function: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Best wall and best CPU seconds of ``repeat`` runs, and the last result."""
    walls: list[float] = []
    cpus: list[float] = []
    result: Any = None
    for _ in range(repeat):
        result = None
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        result = function()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus), result


def json_loads_per_line(path: Path) -> int:
    count = 0
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                json.loads(line)
                count += 1
    return count


def pandas_read(path: Path) -> int:
    import pandas

    return len(pandas.read_json(path, lines=True))


OURS_DATASET = """
import sys
from modelops_core import Dataset
print(len(Dataset.from_jsonl(sys.argv[1])))
"""
PEER_JSON = """
import json, sys
with open(sys.argv[1], "rb") as handle:
    print(sum(1 for line in handle if line.strip() and json.loads(line) is not None))
"""
PEER_PANDAS = """
import sys
import pandas
print(len(pandas.read_json(sys.argv[1], lines=True)))
"""


def user_path(path: Path, megabytes: float, runs: int, with_pandas: bool) -> None:
    """Whole processes, as a user runs them: our CLI and Python API against a json.loads
    script (parse only, no checks) and pandas.read_json."""
    python = sys.executable
    validate = userpath.median_process(
        [python, "-m", "modelops_core", "dataset", "validate", str(path)], runs
    )
    dataset = userpath.median_process([python, "-c", OURS_DATASET, str(path)], runs)
    peer_json = userpath.median_process([python, "-c", PEER_JSON, str(path)], runs)
    rows = [
        userpath.Row("modelops dataset validate FILE", validate, "json.loads per line",
                     peer_json, runs, f"{megabytes / validate:.0f} MB/s"),
        userpath.Row("Dataset.from_jsonl(FILE)", dataset, "json.loads per line", peer_json,
                     runs, f"{megabytes / dataset:.0f} MB/s"),
    ]  # fmt: skip
    if with_pandas:
        try:
            pandas = userpath.median_process([python, "-c", PEER_PANDAS, str(path)], runs)
        except RuntimeError as exc:
            print(f"pandas peer not run: {str(exc)[-200:]}")
        else:
            rows.append(userpath.Row("modelops dataset validate FILE", validate,
                                     "pandas.read_json", pandas, runs))  # fmt: skip
    userpath.print_rows(f"read and check a {megabytes:,.0f} MB chat JSONL file", rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=300)
    parser.add_argument("--path", type=Path, default=None)
    parser.add_argument("--skip-pandas", action="store_true")
    parser.add_argument("--with-dataset", action="store_true", help="also time Dataset.from_jsonl")
    parser.add_argument("--repeat", type=int, default=3, help="runs per reader (best kept)")
    parser.add_argument("--quick", action="store_true", help="a 30 MB file (under a minute)")
    parser.add_argument("--runs", type=int, default=5, help="user-path runs (>= 5)")
    args = parser.parse_args()
    if args.quick:
        args.size_mb = min(args.size_mb, 30)
    path = args.path or Path(f"/tmp/modelops-bench-chat-{args.size_mb}mb.jsonl")
    if not path.exists():
        print(f"generating {path} ({args.size_mb} MB) …")
        generate(path, args.size_mb)
    megabytes = os.path.getsize(path) / (1024 * 1024)
    user_path(path, megabytes, args.runs, not args.skip_pandas)
    print("\ninner loop (readers called in this process, imports done):")

    from modelops_core.datasets.dataset import Dataset
    from modelops_core.datasets.stream import validate_file

    def problems(report: Any) -> str:
        return f"{report.examples} examples, {len(report.problems)} problems"

    ours: list[tuple[str, Callable[[], Any], Callable[[Any], str]]] = [
        ("modelops validate_file (read + validate)",
         lambda: validate_file(path, fingerprint=False), problems),
        ("modelops validate_file + fingerprint",
         lambda: validate_file(path), problems),
        ("modelops validate_file openai (+ tokens, min examples)",
         lambda: validate_file(path, "openai", fingerprint=False), problems),
    ]  # fmt: skip
    if args.with_dataset:
        ours.append(
            ("modelops Dataset.from_jsonl (canonical dicts)",
             lambda: Dataset.from_jsonl(path), lambda ds: f"{len(ds)} examples")
        )  # fmt: skip
    peers: list[tuple[str, Callable[[], Any], Callable[[Any], str]]] = [
        ("json.loads per line (parse only)", lambda: json_loads_per_line(path),
         lambda count: f"{count} lines"),
    ]  # fmt: skip
    if not args.skip_pandas:
        try:
            import pandas  # noqa: F401

            peers.append(
                ("pandas.read_json(lines=True) (parse only)", lambda: pandas_read(path),
                 lambda count: f"{count} rows")
            )  # fmt: skip
        except ImportError:
            print("pandas is not installed: pip install pandas to compare with it")

    rows: list[tuple[str, float, float, str]] = []
    for name, function, describe in [*ours, *peers]:
        wall, cpu, result = timed(function, args.repeat)
        rows.append((name, wall, cpu, describe(result)))
        del result

    print(f"\n{path}: {megabytes:,.1f} MB, load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs, best of {args.repeat} run(s) per reader\n")  # fmt: skip
    print(f"{'reader':55} {'wall s':>7} {'MB/s':>7} {'cpu s':>7} {'MB/s':>7}  result")
    for name, wall, cpu, note in rows:
        print(f"{name:55} {wall:7.2f} {megabytes / wall:7.1f} {cpu:7.2f} {megabytes / cpu:7.1f}"
              f"  {note}")  # fmt: skip
    headline = rows[0]
    print(f"\n{headline[0]} against each peer (times faster, same run):")
    for name, wall, cpu, _ in rows[len(ours) :]:
        print(f"  vs {name:51} wall {wall / headline[1]:5.2f}x   cpu {cpu / headline[2]:5.2f}x")


if __name__ == "__main__":
    main()
