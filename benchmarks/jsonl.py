"""JSONL read + validate throughput on a generated chat file, against its peers in the same run.

    python benchmarks/jsonl.py [--size-mb 300] [--path /tmp/modelops-bench-chat.jsonl]

- ours: ``modelops_core.dataset_stream.validate_file`` (msgspec typed structs over 4 MB
  chunks, GC paused; checks roles, empty contents, assistant turns, duplicates, and computes
  the fingerprint) and ``Dataset.from_jsonl`` (canonical dicts in memory);
- peers: ``json.loads`` per line (parse only, no checks) and ``pandas.read_json(lines=True)``
  (parse only), when pandas is installed.

The file is generated once (seeded) and reused; it is left in /tmp for reruns.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=300)
    parser.add_argument("--path", type=Path, default=None)
    parser.add_argument("--skip-pandas", action="store_true")
    parser.add_argument("--with-dataset", action="store_true", help="also time Dataset.from_jsonl")
    args = parser.parse_args()
    path = args.path or Path(f"/tmp/modelops-bench-chat-{args.size_mb}mb.jsonl")
    if not path.exists():
        print(f"generating {path} ({args.size_mb} MB) …")
        generate(path, args.size_mb)
    megabytes = os.path.getsize(path) / (1024 * 1024)

    from modelops_core.dataset import Dataset
    from modelops_core.dataset_stream import validate_file

    rows: list[tuple[str, float, str]] = []
    seconds, report = timed(lambda: validate_file(path))
    ours = seconds
    rows.append(("modelops validate_file (read + validate + fingerprint)", seconds,
                 f"{report.examples} examples, {len(report.problems)} problems"))  # fmt: skip
    if args.with_dataset:
        seconds, dataset = timed(lambda: Dataset.from_jsonl(path))
        rows.append(("modelops Dataset.from_jsonl (canonical dicts)", seconds,
                     f"{len(dataset)} examples"))  # fmt: skip
        del dataset
    seconds, count = timed(lambda: json_loads_per_line(path))
    rows.append(("json.loads per line (parse only)", seconds, f"{count} lines"))
    if not args.skip_pandas:
        try:
            seconds, count = timed(lambda: pandas_read(path))
            rows.append(("pandas.read_json(lines=True) (parse only)", seconds, f"{count} rows"))
        except ImportError:
            print("pandas is not installed: pip install pandas to compare with it")

    print(f"\n{path}: {megabytes:,.1f} MB\n")
    print(f"{'reader':58} {'seconds':>8} {'MB/s':>8} {'ours is':>9}  result")
    for name, seconds, note in rows:
        ratio = seconds / ours
        print(f"{name:58} {seconds:8.2f} {megabytes / seconds:8.1f} {ratio:8.2f}x  {note}")


if __name__ == "__main__":
    main()
