"""A child process of the generation tests (``python generation_worker.py ROLE HOME ...``).

Roles:

- ``push HOME FIRST COUNT``: push ids ``vFIRST..`` (one push); the parent may set the crash
  test hook ``MODELOPS_FEATURES_LOCAL_TEST_CRASH`` to stop it at a named point.
- ``writer HOME PUSHES DONE``: push one new id per push, then create the file ``DONE``.
- ``reader HOME DONE``: search until ``DONE`` exists; prints ``{"searches": n, "errors":
  {class name: count}}`` as JSON.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
from modelops_featurestore_local.store import LocalFeatureStore

from modelops_core.features.store import FeatureStore

DIM = 16
MIN_ROWS = 50  # indexes of the tests pass it: every generation has an HNSW graph


def vectors(first: int, count: int) -> np.ndarray:
    """The vectors of ids ``v<first>..``: the same for every process."""
    rows = [
        np.random.default_rng(seed).standard_normal(DIM) for seed in range(first, first + count)
    ]
    return np.array(rows, dtype=np.float32)


def open_store(home: str) -> FeatureStore:
    return FeatureStore(backend=LocalFeatureStore(home=home, hnsw_min_rows=MIN_ROWS))


def main(role: str, home: str, *args: str) -> None:
    store = open_store(home)
    if role == "push":
        first, count = int(args[0]), int(args[1])
        store.push_embeddings([f"v{i}" for i in range(first, first + count)], vectors(first, count))
    elif role == "writer":
        pushes, done = int(args[0]), Path(args[1])
        start = 1000
        for offset in range(pushes):
            store.push_embeddings([f"v{start + offset}"], vectors(start + offset, 1))
        done.touch()
    elif role == "reader":
        done = Path(args[0])
        queries = vectors(0, 10)
        searches, errors = 0, {}
        while not done.exists():
            for method in ("hnsw", "exact"):
                try:
                    store.nearest(queries[searches % 10], k=3, method=method)
                    searches += 1
                except Exception as error:  # counted, and the parent asserts there are none
                    errors[type(error).__name__] = errors.get(type(error).__name__, 0) + 1
            time.sleep(0)
        print(json.dumps({"searches": searches, "errors": errors}))
    store.backend.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
