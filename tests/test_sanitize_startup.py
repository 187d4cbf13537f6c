"""What the user's sanitize path pays the cyclic collector: a fresh process running
``DatasetSanitizer().sanitize(Dataset.from_jsonl(p)).save(q)`` or ``modelops dataset sanitize``
(imports run with the collector paused; records read or sanitized are promoted, not walked)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from project_env import enter_project

pytest.importorskip("modelops_sanitizers")

COUNT_API = """
import gc, sys
collections = []
gc.callbacks.append(lambda phase, info: phase == "stop" and collections.append(info))
from modelops_core import Dataset, DatasetSanitizer
DatasetSanitizer().sanitize(Dataset.from_jsonl(sys.argv[1])).save(sys.argv[2])
print(len(collections), sum(info["generation"] > 0 for info in collections))
"""

COUNT_CLI = """
import gc, io, sys
collections = []
gc.callbacks.append(lambda phase, info: phase == "stop" and collections.append(info))
from modelops_core.cli.main import main
sys.stdout = io.StringIO()
code = main(["dataset", "sanitize", sys.argv[1], sys.argv[2]])
sys.stdout = sys.__stdout__
print(code, len(collections))
"""


@pytest.fixture(autouse=True)
def in_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return enter_project(tmp_path, monkeypatch)


def chat_file(path: Path, count: int = 3_000) -> Path:
    lines = []
    for index in range(count):
        messages = [
            {"role": "user", "content": f"mail jane{index}@example.org, card 4111 1111 1111 1111"},
            {"role": "assistant", "content": f"noted, call (415) 555-{index % 10_000:04d}"},
        ]
        lines.append(json.dumps({"messages": messages}))
    path.write_text("\n".join(lines) + "\n")
    return path


def run(script: str, tmp_path: Path) -> list[int]:
    source = chat_file(tmp_path / "chat.jsonl")
    result = subprocess.run(
        [sys.executable, "-c", script, str(source), str(tmp_path / "clean.jsonl")],
        capture_output=True, text=True, check=True, cwd=tmp_path,
    )  # fmt: skip
    assert "jane1@example.org" not in (tmp_path / "clean.jsonl").read_text()
    return [int(word) for word in result.stdout.split()]


def test_the_api_path_runs_few_collections(tmp_path: Path) -> None:
    """24 young collections and 3 older ones before (imports walked while they loaded, then the
    records read walked twice after reading); 5 and 1 now."""
    total, older = run(COUNT_API, tmp_path)
    assert total <= 10, f"{total} collections in the whole run"
    assert older <= 2, f"{older} collections of the older generations"


def test_the_cli_path_runs_few_collections(tmp_path: Path) -> None:
    """About 30 young collections before the imports were paused (click, the command's
    modules, the runtime and the plugins); a handful now."""
    code, total = run(COUNT_CLI, tmp_path)
    assert code == 0
    assert total <= 10, f"{total} collections in the whole command"
