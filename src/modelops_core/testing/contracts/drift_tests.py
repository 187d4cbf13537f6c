"""The contract suite of drift tests (``modelops_register_drift_tests``)."""

from __future__ import annotations

from modelops_core.plugins.kinds import Kind
from modelops_core.testing.contracts.base import ComponentContract


class DriftTestContract(ComponentContract):
    """The drift test suite (statistic checks arrive with the monitoring issue)."""

    kind = Kind.DRIFT_TEST
