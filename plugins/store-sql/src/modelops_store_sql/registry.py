"""The registry backend on SQL: model versions, aliases with their history, the audit log.

:class:`SqlRegistry` implements :class:`~modelops_core.store.contract.RegistryBackend` and
:class:`~modelops_core.store.contract.ReleaseIndex` over an
:class:`~modelops_store_sql.database.SqlDatabase` (SQLite or PostgreSQL). Every change writes
its audit entry in its own transaction; a version row is itself the audit entry of its
registration.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from modelops_core.store.contract import (
    AliasEvent,
    AliasNotFoundError,
    ArtifactRef,
    AuditEntry,
    DuplicateVersionError,
    ModelNotFoundError,
    ModelVersion,
    StorageError,
    VersionNotFoundError,
)
from modelops_store_sql.connect import POSTGRES
from modelops_store_sql.database import SqlDatabase, json_text, marks
from modelops_store_sql.errors import DuplicateRow
from modelops_store_sql.schema import sortable_version_key

_VERSION_COLUMNS = (
    "m.name, v.version, v.artifact_digest, v.artifact_kind, v.artifact_size, v.artifact_name, "
    "v.serializer, v.metadata, v.tags, v.lineage, v.status, v.created_at, v.created_by"
)
_INSERT_VERSION_COLUMNS = (
    "model_id, version, version_key, artifact_digest, artifact_kind, artifact_size, "
    "artifact_name, serializer, metadata, tags, lineage, status, created_at, created_by"
)
_AUDIT_COLUMNS = "at, actor, action, model, version, details"
_INSERT_VERSION_OF_NAMED_MODEL = (
    f"INSERT INTO versions ({_INSERT_VERSION_COLUMNS}) "
    f"SELECT id, {', '.join('?' * 13)} FROM models WHERE name = ?"
)
_NEARBY = 3  # versions named on each side of a missing one


class SqlRegistry(SqlDatabase):
    """Registry backend on SQLite or PostgreSQL (the options of :class:`SqlDatabase`).

    A registration whose lineage names a ``run_id`` links the run (``run_models``) in the same
    transaction, so the run must be in the same database: the tracking backend's.
    """

    section = "registry"

    def add_version(self, record: ModelVersion, version_key: str, *, actor: str) -> ModelVersion:
        """Store a new version; :class:`DuplicateVersionError` if an equal one exists.

        ``version_key`` (the canonical key) is not stored as given: the column holds the
        sortable key of ``record.version``, equal for equal versions all the same.
        """
        now = time.time()
        artifact = record.artifact
        digest = artifact.digest if artifact else None
        sort_key = sortable_version_key(record.version)
        run_id = record.lineage.get("run_id")
        row = (
            record.version,
            sort_key,
            digest,
            artifact.kind if artifact else None,
            artifact.size if artifact else None,
            artifact.name if artifact else None,
            record.serializer,
            json_text(record.metadata),
            json_text(record.tags),
            json_text(record.lineage),
            record.status,
            now,
            actor,
        )
        what = f"register {record.name} {record.version}"

        def add_to_known_model(execute: Callable[..., Any]) -> int:
            # SQLite, the usual case: one autocommitted statement, in which the version row
            # takes its model's id (the row is also the registration's audit entry)
            return int(execute(_INSERT_VERSION_OF_NAMED_MODEL, (*row, record.name)).rowcount)

        def add(execute: Callable[..., Any]) -> None:
            # SQLite, a new model or a run to link: one transaction. The model row is written
            # only for a new model. (An upsert returning the id rewrites the existing row: one
            # more page written to the WAL on every commit.)
            if not execute(_INSERT_VERSION_OF_NAMED_MODEL, (*row, record.name)).rowcount:
                model_id = execute(
                    "INSERT INTO models (name, created_at, created_by) VALUES (?, ?, ?) "
                    "RETURNING id",
                    (record.name, now, actor),
                ).fetchone()[0]
                execute(f"INSERT INTO versions ({_INSERT_VERSION_COLUMNS}) VALUES ({marks(14)})",
                        (model_id, *row))  # fmt: skip
            if run_id:
                execute(
                    "INSERT INTO run_models (run_id, model, version) VALUES (?, ?, ?) "
                    "ON CONFLICT DO NOTHING",
                    (run_id, record.name, record.version),
                )

        def add_in_one_statement(execute: Callable[..., Any]) -> None:
            # PostgreSQL: the model (if new), the version and the run link through
            # data-modifying CTEs, one round trip in all
            model = (
                "WITH m AS (INSERT INTO models (name, created_at, created_by) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id)"
            )
            version = (
                f"INSERT INTO versions ({_INSERT_VERSION_COLUMNS}) SELECT id, {marks(13)} FROM m"
            )
            params = [record.name, now, actor, *row]
            if not run_id:
                execute(f"{model} {version}", params)
                return
            execute(
                f"{model}, v AS ({version} RETURNING id) INSERT INTO run_models "
                "(run_id, model, version) SELECT ?, ?, ? FROM v ON CONFLICT DO NOTHING",
                [*params, run_id, record.name, record.version],
            )

        try:
            if self._dialect is POSTGRES:
                self._write(add_in_one_statement, what, single_statement=True)
            elif run_id or not self._write(add_to_known_model, what, single_statement=True):
                self._write(add, what)
        except DuplicateRow:
            existing = self._query(
                "SELECT v.version FROM versions v JOIN models m ON m.id = v.model_id "
                "WHERE m.name = ? AND v.version_key = ?",
                (record.name, sort_key),
            )
            if not existing:  # e.g. a run_id that does not exist
                raise StorageError(
                    f"Cannot register {record.name} {record.version}: the lineage run_id "
                    f"{record.lineage.get('run_id')!r} is not a run in {self.location!r}."
                ) from None
            same = existing[0][0]
            equal = "" if same == record.version else f" (as {same!r}, an equal version)"
            raise DuplicateVersionError(
                f"Model {record.name!r} already has version {record.version!r}{equal}. "
                "Versions are immutable: register a new version, or leave the version out to "
                "auto-increment."
            ) from None
        return ModelVersion(
            record.name, record.version, artifact, record.serializer, record.metadata,
            record.tags, record.lineage, record.status, now, actor,
        )  # fmt: skip

    def get_version(self, name: str, version: str) -> ModelVersion:
        """The version; :class:`ModelNotFoundError` or :class:`VersionNotFoundError`."""
        sort_key = _sort_key_or_none(version)
        rows = (
            self._query(
                f"SELECT {_VERSION_COLUMNS} FROM versions v JOIN models m ON m.id = v.model_id "
                "WHERE m.name = ? AND v.version_key = ? AND v.version = ?",
                (name, sort_key, version),
            )
            if sort_key is not None
            else []
        )
        if rows:
            return _version_from_row(rows[0])
        raise self._not_found(self._query, name, version)

    def _not_found(
        self,
        query: Callable[[str, Sequence[Any]], Sequence[Sequence[Any]]],
        name: str,
        version: str,
    ) -> StorageError:
        """:class:`ModelNotFoundError`, or :class:`VersionNotFoundError` naming how many
        versions the model has and the few nearest ``version`` (a model may have thousands).

        :param query: runs a statement and returns its rows (inside a transaction or not).
        """
        found = query("SELECT id FROM models WHERE name = ?", (name,))
        if not found:
            return ModelNotFoundError(_unknown_model(name))
        model_id = found[0][0]
        count = int(query("SELECT COUNT(*) FROM versions WHERE model_id = ?", (model_id,))[0][0])
        if count == 0:
            return VersionNotFoundError(
                f"Model {name!r} has no version {version!r}: it has no versions (all were "
                "deleted). Register one with ModelRegistry().register(name, version, model)."
            )
        sort_key = _sort_key_or_none(version)
        nearest = f"SELECT version FROM versions WHERE model_id = ? {{}} LIMIT {_NEARBY}"
        if sort_key is None:  # no version at all: the highest ones
            texts = query(nearest.format("ORDER BY version_key DESC"), (model_id,))
        else:  # the neighbours in the (model, sortable key) index
            texts = [
                *query(nearest.format("AND version_key < ? ORDER BY version_key DESC"),
                       (model_id, sort_key)),
                *query(nearest.format("AND version_key > ? ORDER BY version_key"),
                       (model_id, sort_key)),
            ]  # fmt: skip
        shown = ", ".join(sorted((str(row[0]) for row in texts), key=_version_order))
        if count <= len(texts):
            return VersionNotFoundError(
                f"Model {name!r} has no version {version!r}. Known versions: {shown}."
            )
        return VersionNotFoundError(
            f"Model {name!r} has no version {version!r}. It has {count} versions; the nearest: "
            f"{shown}. `modelops registry versions {name}` lists them all."
        )

    def find_version_key(self, name: str, version_key: str) -> str | None:
        """The stored version text whose key is ``version_key`` (``1.0`` for ``1``), if any."""
        sort_key = _sort_key_or_none(version_key)
        if sort_key is None:
            return None
        rows = self._query(
            "SELECT v.version FROM versions v JOIN models m ON m.id = v.model_id "
            "WHERE m.name = ? AND v.version_key = ?",
            (name, sort_key),
        )
        return str(rows[0][0]) if rows else None

    def highest_release(self, name: str) -> str | None:
        """The highest version of ``name`` without a pre-release (None if there is none):
        one read of the (model, sortable key) index, however many versions there are."""
        rows = self._query(
            "SELECT version FROM versions WHERE model_id = (SELECT id FROM models WHERE name = ?) "
            "AND version_key NOT LIKE ? ORDER BY version_key DESC LIMIT 1",
            (name, "%-%"),  # a parameter: psycopg would read '%-' as a placeholder
        )
        return str(rows[0][0]) if rows else None

    def list_versions(self, name: str) -> list[ModelVersion]:
        """Every version of ``name``; :class:`ModelNotFoundError` if none."""
        rows = self._query(
            f"SELECT {_VERSION_COLUMNS} FROM versions v JOIN models m ON m.id = v.model_id "
            "WHERE m.name = ? ORDER BY v.id",
            (name,),
        )
        if not rows and not self._query("SELECT 1 FROM models WHERE name = ?", (name,)):
            raise ModelNotFoundError(_unknown_model(name))
        return [_version_from_row(row) for row in rows]

    def list_version_names(self, name: str) -> list[str]:
        """The version texts of ``name`` (``[]`` if none)."""
        rows = self._query(
            "SELECT v.version FROM versions v JOIN models m ON m.id = v.model_id WHERE m.name = ?",
            (name,),
        )
        return [str(row[0]) for row in rows]

    def list_models(self) -> list[str]:
        """The names of every model, sorted."""
        return sorted(str(row[0]) for row in self._query("SELECT name FROM models"))

    def set_alias(self, name: str, alias: str, version: str, *, actor: str) -> str | None:
        """Point ``alias`` at ``version``; return the version it held before (or None).

        The version is checked inside the transaction that moves the alias, holding the
        model's row (and on PostgreSQL a share lock on the version's row): a delete of the
        version commits either before (:class:`VersionNotFoundError`, nothing written) or
        after (and removes the alias with it), never in between.
        """

        def move(execute: Callable[..., Any]) -> str | None:
            model_id = self._model_id(execute, name)
            self._version_row(execute, model_id, name, version, self._dialect.for_share)
            rows = execute(
                "SELECT version FROM aliases WHERE model_id = ? AND alias = ?", (model_id, alias)
            ).fetchall()
            previous = rows[0][0] if rows else None
            now = time.time()
            execute(
                "INSERT INTO aliases (model_id, alias, version, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (model_id, alias) DO UPDATE SET version = excluded.version, "
                "updated_at = excluded.updated_at",
                (model_id, alias, version, now),
            )
            self._history(execute, model_id, alias, version, previous, "set", actor)
            self._audit(execute, actor, "alias.set", name, version,
                        {"alias": alias, "previous": previous})  # fmt: skip
            return str(previous) if previous is not None else None

        return self._write(move, f"set alias {alias!r} of {name}")

    def _history(
        self,
        execute: Callable[..., Any],
        model_id: int,
        alias: str,
        version: str | None,
        previous: str | None,
        action: str,
        actor: str,
    ) -> None:
        execute(
            "INSERT INTO alias_history (model_id, alias, version, previous, action, at, actor) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (model_id, alias, version, previous, action, time.time(), actor),
        )

    def get_alias(self, name: str, alias: str) -> str:
        """The version ``alias`` points to; :class:`AliasNotFoundError` if unset."""
        rows = self._query(
            "SELECT a.version FROM aliases a JOIN models m ON m.id = a.model_id "
            "WHERE m.name = ? AND a.alias = ?",
            (name, alias),
        )
        if rows:
            return str(rows[0][0])
        known = self.aliases(name)
        if not known and not self._query("SELECT 1 FROM models WHERE name = ?", (name,)):
            raise ModelNotFoundError(_unknown_model(name))
        raise _unknown_alias(name, alias, list(known))

    def aliases(self, name: str) -> dict[str, str]:
        """Every alias of ``name`` and its version."""
        rows = self._query(
            "SELECT a.alias, a.version FROM aliases a JOIN models m ON m.id = a.model_id "
            "WHERE m.name = ?",
            (name,),
        )
        return {str(alias): str(version) for alias, version in rows}

    def delete_alias(self, name: str, alias: str, *, actor: str) -> None:
        """Remove ``alias``; :class:`AliasNotFoundError` if unset."""

        def remove(execute: Callable[..., Any]) -> None:
            model_id = self._model_id(execute, name)
            rows = execute(
                "SELECT version FROM aliases WHERE model_id = ? AND alias = ?", (model_id, alias)
            ).fetchall()
            if not rows:
                known = execute(
                    "SELECT alias FROM aliases WHERE model_id = ?", (model_id,)
                ).fetchall()
                raise _unknown_alias(name, alias, [str(row[0]) for row in known])
            version = str(rows[0][0])
            execute("DELETE FROM aliases WHERE model_id = ? AND alias = ?", (model_id, alias))
            self._history(execute, model_id, alias, None, version, "delete", actor)
            self._audit(execute, actor, "alias.delete", name, version, {"alias": alias})

        self._write(remove, f"delete alias {alias!r} of {name}")

    def rollback_alias(self, name: str, alias: str, *, actor: str) -> str:
        """Move ``alias`` back to the version that held it before its latest move."""

        def roll_back(execute: Callable[..., Any]) -> str:
            model_id = self._model_id(execute, name)
            history = execute(
                "SELECT version, action FROM alias_history WHERE model_id = ? AND alias = ? "
                "ORDER BY id",
                (model_id, alias),
            ).fetchall()
            existing = {
                row[0]
                for row in execute(
                    "SELECT version FROM versions WHERE model_id = ?", (model_id,)
                ).fetchall()
            }
            stack = _alias_stack(history)
            if not stack:
                raise AliasNotFoundError(
                    f"Model {name!r} has no alias {alias!r} to roll back. Set it first with "
                    "set_alias(name, alias, version)."
                )
            current = stack.pop()
            while stack and stack[-1] not in existing:
                stack.pop()
            if not stack:
                raise AliasNotFoundError(
                    f"Cannot roll back alias {alias!r} of {name!r}: it has held no version "
                    f"before {current!r} (that still exists). Point it explicitly with set_alias."
                )
            target = str(stack[-1])
            execute(
                "UPDATE aliases SET version = ?, updated_at = ? WHERE model_id = ? AND alias = ?",
                (target, time.time(), model_id, alias),
            )
            self._history(execute, model_id, alias, target, current, "rollback", actor)
            self._audit(execute, actor, "alias.rollback", name, target,
                        {"alias": alias, "from": current})  # fmt: skip
            return target

        return self._write(roll_back, f"roll back alias {alias!r} of {name}")

    def alias_history(self, name: str, alias: str) -> list[AliasEvent]:
        """Every move of ``alias``, oldest first."""
        rows = self._query(
            "SELECT h.version, h.previous, h.at, h.actor, h.action FROM alias_history h "
            "JOIN models m ON m.id = h.model_id WHERE m.name = ? AND h.alias = ? ORDER BY h.id",
            (name, alias),
        )
        return [AliasEvent(name, alias, row[0], row[1], row[2], row[3], row[4]) for row in rows]

    def set_status(self, name: str, version: str, status: str, *, actor: str) -> None:
        """Set a version's status (``"active"`` or ``"archived"``)."""

        def update(execute: Callable[..., Any]) -> None:
            model_id = self._model_id(execute, name)
            sort_key = _sort_key_or_none(version)
            changed = (
                sort_key is not None
                and execute(
                    "UPDATE versions SET status = ? WHERE model_id = ? AND version_key = ? "
                    "AND version = ?",
                    (status, model_id, sort_key, version),
                ).rowcount
            )
            if not changed:  # e.g. deleted by another process since the caller looked
                raise self._not_found(_rows_of(execute), name, version)
            self._audit(execute, actor, f"status.{status}", name, version, {})

        self._write(update, f"set the status of {name} {version}")

    def delete_version(self, name: str, version: str, *, actor: str) -> ModelVersion:
        """Delete a version and the aliases pointing to it; return what was deleted.

        The row is read inside the transaction, after the model's row is locked: of two
        processes deleting the same version, one deletes it (its registration entry copied
        into the audit log once) and the other gets :class:`VersionNotFoundError`.
        """

        def remove(execute: Callable[..., Any]) -> ModelVersion:
            model_id = self._model_id(execute, name)
            record = _version_from_row(self._version_row(execute, model_id, name, version, ""))
            for (alias,) in execute(
                "SELECT alias FROM aliases WHERE model_id = ? AND version = ?", (model_id, version)
            ).fetchall():
                self._history(execute, model_id, alias, None, version, "delete", actor)
            execute("DELETE FROM aliases WHERE model_id = ? AND version = ?", (model_id, version))
            digest = record.artifact.digest if record.artifact else None
            # the version row was the audit entry of its registration: keep it in the log
            self._audit_at(execute, record.created_at, record.created_by, "register", name,
                           version, {"artifact": digest})  # fmt: skip
            execute(
                "DELETE FROM versions WHERE model_id = ? AND version_key = ? AND version = ?",
                (model_id, sortable_version_key(version), version),
            )
            self._audit(execute, actor, "delete", name, version, {"artifact": digest})
            return record

        return self._write(remove, f"delete {name} {version}")

    def _version_row(
        self, execute: Callable[..., Any], model_id: int, name: str, version: str, lock: str
    ) -> Sequence[Any]:
        """The row of ``version`` (the columns of :func:`_version_from_row`) read in the
        current transaction, locked with ``lock``; :class:`VersionNotFoundError` if none."""
        sort_key = _sort_key_or_none(version)
        rows = (
            execute(
                f"SELECT {_VERSION_COLUMNS} FROM versions v JOIN models m ON m.id = v.model_id "
                f"WHERE v.model_id = ? AND v.version_key = ? AND v.version = ?"
                f"{f'{lock} OF v' if lock else ''}",
                (model_id, sort_key, version),
            ).fetchall()
            if sort_key is not None
            else []
        )
        if not rows:
            raise self._not_found(_rows_of(execute), name, version)
        return rows[0]  # type: ignore[no-any-return]

    def search(self, name_prefix: str = "") -> list[ModelVersion]:
        """Versions whose model name starts with ``name_prefix``.

        Only the versions of the matching models are read (``LIKE`` on the models, then the
        versions through their model's index); SQLite's ``LIKE`` ignores case, so the prefix
        is checked again exactly.
        """
        pattern = re.sub(r"([\\%_])", r"\\\1", name_prefix) + "%"
        rows = self._query(
            f"SELECT {_VERSION_COLUMNS} FROM models m JOIN versions v ON v.model_id = m.id "
            "WHERE m.name LIKE ? ESCAPE '\\' ORDER BY m.name, v.id",
            (pattern,),
        )
        return [_version_from_row(row) for row in rows if str(row[0]).startswith(name_prefix)]

    def audit(self, name: str | None = None, limit: int = 100) -> list[AuditEntry]:
        """The newest ``limit`` audit entries (of model ``name``), newest first.

        The entries of audit_log, and the registrations of the versions still stored (a
        version row is the audit entry of its registration), merged by time; each table is
        read newest first through an index, ``limit`` rows at most.
        """
        params: list[Any] = [int(limit)] if name is None else [name, int(limit)]
        logged = self._query(
            f"SELECT {_AUDIT_COLUMNS}, id FROM audit_log "
            f"{'' if name is None else 'WHERE model = ?'} ORDER BY at DESC, id DESC LIMIT ?",
            params,
        )
        registered = self._query(
            "SELECT v.created_at, v.created_by, m.name, v.version, v.artifact_digest, v.id "
            "FROM versions v JOIN models m ON m.id = v.model_id "
            f"{'' if name is None else 'WHERE m.name = ?'} ORDER BY v.id DESC LIMIT ?",
            params,
        )
        # (time, 1 for audit_log, row id): a registration listed before what followed it at
        # the same instant
        entries = [
            ((at, 1, row_id), AuditEntry(at, actor, action, model, version, json.loads(details)))
            for at, actor, action, model, version, details, row_id in logged
        ]
        entries += [
            ((at, 0, row_id), AuditEntry(at, actor, "register", model, version,
                                         {"artifact": digest}))
            for at, actor, model, version, digest, row_id in registered
        ]  # fmt: skip
        entries.sort(key=lambda entry: entry[0], reverse=True)
        return [entry for _, entry in entries[:limit]]

    # --- rows every change writes --------------------------------------------------------------

    def _audit(
        self,
        execute: Callable[..., Any],
        actor: str,
        action: str,
        name: str,
        version: str | None,
        details: Mapping[str, Any],
    ) -> None:
        self._audit_at(execute, time.time(), actor, action, name, version, details)

    def _audit_at(
        self,
        execute: Callable[..., Any],
        at: float,
        actor: str,
        action: str,
        name: str,
        version: str | None,
        details: Mapping[str, Any],
    ) -> None:
        execute(
            f"INSERT INTO audit_log ({_AUDIT_COLUMNS}) VALUES ({marks(6)})",
            (at, actor, action, name, version, json_text(details)),
        )

    def _model_id(self, execute: Callable[..., Any], name: str) -> int:
        rows = execute(
            f"SELECT id FROM models WHERE name = ?{self._dialect.for_update}", (name,)
        ).fetchall()
        if not rows:
            raise ModelNotFoundError(_unknown_model(name))
        return int(rows[0][0])


