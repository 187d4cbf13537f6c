"""Experiments and their feedback, stored beside the traffic table and the request log.

Two tables in the serving database (SQLite or PostgreSQL, the ``[serving] database``)::

    modelops_experiments (name TEXT PRIMARY KEY, model TEXT, control TEXT, treatment TEXT,
        split REAL, metrics TEXT, guardrails TEXT, min_sample INTEGER, mde REAL,
        correction TEXT, alpha REAL, salt TEXT, status TEXT, started_at REAL,
        stopped_at REAL, previous TEXT, created_by TEXT)
    modelops_feedback (id TEXT PRIMARY KEY, experiment TEXT, unit TEXT, metric TEXT,
        value REAL, pre REAL, timestamp REAL, source TEXT)

``REAL`` above is ``DOUBLE PRECISION`` (PostgreSQL's ``REAL`` is 4 bytes: a Unix time in it
is rounded to 128 s). A partial unique index lets one model have one running experiment,
even when two processes start one at the same moment. ``unit`` in the feedback is the unit's
hash under the experiment's salt (as in the request log), or ``request:<id>`` for a request
without a unit id.
Exposures (which unit saw which arm, first) are read from the request log: a unit belongs to
the arm that first answered it after the start.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from modelops_core.serving.experiments.definition import (
    Experiment,
    Guardrail,
    Metric,
    check_definition,
    parse_guardrail,
    parse_metric,
)
from modelops_core.serving.experiments.errors import (
    ExperimentStateError,
    UnknownExperimentError,
)

if TYPE_CHECKING:
    from modelops_core.runtime import Runtime
    from modelops_core.serving.database import ServingDatabase
    from modelops_core.serving.experiments.analysis import ExperimentAnalysis
    from modelops_core.serving.settings import ServingSettings

__all__ = ["ExperimentStore", "Exposure", "FeedbackRow"]

_COLUMNS = (
    "name",
    "model",
    "control",
    "treatment",
    "split",
    "metrics",
    "guardrails",
    "min_sample",
    "mde",
    "correction",
    "alpha",
    "salt",
    "status",
    "started_at",
    "stopped_at",
    "previous",
    "created_by",
)
_FEEDBACK_COLUMNS = ("id", "experiment", "unit", "metric", "value", "pre", "timestamp", "source")
_TABLES = (
    """CREATE TABLE IF NOT EXISTS {experiments} (
        name TEXT PRIMARY KEY, model TEXT NOT NULL, control TEXT NOT NULL,
        treatment TEXT NOT NULL, split DOUBLE PRECISION NOT NULL, metrics TEXT NOT NULL,
        guardrails TEXT NOT NULL, min_sample INTEGER NOT NULL, mde DOUBLE PRECISION,
        correction TEXT NOT NULL, alpha DOUBLE PRECISION NOT NULL, salt TEXT NOT NULL,
        status TEXT NOT NULL, started_at DOUBLE PRECISION NOT NULL,
        stopped_at DOUBLE PRECISION, previous TEXT, created_by TEXT NOT NULL)""",
    "CREATE UNIQUE INDEX IF NOT EXISTS modelops_experiments_running ON {experiments} (model) "
    "WHERE status = 'running'",
    """CREATE TABLE IF NOT EXISTS {feedback} (
        id TEXT PRIMARY KEY, experiment TEXT NOT NULL, unit TEXT NOT NULL,
        metric TEXT NOT NULL, value DOUBLE PRECISION NOT NULL, pre DOUBLE PRECISION,
        timestamp DOUBLE PRECISION NOT NULL, source TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS modelops_feedback_experiment ON {feedback} (experiment)",
    # feedback looks a unit up in the log of its model
    "CREATE INDEX IF NOT EXISTS modelops_requests_model_unit ON {requests} (model, unit)",
)


@attrs.frozen
class Exposure:
    """One logged request of an experiment's arms (what the analysis reads of the log)."""

    request_id: str
    timestamp: float
    variant: str
    unit: str  # the unit's hash, or request:<id> for a request without a unit id
    latency_ms: float
    status: int


@attrs.frozen
class FeedbackRow:
    """One stored outcome of a unit on a metric (``pre``: its pre-period value, for CUPED)."""

    id: str
    unit: str
    metric: str
    value: float
    pre: float | None
    timestamp: float


