"""``GET /metrics``: request counts, errors and a latency histogram per model, version and
variant, in the Prometheus text format (0.0.4), kept in memory by each server process.

- ``modelops_requests_total{model,version,variant,status}``: answered requests (shadow copies
  are counted under ``variant="shadow:<alias>"``);
- ``modelops_request_errors_total{model,version,variant}``: those answered with a status >= 400;
- ``modelops_request_duration_seconds{model,version,variant}``: a histogram of latencies.
"""

from __future__ import annotations

import bisect
import threading

__all__ = ["BUCKETS", "Metrics"]

#: the histogram's upper bounds, in seconds
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """Counters and histograms (a lock per update: a few hundred nanoseconds)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, str, int], int] = {}
        self._errors: dict[tuple[str, str, str], int] = {}
        self._histograms: dict[tuple[str, str, str], list[float]] = {}

    def observe(self, model: str, version: str, variant: str, status: int, seconds: float) -> None:
        """Count one answered request."""
        series = (model, version, variant)
        with self._lock:
            key = (model, version, variant, status)
            self._requests[key] = self._requests.get(key, 0) + 1
            if status >= 400:
                self._errors[series] = self._errors.get(series, 0) + 1
            histogram = self._histograms.get(series)
            if histogram is None:
                # one count per bucket, then +Inf, then the sum of the latencies
                histogram = self._histograms[series] = [0.0] * (len(BUCKETS) + 2)
            histogram[bisect.bisect_left(BUCKETS, seconds)] += 1
            histogram[-1] += seconds

    def requests(self, model: str, version: str | None = None) -> int:
        """Answered requests of ``model`` (of one ``version``), all statuses and variants."""
        with self._lock:
            return sum(
                count
                for (name, answered_by, _, _), count in self._requests.items()
                if name == model and (version is None or answered_by == version)
            )

    def render(self) -> str:
        """The Prometheus text exposition."""
        with self._lock:
            requests = sorted(self._requests.items())
            errors = sorted(self._errors.items())
            histograms = sorted((key, list(values)) for key, values in self._histograms.items())
        lines = [
            "# HELP modelops_requests_total Requests answered, by model, version, variant "
            "and HTTP status.",
            "# TYPE modelops_requests_total counter",
        ]
        for (model, version, variant, status), count in requests:
            lines.append(
                f"modelops_requests_total{{{_labels(model, version, variant)},"
                f'status="{status}"}} {count}'
            )
        lines += [
            "# HELP modelops_request_errors_total Requests answered with a status >= 400.",
            "# TYPE modelops_request_errors_total counter",
        ]
        for (model, version, variant), count in errors:
            lines.append(
                f"modelops_request_errors_total{{{_labels(model, version, variant)}}} {count}"
            )
        lines += [
            "# HELP modelops_request_duration_seconds Time from request to answer.",
            "# TYPE modelops_request_duration_seconds histogram",
        ]
        for (model, version, variant), values in histograms:
            labels = _labels(model, version, variant)
            cumulative: float = 0.0
            for bound, hits in zip(BUCKETS, values, strict=False):  # +Inf and sum: below
                cumulative += hits
                lines.append(
                    f'modelops_request_duration_seconds_bucket{{{labels},le="{bound:g}"}} '
                    f"{cumulative:g}"
                )
            cumulative += values[len(BUCKETS)]
            lines.append(
                f'modelops_request_duration_seconds_bucket{{{labels},le="+Inf"}} {cumulative:g}'
            )
            lines.append(f"modelops_request_duration_seconds_sum{{{labels}}} {values[-1]:.6f}")
            lines.append(f"modelops_request_duration_seconds_count{{{labels}}} {cumulative:g}")
        return "\n".join(lines) + "\n"


def _labels(model: str, version: str, variant: str) -> str:
    return f'model="{_escape(model)}",version="{_escape(version)}",variant="{_escape(variant)}"'


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
