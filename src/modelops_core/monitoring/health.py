"""Service health from a request log: latency p50/p95/p99 and error rate over windows, and
multi-window, multi-burn-rate alerts on SLOs as the Google SRE workbook defines them
(chapter 5, "Alerting on SLOs").

The request log is JSONL or Parquet with one request per row:

- ``timestamp``: Unix seconds (a number) or an ISO 8601 text (``2026-01-05T10:00:00Z``; a text
  without a zone is UTC);
- ``latency_ms``: a finite number >= 0;
- ``status``: an HTTP code (>= 500 is an error; 1xx-4xx are served requests) or a word: ``ok``
  / ``success`` are good, ``error`` / ``failed`` / ``failure`` / ``timeout`` are errors;
- ``model`` and ``version`` (optional): what served it.

What is wrong with a row never stops the report and is never dropped silently: each kind of
problem becomes a :class:`HealthFinding` (how many rows, the first line, examples). A row with a
bad latency (NaN, infinite, negative, missing) still counts for the error rate; one with an
unknown status still counts for latency; one without a usable timestamp, or a line that is not a
JSON object, counts for nothing. A file that cannot be read, is empty, has no usable row, or lacks
the ``timestamp`` column raises :class:`HealthLogError` naming the file (and line).

Quantiles are exact over the window's latencies, numpy's default (linear interpolation between
the closest ranks: p50 of 1..100 is 50.5, p95 is 95.05). Windows are fixed spans counted from
the Unix epoch (``[k * window, (k + 1) * window)``).

Burn rate (workbook): the share of bad events in a window divided by the error budget
``1 - target``. A rule ``(long, short, factor)`` fires when the burn rate over the last ``long``
*and* over the last ``short`` seconds both exceed ``factor``. The defaults are the workbook's
recommendation for a 30-day SLO: 1 h and 5 min above 14.4 (2 % of the budget; page), 6 h and
30 min above 6 (5 %; page), 3 days and 6 h above 1 (10 %; ticket). Pages are ``critical``
alerts, tickets ``warning``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from modelops_core.monitoring.alerts import Alert, MonitorValue
from modelops_core.monitoring.errors import MonitoringError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

#: The quantiles of every window.
QUANTILES = (50, 95, 99)
GOOD_WORDS = frozenset({"ok", "success", "succeeded"})
ERROR_WORDS = frozenset({"error", "failed", "failure", "timeout"})
JSONL_SUFFIXES = (".jsonl", ".ndjson")
PARQUET_SUFFIXES = (".parquet", ".pq")
#: the most windows a report holds (a longer span needs a longer window).
MAX_WINDOWS = 100_000
#: examples of bad values kept per finding.
EXAMPLES = 3

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")


class HealthLogError(MonitoringError, ValueError):
    """A request log that cannot be read, or a health setting that cannot be used; the message
    names the file (and line) or the setting, and what to do."""


def parse_duration(text: str | float, *, what: str = "duration") -> float:
    """Seconds of ``"5m"``, ``"1h"``, ``"3d"``, ``"300ms"`` or a number of seconds."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        seconds = float(text)
    else:
        match = _DURATION.match(str(text))
        if match is None:
            raise HealthLogError(
                f"{what} {text!r}: write a number and a unit, e.g. 300ms, 30s, 5m, 1h or 3d"
            )
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if not 0 < seconds < math.inf:
        raise HealthLogError(f"{what} {text!r}: use a positive duration")
    return seconds


def format_duration(seconds: float) -> str:
    """``300.0`` -> ``"5m"``, ``3600.0`` -> ``"1h"`` (the largest unit that divides it)."""
    for unit in ("d", "h", "m", "s"):
        size = _UNITS[unit]
        if seconds >= size and float(seconds / size).is_integer():
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


