"""Column by column, does ``modelops monitor drift`` agree with Evidently's DataDriftPreset?

Run: python benchmarks/drift_agreement.py [--evidently-python PATH] [--keep FOLDER]

Evidently 0.7.23 runs in its own virtual environment (see ``benchmarks/drift.py``). The script
writes pairs of CSV files (reference, current), runs our command (``python -m modelops_core
monitor drift REF CUR --json``, this interpreter) and Evidently's preset on the same files (read
with ``pd.read_csv``), and compares each column: the method, the verdict, and for the methods
both use the relative difference of the values. The cases:

- generated columns, undrifted and drifted, with a reference of 300, 1,000, 1,001, 5,000 and
  20,000 rows (either side of Evidently's 1,000-row rule): normal, Poisson counts, Pareto,
  log-normal and Student's t (heavy tails), three integer values, a binary 0/1, yes/no,
  4 and 50 categories (new ones in the drifted current), numbers and categories with nulls, a
  constant, booleans, user ids, integer columns with 25 and 40 values in the reference and 8
  now, infinities, "n/a" among numbers, dates, integer ids, hours of the day, -0.0;
- scikit-learn's bundled data sets (diabetes, breast cancer, wine, digits, iris), first half
  against second half, and shuffled halves.

A column both sides test with different methods is reported with its reason where one is
known (see docs/monitoring.md, "The automatic rule"). It exits 1 when a verdict differs, or a
shared method's value differs by more than 1 %.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from drift import EVIDENTLY_SCRIPT, SHARED  # the preset's run and the methods both have


def generated(rows: int, drifted: bool, current: bool, rng: np.random.Generator) -> Any:
    import pandas as pd

    s = float(drifted)
    columns = {
        "normal": rng.normal(10 + s, 3, rows).round(4),
        "counts": rng.poisson(3 + s, rows),
        "pareto": (rng.pareto(1.5, rows) * (1 + s)).round(3),
        "lognormal": rng.lognormal(s, 2, rows),
        "student_t": rng.standard_t(2, rows) * 50 + 5 * s,
        "three": rng.choice([1, 2, 3], rows, p=[0.4, 0.3, 0.3] if drifted else [0.5, 0.3, 0.2]),
        "binary": rng.binomial(1, 0.3 + 0.1 * s, rows),
        "yes_no": rng.choice(["yes", "no"], rows, p=[0.6 - 0.1 * s, 0.4 + 0.1 * s]),
        "cat4": rng.choice(list("abcd"), rows, p=[0.3, 0.3, 0.2, 0.2] if drifted else None),
        "cat50": rng.choice([f"k{i}" for i in range(50 + 10 * int(s))], rows),
        "with_nan": np.where(rng.random(rows) < 0.1, np.nan, rng.normal(s, 1, rows)),
        "cat_nan": np.where(rng.random(rows) < 0.1, None, rng.choice(["x", "y", "z"], rows)),
        "constant": np.full(rows, 7.0),
        "flag": rng.random(rows) < 0.3 + 0.1 * s,
        "user_id": [f"u{n}" for n in rng.integers(0, 10**9, rows)],
        "rating": rng.integers(0, 8 if current else 25, rows),
        "rating40": rng.integers(0, 8 if current else 40, rows),
        "with_inf": np.where(rng.random(rows) < 0.01, np.inf, rng.normal(s, 1, rows)),
        "n_a": np.where(rng.random(rows) < 0.02, "n/a", rng.normal(s, 1, rows).round(2)),
        "dates": [f"2024-01-{day:02d}" for day in rng.integers(1, 20 + 8 * int(s), rows)],
        "big_ids": rng.integers(10**9, 10**12, rows),
        "hours": rng.integers(0, 24, rows),
        "neg_zero": np.where(rng.random(rows) < 0.5, -0.0, rng.normal(s, 1, rows)),
    }
    return pd.DataFrame(columns)


def cases(folder: Path) -> list[tuple[str, Path, Path]]:
    """Write the pairs of CSV files; their names and paths."""
    from sklearn import datasets

    written = []

    def write(name: str, reference: Any, current: Any) -> None:
        ref, cur = folder / f"{name}.ref.csv", folder / f"{name}.cur.csv"
        reference.to_csv(ref, index=False)
        current.to_csv(cur, index=False)
        written.append((name, ref, cur))

    rng = np.random.default_rng(2026)
    for rows, current_rows in [(300, 300), (1000, 400), (1001, 400), (5000, 200), (20_000, 15_000)]:
        for drifted in (False, True):
            name = f"generated {rows} rows{' drifted' if drifted else ''}"
            write(
                name,
                generated(rows, False, False, rng),
                generated(current_rows, drifted, True, rng),
            )
    loaders = {
        "diabetes": datasets.load_diabetes,
        "breast cancer": datasets.load_breast_cancer,
        "wine": datasets.load_wine,
        "digits": datasets.load_digits,
        "iris": datasets.load_iris,
    }
    for name, loader in loaders.items():
        frame = loader(as_frame=True).frame
        if name == "digits":  # pixel intensities 0-16 are integers
            frame = frame.astype("int64")
        for shuffled in (False, True):
            data = frame.sample(frac=1, random_state=1) if shuffled else frame
            half = len(data) // 2
            label = f"{name}{' shuffled' if shuffled else ''} halves"
            write(label, data.iloc[:half], data.iloc[half:])
    return written


def reason(column: str, ours: dict[str, Any]) -> str:
    if column == "user_id":
        return "text: Evidently's text drift (a classifier); ours not tested (no text kept)"
    if column == "rating40":
        return "40 integers in the reference: a profile counts at most 32, so ours stays numeric"
    return ""


def compare(evidently_python: str, folder: Path) -> int:
    disagreements = compared = differing = 0
    worst = 0.0
    for name, ref, cur in cases(folder):
        ours = json.loads(
            subprocess.run(
                [sys.executable, "-m", "modelops_core", "monitor", "drift", str(ref), str(cur),
                 "--json"],
                capture_output=True, text=True, check=True,
            ).stdout
        )  # fmt: skip
        theirs = json.loads(
            subprocess.run(
                [evidently_python, "-c", EVIDENTLY_SCRIPT, str(ref), str(cur), "1"],
                capture_output=True, text=True, check=True,
                env={**os.environ, "PYTHONWARNINGS": "ignore"},
            ).stdout.strip().splitlines()[-1]
        )["columns"]  # fmt: skip
        print(f"== {name}")
        for finding in ours["columns"]:
            column, evidently = finding["column"], theirs.get(finding["column"])
            if evidently is None:
                continue
            compared += 1
            p_value = "p_value" in evidently["method"]
            value, threshold = evidently["value"], evidently["threshold"]
            their_verdict = value < threshold if p_value else value >= threshold
            same = SHARED.get(evidently["method"]) == finding["method"]
            mine = "-" if finding["value"] is None else f"{finding['value']:.6g}"
            line = (
                f"  {column:10s} ours {finding['method']:13s} {mine:>11s} "
                f"{finding['drifted']!s:5s} | Evidently {evidently['method']:30s} "
                f"{value:11.6g} {their_verdict!s:5s}"
            )
            relative = None
            if same and finding["value"] is not None:
                gap = abs(finding["value"] - value)
                relative = gap / max(abs(value), 1e-12) if gap > 1e-12 else 0.0
                worst = max(worst, relative)
                line += f" rel. diff {relative:.1e}"
            elif not same:
                differing += 1
                line += f"  (methods differ: {reason(column, finding) or 'no known reason'})"
            if their_verdict != finding["drifted"] or (relative is not None and relative > 0.01):
                disagreements += 1
                line += "  <<< DISAGREES"
            print(line)
    print(f"{compared} columns compared, {disagreements} disagree, {differing} with other "
          f"methods; shared methods' largest relative difference {worst:.2%}")  # fmt: skip
    return 1 if disagreements else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evidently-python", default="/tmp/peers/evidently/bin/python")
    parser.add_argument("--keep", type=Path, help="write the CSV files here (kept)")
    args = parser.parse_args()
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        sys.exit(compare(args.evidently_python, args.keep))
    with tempfile.TemporaryDirectory() as folder:
        sys.exit(compare(args.evidently_python, Path(folder)))


if __name__ == "__main__":
    main()
