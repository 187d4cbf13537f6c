"""What ``modelops monitor drift`` pays for before it reads a row: the cyclic collector's
young collections while click, numpy, pyarrow, the profile's modules and the plugins load
(paused: what an import makes lives as long as the process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from project_env import enter_project

COUNT_COLLECTIONS = """
import gc, io, sys
collections = []
gc.callbacks.append(lambda phase, info: phase == "stop" and collections.append(info))
from modelops_core.cli.main import main
imported = len(collections)
sys.stdout = io.StringIO()
code = main(["monitor", "drift", sys.argv[1], sys.argv[2], "--json"])
sys.stdout = sys.__stdout__
print(code, imported, len(collections))
"""


@pytest.fixture(autouse=True)
def in_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return enter_project(tmp_path, monkeypatch)


def write_csv(path: Path, shift: float, rows: int = 3_000) -> Path:
    rng = np.random.default_rng(int(shift))
    age = rng.normal(40 + shift, 10, rows).round(2)
    plan = rng.choice(["free", "pro", "team"], rows)
    path.write_text("age,plan\n" + "".join(f"{a},{p}\n" for a, p in zip(age, plan, strict=True)))
    return path


def test_imports_of_the_drift_command_run_with_the_collector_paused(tmp_path: Path) -> None:
    """A fresh process running the command: 78 young collections before the imports were
    paused (cli.main's click and the command's numpy, pyarrow, profile and plugins), 2 now;
    the profile of 3,000 rows adds none or one."""
    reference = write_csv(tmp_path / "ref.csv", 0)
    current = write_csv(tmp_path / "cur.csv", 1)
    result = subprocess.run(
        [sys.executable, "-c", COUNT_COLLECTIONS, str(reference), str(current)],
        capture_output=True, text=True, check=True, cwd=tmp_path,
    )  # fmt: skip
    code, imported, total = (int(word) for word in result.stdout.split())
    assert code == 0
    assert imported <= 4, f"{imported} young collections while modelops_core.cli.main loaded"
    assert total <= 8, f"{total} collections in the whole command"
