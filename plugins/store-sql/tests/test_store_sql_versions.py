"""Versions are keyed by a sortable text: the highest release is one indexed read, equal
versions stay unique, and databases of schema version 2 are migrated to it."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest
from modelops_store_sql.schema import MIGRATIONS
from modelops_store_sql.store import SqlStore

from modelops_core.registry.versions import parse_version
from modelops_core.store.contract import DuplicateVersionError, ModelVersion, ReleaseIndex


def add(store: SqlStore, name: str, version: str) -> None:
    store.add_version(ModelVersion(name, version, None), parse_version(version).key, actor="t")


def test_the_store_offers_the_release_index(store: SqlStore) -> None:
    assert isinstance(store, ReleaseIndex)


def test_the_highest_release_is_in_version_order_without_pre_releases(store: SqlStore) -> None:
    assert store.highest_release("m") is None
    add(store, "m", "2.0.0-rc.1")
    assert store.highest_release("m") is None  # pre-releases only
    for version in ("1.9", "1.10", "1.2.3", "0.99"):
        add(store, "m", version)
    assert store.highest_release("m") == "1.10"
    add(store, "m", "2.0.0")
    add(store, "m", "10.0-beta")
    assert store.highest_release("m") == "2.0.0"  # as written, trailing zeros kept
    add(store, "other", "7")
    assert store.highest_release("m") == "2.0.0"


def test_the_highest_release_agrees_with_version_order(store: SqlStore) -> None:
    generator = random.Random(5)
    keys: set[str] = set()
    releases: list[str] = []
    for _ in range(60):
        parts = [generator.choice([0, 1, 2, 9, 10, 11, 99, 100]) for _ in range(3)]
        text = ".".join(map(str, parts[: generator.randint(1, 3)]))
        if generator.random() < 0.2:
            text += "-rc.1"
        if parse_version(text).key in keys:
            continue
        keys.add(parse_version(text).key)
        add(store, "m", text)
        if "-" not in text:
            releases.append(text)
        expected = max(releases, key=parse_version) if releases else None
        assert store.highest_release("m") == expected


def test_equal_versions_stay_unique_and_are_found_by_their_text(store: SqlStore) -> None:
    add(store, "m", "1.0")
    with pytest.raises(DuplicateVersionError, match=r"as '1\.0', an equal version"):
        add(store, "m", "1.0.0")
    assert store.get_version("m", "1.0").version == "1.0"
    assert store.find_version_key("m", "1") == "1.0"
    store.set_status("m", "1.0", "archived", actor="t")
    assert store.get_version("m", "1.0").status == "archived"
    store.delete_version("m", "1.0", actor="t")
    assert store.list_version_names("m") == []


def test_the_highest_release_reads_the_index_without_sorting(tmp_path: Path) -> None:
    store = SqlStore(home=str(tmp_path))
    assert store._connection is not None
    plan = " ".join(
        str(row)
        for row in store._connection.execute(
            "EXPLAIN QUERY PLAN SELECT version FROM versions WHERE model_id = "
            "(SELECT id FROM models WHERE name = ?) AND version_key NOT LIKE ? "
            "ORDER BY version_key DESC LIMIT 1",
            ("m", "%-%"),
        ).fetchall()
    )
    store.close()
    assert "sqlite_autoindex_versions_1" in plan and "TEMP B-TREE" not in plan, plan


def build_version_2_database(path: Path, versions: list[str]) -> None:
    """A database as modelops-store-sql left it at schema version 2 (canonical version keys)."""
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE modelops_schema (version INTEGER NOT NULL)")
        for schema_version in (1, 2):
            for step in MIGRATIONS[schema_version]:
                if isinstance(step, str):
                    connection.execute(step.replace("{pk}", "INTEGER PRIMARY KEY"))
            connection.execute("INSERT INTO modelops_schema VALUES (?)", (schema_version,))
        connection.execute("INSERT INTO models (name, created_at, created_by) VALUES ('m', 0, 't')")
        for version in versions:
            connection.execute(
                "INSERT INTO versions (model_id, version, version_key, serializer, metadata, "
                "tags, lineage, status, created_at, created_by) "
                "VALUES (1, ?, ?, '', '{}', '{}', '{}', 'active', 0, 't')",
                (version, parse_version(version).key),
            )


def test_a_version_2_database_gets_sortable_keys(tmp_path: Path) -> None:
    database = tmp_path / "modelops.db"
    build_version_2_database(database, ["1.9", "1.10", "1.0", "2.0.0-rc.1", "123456789"])
    store = SqlStore(path=str(database))
    try:
        assert store.highest_release("m") == "123456789"
        assert store.get_version("m", "1.10").version == "1.10"
        with pytest.raises(DuplicateVersionError):
            add(store, "m", "1")  # equal to the old row "1.0"
        add(store, "m", "1.11")
        assert sorted(store.list_version_names("m"), key=parse_version) == [
            "1.0", "1.9", "1.10", "1.11", "2.0.0-rc.1", "123456789",
        ]  # fmt: skip
    finally:
        store.close()
    with sqlite3.connect(database) as connection:
        indexes = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        keys = dict(connection.execute("SELECT version, version_key FROM versions"))
    assert "versions_by_text" not in indexes
    assert keys["1.10"] == "000000001000000010" and keys["2.0.0-rc.1"] == "000000002-rc.1"


def test_search_reads_only_the_models_whose_name_starts_with_the_prefix(
    store: SqlStore,
) -> None:
    for name in ("churn", "Churn-eu", "churn_v2", "churnXv2", "fraud"):
        add(store, name, "1")
    # sorted here: the order of names follows the database's collation
    assert sorted(v.name for v in store.search("churn")) == ["churn", "churnXv2", "churn_v2"]
    assert [v.name for v in store.search("churn_")] == ["churn_v2"]  # "_" is no wildcard
    assert [v.name for v in store.search("Ch")] == ["Churn-eu"]  # case counts
    assert len(store.search("")) == 5 and store.search("nope") == []
