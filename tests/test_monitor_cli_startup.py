"""What ``modelops monitor drift`` pays for before it reads a row: the cyclic collector's
young collections while click, numpy, pyarrow, the profile's modules and the plugins load
(paused: what an import makes lives as long as the process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from age_plan_csv import write_age_plan_csv
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


def write_csv(path: Path, shift: float) -> Path:
    return write_age_plan_csv(path, shift, rows=3_000)


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


FREEZE_AT_EXIT = """
import atexit, gc, io, os, sys
atexit.register(lambda: os.write(1, f"frozen at exit: {gc.get_freeze_count()}\\n".encode()))
from modelops_core.cli.main import main
sys.argv = ["modelops", "monitor", "drift", sys.argv[1], sys.argv[2], "--json"]
sys.stdout = io.StringIO()
code = main() if os.environ["HOW"] == "own" else main(sys.argv[1:])
sys.stdout = sys.__stdout__
print("code", code, flush=True)
"""


def test_the_process_own_command_freezes_its_objects_at_exit(tmp_path: Path) -> None:
    """``modelops ...`` (main() on the process's command line) freezes the collector's objects
    as the interpreter exits, so its shutdown collections skip them (50-90 ms of a drift
    process with numpy and pyarrow loaded); main(argv) called by other code leaves them."""
    import os

    reference = write_csv(tmp_path / "ref.csv", 0)
    current = write_csv(tmp_path / "cur.csv", 1)

    def frozen(how: str) -> int:
        result = subprocess.run(
            [sys.executable, "-c", FREEZE_AT_EXIT, str(reference), str(current)],
            capture_output=True, text=True, check=True, env={**os.environ, "HOW": how},
        )  # fmt: skip
        lines = result.stdout.split("\n")
        assert "code 0" in lines, result.stdout
        return int(next(line for line in lines if line.startswith("frozen")).split()[-1])

    assert frozen("own") > 10_000
    assert frozen("given") == 0


def test_the_reader_starts_parsing_before_attrs_and_the_sketches_load() -> None:
    """``monitor drift`` starts parsing its files (FileAhead) right after importing the reader
    and pyarrow: the reader names the sketches' array type only for type checking, so attrs
    and the sketches' classes (about 12 ms) load while the files parse, not before."""
    probe = (
        "import sys\nfrom modelops_core.cli.main import main\n"
        "from modelops_core.monitoring.reader import FileAhead\n"
        "print(sorted({'attrs', 'attr', 'modelops_core.monitoring.sketches'} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )  # fmt: skip
    assert result.stdout.strip() == "[]"
