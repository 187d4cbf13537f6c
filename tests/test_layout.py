"""The test tree runs as one pytest session (``pytest tests plugins/*/tests``): module names
must not collide, and nothing may import a ``conftest`` by name (another plugin's wins)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_FILES = [*ROOT.glob("tests/*.py"), *ROOT.glob("plugins/*/tests/*.py")]


def test_test_modules_have_unique_names_across_the_workspace():
    names = Counter(path.name for path in TEST_FILES if path.name != "conftest.py")
    assert [name for name, count in names.items() if count > 1] == []


def test_no_test_imports_a_conftest_module_at_run_time():
    offenders = [
        str(path.relative_to(ROOT))
        for path in TEST_FILES
        if any(line.startswith("from conftest import") for line in path.read_text().splitlines())
    ]
    assert offenders == []