class ExperimentStore:
    """Start, stop, read and analyse experiments (what ``modelops experiment`` does, from code).

    :param runtime: its configuration chooses the serving database; its registry checks the
        model and the aliases.
    :param settings: the ``[serving]`` settings to use instead of the runtime's.
    """

    def __init__(
        self, runtime: Runtime | None = None, *, settings: ServingSettings | None = None
    ) -> None:
        if runtime is None:
            from modelops_core.runtime import Runtime

            runtime = Runtime()
        from modelops_core.serving.database import ServingDatabase

        if settings is None:
            from modelops_core.serving.settings import serving_settings

            settings = serving_settings(runtime.config)
        self.runtime = runtime
        self.settings = settings
        self.database: ServingDatabase = ServingDatabase(settings.database, settings.schema)
        prefix = self.database.traffic_table[: -len("modelops_traffic")]
        self.experiments_table = f"{prefix}modelops_experiments"
        self.feedback_table = f"{prefix}modelops_feedback"
        self._ready = False

    # --- plumbing ------------------------------------------------------------------------------

    def _execute(self, statement: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if not self._ready:
            for table in _TABLES:
                text = table.format(
                    experiments=self.experiments_table,
                    feedback=self.feedback_table,
                    requests=self.database.requests_table,
                )
                try:
                    self.database.execute(text)
                except Exception:
                    # PostgreSQL: two processes creating the same table "IF NOT EXISTS" at
                    # once may collide in its catalogue; the second try finds it made
                    time.sleep(0.05)
                    self.database.execute(text)
            self._ready = True
        return self.database.execute(statement, parameters)

    def close(self) -> None:
        self.database.close()

    def __enter__(self) -> ExperimentStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- experiments ---------------------------------------------------------------------------

    def start(
        self,
        name: str,
        *,
        model: str,
        control: str,
        treatment: str,
        split: float,
        metrics: Iterable[str | Metric],
        guardrails: Iterable[str | Guardrail] = (),
        min_sample: int = 0,
        mde: float | None = None,
        correction: str = "holm",
        alpha: float = 0.05,
        actor: str = "",
    ) -> Experiment:
        """Store the experiment and split ``model``'s traffic: ``split`` percent to
        ``treatment``, the rest to ``control`` (through the traffic table, with the
        experiment's own salt). The split in place before is kept, for :meth:`stop`."""
        from modelops_core.serving.traffic import TrafficTable

        parsed_metrics = tuple(m if isinstance(m, Metric) else parse_metric(m) for m in metrics)
        parsed_guardrails = tuple(
            g if isinstance(g, Guardrail) else parse_guardrail(g) for g in guardrails
        )
        check_definition(
            name,
            model,
            control,
            treatment,
            split,
            parsed_metrics,
            min_sample,
            mde,
            correction,
            alpha,
        )
        if self._row(name) is not None:
            raise ExperimentStateError(
                f"An experiment named {name!r} exists already (see modelops experiment status "
                f"{name}); choose another name."
            )
        running = self.running(model)
        if running is not None:
            raise self._busy(model, running.name)
        table = TrafficTable(self.runtime, database=self.database)
        previous = None
        stored = self.database.execute(
            f"SELECT 1 FROM {self.database.traffic_table} WHERE model = ?", (model,)
        )
        if stored:
            previous = table.get(model).to_dict()
        experiment = Experiment(
            name,
            model,
            control,
            treatment,
            float(split),
            parsed_metrics,
            parsed_guardrails,
            min_sample,
            mde,
            correction,
            alpha,
            salt=f"{name}:{os.urandom(6).hex()}",
            started_at=time.time(),
            previous=previous,
            created_by=actor,
        )
        try:
            self._execute(
                f"INSERT INTO {self.experiments_table} ({', '.join(_COLUMNS)}) VALUES "
                f"({', '.join('?' for _ in _COLUMNS)})",
                _row_of(experiment),
            )
        except Exception as exc:
            if self.running(model) is not None or self._row(name) is not None:
                raise self._busy(model, name) from exc
            raise
        shadows = [a for a in (previous or {}).get("shadows", []) if a not in (control, treatment)]
        try:
            table.set(
                model,
                {control: 100.0 - float(split), treatment: float(split)},
                shadows=shadows,
                salt=experiment.salt,
                actor=f"experiment {name}",
            )
        except BaseException:
            self._execute(f"DELETE FROM {self.experiments_table} WHERE name = ?", (name,))
            raise
        return experiment

    def _busy(self, model: str, name: str) -> ExperimentStateError:
        running = self.running(model)
        who = running.name if running is not None else name
        return ExperimentStateError(
            f"{model} already runs experiment {who!r}; one experiment per model at a time. "
            f"Stop it first: modelops experiment stop {who}."
        )

    def _row(self, name: str) -> tuple[Any, ...] | None:
        rows = self._execute(
            f"SELECT {', '.join(_COLUMNS)} FROM {self.experiments_table} WHERE name = ?", (name,)
        )
        return rows[0] if rows else None

    def get(self, name: str) -> Experiment:
        """The experiment called ``name``; :class:`UnknownExperimentError` lists the others."""
        row = self._row(name)
        if row is None:
            known = ", ".join(e.name for e in self.all()) or "none"
            raise UnknownExperimentError(
                f"No experiment {name[:64]!r} (experiments: {known}). Start one with "
                "modelops experiment start NAME --model M --control A --treatment B "
                "--split 50 --metric METRIC."
            )
        return _experiment_of(row)

    def all(self) -> list[Experiment]:
        """Every experiment, the newest first."""
        rows = self._execute(
            f"SELECT {', '.join(_COLUMNS)} FROM {self.experiments_table} ORDER BY started_at DESC"
        )
        return [_experiment_of(row) for row in rows]

    def running(self, model: str | None = None) -> Experiment | None:
        """The running experiment of ``model`` (of any model when there is exactly one)."""
        if model is None:
            rows = self._execute(
                f"SELECT {', '.join(_COLUMNS)} FROM {self.experiments_table} "
                "WHERE status = 'running'"
            )
            return _experiment_of(rows[0]) if len(rows) == 1 else None
        rows = self._execute(
            f"SELECT {', '.join(_COLUMNS)} FROM {self.experiments_table} "
            "WHERE model = ? AND status = 'running'",
            (model,),
        )
        return _experiment_of(rows[0]) if rows else None

    def stop(self, name: str, *, restore_traffic: bool = True) -> Experiment:
        """Stop the experiment (analysis keeps its window) and put back the model's split
        from before the start (100 % ``production`` when there was none), unless
        ``restore_traffic`` is False."""
        from modelops_core.serving.traffic import TrafficTable

        experiment = self.get(name)
        if experiment.status != "running":
            raise ExperimentStateError(
                f"Experiment {name!r} is stopped already (at {_when(experiment.stopped_at)})."
            )
        if restore_traffic:
            table = TrafficTable(self.runtime, database=self.database)
            previous = experiment.previous
            if previous is None:
                table.clear(experiment.model)
            else:
                from modelops_core.serving.errors import ServingError

                try:
                    table.set(
                        experiment.model,
                        previous["weights"],
                        shadows=previous.get("shadows", ()),
                        salt=previous.get("salt"),
                        actor=f"experiment {name} stopped",
                    )
                except ServingError as exc:
                    raise ExperimentStateError(
                        f"Experiment {name!r} is still running: the split from before it "
                        f"cannot be restored ({exc}). Stop it with --keep-traffic and set the "
                        f"traffic yourself: modelops traffic set {experiment.model} ..."
                    ) from exc
        stopped = time.time()
        self._execute(
            f"UPDATE {self.experiments_table} SET status = 'stopped', stopped_at = ? "
            "WHERE name = ? AND status = 'running'",
            (stopped, name),
        )
        return attrs.evolve(experiment, status="stopped", stopped_at=stopped)

    # --- the log and the feedback --------------------------------------------------------------

    def exposures(self, experiment: Experiment, until: float | None = None) -> list[Exposure]:
        """The experiment's logged requests on its two arms (shadows left out), oldest first."""
        end = experiment.stopped_at if until is None else until
        arms = (experiment.control, experiment.treatment)
        if self.settings.request_log == "sql":
            rows = self._execute(
                f"SELECT id, timestamp, variant, unit, latency_ms, status FROM "
                f"{self.database.requests_table} WHERE model = ? AND shadow = 0 AND "
                "timestamp >= ? AND timestamp <= ? AND variant IN (?, ?) ORDER BY timestamp",
                (experiment.model, experiment.started_at, math.inf if end is None else end, *arms),
            )
        else:
            from modelops_core.serving.request_log import read_requests

            rows = [
                (r["id"], r["timestamp"], r["variant"], r["unit"], r["latency_ms"], r["status"])
                for r in read_requests(self.settings, experiment.model, experiment.started_at)
                if not r["shadow"]
                and r["variant"] in arms
                and (end is None or r["timestamp"] <= end)
            ]
        return [
            Exposure(str(i), float(t), str(v), str(u) if u else f"request:{i}", float(lat), int(s))
            for i, t, v, u, lat, s in rows
        ]

    def exposures_of_request(self, experiment: Experiment, request_id: str) -> list[Exposure]:
        """The logged request ``request_id`` when it is one of the experiment's exposures."""
        if self.settings.request_log != "sql":
            return [e for e in self.exposures(experiment) if e.request_id == request_id]
        end = experiment.stopped_at
        rows = self._execute(
            f"SELECT id, timestamp, variant, unit, latency_ms, status FROM "
            f"{self.database.requests_table} WHERE id = ? AND model = ? AND shadow = 0 AND "
            "timestamp >= ? AND timestamp <= ? AND variant IN (?, ?)",
            (
                request_id,
                experiment.model,
                experiment.started_at,
                math.inf if end is None else end,
                experiment.control,
                experiment.treatment,
            ),
        )
        return [
            Exposure(str(i), float(t), str(v), str(u) if u else f"request:{i}", float(lat), int(s))
            for i, t, v, u, lat, s in rows
        ]

    def find_unit(self, experiment: Experiment, unit_key: str) -> bool:
        """Whether the log shows ``unit_key`` (a unit hash) on one of the arms."""
        if self.settings.request_log != "sql":
            return any(e.unit == unit_key for e in self.exposures(experiment))
        end = experiment.stopped_at
        rows = self._execute(
            f"SELECT 1 FROM {self.database.requests_table} WHERE model = ? AND unit = ? AND "
            "shadow = 0 AND timestamp >= ? AND timestamp <= ? AND variant IN (?, ?) LIMIT 1",
            (
                experiment.model,
                unit_key,
                experiment.started_at,
                math.inf if end is None else end,
                experiment.control,
                experiment.treatment,
            ),
        )
        return bool(rows)

    def find_request(self, request_id: str) -> tuple[str, str | None, bool, float] | None:
        """``(model, unit hash, shadow, timestamp)`` of a logged request, or None."""
        if self.settings.request_log != "sql":
            from modelops_core.serving.request_log import read_requests

            for r in read_requests(self.settings):
                if r["id"] == request_id:
                    return r["model"], r["unit"], bool(r["shadow"]), r["timestamp"]
            return None
        rows = self._execute(
            f"SELECT model, unit, shadow, timestamp, variant FROM {self.database.requests_table} "
            "WHERE id = ?",
            (request_id,),
        )
        if not rows:
            return None
        model, unit, shadow, stamp, _ = rows[0]
        return str(model), unit, bool(shadow), float(stamp)

    def add_feedback(self, experiment: Experiment, rows: Sequence[FeedbackRow], source: str) -> int:
        """Store ``rows`` in one transaction (all or none); a row whose id is stored already
        is skipped, so sending a file twice counts it once. Returns the rows added."""
        if not rows:
            return 0
        self._execute("SELECT 1")  # the tables exist
        before = self._count(experiment.name)
        statement = (
            f"INSERT INTO {self.feedback_table} ({', '.join(_FEEDBACK_COLUMNS)}) VALUES "
            f"({', '.join('?' for _ in _FEEDBACK_COLUMNS)}) ON CONFLICT (id) DO NOTHING"
        )
        values = [
            (r.id, experiment.name, r.unit, r.metric, r.value, r.pre, r.timestamp, source)
            for r in rows
        ]
        self.database.execute_many(statement, values)
        return self._count(experiment.name) - before

    def _count(self, name: str) -> int:
        rows = self._execute(
            f"SELECT COUNT(*) FROM {self.feedback_table} WHERE experiment = ?", (name,)
        )
        return int(rows[0][0])

    def feedback(self, experiment: Experiment) -> list[FeedbackRow]:
        """The stored feedback of ``experiment``, oldest first (damaged rows raise, named)."""
        rows = self._execute(
            f"SELECT id, unit, metric, value, pre, timestamp FROM {self.feedback_table} "
            "WHERE experiment = ? ORDER BY timestamp, id",
            (experiment.name,),
        )
        found = []
        for id_, unit, metric, value, pre, stamp in rows:
            number = _finite(value)
            before = _finite(pre) if pre is not None else None
            if number is None or (pre is not None and before is None) or _finite(stamp) is None:
                raise ExperimentStateError(
                    f"Feedback row {id_!r} of experiment {experiment.name!r} in "
                    f"{self.feedback_table} is damaged (value {value!r}, pre {pre!r}, timestamp "
                    f"{stamp!r}); delete it: DELETE FROM {self.feedback_table} WHERE id = "
                    f"'{id_}'."
                )
            found.append(
                FeedbackRow(str(id_), str(unit), str(metric), number, before, float(stamp))
            )
        return found

    def analyze(self, name: str, *, now: float | None = None) -> ExperimentAnalysis:
        """The experiment's analysis now (see :mod:`.analysis`)."""
        from modelops_core.serving.experiments.analysis import analyze

        experiment = self.get(name)
        return analyze(
            experiment,
            self.exposures(experiment),
            self.feedback(experiment),
            now=time.time() if now is None else now,
        )


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _when(stamp: float | None) -> str:
    if stamp is None:
        return "an unknown time"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(stamp))