# --- helpers -----------------------------------------------------------------------------------


def _alias_stack(history: Sequence[Sequence[Any]]) -> list[str]:
    """Replay an alias's history: a set pushes, a rollback pops, a delete clears."""
    stack: list[str] = []
    for version, action in history:
        if action == "set":
            stack.append(version)
        elif action == "rollback":
            while stack and stack[-1] != version:
                stack.pop()
        elif action == "delete":
            stack = [v for v in stack if v != version] if version is not None else []
    return stack


def _version_from_row(row: Sequence[Any]) -> ModelVersion:
    artifact = ArtifactRef(row[2], row[3], int(row[4]), row[5] or "") if row[2] else None
    return ModelVersion(
        row[0], row[1], artifact, row[6], _loads(row[7]), _loads(row[8]), _loads(row[9]),
        row[10], row[11], row[12],
    )  # fmt: skip


def _loads(text: str) -> Any:
    """``json.loads``, with the empty mapping most metadata, tags and lineage are for free."""
    return {} if text == "{}" else json.loads(text)


def _sort_key_or_none(version: str) -> str | None:
    """The sortable key of ``version``; None for a text that is no version (found nowhere)."""
    from modelops_core.registry.versions import InvalidVersionError

    try:
        return sortable_version_key(version)
    except InvalidVersionError:
        return None


def _rows_of(execute: Callable[..., Any]) -> Callable[[str, Sequence[Any]], list[Any]]:
    """A query function (statement, params -> rows) over a transaction's ``execute``."""
    return lambda statement, params: list(execute(statement, params).fetchall())


def _version_order(text: str) -> Any:
    from modelops_core.registry.versions import parse_version

    return parse_version(text)


def _unknown_model(name: str) -> str:
    return (
        f"No model named {name!r} is registered. `modelops registry list` shows the models; "
        "register one with ModelRegistry().register(name, version, model)."
    )


def _unknown_alias(name: str, alias: str, known: Sequence[str]) -> AliasNotFoundError:
    return AliasNotFoundError(
        f"Model {name!r} has no alias {alias!r}. Its aliases: "
        f"{', '.join(sorted(known)) or 'none'}. Set one with set_alias(name, alias, version) "
        "or `modelops registry alias set`."
    )
