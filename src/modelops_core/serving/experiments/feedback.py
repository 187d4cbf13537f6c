"""Feedback: the outcome of a unit (or of one request) on an experiment's metric.

A record is a JSON object (a line of a JSONL file, an element of a JSON array, a CSV row, or
the body of ``POST /v1/feedback``)::

    {"unit": "customer-17", "metric": "resolved", "value": 1}
    {"request_id": "chatcmpl-…", "metric": "resolved", "value": 0, "pre": 0.4}

``unit`` (the id sent as ``X-Modelops-Unit``, the OpenAI ``user`` field or the configured
field) or ``request_id`` (the ``X-Request-Id`` header of the answer) names who; ``metric`` may
be left out when the experiment has one; ``value`` is a number (0/1 or true/false for a
proportion); ``pre`` is the unit's value before the experiment (CUPED uses it);
``experiment`` may be left out when the request's model (or the server) runs exactly one;
``id`` makes a record idempotent (a file's records get one from the file's name and their
content, so sending a file twice counts it once); ``timestamp`` (Unix seconds) defaults to now.

A unit or request the log never showed on one of the experiment's arms is refused
(:class:`UnknownUnitError`); a file is stored whole or not at all.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from modelops_core.serving.experiments.errors import (
    FeedbackError,
    UnknownExperimentError,
    UnknownMetricError,
    UnknownUnitError,
)
from modelops_core.serving.experiments.store import FeedbackRow

if TYPE_CHECKING:
    from modelops_core.runtime import Runtime
    from modelops_core.serving.app import Answer
    from modelops_core.serving.experiments.definition import Experiment
    from modelops_core.serving.experiments.store import ExperimentStore
    from modelops_core.serving.settings import ServingSettings

__all__ = ["FeedbackRecord", "ingest", "parse_record", "read_feedback_file"]

_KEYS = ("experiment", "unit", "request_id", "metric", "value", "pre", "id", "timestamp")


@attrs.frozen
class FeedbackRecord:
    """One checked record; ``where`` names it in messages (``file.jsonl:12`` or ``$``)."""

    value: float
    unit: str | None = None
    request_id: str | None = None
    metric: str | None = None
    pre: float | None = None
    experiment: str | None = None
    id: str | None = None
    timestamp: float | None = None
    where: str = "$"


def parse_record(raw: Any, where: str = "$") -> FeedbackRecord:
    """A record from a JSON object (CSV text cells are converted); errors name ``where``
    and the field."""
    if not isinstance(raw, dict):
        raise FeedbackError(
            f"{where}: a feedback record is a JSON object such as "
            '{"unit": "u1", "metric": "resolved", "value": 1}, got '
            f"{type(raw).__name__}.",
            field=where,
        )
    for key in raw:
        if key not in _KEYS:
            from modelops_core.errors import did_you_mean

            raise FeedbackError(
                f"{where}: unknown key {str(key)[:64]!r}.{did_you_mean(str(key), _KEYS)} Keys: "
                f"{', '.join(_KEYS)}.",
                field=f"{where}.{key}",
            )
    text = {
        key: _text(raw, key, where) for key in ("experiment", "unit", "request_id", "metric", "id")
    }
    if (text["unit"] is None) == (text["request_id"] is None):
        raise FeedbackError(
            f'{where}: give exactly one of "unit" (the unit id the requests carried) and '
            '"request_id" (the X-Request-Id of one answer).',
            field=f"{where}.unit",
        )
    value = _number(raw, "value", where, required=True)
    assert value is not None
    return FeedbackRecord(
        value,
        text["unit"],
        text["request_id"],
        text["metric"],
        _number(raw, "pre", where),
        text["experiment"],
        text["id"],
        _number(raw, "timestamp", where),
        where,
    )


def _text(raw: dict[str, Any], key: str, where: str) -> str | None:
    value = raw.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool) and key in ("unit", "id"):
        return str(value)
    if not isinstance(value, str):
        raise FeedbackError(
            f"{where}: {key} must be a string, got {value!r}.", field=f"{where}.{key}"
        )
    return value


def _number(raw: dict[str, Any], key: str, where: str, required: bool = False) -> float | None:
    value = raw.get(key)
    if value is None or value == "":
        if required:
            raise FeedbackError(
                f'{where}: "{key}" is missing; give the outcome as a number (1 or 0 for a '
                "proportion).",
                field=f"{where}.{key}",
            )
        return None
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "false"):
            return 1.0 if lowered == "true" else 0.0
        try:
            value = float(lowered)
        except ValueError:
            value = None
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise FeedbackError(
            f"{where}: {key} must be a finite number, got {raw.get(key)!r}.",
            field=f"{where}.{key}",
        )
    return float(value)


def read_feedback_file(path: str | Path) -> list[FeedbackRecord]:
    """The records of a ``.jsonl``, ``.json`` (an array) or ``.csv`` file (a header row with
    the keys); errors name the file and the line."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FeedbackError(
            f"Cannot read the feedback file {path}: {exc.strerror or exc}.", field=str(path)
        ) from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FeedbackError(
            f"{path}:{line}: not UTF-8 (byte {exc.start}); save the file as UTF-8.",
            field=f"{path}:{line}",
        ) from exc
    suffix = path.suffix.lower()
    if suffix == ".csv":
        import csv
        import io

        reader = csv.DictReader(io.StringIO(text, newline=""))
        records = []
        for row in reader:
            where = f"{path}:{reader.line_num}"
            if None in row:
                raise FeedbackError(
                    f"{where}: more cells than the header has columns.", field=where
                )
            records.append(parse_record(dict(row), where))
        return records
    if suffix == ".json":
        try:
            items = json.loads(text)
        except ValueError as exc:
            raise FeedbackError(f"{path}: not JSON ({exc}).", field=str(path)) from exc
        if not isinstance(items, list):
            raise FeedbackError(
                f"{path}: a .json feedback file holds an array of records.", field=str(path)
            )
        return [parse_record(item, f"{path}[{i}]") for i, item in enumerate(items)]
    if suffix not in (".jsonl", ".ndjson"):
        raise FeedbackError(
            f"{path}: feedback files are .jsonl (one record a line), .json (an array) or .csv.",
            field=str(path),
        )
    lines: list[FeedbackRecord] = []
    for number, content in enumerate(text.splitlines(), start=1):
        if not content.strip():
            continue
        try:
            item = json.loads(content)
        except ValueError as exc:
            raise FeedbackError(
                f"{path}:{number}: not JSON ({exc}).", field=f"{path}:{number}"
            ) from exc
        lines.append(parse_record(item, f"{path}:{number}"))
    return lines