@attrs.frozen
class SLO:
    """A service level objective: the share of good requests over ``period``.

    :param name: ``"availability"`` (good: not an error) or ``"latency"`` (good: answered in at
        most ``latency_ms``).
    :param target: the share of good requests, e.g. 0.999.
    :param latency_ms: the latency threshold of a latency SLO.
    :param period: seconds the objective is measured over (30 days).
    """

    name: str
    target: float
    latency_ms: float | None = None
    period: float = 30 * 86400.0

    @property
    def label(self) -> str:
        if self.latency_ms is None:
            return self.name
        return f"{self.name}<={self.latency_ms:g}ms"

    @property
    def budget(self) -> float:
        """The error budget: the share of bad requests the objective allows."""
        return round(1.0 - self.target, 12)

    @classmethod
    def parse(cls, text: str) -> SLO:
        """``availability=99.9`` or ``latency<=300ms=99`` (targets in percent)."""
        name, _, target_text = text.rpartition("=")
        name = name.strip()
        forms = "use availability=99.9 or latency<=300ms=99 (the target in percent)"
        try:
            percent = float(target_text.rstrip("% "))
        except ValueError:
            raise HealthLogError(f"--slo {text!r}: no target after '='; {forms}") from None
        if not 0 < percent < 100:
            raise HealthLogError(f"--slo {text!r}: the target must be a percentage in (0, 100)")
        if percent <= 1:
            raise HealthLogError(
                f"--slo {text!r}: a target of {percent}% looks like a fraction; write it in "
                f"percent ({percent * 100:g} for {percent})"
            )
        if name == "availability":
            return cls("availability", round(percent / 100, 12))
        match = re.fullmatch(r"latency\s*(?:<=|:)\s*(.+)", name)
        if match is None:
            raise HealthLogError(f"--slo {text!r}: unknown objective {name!r}; {forms}")
        threshold = parse_duration(match.group(1), what=f"--slo {text!r}: the latency") * 1000
        return cls("latency", round(percent / 100, 12), latency_ms=threshold)


@attrs.frozen
class BurnRule:
    """A multi-window burn-rate rule: fire when the burn rate over the last ``long`` and over
    the last ``short`` seconds both exceed ``factor``."""

    long: float
    short: float
    factor: float
    severity: str

    @property
    def label(self) -> str:
        return f"{format_duration(self.long)}/{format_duration(self.short)}>{self.factor:g}x"


#: The SRE workbook's recommended rules for a 30-day SLO (its table 5-8).
DEFAULT_RULES = (
    BurnRule(3600.0, 300.0, 14.4, "critical"),
    BurnRule(6 * 3600.0, 1800.0, 6.0, "critical"),
    BurnRule(3 * 86400.0, 6 * 3600.0, 1.0, "warning"),
)


@attrs.frozen
class HealthFinding:
    """A problem with the log's rows: what, how many rows, the first line, a few examples."""

    kind: str
    message: str
    rows: int = 0
    first_line: int | None = None
    examples: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "message": self.message,
            "rows": self.rows,
            "first_line": self.first_line,
            "examples": list(self.examples),
        }


@attrs.frozen(eq=False)
class RequestLog:
    """The usable rows of a request log as columns (one entry per request).

    :param error: True for an error, False for a served request, None-like (``known`` False)
        for an unknown status.
    :param latency_ms: NaN where the row's latency was unusable.
    """

    path: str
    timestamp: NDArray[np.float64]
    latency_ms: NDArray[np.float64]
    error: NDArray[np.bool_]
    known: NDArray[np.bool_]
    model: tuple[str, ...]
    version: tuple[str, ...]
    findings: tuple[HealthFinding, ...] = ()

    def __len__(self) -> int:
        return int(self.timestamp.shape[0])

    def select(self, rows: NDArray[Any]) -> RequestLog:
        """The rows a boolean mask or an array of row numbers picks, in that order."""
        import numpy as np

        picked = np.flatnonzero(rows) if rows.dtype == np.bool_ else rows
        return RequestLog(
            self.path,
            self.timestamp[picked],
            self.latency_ms[picked],
            self.error[picked],
            self.known[picked],
            tuple(self.model[i] for i in picked),
            tuple(self.version[i] for i in picked),
            self.findings,
        )


