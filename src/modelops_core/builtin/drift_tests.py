"""The drift methods of the monitoring package (``ks``, ``chisquare``, ``z``, ``psi``,
``wasserstein``, ``jensenshannon``, ``hellinger``, ``anderson``, ``mmd``), declared by the core's
own plugin. Only numpy and scipy, both core dependencies: see docs/decisions/0004-monitoring.md."""

from __future__ import annotations

from modelops_core.plugins.components import ComponentRegistrar
from modelops_core.plugins.markers import hookimpl

#: name -> (class in modelops_core.monitoring.methods, description).
DRIFT_TESTS = {
    "ks": ("KolmogorovSmirnov", "two-sample Kolmogorov-Smirnov p-value (numeric), p < 0.05"),
    "chisquare": ("ChiSquare", "chi-square p-value of the category counts, p < 0.05"),
    "z": ("ZTest", "two-proportion Z-test p-value of a binary column, p < 0.05"),
    "psi": ("PopulationStabilityIndex", "population stability index over bins, >= 0.1"),
    "wasserstein": ("Wasserstein", "Wasserstein distance / reference std (numeric), >= 0.1"),
    "jensenshannon": ("JensenShannon", "Jensen-Shannon distance over bins or categories, >= 0.1"),
    "hellinger": ("Hellinger", "Hellinger distance over bins or categories, >= 0.1"),
    "anderson": ("AndersonDarling", "k-sample Anderson-Darling p-value (numeric), p < 0.05"),
    "mmd": ("MaximumMeanDiscrepancy", "Gaussian-kernel MMD permutation p-value, p < 0.05"),
}


@hookimpl
def modelops_register_drift_tests(registry: ComponentRegistrar) -> None:
    for name, (attr, description) in DRIFT_TESTS.items():
        registry.add(name, f"modelops_core.monitoring.methods:{attr}", description=description)