class _Resolver:
    """Finds each record's experiment and unit key (loading a whole log once when ``bulk``)."""

    def __init__(self, store: ExperimentStore, bulk: bool) -> None:
        self.store = store
        self.bulk = bulk
        self._units: dict[str, set[str]] = {}
        self._requests: dict[str, dict[str, str]] = {}

    def experiment(self, record: FeedbackRecord) -> Experiment:
        if record.experiment is not None:
            try:
                return self.store.get(record.experiment)
            except UnknownExperimentError as exc:
                raise UnknownExperimentError(f"{record.where}: {exc}") from exc
        if record.request_id is not None:
            found = self.store.find_request(record.request_id)
            if found is not None:
                running = self.store.running(found[0])
                if running is not None:
                    return running
        running = self.store.running()
        if running is None:
            names = [e.name for e in self.store.all() if e.status == "running"]
            raise FeedbackError(
                f'{record.where}: say which experiment with "experiment" (running: '
                f"{', '.join(names) or 'none'}).",
                field=f"{record.where}.experiment",
            )
        return running

    def unit_key(self, record: FeedbackRecord, experiment: Experiment) -> str:
        from modelops_core.serving.traffic import unit_hash

        if record.unit is not None:
            key = unit_hash(experiment.salt, record.unit)
            known = (
                key in self._exposed(experiment)
                if self.bulk
                else (self.store.find_unit(experiment, key))
            )
            if not known:
                raise UnknownUnitError(
                    f"{record.where}: unit {record.unit[:64]!r} was not answered by "
                    f"{experiment.model}@{experiment.control} or @{experiment.treatment} "
                    f"during experiment {experiment.name!r}; feedback counts only for units the "
                    "experiment exposed (check the unit id, or that its requests reached the "
                    "server with X-Modelops-Unit).",
                    field=f"{record.where}.unit",
                )
            return key
        assert record.request_id is not None
        found = self._request_unit(record.request_id, experiment)
        if found is None:
            raise UnknownUnitError(
                f"{record.where}: request {record.request_id[:64]!r} is not in the request log "
                f"of {experiment.model}@{experiment.control} or @{experiment.treatment} during "
                f"experiment {experiment.name!r}; use the X-Request-Id of an answer the "
                "experiment gave.",
                field=f"{record.where}.request_id",
            )
        return found

    def _exposed(self, experiment: Experiment) -> set[str]:
        if experiment.name not in self._units:
            exposures = self.store.exposures(experiment)
            self._units[experiment.name] = {e.unit for e in exposures}
            self._requests[experiment.name] = {e.request_id: e.unit for e in exposures}
        return self._units[experiment.name]

    def _request_unit(self, request_id: str, experiment: Experiment) -> str | None:
        if self.bulk:
            self._exposed(experiment)
            return self._requests[experiment.name].get(request_id)
        for exposure in self.store.exposures_of_request(experiment, request_id):
            return exposure.unit
        return None


