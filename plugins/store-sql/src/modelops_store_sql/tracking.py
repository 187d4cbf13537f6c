"""The tracking backend on SQL: runs, their parameters, tags, metric points, artifacts and models.

:class:`SqlTracking` implements :class:`~modelops_core.store.contract.TrackingBackend` over an
:class:`~modelops_store_sql.database.SqlDatabase` (SQLite or PostgreSQL). Tags are kept twice:
as the run's JSON (read back whole) and one ``run_tags`` row each (found by an indexed join).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from modelops_core.store.contract import ArtifactRef, MetricPoint, RunNotFoundError, RunRecord
from modelops_store_sql.database import SqlDatabase, json_text
from modelops_store_sql.errors import DuplicateRow
from modelops_store_sql.schema import tag_value

T = TypeVar("T")


class SqlTracking(SqlDatabase):
    """Tracking backend on SQLite or PostgreSQL (the options of :class:`SqlDatabase`)."""

    section = "tracking"

    def create_run(
        self, experiment: str, *, tags: Mapping[str, Any], environment: Mapping[str, Any]
    ) -> RunRecord:
        """Start a new run of ``experiment``."""
        run_id = os.urandom(16).hex()
        now = time.time()

        def create(execute: Callable[..., Any]) -> None:
            execute(
                "INSERT INTO runs (run_id, experiment, status, started_at, tags, environment) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (run_id, experiment, "running", now, json_text(tags), json_text(environment)),
            )
            self._index_tags(execute, run_id, tags)

        self._write(create, f"start a run of {experiment!r}")
        return RunRecord(run_id, experiment, "running", now, None, {}, tags, environment)

    def end_run(self, run_id: str, status: str) -> None:
        """Mark the run ``"finished"`` or ``"failed"``."""

        def end(execute: Callable[..., Any]) -> None:
            execute(
                "UPDATE runs SET status = ?, ended_at = ? WHERE run_id = ?",
                (status, time.time(), run_id),
            )

        self._write(end, f"end run {run_id}")

    def log_params(self, run_id: str, params: Mapping[str, str]) -> None:
        """Record parameters (a changed value replaces the old one)."""
        rows = [(run_id, key, value) for key, value in params.items()]

        def log(execute: Callable[..., Any]) -> None:
            for row in rows:
                execute(
                    "INSERT INTO params (run_id, key, value) VALUES (?, ?, ?) "
                    "ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
                    row,
                )

        self._write_for_run(run_id, log, "log parameters")

    def log_metrics(self, run_id: str, points: Sequence[MetricPoint]) -> None:
        """Record metric points in one transaction."""
        rows = [(run_id, p.key, float(p.value), int(p.step), float(p.timestamp)) for p in points]
        statement = "INSERT INTO metrics (run_id, key, value, step, ts) VALUES (?, ?, ?, ?, ?)"

        def log(execute: Callable[..., Any]) -> None:
            if len(rows) == 1:
                execute(statement, rows[0])
            else:
                self._execute_many(statement, rows)

        self._write_for_run(run_id, log, "log metrics")

    def _write_for_run(self, run_id: str, work: Callable[[Callable[..., Any]], T], what: str) -> T:
        try:
            return self._write(work, f"{what} of run {run_id}")
        except DuplicateRow:
            raise RunNotFoundError(_unknown_run(run_id)) from None

    def set_tags(self, run_id: str, tags: Mapping[str, Any]) -> None:
        """Merge ``tags`` into the run's tags."""

        def merge(execute: Callable[..., Any]) -> None:
            rows = execute(
                f"SELECT tags FROM runs WHERE run_id = ?{self._dialect.for_update}", (run_id,)
            ).fetchall()
            if not rows:
                raise RunNotFoundError(_unknown_run(run_id))
            merged = {**json.loads(rows[0][0]), **tags}
            execute("UPDATE runs SET tags = ? WHERE run_id = ?", (json_text(merged), run_id))
            self._index_tags(execute, run_id, tags)

        self._write(merge, f"set tags of run {run_id}")

    def _index_tags(
        self, execute: Callable[..., Any], run_id: str, tags: Mapping[str, Any]
    ) -> None:
        for key, value in tags.items():
            execute(
                "INSERT INTO run_tags (run_id, key, value) VALUES (?, ?, ?) "
                "ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
                (run_id, str(key), tag_value(value)),
            )

    def log_artifact(self, run_id: str, label: str, ref: ArtifactRef) -> None:
        """Record that the run produced the artifact ``ref`` under ``label``."""

        def log(execute: Callable[..., Any]) -> None:
            execute(
                "INSERT INTO run_artifacts (run_id, label, digest, kind, size, name) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, label) DO UPDATE SET "
                "digest = excluded.digest, kind = excluded.kind, size = excluded.size, "
                "name = excluded.name",
                (run_id, label, ref.digest, ref.kind, ref.size, ref.name),
            )

        self._write_for_run(run_id, log, "log an artifact")

    def link_model(self, run_id: str, name: str, version: str) -> None:
        """Record that the run produced the model version."""

        def link(execute: Callable[..., Any]) -> None:
            execute(
                "INSERT INTO run_models (run_id, model, version) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (run_id, name, version),
            )

        self._write_for_run(run_id, link, "link a model")

    def get_metrics(self, run_id: str, key: str | None = None) -> list[MetricPoint]:
        """The run's metric points (of ``key``), ordered by key, step and time."""
        where, params = ("AND key = ?", [run_id, key]) if key is not None else ("", [run_id])
        rows = self._query(
            f"SELECT key, value, step, ts FROM metrics WHERE run_id = ? {where} "
            "ORDER BY key, step, ts, id",
            params,
        )
        if not rows:
            self.get_run(run_id)
        return [MetricPoint(row[0], row[1], row[2], row[3]) for row in rows]

    def get_run(self, run_id: str) -> RunRecord:
        """The run; :class:`RunNotFoundError` if unknown."""
        rows = self._query(
            "SELECT run_id, experiment, status, started_at, ended_at, tags, environment "
            "FROM runs WHERE run_id = ?",
            (run_id,),
        )
        if not rows:
            raise RunNotFoundError(_unknown_run(run_id))
        return self._run_from_row(rows[0])

    def list_runs(self, experiment: str | None = None, limit: int = 100) -> list[RunRecord]:
        """The newest runs (of ``experiment``), newest first."""
        where, params = ("WHERE experiment = ?", [experiment]) if experiment else ("", [])
        rows = self._query(
            "SELECT run_id, experiment, status, started_at, ended_at, tags, environment "
            f"FROM runs {where} ORDER BY started_at DESC LIMIT ?",
            [*params, int(limit)],
        )
        return [self._run_from_row(row) for row in rows]

    def find_runs(
        self,
        experiment: str | None,
        tags: Mapping[str, Any],
        *,
        status: str | None = None,
        limit: int | None = None,
    ) -> list[RunRecord]:
        """Runs whose tags equal every item of ``tags`` (one indexed join per tag)."""
        joins: list[str] = []
        params: list[Any] = []
        for index, (key, value) in enumerate(tags.items()):
            joins.append(
                f"JOIN run_tags t{index} ON t{index}.run_id = r.run_id "
                f"AND t{index}.key = ? AND t{index}.value = ?"
            )
            params += [str(key), tag_value(value)]
        conditions = []
        if experiment is not None:
            conditions.append("r.experiment = ?")
            params.append(experiment)
        if status is not None:
            conditions.append("r.status = ?")
            params.append(status)
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        tail = ""
        if limit is not None:
            tail = " LIMIT ?"
            params.append(int(limit))
        rows = self._query(
            "SELECT r.run_id, r.experiment, r.status, r.started_at, r.ended_at, r.tags, "
            f"r.environment FROM runs r {' '.join(joins)} {where} "
            f"ORDER BY r.started_at DESC, r.run_id{tail}",
            params,
        )
        return [self._run_from_row(row) for row in rows]

    def _run_from_row(self, row: Sequence[Any]) -> RunRecord:
        run_id = row[0]
        params = dict(self._query("SELECT key, value FROM params WHERE run_id = ?", (run_id,)))
        models = tuple(
            (str(m), str(v))
            for m, v in self._query(
                "SELECT model, version FROM run_models WHERE run_id = ? ORDER BY model, version",
                (run_id,),
            )
        )
        artifacts = {
            str(label): ArtifactRef(digest, kind, size, name)
            for label, digest, kind, size, name in self._query(
                "SELECT label, digest, kind, size, name FROM run_artifacts WHERE run_id = ?",
                (run_id,),
            )
        }
        return RunRecord(
            run_id, row[1], row[2], row[3], row[4], params, json.loads(row[5]),
            json.loads(row[6]), models, artifacts,
        )  # fmt: skip


# --- helpers -----------------------------------------------------------------------------------


def _unknown_run(run_id: str) -> str:
    return f"No run with id {run_id!r}. `modelops runs list` shows the runs."
