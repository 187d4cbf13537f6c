"""The errors of A/B experiments; each is a serving error, so the server answers a bad
``POST /v1/feedback`` with its ``status``, and each names what is wrong and what to do."""

from __future__ import annotations

from modelops_core.serving.errors import RequestBodyError, ServingError

__all__ = [
    "ExperimentDefinitionError",
    "ExperimentError",
    "ExperimentStateError",
    "FeedbackError",
    "UnknownExperimentError",
    "UnknownMetricError",
    "UnknownUnitError",
]


class ExperimentError(ServingError, ValueError):
    """An experiment that cannot be started, read or analysed as asked."""

    status = 422


class ExperimentDefinitionError(ExperimentError):
    """A bad ``experiment start``: the split, a metric or guardrail spec, the minimum sample."""


class UnknownMetricError(ExperimentDefinitionError, LookupError):
    """A metric (or metric kind) the experiment does not know; the message lists the known."""


class UnknownExperimentError(ExperimentError, LookupError):
    """No experiment of that name (the message lists the stored ones)."""

    status = 404


class ExperimentStateError(ExperimentError):
    """A second running experiment on one model, stopping a stopped one, a damaged stored row."""

    status = 409


class FeedbackError(RequestBodyError):
    """A feedback record that cannot be used; names the file and line, or the body's field."""


class UnknownUnitError(FeedbackError, LookupError):
    """Feedback for a unit or request the experiment never exposed to either arm."""

    status = 404
