"""The watcher of an atomic write removes the temporary file when the writer ends without
renaming it, and starts no ``rm`` after a successful write (the name is gone by then)."""

from __future__ import annotations

import os

import pytest

from modelops_core.datasets.write import _start_watcher, _stop_watcher, atomic_writer

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the watcher is a /bin/sh")


@pytest.fixture
def counted_rm(tmp_path, monkeypatch):
    """An ``rm`` first on PATH that notes each start in a file, then runs the real one."""
    tools = tmp_path / "tools"
    tools.mkdir()
    starts = tmp_path / "rm-starts"
    script = tools / "rm"
    script.write_text(f'#!/bin/sh\necho started >> "{starts}"\nexec /bin/rm "$@"\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ.get('PATH', '')}")
    return starts


def rm_starts(starts) -> int:
    return len(starts.read_text().splitlines()) if starts.exists() else 0


def test_a_successful_write_starts_no_rm(tmp_path, counted_rm):
    target = tmp_path / "out.jsonl"
    with atomic_writer(target, watch=True) as handle:
        handle.write(b"{}\n")
    assert target.read_bytes() == b"{}\n"
    assert rm_starts(counted_rm) == 0
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_a_temporary_file_left_behind_is_removed_by_the_watcher(tmp_path, counted_rm):
    temporary = tmp_path / ".out.jsonl.123-0123abcd.tmp"
    temporary.write_bytes(b"half a file")
    watcher = _start_watcher(temporary)
    assert watcher is not None
    _stop_watcher(watcher)  # the pipe closes as it would when the writer dies
    assert not temporary.exists()
    assert rm_starts(counted_rm) == 1
