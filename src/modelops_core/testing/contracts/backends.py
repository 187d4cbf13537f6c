"""The contract suite of registry/tracking backends (``modelops_register_registry_backends``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from modelops_core.plugins.kinds import Kind
from modelops_core.runtime import Runtime
from modelops_core.testing.contracts.base import ComponentContract


class RegistryBackendContract(ComponentContract):
    """The registry backend suite: versions, duplicates, aliases with rollback, audit, tracking.

    The factory is called with ``home`` (the modelops home) plus :meth:`component_options`.
    Tracking checks run when the component also implements ``TrackingBackend``.
    """

    kind = Kind.REGISTRY_BACKEND

    def component_options(self, tmp_path: Path) -> dict[str, Any]:
        """``home`` under ``tmp_path``; override to add a URL or other options."""
        return {"home": str(tmp_path / ".modelops")}

    @staticmethod
    def _version(name: str, version: str, **fields: Any) -> Any:
        from modelops_core.store.contract import ArtifactRef, ModelVersion

        artifact = ArtifactRef("sha256:" + "ab" * 32, "file", 3, "model.bin")
        return ModelVersion(name, version, artifact, **fields)

    @staticmethod
    def _key(version: str) -> str:
        from modelops_core.registry.versions import parse_version

        return parse_version(version).key

    def _add(self, backend: Any, name: str, version: str, **fields: Any) -> Any:
        return backend.add_version(
            self._version(name, version, **fields), self._key(version), actor="contract"
        )

    @staticmethod
    def _delete(backend: Any, name: str, version: str) -> None:
        backend.delete_version(name, version, actor="contract")

    def test_component_is_a_registry_backend(self, component: Any) -> None:
        from modelops_core.store.contract import RegistryBackend

        assert isinstance(component, RegistryBackend)

    def test_a_version_round_trips(self, component: Any) -> None:
        stored = self._add(
            component, "churn", "1.0", serializer="json", metadata={"auc": 0.9, "n": [1, 2]},
            tags={"team": "risk"}, lineage={"base_model": "base-x"},
        )  # fmt: skip
        read = component.get_version("churn", "1.0")
        assert read == stored
        assert read.artifact.digest == "sha256:" + "ab" * 32 and read.artifact.name == "model.bin"
        assert dict(read.metadata) == {"auc": 0.9, "n": [1, 2]}
        assert dict(read.tags) == {"team": "risk"} and read.lineage["base_model"] == "base-x"
        assert read.created_by == "contract" and read.created_at > 0
        assert component.list_models() == ["churn"]

    def test_a_duplicate_version_is_refused(self, component: Any) -> None:
        from modelops_core.store.contract import DuplicateVersionError

        self._add(component, "churn", "1.0")
        with pytest.raises(DuplicateVersionError, match="1.0"):
            self._add(component, "churn", "1.0")
        with pytest.raises(DuplicateVersionError, match="equal"):
            self._add(component, "churn", "1.0.0")
        assert [v.version for v in component.list_versions("churn")] == ["1.0"]

    def test_unknown_model_and_version_are_lookup_errors(self, component: Any) -> None:
        from modelops_core.store.contract import ModelNotFoundError, VersionNotFoundError

        with pytest.raises(ModelNotFoundError, match="nope"):
            component.list_versions("nope")
        self._add(component, "churn", "1")
        with pytest.raises(VersionNotFoundError, match="Known versions: 1"):
            component.get_version("churn", "2")

    def test_alias_moves_are_recorded_and_rolled_back(self, component: Any) -> None:
        for version in ("1", "2", "3"):
            self._add(component, "churn", version)
        assert component.set_alias("churn", "production", "1", actor="a") is None
        assert component.set_alias("churn", "production", "2", actor="a") == "1"
        assert component.set_alias("churn", "production", "3", actor="a") == "2"
        assert component.rollback_alias("churn", "production", actor="b") == "2"
        assert component.rollback_alias("churn", "production", actor="b") == "1"
        assert component.get_alias("churn", "production") == "1"
        moves = [(e.action, e.version, e.previous) for e in component.alias_history(
            "churn", "production")]  # fmt: skip
        assert moves == [
            ("set", "1", None), ("set", "2", "1"), ("set", "3", "2"),
            ("rollback", "2", "3"), ("rollback", "1", "2"),
        ]  # fmt: skip

    def test_rollback_without_an_earlier_version_is_an_error(self, component: Any) -> None:
        from modelops_core.store.contract import AliasNotFoundError

        self._add(component, "churn", "1")
        with pytest.raises(AliasNotFoundError):
            component.rollback_alias("churn", "production", actor="a")
        component.set_alias("churn", "production", "1", actor="a")
        with pytest.raises(AliasNotFoundError, match="before"):
            component.rollback_alias("churn", "production", actor="a")

    def test_unknown_alias_lists_the_known_ones(self, component: Any) -> None:
        from modelops_core.store.contract import AliasNotFoundError

        self._add(component, "churn", "1")
        component.set_alias("churn", "staging", "1", actor="a")
        with pytest.raises(AliasNotFoundError, match="staging"):
            component.get_alias("churn", "production")
        component.delete_alias("churn", "staging", actor="a")
        assert component.aliases("churn") == {}

    def test_deleting_a_version_removes_its_aliases(self, component: Any) -> None:
        from modelops_core.store.contract import VersionNotFoundError

        self._add(component, "churn", "1")
        self._add(component, "churn", "2")
        component.set_alias("churn", "production", "2", actor="a")
        component.delete_version("churn", "2", actor="a")
        assert component.aliases("churn") == {}
        with pytest.raises(VersionNotFoundError):
            component.get_version("churn", "2")

    def test_archiving_changes_the_status(self, component: Any) -> None:
        self._add(component, "churn", "1")
        component.set_status("churn", "1", "archived", actor="a")
        assert component.get_version("churn", "1").status == "archived"

    def test_writes_to_a_missing_version_change_nothing(self, component: Any) -> None:
        from modelops_core.store.contract import VersionNotFoundError

        self._add(component, "churn", "1")
        self._add(component, "churn", "2")
        self._delete(component, "churn", "2")
        before = component.audit("churn")
        with pytest.raises(VersionNotFoundError, match="'2'"):
            component.set_alias("churn", "production", "2", actor="a")
        with pytest.raises(VersionNotFoundError, match="'2'"):
            component.set_status("churn", "2", "archived", actor="a")
        with pytest.raises(VersionNotFoundError, match="'2'"):
            component.delete_version("churn", "2", actor="a")
        assert component.aliases("churn") == {}
        assert component.audit("churn") == before

    def test_a_missing_version_is_named_with_the_count_and_a_few_neighbours(
        self, component: Any
    ) -> None:
        import re

        from modelops_core.store.contract import VersionNotFoundError

        for number in range(1, 41):
            if number != 20:
                self._add(component, "churn", str(number))
        with pytest.raises(VersionNotFoundError) as caught:
            component.get_version("churn", "20")
        message = str(caught.value)
        mentioned = {int(number) for number in re.findall(r"\b\d+\b", message)}
        assert {19, 21, 39} <= mentioned  # the neighbours and the count
        assert not mentioned & {*range(1, 11), *range(30, 39)}  # not every version
        assert len(message) < 500

    def test_the_highest_release_is_found_in_version_order(self, component: Any) -> None:
        from modelops_core.store.contract import ReleaseIndex

        if not isinstance(component, ReleaseIndex):
            pytest.skip("the backend has no highest_release (an optional capability)")
        assert component.highest_release("churn") is None  # no such model yet
        self._add(component, "churn", "2.0.0-rc.1")
        assert component.highest_release("churn") is None  # pre-releases do not count
        for version in ("1.9", "1.10", "1.2.3", "v1.10.1", "0.99"):
            self._add(component, "churn", version)
        self._add(component, "other", "7")
        assert component.highest_release("churn") == "v1.10.1"  # the text as registered
        self._delete(component, "churn", "v1.10.1")
        assert component.highest_release("churn") == "1.10"

    def test_every_change_is_audited(self, component: Any) -> None:
        self._add(component, "churn", "1")
        component.set_alias("churn", "production", "1", actor="alice")
        component.delete_version("churn", "1", actor="bob")
        entries = component.audit("churn")
        assert [(e.action, e.actor, e.version) for e in entries] == [
            ("delete", "bob", "1"), ("alias.set", "alice", "1"), ("register", "contract", "1"),
        ]  # fmt: skip
        assert entries[0].at >= entries[-1].at > 0

    def test_search_filters_by_name_prefix(self, component: Any) -> None:
        self._add(component, "churn", "1")
        self._add(component, "churn-v2", "1")
        self._add(component, "fraud", "1")
        assert sorted(v.name for v in component.search("churn")) == ["churn", "churn-v2"]

    def test_data_survives_reopening(
        self, component: Any, runtime: Runtime, tmp_path: Path
    ) -> None:
        self._add(component, "churn", "1")
        again = runtime.create(self.kind, self.component_name, **self.component_options(tmp_path))
        try:
            assert [v.version for v in again.list_versions("churn")] == ["1"]
        finally:
            close = getattr(again, "close", None)
            if callable(close):
                close()

    def test_runs_record_params_metrics_and_tags(self, component: Any) -> None:
        from modelops_core.store.contract import MetricPoint, RunNotFoundError, TrackingBackend

        if not isinstance(component, TrackingBackend):
            pytest.skip("the backend does not implement tracking")
        run = component.create_run("exp", tags={"a": 1}, environment={"python": "3"})
        component.log_params(run.run_id, {"lr": "0.1"})
        component.log_params(run.run_id, {"lr": "0.2"})
        component.log_metrics(run.run_id, [MetricPoint("loss", 1.0 / (s + 1), s, 1.0)
                                           for s in range(5)])  # fmt: skip
        component.set_tags(run.run_id, {"b": 2})
        component.end_run(run.run_id, "finished")
        read = component.get_run(run.run_id)
        assert dict(read.params) == {"lr": "0.2"} and dict(read.tags) == {"a": 1, "b": 2}
        assert read.status == "finished" and read.ended_at is not None
        assert [p.step for p in component.get_metrics(run.run_id, "loss")] == [0, 1, 2, 3, 4]
        assert [r.run_id for r in component.list_runs("exp")] == [run.run_id]
        with pytest.raises(RunNotFoundError):
            component.get_run("no-such-run")

    def test_version_names_are_listed_cheaply(self, component: Any) -> None:
        assert component.list_version_names("churn") == []
        self._add(component, "churn", "1.0")
        self._add(component, "churn", "1.10")
        assert sorted(component.list_version_names("churn")) == ["1.0", "1.10"]

    def test_runs_are_found_by_tags(self, component: Any) -> None:
        from modelops_core.store.contract import TrackingBackend

        if not isinstance(component, TrackingBackend):
            pytest.skip("the backend does not implement tracking")
        first = component.create_run("ft", tags={"job.id": "a", "n": 1}, environment={})
        second = component.create_run("ft", tags={"job.id": "b", "n": 1}, environment={})
        component.create_run("other", tags={"job.id": "a"}, environment={})
        component.set_tags(second.run_id, {"job.status": "running"})
        assert [r.run_id for r in component.find_runs("ft", {"job.id": "a"})] == [first.run_id]
        found = component.find_runs("ft", {"job.status": "running", "n": 1})
        assert [r.run_id for r in found] == [second.run_id]
        assert component.find_runs("ft", {"n": "1"}) == []
        assert len(component.find_runs(None, {"job.id": "a"})) == 2
        assert len(component.find_runs("ft", {}, limit=1)) == 1
