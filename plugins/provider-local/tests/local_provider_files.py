"""File helpers for the local provider's tests (a unique module name: every plugin's tests run
in one pytest session, where a second ``conftest`` module would shadow this one)."""

from __future__ import annotations

import json
from pathlib import Path


def write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path
