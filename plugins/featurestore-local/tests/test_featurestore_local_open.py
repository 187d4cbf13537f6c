"""Processes opening one new local store at once all get it (no "database is locked")."""

from __future__ import annotations

import multiprocessing
from pathlib import Path


def _open(
    home: str, start: multiprocessing.synchronize.Event, results: multiprocessing.Queue
) -> None:
    from modelops_featurestore_local.store import LocalFeatureStore

    start.wait()
    try:
        LocalFeatureStore(home=home).close()
        results.put("ok")
    except Exception as exc:  # reported to the parent, which asserts on it
        results.put(f"{type(exc).__name__}: {exc}")


def test_processes_opening_a_new_store_at_once_all_succeed(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    outcomes = []
    for attempt in range(3):  # three fresh stores: the race is in creating the database
        home = str(tmp_path / f"home-{attempt}")
        start, results = context.Event(), context.Queue()
        processes = [context.Process(target=_open, args=(home, start, results)) for _ in range(6)]
        for process in processes:
            process.start()
        start.set()
        outcomes += [results.get(timeout=60) for _ in processes]
        for process in processes:
            process.join(60)
    assert outcomes == ["ok"] * 18
