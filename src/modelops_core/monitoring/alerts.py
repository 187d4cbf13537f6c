"""Alerts: a finding above its threshold becomes one ``modelops_on_alert`` call per window.

An :class:`Alert` names what fired (``"health.burn_rate.availability"``), how bad it is
(``info`` < ``warning`` < ``critical``) and what it is about (``subject``: a column, a model
version, ``"all"``). :class:`AlertManager` fires it through the runtime's hook unless the same
alert (same name and subject) already fired in the same window: windows are fixed spans of
``window`` seconds counted from the Unix epoch, so two runs of ``modelops monitor health`` an
hour apart agree on which window a finding belongs to. A more severe alert in the same window is
not a duplicate. With ``state=`` a JSON file remembers what fired, across processes: it is read
and written under a lock and replaced atomically, so racing processes fire an alert once.

The core's own plugin (:mod:`modelops_core.builtin.alert_sinks`) hands every
``modelops_on_alert`` call to the sinks of ``[alerts] sinks`` (components of the
``alert_sink`` kind; the first-party ones come with ``modelops-alerts``). A sink that cannot
deliver raises :class:`AlertSinkError`; the router turns it into an
:class:`AlertDeliveryWarning` naming the sink, tries the other sinks, and the manager does not
record the alert as fired, so the next run tries again.
"""

from __future__ import annotations

import json
import math
import os
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

from modelops_core.config import frozen_mapping, mask_urls_in
from modelops_core.monitoring.errors import MonitoringError

if TYPE_CHECKING:
    from modelops_core.runtime import Runtime

#: The severities, least severe first.
SEVERITIES = ("info", "warning", "critical")
#: The layout of the state file.
STATE_VERSION = 1
#: Windows of state kept before the newest one (older entries are dropped when the file is
#: written; counted from the newest entry, not the clock, so replaying an old log works).
KEEP_WINDOWS = 2
#: Test hook: ``after-send`` stops the process with ``os._exit(137)`` after the hook was called
#: and before the state is written, the way a kill would. Only the crash tests set it.
CRASH_AT_ENV = "MODELOPS_TEST_ALERTS_CRASH_AT"


class AlertError(MonitoringError, ValueError):
    """An alert or alert setting that cannot be used (unknown severity, bad window)."""


class AlertSinkError(MonitoringError):
    """An alert sink could not deliver; the message names the sink and its target."""


class AlertDeliveryWarning(UserWarning):
    """A configured sink failed to deliver an alert (the other sinks were still tried)."""


class AlertStateWarning(UserWarning):
    """The state file of the alerts was unreadable and was set aside (its path is named)."""