def _row_of(experiment: Experiment) -> tuple[Any, ...]:
    return (
        experiment.name,
        experiment.model,
        experiment.control,
        experiment.treatment,
        experiment.split,
        json.dumps([m.spec for m in experiment.metrics]),
        json.dumps([g.spec for g in experiment.guardrails]),
        experiment.min_sample,
        experiment.mde,
        experiment.correction,
        experiment.alpha,
        experiment.salt,
        experiment.status,
        experiment.started_at,
        experiment.stopped_at,
        None if experiment.previous is None else json.dumps(experiment.previous),
        experiment.created_by,
    )


def _experiment_of(row: tuple[Any, ...]) -> Experiment:
    """A stored row as an experiment; a row nobody could have stored raises, naming it."""
    values = dict(zip(_COLUMNS, row, strict=True))
    name = values["name"]
    try:
        metrics = tuple(parse_metric(spec) for spec in json.loads(values["metrics"]))
        guardrails = tuple(parse_guardrail(spec) for spec in json.loads(values["guardrails"]))
        previous = json.loads(values["previous"]) if values["previous"] else None
        experiment = Experiment(
            str(name),
            str(values["model"]),
            str(values["control"]),
            str(values["treatment"]),
            float(values["split"]),
            metrics,
            guardrails,
            int(values["min_sample"]),
            None if values["mde"] is None else float(values["mde"]),
            str(values["correction"]),
            float(values["alpha"]),
            str(values["salt"]),
            str(values["status"]),
            float(values["started_at"]),
            None if values["stopped_at"] is None else float(values["stopped_at"]),
            previous,
            str(values["created_by"]),
        )
        check_definition(
            experiment.name,
            experiment.model,
            experiment.control,
            experiment.treatment,
            experiment.split,
            experiment.metrics,
            experiment.min_sample,
            experiment.mde,
            experiment.correction,
            experiment.alpha,
        )
        if experiment.status not in ("running", "stopped") or not experiment.salt:
            raise ValueError(f"status {experiment.status!r}, salt {experiment.salt!r}")
    except Exception as exc:
        raise ExperimentStateError(
            f"The stored experiment {name!r} is damaged ({exc}); it cannot be analysed. Stop "
            "and start it again under a new name, or repair its row in modelops_experiments."
        ) from exc
    return experiment
