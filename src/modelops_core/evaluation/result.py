"""``EvaluationResult``: metric values with intervals, per-group values and provenance.

A read-only mapping from metric name to value (``result["accuracy"]``), whose metrics are
also attributes (``result.accuracy``). It serializes to a stable, versioned JSON document:

.. code-block:: text

    {"schema": "modelops.evaluation", "schema_version": 1,
     "model_id": str | null, "dataset_fingerprint": str | null, "task": str | null,
     "n": int, "seed": int | null, "created_at": ISO-8601 str,
     "values": {metric: value}, "higher_is_better": {metric: bool | null},
     "intervals": {metric: {"low", "high", "level", "method", "resamples"}},
     "per_group": {metric: {group: value}}, "group_sizes": {group: int},
     "group_intervals": {metric: {group: {"low", "high", "level", "method", "resamples"}}},
     "timings": {metric or "total": seconds},
     "metric_choices": {metric: {"component": name, "options": {...}}},
     "curves": {"roc": {...}, "pr": {...}, "calibration": {...}, "confusion": {...}},
     "per_example": {"prediction": [...], "reference": [...], "score": [...],
                     "group": [...]} | null}

Non-finite numbers are written as ``null`` (strict JSON) and read back as NaN.
Version 1 readers refuse newer major versions with a message saying what to upgrade.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from modelops_core.config import frozen_mapping
from modelops_core.errors import EvaluationError as EvaluationError  # re-exported

SCHEMA = "modelops.evaluation"
SCHEMA_VERSION = 1


class ResultSchemaError(EvaluationError, ValueError):
    """A result document that is not a modelops evaluation result of a readable version."""


@attrs.frozen
class Interval:
    """A two-sided confidence interval of a metric."""

    low: float
    high: float
    level: float = 0.95
    method: str = "percentile"
    resamples: int = 0

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int | float) and self.low <= value <= self.high

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def _metrics(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return frozen_mapping(dict(value))


@attrs.frozen
class EvaluationResult(Mapping[str, Any]):
    """The result of one evaluation. Iterating yields metric names; ``dict(result)`` gives
    the plain values.

    :param metrics: metric name -> value (a number, or a structure such as a curve).
    :param intervals: metric name -> :class:`Interval`, for scalar metrics when bootstrapped.
    :param per_group: metric name -> group -> value, when groups were given.
    :param group_intervals: metric name -> group -> :class:`Interval`, when groups were given
        and bootstrap was requested (each group resampled on its own).
    :param per_example: aligned per-example columns (``prediction``, ``reference``,
        ``score``, ``group``), kept so that two results can be compared pairwise.
    """

    metrics: Mapping[str, Any] = attrs.field(factory=dict, converter=_metrics)
    n: int = 0
    model_id: str | None = None
    dataset_fingerprint: str | None = None
    task: str | None = None
    seed: int | None = None
    intervals: Mapping[str, Interval] = attrs.field(factory=dict, converter=_metrics)
    per_group: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict, converter=_metrics)
    group_sizes: Mapping[str, int] = attrs.field(factory=dict, converter=_metrics)
    group_intervals: Mapping[str, Mapping[str, Interval]] = attrs.field(
        factory=dict, converter=_metrics, repr=False
    )
    higher_is_better: Mapping[str, bool | None] = attrs.field(factory=dict, converter=_metrics)
    timings: Mapping[str, float] = attrs.field(factory=dict, converter=_metrics)
    curves: Mapping[str, Any] = attrs.field(factory=dict, converter=_metrics, repr=False)
    per_example: Mapping[str, tuple[Any, ...]] | None = attrs.field(default=None, repr=False)
    created_at: str = ""
    metric_choices: Mapping[str, Mapping[str, Any]] = attrs.field(
        factory=dict, converter=_metrics, repr=False
    )

    # --- the mapping of metric values ---------------------------------------------------------

    def __getitem__(self, name: str) -> Any:
        try:
            return self.metrics[name]
        except KeyError:
            raise KeyError(
                f"{name!r} was not computed; this result has: {', '.join(self.metrics) or '-'}"
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.metrics)

    def __len__(self) -> int:
        return len(self.metrics)

    def __getattr__(self, name: str) -> Any:
        # only called when normal lookup fails: metric names become attributes
        if name.startswith("_"):
            raise AttributeError(name)
        metrics = object.__getattribute__(self, "metrics")
        if name in metrics:
            return metrics[name]
        raise AttributeError(
            f"EvaluationResult has no attribute or metric {name!r}; metrics: "
            f"{', '.join(metrics) or '-'}"
        )

    def interval(self, name: str) -> Interval:
        """The confidence interval of metric ``name`` (bootstrap must have been requested)."""
        if name not in self.intervals:
            raise KeyError(
                f"no interval for {name!r}; evaluate with bootstrap=1000 (or --bootstrap 1000) "
                "to get intervals of scalar metrics."
            )
        return self.intervals[name]

    # --- JSON ----------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The JSON document as Python objects (see the module docstring)."""
        return {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "model_id": self.model_id,
            "dataset_fingerprint": self.dataset_fingerprint,
            "task": self.task,
            "n": self.n,
            "seed": self.seed,
            "created_at": self.created_at,
            "values": _jsonable(dict(self.metrics)),
            "higher_is_better": dict(self.higher_is_better),
            "intervals": {name: _jsonable(i.as_dict()) for name, i in self.intervals.items()},
            "per_group": _jsonable({k: dict(v) for k, v in self.per_group.items()}),
            "group_sizes": dict(self.group_sizes),
            "group_intervals": {
                name: {group: _jsonable(i.as_dict()) for group, i in groups.items()}
                for name, groups in self.group_intervals.items()
            },
            "timings": _jsonable(dict(self.timings)),
            "curves": _jsonable(dict(self.curves)),
            "metric_choices": _jsonable({k: dict(v) for k, v in self.metric_choices.items()}),
            "per_example": None
            if self.per_example is None
            else _jsonable({k: list(v) for k, v in self.per_example.items()}),
        }

    def to_json(self, path: str | Path | None = None, *, indent: int | None = 2) -> str:
        """The result as a JSON string; also written to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=indent, allow_nan=False, default=_default)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    @classmethod
    def from_json(cls, source: str | Path) -> EvaluationResult:
        """Read a result from a JSON string or a file path."""
        where = "the JSON text"
        text = str(source)
        if isinstance(source, Path) or (not text.lstrip().startswith("{") and Path(text).exists()):
            where = str(source)
            try:
                text = Path(source).read_text(encoding="utf-8")
            except OSError as exc:
                raise ResultSchemaError(f"Cannot read {where}: {exc.strerror or exc}.") from exc
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ResultSchemaError(
                f"{where} is not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}."
            ) from exc
        return cls.from_dict(document, where=where)

    @classmethod
    def from_dict(cls, document: Mapping[str, Any], *, where: str = "result") -> EvaluationResult:
        """Build a result from :meth:`to_dict` output, checking the schema and its version."""
        if not isinstance(document, Mapping) or document.get("schema") != SCHEMA:
            raise ResultSchemaError(
                f'{where} is not a modelops evaluation result (expected "schema": '
                f'"{SCHEMA}"); write it with EvaluationResult.to_json or `modelops eval run '
                "--output`."
            )
        version = document.get("schema_version")
        if not isinstance(version, int) or version > SCHEMA_VERSION:
            raise ResultSchemaError(
                f"{where} has schema_version {version!r}; this modelops-core reads up to "
                f"{SCHEMA_VERSION}. Upgrade modelops-core to read it."
            )
        examples = document.get("per_example")
        return cls(
            metrics=_from_json(document.get("values", {})),
            n=int(document.get("n", 0)),
            model_id=document.get("model_id"),
            dataset_fingerprint=document.get("dataset_fingerprint"),
            task=document.get("task"),
            seed=document.get("seed"),
            intervals={
                name: Interval(**_from_json(value))
                for name, value in document.get("intervals", {}).items()
            },
            per_group={
                name: _from_json(values) for name, values in document.get("per_group", {}).items()
            },
            group_sizes=document.get("group_sizes", {}),
            group_intervals={
                name: {group: Interval(**_from_json(value)) for group, value in groups.items()}
                for name, groups in document.get("group_intervals", {}).items()
            },
            higher_is_better=document.get("higher_is_better", {}),
            timings=document.get("timings", {}),
            curves=document.get("curves", {}),
            per_example=None
            if examples is None
            else {key: tuple(values) for key, values in examples.items()},
            created_at=document.get("created_at", ""),
            metric_choices=document.get("metric_choices", {}),
        )

    # --- report -----------------------------------------------------------------------------

    def to_pandas(self) -> Any:
        """One row per scalar metric (``metric``, ``value``, ``low``, ``high``, ``level``,
        ``higher_is_better``) as a pandas DataFrame (``pip install pandas``)."""
        from modelops_core.evaluation.report.notebook import result_frame

        return result_frame(self)

    def _repr_html_(self) -> str:
        """The scalar metrics as a table in Jupyter."""
        from modelops_core.evaluation.report.notebook import result_html

        return result_html(self)

    def to_html(self, path: str | Path | None = None, *, title: str | None = None) -> str:
        """A self-contained HTML report (inline SVG plots); also written to ``path``."""
        from modelops_core.evaluation.report.html import render_report

        html = render_report(self, title=title)
        if path is not None:
            Path(path).write_text(html, encoding="utf-8")
        return html


def _default(value: Any) -> Any:
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return _jsonable(value.tolist())
    if isinstance(value, Mapping):
        return _jsonable(dict(value))
    if isinstance(value, tuple | set | frozenset):
        return _jsonable(list(value))
    return str(value)


def _jsonable(value: Any) -> Any:
    """``value`` with non-finite floats as None and containers as lists / dicts."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if hasattr(value, "tolist"):
        return _jsonable(value.tolist())
    return value


def _from_json(value: Any) -> Any:
    """Top-level null metric values back to NaN (they were non-finite floats)."""
    if isinstance(value, Mapping):
        return {key: (math.nan if item is None else item) for key, item in value.items()}
    return value