def ingest(
    store: ExperimentStore,
    records: Sequence[FeedbackRecord],
    *,
    source: str,
    bulk: bool = True,
) -> dict[str, dict[str, int]]:
    """Check every record, then store them (per experiment, all or none). Returns
    ``{experiment: {"added": n, "duplicates": m}}``."""
    resolver = _Resolver(store, bulk)
    rows: dict[str, list[FeedbackRow]] = {}
    experiments: dict[str, Experiment] = {}
    seen: Counter[str] = Counter()
    now = time.time()
    for record in records:
        experiment = resolver.experiment(record)
        experiments[experiment.name] = experiment
        try:
            metric = experiment.metric(record.metric)
        except UnknownMetricError as exc:
            raise UnknownMetricError(f"{record.where}: {exc}") from exc
        if metric.kind == "proportion" and record.value not in (0.0, 1.0):
            raise FeedbackError(
                f"{record.where}: {metric.name} is a proportion, so its value is 0 or 1 (or "
                f"false/true), got {record.value:g}.",
                field=f"{record.where}.value",
            )
        key = resolver.unit_key(record, experiment)
        identity = record.id
        if identity is None:
            if bulk:  # the same content at the same place twice is a duplicate, not a repeat
                content = json.dumps(
                    [source, key, metric.name, record.value, record.pre, record.timestamp]
                )
                seen[content] += 1
                identity = hashlib.sha256(f"{content}#{seen[content]}".encode()).hexdigest()[:32]
            else:
                identity = os.urandom(16).hex()
        rows.setdefault(experiment.name, []).append(
            FeedbackRow(
                f"{experiment.name}:{identity}",
                key,
                metric.name,
                record.value,
                record.pre,
                now if record.timestamp is None else record.timestamp,
            )
        )
    result = {}
    for name, batch in rows.items():
        added = store.add_feedback(experiments[name], batch, source)
        result[name] = {"added": added, "duplicates": len(batch) - added}
    return result


def ingest_file(store: ExperimentStore, path: str | Path) -> dict[str, dict[str, int]]:
    """:func:`ingest` the records of a feedback file."""
    return ingest(store, read_feedback_file(path), source=f"file:{Path(path).name}")


def _body_records(body: bytes) -> list[FeedbackRecord]:
    try:
        raw = json.loads(body)
    except ValueError as exc:
        raise FeedbackError(f"The body is not JSON ({exc}).", field="$") from exc
    if isinstance(raw, list):
        return [parse_record(item, f"$[{i}]") for i, item in enumerate(raw)]
    return [parse_record(raw, "$")]


def receive(runtime: Runtime, settings: ServingSettings, body: bytes) -> dict[str, Any]:
    """What ``POST /v1/feedback`` does (on a worker thread): check and store the body's
    records. A unit answered a moment ago may still be in the request log's queue, so an
    unknown unit is looked up again after two log flushes before it is refused."""
    from modelops_core.serving.experiments.store import ExperimentStore

    records = _body_records(body)
    with ExperimentStore(runtime, settings=settings) as store:
        try:
            result = ingest(store, records, source="http", bulk=False)
        except UnknownUnitError:
            time.sleep(2 * settings.flush_interval + 0.05)
            result = ingest(store, records, source="http", bulk=False)
    added = sum(counts["added"] for counts in result.values())
    return {
        "accepted": added,
        "duplicates": sum(c["duplicates"] for c in result.values()),
        "experiments": sorted(result),
    }


async def handle_feedback(
    runtime: Runtime | None, settings: ServingSettings, body: bytes
) -> Answer:
    """The ``POST /v1/feedback`` handler of the serving app (an ``Answer``)."""
    import asyncio

    from modelops_core.serving.app import Answer

    assert runtime is not None  # the app opens its runtime before it answers
    return Answer(200, await asyncio.to_thread(receive, runtime, settings, body))


def records_of(items: Iterable[dict[str, Any]]) -> list[FeedbackRecord]:
    """Records from Python mappings (``ingest(store, records_of([...]), source=...)``)."""
    return [parse_record(item, f"[{i}]") for i, item in enumerate(items)]
