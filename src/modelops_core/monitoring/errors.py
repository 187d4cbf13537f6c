"""The errors of the monitoring package (a family under :class:`ModelOpsError`)."""

from __future__ import annotations

from modelops_core.errors import ModelOpsError


class MonitoringError(ModelOpsError):
    """Monitoring input that cannot be used; the message names the file, column or method."""


class ProfileError(MonitoringError, ValueError):
    """A profile cannot be built, read or merged (unreadable file, bad JSON, other edges)."""


class DriftMethodError(MonitoringError, ValueError):
    """A drift method is unknown or cannot test a column of that kind."""


class ReferenceProfileNotFoundError(MonitoringError, LookupError):
    """A model version has no reference profile stored with it."""
