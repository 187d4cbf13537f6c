"""The contract suite of drift tests (``modelops_register_drift_tests``).

A drift test offers ``name``, ``kinds`` (``"numeric"``/``"categorical"``), ``threshold``,
``direction`` (``"p_value"``: drift below the threshold; ``"distance"``: drift at or above),
``drifted(value)`` and ``compute(reference, current)`` on two
:class:`~modelops_core.monitoring.profile.ColumnProfile` values, returning a
:class:`~modelops_core.monitoring.methods.Statistic`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from modelops_core.monitoring.profile import CATEGORICAL, NUMERIC, ColumnProfile, Profile
from modelops_core.plugins.kinds import Kind
from modelops_core.testing.contracts.base import ComponentContract


def _column(values: Any) -> ColumnProfile:
    return Profile.build({"x": list(values)}).columns["x"]


class DriftTestContract(ComponentContract):
    """Same data: no drift; clearly shifted data: drift; the same result every time; the same
    value from one profile as from the merge of its halves."""

    kind = Kind.DRIFT_TEST

    def samples(self, kind: str) -> tuple[list[Any], list[Any]]:
        """(reference, clearly drifted current) values of ``kind`` (override to change)."""
        rng = np.random.default_rng(7)
        if kind == NUMERIC:
            return list(rng.normal(0, 1, 400)), list(rng.normal(2, 1, 400))
        return (
            list(rng.choice(["a", "b"], 400, p=[0.8, 0.2])),
            list(rng.choice(["a", "b"], 400, p=[0.2, 0.8])),
        )

    def test_it_declares_what_it_tests(self, component: Any) -> None:
        assert isinstance(component.name, str) and component.name
        assert set(component.kinds) <= {NUMERIC, CATEGORICAL} and component.kinds
        assert component.direction in ("p_value", "distance")
        assert isinstance(component.threshold, float) and math.isfinite(component.threshold)

    def test_a_value_that_is_not_a_number_is_no_drift(self, component: Any) -> None:
        assert component.drifted(math.nan) is False

    def test_the_same_data_does_not_drift(self, component: Any) -> None:
        for kind in component.kinds:
            reference, _ = self.samples(kind)
            statistic = component.compute(_column(reference), _column(reference))
            assert not component.drifted(statistic.value), (kind, statistic)

    def test_clearly_shifted_data_drifts(self, component: Any) -> None:
        for kind in component.kinds:
            reference, current = self.samples(kind)
            statistic = component.compute(_column(reference), _column(current))
            assert component.drifted(statistic.value), (kind, statistic)

    def test_results_are_deterministic(self, component: Any) -> None:
        for kind in component.kinds:
            reference, current = self.samples(kind)
            first = component.compute(_column(reference), _column(current))
            again = component.compute(_column(reference), _column(current))
            assert first == again

    def test_a_merged_profile_gives_the_same_value(self, component: Any) -> None:
        for kind in component.kinds:
            reference, current = self.samples(kind)
            whole = component.compute(_column(reference), _column(current))
            halves = _column(reference[:150]).merge(_column(reference[150:]))
            merged = component.compute(halves, _column(current))
            assert merged.value == pytest.approx(whole.value, rel=1e-9, abs=1e-12)