class _Problems:
    """Counts bad rows per kind, keeping the first line and a few examples."""

    def __init__(self) -> None:
        self.kinds: dict[str, list[Any]] = {}

    def add(self, kind: str, line: int, example: Any) -> None:
        entry = self.kinds.setdefault(kind, [0, line, []])
        entry[0] += 1
        if len(entry[2]) < EXAMPLES:
            entry[2].append(repr(example)[:80])

    def findings(self, path: str) -> tuple[HealthFinding, ...]:
        what = {
            "invalid_line": "lines that are not a JSON object were skipped",
            "bad_timestamp": "rows without a usable timestamp (Unix seconds or ISO 8601) were "
            "skipped",
            "bad_latency": "rows whose latency_ms is not a finite number >= 0 count for the "
            "error rate only",
            "unknown_status": "rows whose status is neither an HTTP code nor ok/success/error/"
            "failed/failure/timeout count for latency only",
        }
        found = []
        for kind, (rows, line, examples) in self.kinds.items():
            found.append(
                HealthFinding(
                    kind,
                    f"{path}: {rows} {what[kind]} (first at line {line}; e.g. "
                    f"{', '.join(examples)})",
                    rows,
                    line,
                    tuple(examples),
                )
            )
        return tuple(found)


def parse_timestamp(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.timestamp()
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    return None


def _status(value: Any) -> bool | None:
    """True for an error, False for a served request, None when unknown."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int):
        return value >= 500 if 100 <= value <= 599 else None
    if isinstance(value, str):
        word = value.strip().lower()
        if word in GOOD_WORDS:
            return False
        if word in ERROR_WORDS:
            return True
    return None


def _latency(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    number = float(value)
    return number if math.isfinite(number) and number >= 0 else math.nan


def read_request_log(path: str | Path) -> RequestLog:
    """The rows of a JSONL or Parquet request log, with a finding per kind of bad row.

    :raises HealthLogError: the file cannot be read, has no usable row, or lacks ``timestamp``.
    """
    import numpy as np

    source = Path(path)
    name = str(source)
    suffix = source.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        records: Iterable[tuple[int, Any]] = _parquet_rows(source)
    elif suffix in JSONL_SUFFIXES:
        records = _jsonl_rows(source)
    else:
        raise HealthLogError(
            f"{name}: a request log is a JSONL (.jsonl, .ndjson) or Parquet (.parquet) file"
        )
    problems = _Problems()
    stamps: list[float] = []
    latencies: list[float] = []
    errors: list[bool] = []
    known: list[bool] = []
    models: list[str] = []
    versions: list[str] = []
    has_timestamp = False
    rows = 0
    for line, record in records:
        if not isinstance(record, Mapping):
            problems.add("invalid_line", line, record)
            continue
        rows += 1
        has_timestamp = has_timestamp or "timestamp" in record
        stamp = parse_timestamp(record.get("timestamp"))
        if stamp is None:
            problems.add("bad_timestamp", line, record.get("timestamp"))
            continue
        latency = _latency(record.get("latency_ms"))
        if math.isnan(latency):
            problems.add("bad_latency", line, record.get("latency_ms"))
        status = _status(record.get("status"))
        if status is None:
            problems.add("unknown_status", line, record.get("status"))
        stamps.append(stamp)
        latencies.append(latency)
        errors.append(bool(status))
        known.append(status is not None)
        models.append(str(record.get("model") or ""))
        versions.append(str(record.get("version") or ""))
    if rows == 0:
        raise HealthLogError(
            f"{name}: no request in the file; each line must be one JSON object with "
            "timestamp, latency_ms and status"
        )
    if not has_timestamp:
        raise HealthLogError(
            f"{name}: no 'timestamp' column; each request needs timestamp (Unix seconds or "
            "ISO 8601), latency_ms and status"
        )
    if not stamps:
        raise HealthLogError(
            f"{name}: none of the {rows} rows has a usable timestamp (Unix seconds or ISO "
            f"8601); {problems.findings(name)[0].message}"
        )
    return RequestLog(
        name,
        np.asarray(stamps, dtype=np.float64),
        np.asarray(latencies, dtype=np.float64),
        np.asarray(errors, dtype=np.bool_),
        np.asarray(known, dtype=np.bool_),
        tuple(models),
        tuple(versions),
        problems.findings(name),
    )


def _jsonl_rows(path: Path) -> Iterable[tuple[int, Any]]:
    from modelops_core.datasets.errors import JsonlError
    from modelops_core.datasets.jsonl.reader import LineProblem, iter_lines

    try:
        for number, _, value in iter_lines(path):
            yield number, (None if isinstance(value, LineProblem) else value)
    except JsonlError as exc:
        raise HealthLogError(f"cannot read the request log: {exc}") from exc
    except OSError as exc:
        raise HealthLogError(
            f"{path}: cannot read the request log ({exc.strerror or exc})"
        ) from exc


def _parquet_rows(path: Path) -> Iterable[tuple[int, Any]]:
    try:
        import pyarrow.parquet as parquet  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError as exc:
        raise HealthLogError(
            f"{path}: reading Parquet needs pyarrow; pip install pyarrow (or write JSONL)"
        ) from exc
    try:
        handle = parquet.ParquetFile(path)
        row = 0
        for batch in handle.iter_batches(batch_size=65_536):
            for record in batch.to_pylist():
                row += 1
                yield row, record
    except (OSError, ValueError) as exc:
        raise HealthLogError(f"{path}: cannot read the Parquet file ({exc})") from exc


@attrs.frozen
class WindowHealth:
    """Latency quantiles and error rate of the requests in ``[start, end)``.

    Quantiles are None when no request in the window has a usable latency; the error rate is
    None when none has a known status.
    """

    start: float
    end: float
    requests: int
    errors: int
    error_rate: float | None
    p50: float | None
    p95: float | None
    p99: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": _iso(self.start),
            "end": _iso(self.end),
            "requests": self.requests,
            "errors": self.errors,
            "error_rate": self.error_rate,
            "p50_ms": self.p50,
            "p95_ms": self.p95,
            "p99_ms": self.p99,
        }


@attrs.frozen
class BurnRate:
    """One rule of one SLO for one subject, evaluated at ``at``.

    :param long_rate: the burn rate over the last ``rule.long`` seconds (None: no request).
    :param covered: seconds of the long window the log covers.
    """

    slo: SLO
    rule: BurnRule
    subject: str
    at: float
    long_rate: float | None
    short_rate: float | None
    long_requests: int
    short_requests: int
    covered: float

    @property
    def firing(self) -> bool:
        return (
            self.long_rate is not None
            and self.short_rate is not None
            and self.long_rate > self.rule.factor
            and self.short_rate > self.rule.factor
        )

    @property
    def notes(self) -> tuple[str, ...]:
        notes = []
        if self.short_requests == 0:
            notes.append(
                f"no request in the last {format_duration(self.rule.short)}: the rule cannot fire"
            )
        if self.covered < self.rule.long:
            covered = format_duration(self.covered) if self.covered > 0 else "0s"
            notes.append(
                f"the log covers {covered} of the {format_duration(self.rule.long)} window"
            )
        return tuple(notes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "slo": self.slo.label,
            "target": self.slo.target,
            "rule": self.rule.label,
            "subject": self.subject,
            "long_window": format_duration(self.rule.long),
            "short_window": format_duration(self.rule.short),
            "factor": self.rule.factor,
            "long_burn_rate": self.long_rate,
            "short_burn_rate": self.short_rate,
            "long_requests": self.long_requests,
            "short_requests": self.short_requests,
            "firing": self.firing,
            "severity": self.rule.severity,
            "notes": list(self.notes),
        }

    def alert(self) -> Alert:
        assert self.long_rate is not None and self.short_rate is not None
        return Alert(
            f"health.burn_rate.{self.slo.name}",
            self.rule.severity,
            f"{self.subject}: {self.slo.label} SLO of {self.slo.target:.4%} burns its error "
            f"budget {self.long_rate:.1f}x over {format_duration(self.rule.long)} and "
            f"{self.short_rate:.1f}x over {format_duration(self.rule.short)} "
            f"(threshold {self.rule.factor:g}x)",
            subject=f"{self.subject}|{self.rule.label}|{self.slo.label}",
            at=self.at,
            details=self.to_dict(),
        )


@attrs.frozen(eq=False)
class HealthReport:
    """Windows, totals per model version, burn rates and findings of one request log."""

    path: str
    window: float
    at: float
    windows: tuple[WindowHealth, ...]
    groups: Mapping[str, WindowHealth]
    burn_rates: tuple[BurnRate, ...]
    findings: tuple[HealthFinding, ...]

    @property
    def overall(self) -> WindowHealth:
        return self.groups["all"]

    def alerts(self) -> tuple[Alert, ...]:
        """An alert per firing burn-rate rule."""
        return tuple(rate.alert() for rate in self.burn_rates if rate.firing)

    def values(self) -> tuple[MonitorValue, ...]:
        """The monitor values of the last window and of each burn rate (for Prometheus)."""
        found: list[MonitorValue] = []
        window = format_duration(self.window)
        last = self.windows[-1]
        for subject, stats in self.groups.items():
            labels = {"subject": subject, "window": "log"}
            found += _window_values(stats, labels)
        found += _window_values(last, {"subject": "all", "window": window})
        for rate in self.burn_rates:
            for side, value in (("long", rate.long_rate), ("short", rate.short_rate)):
                duration = rate.rule.long if side == "long" else rate.rule.short
                found.append(
                    MonitorValue(
                        "burn_rate",
                        math.nan if value is None else value,
                        {
                            "slo": rate.slo.label,
                            "subject": rate.subject,
                            "window": format_duration(duration),
                        },
                        "share of bad requests / error budget",
                    )
                )
        return tuple(found)

    def to_dict(self) -> dict[str, Any]:
        return {
            "log": self.path,
            "window": format_duration(self.window),
            "at": _iso(self.at),
            "overall": self.overall.to_dict(),
            "groups": {name: stats.to_dict() for name, stats in self.groups.items()},
            "windows": [window.to_dict() for window in self.windows],
            "burn_rates": [rate.to_dict() for rate in self.burn_rates],
            "alerts": [alert.to_dict() for alert in self.alerts()],
            "findings": [finding.to_dict() for finding in self.findings],
        }


def _window_values(stats: WindowHealth, labels: Mapping[str, str]) -> list[MonitorValue]:
    def number(value: float | None) -> float:
        return math.nan if value is None else value

    return [
        MonitorValue("requests", float(stats.requests), labels, "requests in the window"),
        MonitorValue("error_rate", number(stats.error_rate), labels, "errors / known statuses"),
        MonitorValue("latency_p50_ms", number(stats.p50), labels, "median latency"),
        MonitorValue("latency_p95_ms", number(stats.p95), labels, "95th percentile latency"),
        MonitorValue("latency_p99_ms", number(stats.p99), labels, "99th percentile latency"),
    ]


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _stats(log: RequestLog, start: float, end: float, mask: Any) -> WindowHealth:
    """The stats of the rows ``mask`` picks (a boolean mask or a slice)."""
    import numpy as np

    latency = log.latency_ms[mask]
    latency = latency[~np.isnan(latency)]
    known = log.known[mask]
    errors = int(np.count_nonzero(log.error[mask] & known))
    counted = int(np.count_nonzero(known))
    quantiles: list[float | None] = [None, None, None]
    if latency.size:
        quantiles = [float(q) for q in np.percentile(latency, QUANTILES)]
    return WindowHealth(
        start,
        end,
        int(known.shape[0]),
        errors,
        errors / counted if counted else None,
        *quantiles,
    )


def _bad_share(log: RequestLog, slo: SLO, mask: NDArray[np.bool_]) -> tuple[float | None, int]:
    import numpy as np

    if slo.latency_ms is None:
        valid = mask & log.known
        bad = log.error & valid
    else:
        valid = mask & ~np.isnan(log.latency_ms)
        bad = valid & (log.latency_ms > slo.latency_ms)
    total = int(np.count_nonzero(valid))
    if total == 0:
        return None, 0
    return int(np.count_nonzero(bad)) / total, total


def health(
    log: RequestLog | str | Path,
    *,
    window: float | str = "5m",
    slos: Sequence[SLO | str] = (),
    rules: Sequence[BurnRule] = DEFAULT_RULES,
    at: float | None = None,
    by_version: bool = True,
) -> HealthReport:
    """The health of the requests in ``log``.

    :param window: the span of each window (``"5m"``, ``300``).
    :param slos: objectives (``SLO`` or ``"availability=99.9"``, ``"latency<=300ms=99"``) whose
        burn rates are evaluated with ``rules`` at ``at``.
    :param at: when to evaluate (Unix seconds; default: the last request's timestamp). Only
        requests up to ``at`` count.
    :param by_version: also per ``model/version`` (totals and burn rates).
    """
    import numpy as np

    span = parse_duration(window, what="--window")
    objectives = [slo if isinstance(slo, SLO) else SLO.parse(slo) for slo in slos]
    loaded = log if isinstance(log, RequestLog) else read_request_log(log)
    requests = loaded.select(np.argsort(loaded.timestamp, kind="stable"))
    when = float(requests.timestamp[-1]) if at is None else float(at)
    stop = int(np.searchsorted(requests.timestamp, when, side="right"))
    findings = list(requests.findings)
    if stop == 0:
        raise HealthLogError(
            f"{requests.path}: no request at or before {_iso(when)}; the log starts at "
            f"{_iso(float(requests.timestamp[0]))}"
        )
    upto = np.zeros(len(requests), dtype=np.bool_)
    upto[:stop] = True
    earliest = float(requests.timestamp[0])
    first = math.floor(earliest / span) * span
    count = math.floor(when / span) - math.floor(first / span) + 1
    if count > MAX_WINDOWS:
        raise HealthLogError(
            f"{requests.path}: the requests span {_iso(earliest)} to {_iso(when)}, "
            f"{count:,} windows of {format_duration(span)}; use a longer --window (at most "
            f"{MAX_WINDOWS:,} windows) or look for wrong timestamps (0 is 1970-01-01)"
        )
    starts = first + span * np.arange(count)
    bounds = np.searchsorted(requests.timestamp[:stop], np.append(starts, when + span), "left")
    bounds[-1] = stop
    windows = []
    empty: list[float] = []
    for number, start in enumerate(starts):
        rows = slice(int(bounds[number]), int(bounds[number + 1]))
        stats = _stats(requests, float(start), float(start + span), rows)
        if stats.requests == 0:
            empty.append(float(start))
        windows.append(stats)
    if empty:
        findings.append(
            HealthFinding(
                "empty_window",
                f"{len(empty)} of {count} windows of {format_duration(span)} have no request "
                f"(first at {_iso(empty[0])}): no latency or error rate there",
                0,
                None,
                tuple(_iso(start) for start in empty[:EXAMPLES]),
            )
        )
    subjects: dict[str, NDArray[np.bool_]] = {"all": upto}
    if by_version:
        pairs = zip(requests.model, requests.version, strict=True)
        names = np.asarray([f"{m}/{v}" if m or v else "" for m, v in pairs], dtype=object)
        for name in sorted({str(n) for n in names if n}):
            subjects[name] = upto & (names == name)
    groups = {
        name: _stats(requests, float(first), float(starts[-1] + span), mask)
        for name, mask in subjects.items()
    }
    burn_rates = []
    for slo in objectives:
        for name, mask in subjects.items():
            for rule in rules:
                long_mask = mask & (requests.timestamp > when - rule.long)
                short_mask = mask & (requests.timestamp > when - rule.short)
                long_share, long_total = _bad_share(requests, slo, long_mask)
                short_share, short_total = _bad_share(requests, slo, short_mask)
                burn_rates.append(
                    BurnRate(
                        slo,
                        rule,
                        name,
                        when,
                        None if long_share is None else long_share / slo.budget,
                        None if short_share is None else short_share / slo.budget,
                        long_total,
                        short_total,
                        min(rule.long, when - earliest),
                    )
                )
    return HealthReport(
        requests.path,
        span,
        when,
        tuple(windows),
        groups,
        tuple(burn_rates),
        tuple(findings),
    )
