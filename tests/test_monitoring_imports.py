"""What ``modelops monitor drift`` of two files imports: not the row samples (a module and an
attrs class, for multivariate drift only) nor the registry's reference profiles (for a
reference named ``NAME@ALIAS``); both still load where they are used (a model's reference:
tests/test_monitor_reference.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from age_plan_csv import write_age_plan_csv
from project_env import enter_project

LOADED_BY_DRIFT = """
import io, sys
from modelops_core.cli.main import main
sys.stdout = io.StringIO()
code = main(["monitor", "drift", *sys.argv[1:], "--json"])
sys.stdout = sys.__stdout__
names = ("modelops_core.monitoring.rows", "modelops_core.monitoring.reference")
print(code, *[name.rsplit(".", 1)[1] for name in names if name in sys.modules])
"""


@pytest.fixture(autouse=True)
def in_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return enter_project(tmp_path, monkeypatch)


def write_csv(path: Path, shift: float) -> Path:
    return write_age_plan_csv(path, shift, rows=2_000)


def loaded(tmp_path: Path, *arguments: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", LOADED_BY_DRIFT, *arguments],
        capture_output=True, text=True, check=True, cwd=tmp_path,
    )  # fmt: skip
    return result.stdout.split()


def test_a_drift_of_two_files_loads_neither_row_samples_nor_model_references(
    tmp_path: Path,
) -> None:
    reference = write_csv(tmp_path / "ref.csv", 0)
    current = write_csv(tmp_path / "cur.csv", 10)
    assert loaded(tmp_path, str(reference), str(current)) == ["0"]


def test_multivariate_drift_loads_the_row_samples_where_it_needs_them(tmp_path: Path) -> None:
    reference = write_csv(tmp_path / "ref.csv", 0)
    current = write_csv(tmp_path / "cur.csv", 10)
    assert loaded(tmp_path, str(reference), str(current), "--multivariate", "mmd") == [
        "0",
        "rows",
    ]