def _severity(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in SEVERITIES:
        raise AlertError(
            f"{attribute.name}={value!r}: use one of {', '.join(SEVERITIES)}",
        )


@attrs.frozen
class Alert:
    """One alert.

    :param name: what fired, dotted: ``"health.burn_rate.availability"``, ``"drift.ks"``.
    :param severity: ``"info"``, ``"warning"`` or ``"critical"``.
    :param message: one line a person reads.
    :param subject: what it is about (a column, ``"model/version"``, ``"all"``); alerts with the
        same name and subject are duplicates of each other within a window.
    :param at: when the finding holds (Unix seconds); None: when it is fired.
    :param details: structured details (values, thresholds, windows), JSON-serializable.
    """

    name: str
    severity: str = attrs.field(validator=_severity)
    message: str
    subject: str = ""
    at: float | None = None
    details: Mapping[str, Any] = attrs.field(factory=dict, converter=frozen_mapping)

    @property
    def key(self) -> str:
        """What makes two alerts duplicates: ``name`` and ``subject``."""
        return f"{self.name}|{self.subject}"

    def to_dict(self) -> dict[str, Any]:
        """The alert as JSON-ready data (what the webhook sink posts)."""
        return {
            "name": self.name,
            "severity": self.severity,
            "message": self.message,
            "subject": self.subject,
            "at": self.at,
            "details": _plain(self.details),
        }

    @classmethod
    def from_hook(cls, name: str, severity: str, message: str, details: Mapping[str, Any]) -> Alert:
        """The alert of a ``modelops_on_alert`` call (subject and time from ``details``)."""
        subject = details.get("subject", details.get("column", ""))
        at = details.get("at")
        return cls(
            name,
            severity if severity in SEVERITIES else "warning",
            message,
            subject=str(subject) if subject is not None else "",
            at=float(at) if isinstance(at, int | float) and not isinstance(at, bool) else None,
            details=details,
        )


@attrs.frozen
class MonitorValue:
    """One value a monitor measured, for sinks that export values (Prometheus).

    :param name: a metric name, ``[a-z_][a-z0-9_]*``: ``"latency_p95_ms"``, ``"burn_rate"``.
    :param value: the value (NaN when the window had no data).
    :param labels: what the value is about: ``{"model": "m", "window": "5m"}``.
    :param help: one line on what the value means.
    """

    name: str
    value: float
    labels: Mapping[str, str] = attrs.field(factory=dict, converter=frozen_mapping)
    help: str = ""


@runtime_checkable
class AlertSink(Protocol):
    """What an ``alert_sink`` component offers (``publish`` is optional)."""

    name: str

    def send(self, alert: Alert) -> None: ...


@attrs.frozen
class Delivery:
    """What became of one alert: fired, or suppressed as a duplicate of one in its window.

    :param window: the window's start and end (Unix seconds).
    :param failed: the sinks that could not deliver it (their warnings say why).
    """

    alert: Alert
    fired: bool
    reason: str
    window: tuple[float, float]
    failed: tuple[str, ...] = ()


def _plain(value: Any) -> Any:
    """``value`` with mappings and sequences made JSON-ready (non-finite floats as None)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def window_of(at: float, window: float) -> tuple[float, float]:
    """The window holding ``at``: ``[k * window, (k + 1) * window)``."""
    start = math.floor(at / window) * window
    return start, start + window


class AlertManager:
    """Fires alerts through ``modelops_on_alert``, suppressing duplicates per window.

    :param runtime: the runtime whose hook fires (and whose ``[alerts] sinks`` receive them).
    :param window: seconds per window (default: ``[alerts] window`` of the configuration).
    :param state: a JSON file remembering what fired, shared by processes; None: this object
        remembers alone.
    :param min_severity: alerts less severe than this are not fired.
    :param clock: the time of alerts without ``at`` (Unix seconds).
    """

    def __init__(
        self,
        runtime: Runtime,
        *,
        window: float | None = None,
        state: str | os.PathLike[str] | None = None,
        min_severity: str = "info",
        clock: Callable[[], float] = time.time,
    ) -> None:
        chosen = runtime.config.alert_window if window is None else window
        if isinstance(chosen, bool) or not 0 < chosen < math.inf:
            raise AlertError(f"window={chosen!r}: use a positive number of seconds")
        if min_severity not in SEVERITIES:
            raise AlertError(f"min_severity={min_severity!r}: use one of {', '.join(SEVERITIES)}")
        self.runtime = runtime
        self.window = float(chosen)
        self.state = None if state is None else Path(state)
        self.min_severity = min_severity
        self.clock = clock
        self._memory: dict[str, dict[str, Any]] = {}

    def fire(self, alerts: Iterable[Alert]) -> tuple[Delivery, ...]:
        """Fire each alert unless it is a duplicate in its window, or below ``min_severity``."""
        floor = SEVERITIES.index(self.min_severity)
        deliveries = []
        with self._locked_state() as seen:
            for alert in alerts:
                at = self.clock() if alert.at is None else alert.at
                window = window_of(at, self.window)
                rank = SEVERITIES.index(alert.severity)
                if rank < floor:
                    deliveries.append(
                        Delivery(alert, False, f"below min_severity {self.min_severity}", window)
                    )
                    continue
                before = seen.get(alert.key)
                if before is not None and before["window"] == window[0] and before["rank"] >= rank:
                    reason = (
                        f"duplicate: {before['severity']} already fired in the window "
                        f"{_stamp(window[0])} - {_stamp(window[1])}"
                    )
                    deliveries.append(Delivery(alert, False, reason, window))
                    continue
                if alert.at is None:
                    alert = attrs.evolve(alert, at=at)
                failed = self._send(alert)
                deliveries.append(Delivery(alert, True, "fired", window, failed))
                if os.environ.get(CRASH_AT_ENV) == "after-send":
                    os._exit(137)
                if not failed:
                    seen[alert.key] = {
                        "window": window[0],
                        "rank": rank,
                        "severity": alert.severity,
                        "fired_at": self.clock(),
                    }
        return tuple(deliveries)

    def publish(self, values: Sequence[MonitorValue]) -> tuple[str, ...]:
        """Hand ``values`` to every configured sink that offers ``publish``; the names of the
        sinks that could not take them (an :class:`AlertDeliveryWarning` each)."""
        failed = []
        for name, sink in configured_sinks(self.runtime):
            publish = getattr(sink, "publish", None)
            if not callable(publish):
                continue
            try:
                publish(values)
            except AlertSinkError as exc:
                failed.append(name)
                warnings.warn(
                    AlertDeliveryWarning(f"alert sink {name!r} could not publish values: {exc}"),
                    stacklevel=2,
                )
        return tuple(failed)

    def _send(self, alert: Alert) -> tuple[str, ...]:
        details = {**alert.details, "subject": alert.subject, "at": alert.at}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", AlertDeliveryWarning)
            self.runtime.hook.modelops_on_alert(
                name=alert.name,
                severity=alert.severity,
                message=alert.message,
                details=details,
                runtime=self.runtime,
            )
        failed = []
        for entry in caught:
            if issubclass(entry.category, AlertDeliveryWarning):
                failed.append(getattr(entry.message, "sink", "?"))
            warnings.warn_explicit(entry.message, entry.category, entry.filename, entry.lineno)
        return tuple(failed)

    @contextmanager
    def _locked_state(self) -> Iterator[dict[str, dict[str, Any]]]:
        if self.state is None:
            yield self._memory
            return
        self.state.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.state.with_name(self.state.name + ".lock")
        with lock_path.open("a+b") as lock:
            _lock(lock)
            seen = self._read_state()
            yield seen
            self._write_state(seen)

    def _read_state(self) -> dict[str, dict[str, Any]]:
        assert self.state is not None
        try:
            text = self.state.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise AlertError(
                f"{self.state}: cannot read the alert state ({exc.strerror or exc}); check its "
                "permissions or pass another state file"
            ) from exc
        try:
            document = json.loads(text)
            entries = document["alerts"]
            if document.get("version") != STATE_VERSION or not isinstance(entries, dict):
                raise ValueError("not a version-1 alert state")
            for entry in entries.values():
                float(entry["window"]), int(entry["rank"]), str(entry["severity"])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            aside = self.state.with_name(f"{self.state.name}.corrupt-{int(time.time())}")
            os.replace(self.state, aside)
            warnings.warn(
                AlertStateWarning(
                    f"{self.state}: the alert state is unreadable ({exc}); it was moved to "
                    f"{aside} and alerts fire as if nothing had fired yet"
                ),
                stacklevel=4,
            )
            return {}
        return dict(entries)

    def _write_state(self, seen: dict[str, dict[str, Any]]) -> None:
        assert self.state is not None
        newest = max((float(entry["window"]) for entry in seen.values()), default=0.0)
        oldest = newest - KEEP_WINDOWS * self.window
        kept = {key: entry for key, entry in seen.items() if entry["window"] >= oldest}
        temporary = self.state.with_name(f".{self.state.name}.{os.getpid()}.tmp")
        with temporary.open("w", encoding="utf-8") as handle:
            json.dump({"version": STATE_VERSION, "alerts": kept}, handle, indent=1, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.state)


def home_state(runtime: Runtime) -> Path:
    """The state file the CLI and :class:`~modelops_core.monitoring.drift.Monitor` share:
    ``<home>/monitoring/alerts.json``."""
    return Path(runtime.config.home) / "monitoring" / "alerts.json"


def _lock(handle: Any) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on Windows: one process at a time is assumed
        return
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX)


def _stamp(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


def configured_sinks(runtime: Runtime) -> list[tuple[str, Any]]:
    """The sinks of ``[alerts] sinks``, built with their options (``(name, sink)`` pairs)."""
    from modelops_core.plugins.kinds import Kind

    return [
        (choice.name, runtime.create(Kind.ALERT_SINK, choice))
        for choice in runtime.config.alert_sinks
    ]


def route(
    runtime: Runtime, name: str, severity: str, message: str, details: Mapping[str, Any]
) -> tuple[str, ...]:
    """Send one ``modelops_on_alert`` call to every configured sink; the names of those that
    failed (each an :class:`AlertDeliveryWarning` carrying ``sink``)."""
    if not runtime.config.alert_sinks:
        return ()
    alert = Alert.from_hook(name, severity, message, details)
    failed = []
    for sink_name, sink in configured_sinks(runtime):
        try:
            sink.send(alert)
        except AlertSinkError as exc:
            failed.append(sink_name)
            warning = AlertDeliveryWarning(
                f"alert sink {sink_name!r} could not deliver {alert.name!r}: "
                f"{mask_urls_in(str(exc))}"
            )
            warning.sink = sink_name  # type: ignore[attr-defined]
            warnings.warn(warning, stacklevel=2)
    return tuple(failed)
