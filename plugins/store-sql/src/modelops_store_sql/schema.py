"""The database schema and its forward migrations (one list of steps per version).

A step is an SQL statement (``{pk}`` is the dialect's auto-increment primary key column type,
``?`` a parameter) or a function called with ``execute(statement, params)`` inside the same
transaction (for data migrations). Append a migration to add a version; never edit a released
one: databases in the field were built by it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from modelops_core.registry.versions import parse_version

Execute = Callable[..., Any]
Step = str | Callable[[Execute], None]


def tag_value(value: Any) -> str:
    """How a tag value is kept in ``run_tags.value``: canonical JSON, so ``1`` != ``"1"``."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _index_existing_run_tags(execute: Execute) -> None:
    """Fill ``run_tags`` from the JSON ``runs.tags`` of runs written before version 2."""
    for run_id, tags in execute("SELECT run_id, tags FROM runs").fetchall():
        for key, value in json.loads(tags).items():
            execute(
                "INSERT INTO run_tags (run_id, key, value) VALUES (?, ?, ?)",
                (run_id, key, tag_value(value)),
            )


def sortable_version_key(version: str) -> str:
    """What ``versions.version_key`` holds from schema version 3: the version's
    :attr:`~modelops_core.registry.versions.Version.sort_key` (unique per model like the canonical
        key,
    and ordered, so the highest release is one indexed read). Parsed versions are cached, and
    their keys computed once."""
    return parse_version(version).sort_key


def _rewrite_version_keys(execute: Execute) -> None:
    """Replace the canonical keys (``1.10``) of versions written before version 3 by sortable
    ones (``000000001000000010``). No new key can equal another row's old key: a new key
    without ``.`` equal to an old one is the same single-number version, hence the same row."""
    for row_id, version in execute("SELECT id, version FROM versions").fetchall():
        execute(
            "UPDATE versions SET version_key = ? WHERE id = ?",
            (sortable_version_key(version), row_id),
        )


MIGRATIONS: dict[int, tuple[Step, ...]] = {
    1: (
        """CREATE TABLE models (
            id {pk},
            name TEXT NOT NULL UNIQUE,
            created_at DOUBLE PRECISION NOT NULL,
            created_by TEXT NOT NULL
        )""",
        """CREATE TABLE versions (
            id {pk},
            model_id BIGINT NOT NULL REFERENCES models(id),
            version TEXT NOT NULL,
            version_key TEXT NOT NULL,
            artifact_digest TEXT,
            artifact_kind TEXT,
            artifact_size BIGINT,
            artifact_name TEXT,
            serializer TEXT NOT NULL,
            metadata TEXT NOT NULL,
            tags TEXT NOT NULL,
            lineage TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            created_by TEXT NOT NULL,
            UNIQUE (model_id, version_key)
        )""",
        """CREATE TABLE aliases (
            model_id BIGINT NOT NULL REFERENCES models(id),
            alias TEXT NOT NULL,
            version TEXT NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (model_id, alias)
        )""",
        """CREATE TABLE alias_history (
            id {pk},
            model_id BIGINT NOT NULL REFERENCES models(id),
            alias TEXT NOT NULL,
            version TEXT,
            previous TEXT,
            action TEXT NOT NULL,
            at DOUBLE PRECISION NOT NULL,
            actor TEXT NOT NULL
        )""",
        "CREATE INDEX alias_history_by_alias ON alias_history (model_id, alias, id)",
        """CREATE TABLE audit_log (
            id {pk},
            at DOUBLE PRECISION NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            model TEXT NOT NULL,
            version TEXT,
            details TEXT NOT NULL
        )""",
        "CREATE INDEX audit_log_by_model ON audit_log (model, id)",
        """CREATE TABLE runs (
            run_id TEXT PRIMARY KEY,
            experiment TEXT NOT NULL,
            status TEXT NOT NULL,
            started_at DOUBLE PRECISION NOT NULL,
            ended_at DOUBLE PRECISION,
            tags TEXT NOT NULL,
            environment TEXT NOT NULL
        )""",
        "CREATE INDEX runs_by_experiment ON runs (experiment, started_at)",
        """CREATE TABLE params (
            run_id TEXT NOT NULL REFERENCES runs(run_id),
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (run_id, key)
        )""",
        """CREATE TABLE metrics (
            id {pk},
            run_id TEXT NOT NULL REFERENCES runs(run_id),
            key TEXT NOT NULL,
            value DOUBLE PRECISION NOT NULL,
            step BIGINT NOT NULL,
            ts DOUBLE PRECISION NOT NULL
        )""",
        "CREATE INDEX metrics_by_run ON metrics (run_id, key, step)",
        """CREATE TABLE run_models (
            run_id TEXT NOT NULL REFERENCES runs(run_id),
            model TEXT NOT NULL,
            version TEXT NOT NULL,
            PRIMARY KEY (run_id, model, version)
        )""",
        """CREATE TABLE run_artifacts (
            run_id TEXT NOT NULL REFERENCES runs(run_id),
            label TEXT NOT NULL,
            digest TEXT NOT NULL,
            kind TEXT NOT NULL,
            size BIGINT NOT NULL,
            name TEXT NOT NULL,
            PRIMARY KEY (run_id, label)
        )""",
    ),
    # 2: runs found by tag with one indexed query; versions found by their text directly.
    2: (
        """CREATE TABLE run_tags (
            run_id TEXT NOT NULL REFERENCES runs(run_id),
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (run_id, key)
        )""",
        "CREATE INDEX run_tags_by_value ON run_tags (key, value)",
        "CREATE INDEX runs_by_start ON runs (started_at)",
        "CREATE INDEX versions_by_text ON versions (model_id, version)",
        _index_existing_run_tags,
    ),
    # 3: version_key sortable, so the next auto-incremented version is one indexed read
    # instead of a scan of every version; a version is found by its key through the unique
    # index, so versions_by_text goes (one index less to write per registration).
    3: (
        _rewrite_version_keys,
        "DROP INDEX versions_by_text",
    ),
    # 4: a version row is the audit entry of its registration (when, who, what: created_at,
    # created_by, the artifact), so registering writes one row and its index entry, not two
    # more in audit_log; deleting a version copies that entry into audit_log first. Audit
    # entries are listed by time, so audit_log is indexed by time.
    4: (
        """DELETE FROM audit_log WHERE action = 'register' AND EXISTS (
            SELECT 1 FROM versions v JOIN models m ON m.id = v.model_id
            WHERE m.name = audit_log.model AND v.version = audit_log.version
            AND v.created_at = audit_log.at AND v.created_by = audit_log.actor)""",
        "DROP INDEX audit_log_by_model",
        "CREATE INDEX audit_log_by_model ON audit_log (model, at)",
        "CREATE INDEX audit_log_by_time ON audit_log (at)",
    ),
}

LATEST = max(MIGRATIONS)
