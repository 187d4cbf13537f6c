"""ModelRegistry's reading, searching and alias rules, value by value (issue 18: each test kills
mutants of registry/model_registry.py that the broader tests in test_registry.py let live)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from modelops_core.config import Config
from modelops_core.flavors.resolve import METADATA_KEY
from modelops_core.registry.model_registry import ModelRegistry, validate_alias
from modelops_core.registry.versions import parse_version
from modelops_core.store.contract import (
    AliasNotFoundError,
    ArtifactNotFoundError,
    InvalidModelNameError,
    ModelVersion,
    StorageError,
    VersionNotFoundError,
)
from modelops_core.testing import make_runtime

store_plugin = pytest.importorskip(
    "modelops_store_sql.plugin", reason="modelops-store-sql is not installed (core-only run)"
)
artifacts_plugin = pytest.importorskip(
    "modelops_artifacts_local.plugin",
    reason="modelops-artifacts-local is not installed (core-only run)",
)
PLUGINS = [("modelops-store-sql", store_plugin), ("modelops-artifacts-local", artifacts_plugin)]


@pytest.fixture
def registry(tmp_path: Path) -> Any:
    home = tmp_path / ".modelops"
    with ModelRegistry(make_runtime(home, PLUGINS, config=Config(home=home)), actor="t") as opened:
        yield opened


def test_a_version_written_differently_finds_the_equal_stored_one(registry: ModelRegistry):
    for version in ("0.9", "1.0", "1.0.1", "1.1", "2"):
        registry.register("m", version, {"v": version})
    assert registry.get_version("m", "1").version == "1.0"
    assert registry.load("m", "1") == {"v": "1.0"}
    assert registry.get_version("m", "2.0.0").version == "2"
    assert registry.get_version("m", "1.0.1").version == "1.0.1"


def test_an_unknown_version_raises_even_when_equal_looking_ones_exist(registry: ModelRegistry):
    registry.register("m", "1.0", {})
    registry.register("m", "1.0.1", {})
    with pytest.raises(VersionNotFoundError, match="1.1"):
        registry.get_version("m", "1.1")
    with pytest.raises(VersionNotFoundError):
        registry.get_version("m", "3")


def test_the_latest_version_skips_archived_ones_and_says_when_none_is_active(
    registry: ModelRegistry,
):
    for version in ("1.9", "1.10", "1.2"):
        registry.register("m", version, {})
    assert registry.get_version("m").version == "1.10"
    registry.archive("m", "1.10")
    assert registry.get_version("m").version == "1.9"
    registry.archive("m", "1.9")
    registry.archive("m", "1.2")
    with pytest.raises(VersionNotFoundError, match=r"'m' has no active version \(all 3 are"):
        registry.latest("m")
    registry.restore("m", "1.2")
    assert registry.latest("m").version == "1.2"


def test_search_orders_by_name_then_version_number(registry: ModelRegistry):
    for name, version in (("b", "1.10"), ("a", "2"), ("b", "1.9"), ("b", "1.2.1"), ("a", "10")):
        registry.register(name, version, {})
    found = [(v.name, v.version) for v in registry.search()]
    assert found == [("a", "2"), ("a", "10"), ("b", "1.2.1"), ("b", "1.9"), ("b", "1.10")]
    registry.archive("b", "1.9")
    assert [v.version for v in registry.search("b")] == ["1.2.1", "1.10"]
    assert [v.version for v in registry.search("b", include_archived=True)] == [
        "1.2.1", "1.9", "1.10",
    ]  # fmt: skip


def test_dotted_metadata_filters_skip_versions_without_the_key(registry: ModelRegistry):
    registry.register("m", "1", {}, metadata={"eval": {"auc": 0.9}})
    registry.register("m", "2", {}, metadata={"eval": 0.9})  # not a mapping
    registry.register("m", "3", {}, metadata={"other": 1})  # no "eval" at all
    registry.register("m", "4", {}, metadata={"eval": {"auc": 0.8}}, tags={"team": "risk"})
    assert [v.version for v in registry.search(metadata={"eval.auc": 0.9})] == ["1"]
    assert [v.version for v in registry.search(metadata={"eval.auc": 0.8})] == ["4"]
    assert [v.version for v in registry.search(metadata={"eval.auc.x": 0.9})] == []
    both = registry.search(metadata={"eval.auc": 0.8}, tags={"team": "risk"})
    assert [v.version for v in both] == ["4"]
    assert [
        v.version for v in registry.search(metadata={"eval.auc": 0.8}, tags={"team": "x"})
    ] == []
    assert [v.version for v in registry.search(metadata={})] == ["1", "2", "3", "4"]


@pytest.mark.parametrize(
    "alias", ["", "1production", "-x", "prod/1", "a" * 65, "prod uction", "prod\n", 7]
)
def test_an_invalid_alias_is_refused_before_anything_moves(registry: ModelRegistry, alias: Any):
    registry.register("m", "1", {})
    with pytest.raises(InvalidModelNameError, match="Invalid alias"):
        registry.set_alias("m", alias, "1")
    assert registry.aliases("m") == {}


@pytest.mark.parametrize("alias", ["production", "p", "a" * 64, "stage.2_b-c"])
def test_valid_aliases(alias: str):
    assert validate_alias(alias) == alias


def test_list_versions_after_deleting_every_version(registry: ModelRegistry):
    registry.register("m", "1", {})
    registry.register("m", "1.1", {})
    registry.set_alias("m", "production", "1.1")
    assert registry.delete("m", "1.1").version == "1.1"
    assert registry.aliases("m") == {}
    registry.delete("m", "1")
    assert registry.list_versions("m") == []
    with pytest.raises(VersionNotFoundError):
        registry.get_version("m", "1")


def test_rollback_after_delete_alias_then_set_alias(registry: ModelRegistry):
    for version in ("1", "2", "3"):
        registry.register("m", version, {"v": version})
    registry.set_alias("m", "production", "1")
    registry.set_alias("m", "production", "2")
    registry.delete_alias("m", "production")
    with pytest.raises(AliasNotFoundError):
        registry.get_by_alias("m", "production")
    assert registry.set_alias("m", "production", "3") is None  # it pointed nowhere
    # deleting the alias ended its history: 1 and 2 are not rolled back to
    with pytest.raises(AliasNotFoundError, match="it has held no version before '3'"):
        registry.rollback("m", "production")
    assert registry.get_version("m", alias="production").version == "3"
    registry.set_alias("m", "production", "1")
    assert registry.rollback("m", "production") == "3"
    events = [(e.version, e.previous) for e in registry.alias_history("m", "production")]
    assert events == [("1", None), ("2", "1"), (None, "2"), ("3", None), ("1", "3"), ("3", "1")]


def test_set_alias_returns_the_previous_version_and_uses_the_stored_spelling(
    registry: ModelRegistry,
):
    registry.register("m", "1.0", {})
    registry.register("m", "2.0", {})
    assert registry.set_alias("m", "staging", "1") is None
    assert registry.set_alias("m", "staging", "2") == "1.0"
    assert registry.aliases("m") == {"staging": "2.0"}


def test_metadata_must_be_a_json_mapping(registry: ModelRegistry):
    with pytest.raises(TypeError, match="metadata must be a mapping, got list"):
        registry.register("m", "1", {}, metadata=[1, 2])
    with pytest.raises(StorageError, match="tags must hold JSON values"):
        registry.register("m", "1", {}, tags={"when": object()})
    assert registry.list_models() == []


def test_a_missing_path_is_named_by_the_registry_with_what_to_do(
    registry: ModelRegistry, tmp_path: Path
):
    missing = tmp_path / "nowhere.bin"
    with pytest.raises(ArtifactNotFoundError) as refused:
        registry.register("m", "1", str(missing))
    assert str(refused.value) == (
        f"Cannot register {str(missing)!r}: no such file or folder. Check the path; to store "
        "a string itself, put it in a dict or pass it as bytes."
    )
    assert registry.list_models() == []


def test_a_file_path_written_with_a_trailing_slash_is_the_file(
    registry: ModelRegistry, tmp_path: Path
):
    weights = tmp_path / "model.bin"
    weights.write_bytes(b"w" * 64)
    registry.register("m", "1", model_path=f"{weights}/")
    assert Path(registry.get_model("m", "1")).read_bytes() == b"w" * 64


def test_the_flavor_record_is_kept_for_builtin_flavors_only_with_a_sample(
    registry: ModelRegistry,
):
    plain = registry.register("m", "1", {"w": [1, 2]})
    assert METADATA_KEY not in plain.metadata and plain.serializer == "json"
    described = registry.register("m", "2", {"w": [1, 2]}, sample=[[1.0, 2.0]])
    assert described.metadata[METADATA_KEY]["name"] == "json"
    assert described.metadata[METADATA_KEY]["input"] is not None


class FolderFlavor:
    """A flavor writing a model into a folder, with details its loader needs back."""

    name = "folder-test"

    def accepts(self, model: Any) -> bool:
        return isinstance(model, list)

    def save(self, model: list[str], path: Path) -> dict[str, Any]:
        (path / "rows.txt").write_text("\n".join(model))
        return {"rows": len(model)}

    def load(self, path: Path, details: dict[str, Any]) -> Any:
        return {"rows": (path / "rows.txt").read_text().split("\n"), "details": details}


def test_a_folder_flavor_gets_the_details_it_saved(registry: ModelRegistry):
    registry.add_flavor(FolderFlavor())
    stored = registry.register("m", "1", ["a", "b", "c"], flavor="folder-test")
    assert stored.metadata[METADATA_KEY]["details"] == {"rows": 3}
    assert registry.load("m", "1") == {"rows": ["a", "b", "c"], "details": {"rows": 3}}


def test_a_version_without_an_artifact_is_refused_naming_it(registry: ModelRegistry):
    # a row another tool wrote with the backend API, without an artifact
    registry.backend.add_version(ModelVersion("m", "1", None), parse_version("1").key, actor="x")
    with pytest.raises(StorageError, match=r"^m 1 has no artifact\.$"):
        registry.get_model("m", "1")
    with pytest.raises(StorageError, match=r"^m 1 has no artifact\.$"):
        registry.load("m", "1")


def test_the_reference_profile_comes_back_from_the_registry(registry: ModelRegistry):
    from modelops_core import Profile

    profile = Profile.build({"score": [0.1, 0.4, 0.35, 0.8]})
    registry.register_with_profile("m", "1", {"w": 1}, profile=profile)
    assert registry.reference_profile("m", "1").to_dict() == profile.to_dict()
    assert registry.reference_profile("m").to_dict() == profile.to_dict()
