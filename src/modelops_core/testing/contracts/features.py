"""The contract suite of feature stores (``modelops_register_feature_stores``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest

from modelops_core.plugins.kinds import Kind
from modelops_core.runtime import Runtime
from modelops_core.testing.contracts.base import ComponentContract


class FeatureStoreContract(ComponentContract):
    """The feature store suite, run through :class:`modelops_core.features.store.FeatureStore`:
    rows, batches, feature set versions, point-in-time reads, TTL, reuse, embeddings.

    The factory is called with ``home`` plus :meth:`component_options`; the ``store`` fixture
    wraps the component with a clock the tests move (``self.now``).
    """

    kind = Kind.FEATURE_STORE
    start_time: ClassVar[float] = 1_900_000_000.0

    def component_options(self, tmp_path: Path) -> dict[str, Any]:
        """``home`` under ``tmp_path``; override to add a URL or other options."""
        return {"home": str(tmp_path / ".modelops")}

    @pytest.fixture
    def store(self, component: Any) -> Any:
        from modelops_core.features.store import FeatureStore

        self.now = self.start_time
        return FeatureStore(backend=component, clock=lambda: self.now)

    def test_component_is_a_feature_store(self, component: Any) -> None:
        from modelops_core.plugins.protocols import FeatureStoreComponent

        assert isinstance(component, FeatureStoreComponent)

    def test_features_round_trip(self, store: Any) -> None:
        features = {"age": 31, "score": 0.5, "country": "FR", "vip": True, "raw": b"\x00\x01",
                    "tags": ["a", "b"], "nested": {"x": 1}, "missing": None}  # fmt: skip
        store.push_features("user-1", features)
        assert store.get_features("user-1") == features

    def test_an_unknown_entity_is_an_empty_dict(self, store: Any) -> None:
        assert store.get_features("nobody") == {}
        assert store.get_many(["nobody"]) == {"nobody": {}}

    def test_a_push_replaces_the_previous_row(self, store: Any) -> None:
        store.push_features("user-1", {"age": 31, "country": "FR"})
        self.now += 1
        store.push_features("user-1", {"age": 32})
        assert store.get_features("user-1") == {"age": 32}

    def test_batches_round_trip(self, store: Any) -> None:
        rows = {f"user-{i}": {"age": i, "score": i / 2} for i in range(50)}
        assert store.push_many(rows, feature_set="profile") == 50
        found = store.get_many([*rows, "nobody"], feature_set="profile")
        assert found == {**rows, "nobody": {}}
        assert store.entities("profile")[:2] == ["user-0", "user-1"]

    def test_feature_sets_are_separate_by_name_and_version(self, store: Any) -> None:
        store.push_features("u", {"age": 1}, feature_set="profile", version=1)
        store.push_features("u", {"age": 1, "city": "Lyon"}, feature_set="profile", version=2)
        assert store.get_features("u", feature_set="profile") == {"age": 1}
        assert store.get_features("u", feature_set="profile", version=2)["city"] == "Lyon"
        assert store.get_features("u") == {}
        assert store.schema("profile", 2) == {"age": "int", "city": "str"}

    def test_a_different_schema_under_an_existing_version_is_refused(self, store: Any) -> None:
        from modelops_core.features.values import FeatureSetVersionError

        store.push_features("u1", {"age": 1, "country": "FR"}, feature_set="profile", version=2)
        with pytest.raises(FeatureSetVersionError, match=r"age: int, country: str.*city") as err:
            store.push_features("u2", {"age": 2, "city": "Lyon"}, feature_set="profile",
                                version=2)  # fmt: skip
        assert "version 3" in str(err.value)
        with pytest.raises(FeatureSetVersionError, match="age is str, not int"):
            store.push_features("u3", {"age": "old", "country": "FR"}, feature_set="profile",
                                version=2)  # fmt: skip
        assert store.get_features("u2", feature_set="profile", version=2) == {}

    def test_a_refused_batch_stores_nothing(self, store: Any) -> None:
        from modelops_core.features.values import FeatureSetVersionError

        rows = [("a", {"x": 1}), ("b", {"x": 2}), ("c", {"y": 3})]
        with pytest.raises(FeatureSetVersionError, match="'c'"):
            store.push_many(rows, feature_set="s")
        assert store.get_many(["a", "b"], feature_set="s") == {"a": {}, "b": {}}

    def test_point_in_time_reads(self, store: Any) -> None:
        store.push_features("u", {"plan": "free"}, timestamp=100.0)
        store.push_features("u", {"plan": "pro"}, timestamp=200.0)
        store.push_features("u", {"plan": "team"}, timestamp=150.0)  # a late event
        assert store.get_features("u") == {"plan": "pro"}
        assert store.get_features("u", as_of=99.0) == {}
        assert store.get_features("u", as_of=120.0) == {"plan": "free"}
        assert store.get_features("u", as_of=170.0) == {"plan": "team"}
        assert store.get_many(["u"], as_of=200.0) == {"u": {"plan": "pro"}}

    def test_expired_rows_are_not_returned(self, store: Any) -> None:
        store.push_features("u", {"x": 1}, ttl=60)
        store.push_features("v", {"x": 2})
        assert store.get_features("u") == {"x": 1}
        self.now += 61
        assert store.get_features("u") == {}
        assert store.get_many(["u", "v"]) == {"u": {}, "v": {"x": 2}}
        assert store.get_features("u", as_of=self.start_time + 30) == {"x": 1}

    def test_get_or_compute_computes_once(self, store: Any) -> None:
        calls: list[str] = []

        def compute(entity: str) -> dict[str, Any]:
            calls.append(entity)
            return {"length": len(entity)}

        assert store.get_or_compute("abc", compute) == {"length": 3}
        assert store.get_or_compute("abc", compute) == {"length": 3}
        assert calls == ["abc"]
        store.get_or_compute("short-lived", compute, ttl=10)
        self.now += 11
        store.get_or_compute("short-lived", compute, ttl=10)
        assert calls == ["abc", "short-lived", "short-lived"]

    def test_an_unstorable_value_names_the_entity(self, store: Any) -> None:
        from modelops_core.features.values import FeatureValueError

        with pytest.raises(FeatureValueError, match="user-9"):
            store.push_features("user-9", {"when": object()})

    def _vectors(self, count: int = 200, dim: int = 16) -> Any:
        import numpy as np

        return np.random.default_rng(7).standard_normal((count, dim)).astype(np.float32)

    def test_nearest_finds_the_exact_neighbours(self, store: Any) -> None:
        import numpy as np

        vectors = self._vectors()
        ids = [f"doc-{i}" for i in range(len(vectors))]
        store.push_embeddings(ids, vectors, [{"lang": "en" if i % 2 else "fr"} for i in
                                             range(len(ids))])  # fmt: skip
        normalized = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        truth = np.argsort(1 - normalized @ normalized[3])[:5]
        found = store.nearest(vectors[3], k=5, exact=True)
        assert [n.id for n in found] == [ids[i] for i in truth]
        assert found[0].id == "doc-3" and abs(found[0].distance) < 1e-5
        assert store.nearest(vectors[3], k=5)[0].id == "doc-3"

    def test_nearest_filters_on_metadata(self, store: Any) -> None:
        vectors = self._vectors()
        ids = [f"doc-{i}" for i in range(len(vectors))]
        store.push_embeddings(ids, vectors, [{"lang": "en" if i % 2 else "fr"} for i in
                                             range(len(ids))])  # fmt: skip
        found = store.nearest(vectors[3], k=10, filter={"lang": "fr"})
        assert len(found) == 10 and all(n.metadata["lang"] == "fr" for n in found)
        assert all(int(n.id.split("-")[1]) % 2 == 0 for n in found)
        assert store.nearest(vectors[3], k=3, filter=lambda m: m["lang"] == "en")[0].id == "doc-3"

    def test_pushing_an_existing_id_replaces_its_vector(self, store: Any) -> None:
        vectors = self._vectors(20)
        store.push_embeddings([f"d{i}" for i in range(20)], vectors)
        store.push_embeddings(["d0", "new"], vectors[[5, 6]], [{"v": 2}, {"v": 2}])
        assert store.nearest(vectors[5], k=2, exact=True)[0].id in {"d0", "d5"}
        assert {i.name: i.count for i in store.indexes()} == {"default": 21}
        assert set(store.get_embeddings(["d0", "new", "nope"])) == {"d0", "new"}

    def test_a_wrong_dimension_names_the_index(self, store: Any) -> None:
        from modelops_core.features.values import EmbeddingDimensionError

        store.push_embeddings(["a"], self._vectors(1, 8), index="docs")
        with pytest.raises(EmbeddingDimensionError, match=r"'docs'.*8-dimensional.*'b'"):
            store.push_embeddings(["b"], self._vectors(1, 9), index="docs")
        with pytest.raises(EmbeddingDimensionError, match="'docs'"):
            store.nearest(self._vectors(1, 9)[0], index="docs")

    def test_nan_is_refused_and_nothing_is_stored(self, store: Any) -> None:
        from modelops_core.features.values import EmbeddingValueError

        vectors = self._vectors(3, 4)
        vectors[1, 2] = float("nan")
        with pytest.raises(EmbeddingValueError, match=r"'docs'.*'b'"):
            store.push_embeddings(["a", "b", "c"], vectors, index="docs")
        assert store.get_embeddings(["a"], index="docs") == {}

    def test_an_unknown_index_is_a_lookup_error(self, store: Any) -> None:
        from modelops_core.features.values import IndexNotFoundError

        with pytest.raises(IndexNotFoundError, match="'nope'"):
            store.nearest([1.0, 2.0], index="nope")

    def test_embeddings_are_computed_once(self, store: Any) -> None:
        vectors = self._vectors(3, 4)
        calls: list[list[str]] = []

        def embed(ids: list[str]) -> Any:
            calls.append(ids)
            return vectors[: len(ids)]

        first = store.get_or_compute_embeddings(["a", "b"], embed)
        second = store.get_or_compute_embeddings(["a", "b", "c"], embed)
        assert calls == [["a", "b"], ["c"]]
        assert first.shape == (2, 4) and second.shape == (3, 4)
        assert (second[:2] == first).all()

    def test_racing_first_pushes_of_two_widths_leave_one_width_per_index(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        """Two processes push 16- and 32-wide vectors into the same new indexes at once: each
        index keeps the width of the push that came first, the other push is refused with
        :class:`EmbeddingDimensionError` and stores nothing, and ``nearest`` works."""
        import json
        import subprocess
        import sys
        import time

        import numpy as np

        from modelops_core.features.store import FeatureStore
        from modelops_core.features.values import EmbeddingDimensionError

        module = getattr(self.plugin, "__name__", None)
        if not isinstance(module, str):
            pytest.skip("the plugin is not an importable module; no child process can load it")
        indexes = [f"race-{i}" for i in range(20)]
        gate = tmp_path / "go"
        spec = {"plugin": module, "distribution": self.distribution or module,
                "component": self.component_name, "home": str(tmp_path / ".modelops"),
                "options": self.component_options(tmp_path), "gate": str(gate),
                "indexes": indexes}  # fmt: skip
        children = {
            width: subprocess.Popen(
                [sys.executable, "-c", _RACE_FIRST_PUSHES, json.dumps(spec), str(width)],
                stdout=subprocess.PIPE,
                text=True,
            )
            for width in (16, 32)
        }
        ready = [tmp_path / f"ready-{width}" for width in children]
        deadline = time.monotonic() + 60
        while not all(path.exists() for path in ready) and time.monotonic() < deadline:
            time.sleep(0.01)  # both children import and connect, then wait at the gate
        gate.touch()
        outcomes = {}
        for width, child in children.items():
            out, _ = child.communicate(timeout=60)
            assert child.returncode == 0, out
            outcomes[width] = json.loads(out.strip().splitlines()[-1])
        backend = runtime.create(self.kind, self.component_name, **self.component_options(tmp_path))
        try:
            store = FeatureStore(backend=backend)
            stored = {info.name: info for info in store.indexes()}
            for index in indexes:
                results = {width: outcomes[width][index] for width in (16, 32)}
                winners = [width for width, result in results.items() if result == "ok"]
                assert len(winners) == 1, (index, results)
                loser = 32 if winners[0] == 16 else 16
                assert results[loser] == EmbeddingDimensionError.__name__, (index, results)
                assert (stored[index].dim, stored[index].count) == (winners[0], 1), stored[index]
                found = store.nearest(np.ones(winners[0]), k=1, index=index)
                assert [n.id for n in found] == [f"w{winners[0]}"]
        finally:
            close = getattr(backend, "close", None)
            if callable(close):
                close()


_RACE_FIRST_PUSHES = """
import importlib, json, os, sys, time
from pathlib import Path
import numpy as np
from modelops_core.features.values import EmbeddingError
from modelops_core.features.store import FeatureStore
from modelops_core.plugins.kinds import Kind
from modelops_core.testing.fixtures import make_runtime

spec, width = json.loads(sys.argv[1]), int(sys.argv[2])
plugin = importlib.import_module(spec["plugin"])
runtime = make_runtime(Path(spec["home"]), [(spec["distribution"], plugin)])
backend = runtime.create(Kind.FEATURE_STORE, spec["component"], **spec["options"])
store = FeatureStore(backend=backend)
Path(spec["gate"]).with_name(f"ready-{width}").touch()
while not os.path.exists(spec["gate"]):
    time.sleep(0.001)
results = {}
for index in spec["indexes"]:
    try:
        store.push_embeddings([f"w{width}"], np.ones((1, width)), index=index)
        results[index] = "ok"
    except EmbeddingError as error:
        results[index] = type(error).__name__
close = getattr(backend, "close", None)
if callable(close):
    close()
print(json.dumps(results))
"""
