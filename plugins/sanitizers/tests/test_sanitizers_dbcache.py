"""The compiled hyperscan database is cached across processes, and a bad cache file is
compiled again: real child processes, real files, real kills at named points."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from modelops_sanitizers.dbcache import CRASH_EXIT, CRASH_HOOK, MAGIC
from modelops_sanitizers.detect import hyperscan_available

pytestmark = pytest.mark.skipif(not hyperscan_available(), reason="hyperscan wheel not installed")

TEXT = "mail jane@example.org, card 4111 1111 1111 1111, from 10.0.0.7"
CHILD = f"""
import json
from modelops_sanitizers.pii import PiiRedactor
redactor = PiiRedactor(engine="hyperscan")
loaded = redactor.detector.database
print(json.dumps({{
    "source": loaded.source,
    "seconds": loaded.seconds,
    "path": None if loaded.path is None else str(loaded.path),
    "because": loaded.recompiled_because,
    "redacted": redactor.redact({TEXT!r})[0],
}}))
"""
REDACTED = "mail [EMAIL], card [CARD], from [IP]"


def run_child(cache: Path, crash: str | None = None) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "MODELOPS_CACHE_DIR": str(cache)}
    environ.pop(CRASH_HOOK, None)
    if crash is not None:
        environ[CRASH_HOOK] = crash
    return subprocess.run(
        [sys.executable, "-c", CHILD], env=environ, capture_output=True, text=True, timeout=60
    )


def child(cache: Path) -> dict[str, Any]:
    finished = run_child(cache)
    assert finished.returncode == 0, finished.stderr
    answer: dict[str, Any] = json.loads(finished.stdout)
    return answer


def cache_files(cache: Path) -> list[Path]:
    return sorted((cache / "sanitizers").glob("*.hsdb"))


def test_a_second_process_loads_the_compiled_database_from_the_cache(tmp_path: Path) -> None:
    first = child(tmp_path)
    assert first["source"] == "compiled"
    assert first["redacted"] == REDACTED
    assert [Path(first["path"])] == cache_files(tmp_path)
    assert Path(first["path"]).read_bytes().startswith(MAGIC)

    second = child(tmp_path)
    assert second["source"] == "cache"
    assert second["path"] == first["path"]
    assert second["because"] is None
    assert second["redacted"] == REDACTED
    # Compilation is skipped: loading costs a small fraction of compiling (about 100 ms
    # against well under 1 ms; a factor of 10 leaves room for a busy machine).
    assert second["seconds"] < first["seconds"] / 10


@pytest.mark.parametrize(
    ("damage", "because"),
    [
        (lambda blob: blob[: len(blob) // 2], "checksum mismatch (corrupted)"),
        (
            lambda blob: blob[:-100] + bytes(byte ^ 0xFF for byte in blob[-100:]),
            "checksum mismatch (corrupted)",
        ),
        (lambda blob: b"", "not a modelops hyperscan cache file (truncated or overwritten)"),
        (
            lambda blob: b"garbage" + blob[7:],
            "not a modelops hyperscan cache file (truncated or overwritten)",
        ),
    ],
    ids=["truncated", "flipped-bytes", "empty", "overwritten-header"],
)
def test_a_corrupted_cache_file_is_compiled_again_and_replaced(
    tmp_path: Path, damage: Any, because: str
) -> None:
    first = child(tmp_path)
    path = Path(first["path"])
    good = path.read_bytes()
    path.write_bytes(damage(good))

    second = child(tmp_path)
    assert (second["source"], second["because"]) == ("compiled", because)
    assert second["redacted"] == REDACTED
    assert path.read_bytes() == good  # the same database, written back whole
    assert child(tmp_path)["source"] == "cache"


def test_a_cache_file_hyperscan_refuses_is_compiled_again(tmp_path: Path) -> None:
    import hashlib

    first = child(tmp_path)
    path = Path(first["path"])
    payload = b"\x00" * 4096  # a valid checksum over bytes that are not a database
    path.write_bytes(MAGIC + hashlib.sha256(payload).digest() + payload)

    second = child(tmp_path)
    assert second["source"] == "compiled"
    assert second["because"].startswith("hyperscan refused it")
    assert second["redacted"] == REDACTED
    assert child(tmp_path)["source"] == "cache"


@pytest.mark.parametrize("point", ["half-written", "written"])
def test_a_process_killed_while_writing_the_cache_leaves_no_cache_file(
    tmp_path: Path, point: str
) -> None:
    killed = run_child(tmp_path, crash=point)
    assert killed.returncode == CRASH_EXIT, killed.stderr
    assert cache_files(tmp_path) == []  # only the temporary file, never a partial .hsdb

    after = child(tmp_path)
    assert (after["source"], after["because"], after["redacted"]) == ("compiled", None, REDACTED)
    assert child(tmp_path)["source"] == "cache"


def test_a_cache_directory_that_cannot_be_written_only_costs_the_compilation(
    tmp_path: Path,
) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the cache directory would go")
    for _ in range(2):
        answer = child(blocked)
        assert (answer["source"], answer["path"], answer["redacted"]) == (
            "compiled",
            None,
            REDACTED,
        )


def test_the_cache_key_helpers_give_what_hashlib_and_platform_give() -> None:
    """The key is computed without importing hashlib (OpenSSL) or platform: same values."""
    import hashlib
    import platform

    from modelops_sanitizers.dbcache import _machine, sha256

    for data in (b"", b"abc", bytes(range(256)) * 100):
        assert sha256(data).hexdigest() == hashlib.sha256(data).hexdigest()
    digest = sha256()
    digest.update(b"a")
    digest.update(b"b")
    assert digest.digest() == hashlib.sha256(b"ab").digest()
    assert _machine() == platform.machine()
