"""Every built-in drift method passes the drift-test contract suite, registered by the core's
own plugin like any plugin's."""

from __future__ import annotations

from modelops_core import builtin
from modelops_core.testing import DriftTestContract


class TestKolmogorovSmirnov(DriftTestContract):
    plugin = builtin
    component_name = "ks"
    distribution = "modelops-core"


class TestChiSquare(DriftTestContract):
    plugin = builtin
    component_name = "chisquare"


class TestZ(DriftTestContract):
    plugin = builtin
    component_name = "z"


class TestPsi(DriftTestContract):
    plugin = builtin
    component_name = "psi"


class TestWasserstein(DriftTestContract):
    plugin = builtin
    component_name = "wasserstein"


class TestJensenShannon(DriftTestContract):
    plugin = builtin
    component_name = "jensenshannon"


class TestHellinger(DriftTestContract):
    plugin = builtin
    component_name = "hellinger"


class TestAndersonDarling(DriftTestContract):
    plugin = builtin
    component_name = "anderson"


class TestMmd(DriftTestContract):
    plugin = builtin
    component_name = "mmd"
