"""What the local store adds to the contract: files on disk, HNSW recall, int8, fallbacks.

Crashes and concurrent processes: ``test_generations.py``."""

from __future__ import annotations

import builtins
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from modelops_featurestore_local import plugin
from modelops_featurestore_local.embeddings import HnswMissingWarning
from modelops_featurestore_local.hnsw import HnswGraph
from modelops_featurestore_local.store import LocalFeatureStore

from modelops_core.features.store import FeatureStore
from modelops_core.testing.fixtures import make_runtime


def clustered(count: int, dim: int, seed: int = 0) -> Any:
    """Vectors around 50 centres, like real embeddings (uniform noise is the worst case)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((50, dim))
    return (centres[rng.integers(0, 50, count)] + 0.3 * rng.standard_normal((count, dim))).astype(
        np.float32
    )


@pytest.fixture
def store(tmp_path: Path) -> Any:
    with FeatureStore(backend=LocalFeatureStore(home=str(tmp_path))) as opened:
        yield opened
        opened.backend.close()


def test_the_embedded_default_keeps_everything_under_the_home(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path / ".modelops", [("modelops-featurestore-local", plugin)])
    with FeatureStore(runtime) as store:
        store.push_features("u", {"x": 1})
        store.push_embeddings(["a"], np.ones((1, 4)))
    assert (tmp_path / ".modelops" / "features" / "features.db").is_file()
    assert (tmp_path / ".modelops" / "features" / "embeddings" / "default" / "gen-1" /
            "vectors.npy").is_file()  # fmt: skip
    with FeatureStore(runtime) as again:
        assert again.get_features("u") == {"x": 1}
        assert again.nearest(np.ones(4), k=1)[0].id == "a"


def test_a_push_leaves_one_generation_on_disk(store: Any) -> None:
    store.push_embeddings(["a"], np.ones((1, 4)))
    store.push_embeddings(["b"], np.ones((1, 4)))
    folder = store.backend.root / "embeddings" / "default"
    assert sorted(p.name for p in folder.iterdir()) == ["gen-2"]


def test_hnsw_recall_at_10_is_at_least_0_99(tmp_path: Path) -> None:
    pytest.importorskip("usearch")
    backend = LocalFeatureStore(home=str(tmp_path), hnsw_min_rows=100, ef_construction=100)
    with FeatureStore(backend=backend) as store:
        vectors = clustered(1500, 16)
        store.push_embeddings([f"v{i}" for i in range(1500)], vectors)
        report = store.recall(k=10, queries=40)
        assert report.method == "hnsw" and report.recall >= 0.99, report
        # Updating the graph in place keeps recall (no rebuild).
        store.push_embeddings([f"w{i}" for i in range(300)], clustered(300, 16, seed=1))
        assert store.recall(k=10, queries=40).recall >= 0.99
    backend.close()


def test_int8_recall_is_reported(store: Any) -> None:
    store.push_embeddings([f"v{i}" for i in range(2000)], clustered(2000, 32))
    report = store.recall(method="int8", k=10, queries=30)
    # int8 codes pick the candidates, float32 re-ranks them: the exact top-10 in practice.
    assert report.method == "int8" and report.recall >= 0.99
    assert report.exact_ms > 0 and report.approximate_ms > 0


@pytest.mark.parametrize("metric", ["l2", "ip"])
def test_int8_and_exact_agree_for_every_metric(store: Any, metric: str) -> None:
    vectors = clustered(1000, 16)
    store.push_embeddings([f"v{i}" for i in range(1000)], vectors, metric=metric)
    store.push_embeddings(["late"], vectors[:1] * 3, metric=metric)  # a new generation
    for query in vectors[[3, 500, 999]]:
        exact = store.nearest(query, k=10, exact=True)
        assert [n.id for n in store.nearest(query, k=10, method="int8")] == [n.id for n in exact]
        if metric == "l2":
            assert exact[0].distance == pytest.approx(0.0, abs=1e-3)


def test_the_graph_is_built_by_the_push_not_the_first_search(tmp_path: Path) -> None:
    pytest.importorskip("usearch")
    backend = LocalFeatureStore(home=str(tmp_path), hnsw_min_rows=100)
    with FeatureStore(backend=backend) as store:
        store.push_embeddings([f"v{i}" for i in range(50)], clustered(50, 8))
        folder = tmp_path / "features" / "embeddings" / "default"
        assert not (folder / "gen-1" / "graph.usearch").exists()  # below hnsw_min_rows: exact
        store.push_embeddings([f"w{i}" for i in range(100)], clustered(100, 8, seed=1))
        assert (folder / "gen-2" / "graph.usearch").is_file()
        assert store.recall(k=5, queries=20).recall >= 0.99
    backend.close()


def test_without_usearch_search_is_exact_with_one_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_import = builtins.__import__

    def no_usearch(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.split(".")[0] == "usearch":
            raise ImportError("No module named 'usearch'")
        return real_import(name, *args, **kwargs)

    for module in [m for m in sys.modules if m.split(".")[0] == "usearch"]:
        monkeypatch.delitem(sys.modules, module)
    monkeypatch.setattr(builtins, "__import__", no_usearch)
    backend = LocalFeatureStore(home=str(tmp_path), hnsw_min_rows=10)
    with FeatureStore(backend=backend) as store:
        vectors = clustered(100, 8)
        store.push_embeddings([f"v{i}" for i in range(100)], vectors)
        with pytest.warns(HnswMissingWarning, match="pip install"):
            first = store.nearest(vectors[0], k=5)
        exact = store.nearest(vectors[0], k=5, exact=True)
        assert [n.id for n in first] == [n.id for n in exact]
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("error")
            store.nearest(vectors[0], k=5)
    backend.close()


def test_an_unknown_method_names_the_config_key(tmp_path: Path) -> None:
    from modelops_core.features.values import FeatureValueError

    with pytest.raises(FeatureValueError, match=r"\[features\] method"):
        LocalFeatureStore(home=str(tmp_path), method="annoy")


def test_two_stores_on_one_home_see_each_others_pushes(tmp_path: Path) -> None:
    first, second = LocalFeatureStore(home=str(tmp_path)), LocalFeatureStore(home=str(tmp_path))
    writer, reader = FeatureStore(backend=first), FeatureStore(backend=second)
    writer.push_embeddings(["a"], np.ones((1, 4)))
    assert reader.nearest(np.ones(4), k=1)[0].id == "a"
    writer.push_embeddings(["b"], -np.ones((1, 4)))
    assert reader.nearest(-np.ones(4), k=1)[0].id == "b"
    writer.push_features("u", {"x": 1})
    assert reader.get_features("u") == {"x": 1}
    first.close()
    second.close()


def recall_at_10(store: Any, queries: Any) -> float:
    """Recall@10 of the default search against exact search for ``queries``."""
    hits = 0
    for query in queries:
        truth = {n.id for n in store.nearest(query, k=10, exact=True)}
        hits += len(truth & {n.id for n in store.nearest(query, k=10)})
    return hits / (10 * len(queries))


def test_hnsw_recall_on_uniform_random_data_against_exact(tmp_path: Path) -> None:
    # Random gaussian vectors and queries, the hard case for a graph (no clusters). Measured
    # with usearch at the defaults (hnsw_m 16, ef_construction 100, ef_search 128): 0.9995
    # over 2,000 x 32, 200 queries (hnswlib, before it, 1.000); 0.98 keeps a margin.
    pytest.importorskip("usearch")
    rng = np.random.default_rng(0)
    backend = LocalFeatureStore(home=str(tmp_path), hnsw_min_rows=100)
    with FeatureStore(backend=backend) as store:
        store.push_embeddings([f"v{i}" for i in range(2000)], rng.standard_normal((2000, 32)))
        assert (tmp_path / "features/embeddings/default/gen-1/graph.usearch").is_file()
        assert recall_at_10(store, rng.standard_normal((200, 32))) >= 0.98
        # Replacing vectors goes through the graph too: a moved id is found where it is now.
        moved = rng.standard_normal((50, 32)).astype(np.float32)
        store.push_embeddings([f"v{i}" for i in range(50)], moved)
        assert [store.nearest(moved[i], k=1)[0].id for i in range(50)] == [
            f"v{i}" for i in range(50)
        ]
        assert recall_at_10(store, rng.standard_normal((100, 32))) >= 0.98
    backend.close()


def write_hnswlib_era_index(home: Path, vectors: Any) -> None:
    """An index as the hnswlib version wrote it: gen-1 with vectors.npy, rows.msgpack and an
    hnswlib graph file (hnsw.bin), and its row in features.db (same schema)."""
    import sqlite3

    from modelops_core.features.values import Codec

    folder = home / "features" / "embeddings" / "default" / "gen-1"
    folder.mkdir(parents=True)
    unit = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    np.save(folder / "vectors.npy", unit)
    ids = [f"v{i}" for i in range(len(vectors))]
    (folder / "rows.msgpack").write_bytes(Codec().encode_value([ids, [{}] * len(ids)]))
    (folder / "hnsw.bin").write_bytes(b"\x00hnswlib graph\x00" * 64)
    with sqlite3.connect(home / "features" / "features.db") as db:
        db.execute(
            "INSERT INTO vector_indexes (name, dim, metric, count, generation) "
            "VALUES ('default', ?, 'cosine', ?, 1)",
            (vectors.shape[1], len(vectors)),
        )
    db.close()


def test_an_index_written_with_hnswlib_is_read_and_its_graph_rebuilt(tmp_path: Path) -> None:
    pytest.importorskip("usearch")
    vectors = clustered(300, 16)
    LocalFeatureStore(home=str(tmp_path)).close()  # creates features.db
    write_hnswlib_era_index(tmp_path, vectors)
    backend = LocalFeatureStore(home=str(tmp_path), hnsw_min_rows=100)
    with FeatureStore(backend=backend) as store:
        assert store.nearest(vectors[42], k=1)[0].id == "v42"  # the graph is built once
        folder = tmp_path / "features/embeddings/default/gen-1"
        assert sorted(p.name for p in folder.iterdir()) == [
            "graph.usearch", "hnsw.bin", "rows.msgpack", "vectors.npy"
        ]  # fmt: skip
        assert store.recall(k=10, queries=30).recall >= 0.99
        store.push_embeddings(["new"], vectors[:1] * -1)  # later pushes extend it
        assert store.nearest(-vectors[0], k=1)[0].id == "new"
        assert sorted(p.name for p in (folder.parent / "gen-2").iterdir()) == [
            "graph.usearch", "rows.msgpack", "vectors.npy"
        ]  # fmt: skip
    backend.close()


def test_a_damaged_graph_file_is_rebuilt_from_the_vectors(tmp_path: Path) -> None:
    pytest.importorskip("usearch")
    vectors = clustered(300, 16)
    backend = LocalFeatureStore(home=str(tmp_path), hnsw_min_rows=100)
    FeatureStore(backend=backend).push_embeddings([f"v{i}" for i in range(300)], vectors)
    backend.close()
    graph = tmp_path / "features/embeddings/default/gen-1/graph.usearch"
    graph.write_bytes(graph.read_bytes()[: graph.stat().st_size // 2])  # cut in the middle
    backend = LocalFeatureStore(home=str(tmp_path), hnsw_min_rows=100)
    with FeatureStore(backend=backend) as store:
        assert [n.id for n in store.nearest(vectors[42], k=3)] == [
            n.id for n in store.nearest(vectors[42], k=3, exact=True)
        ]
        assert store.recall(k=10, queries=30).recall >= 0.99
    backend.close()
    # The rebuilt graph was saved in place of the damaged one.
    assert HnswGraph(16, "cosine", m=16, ef_construction=100, ef=128).load(graph, 300)
