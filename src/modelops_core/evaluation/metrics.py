"""The names users know for metrics: ``Metric``, ``TaskType``, and the metric classes.

The classes (``AccuracyMetric`` … ``AUCROCMetric``, ``ConfusionMatrix``) live in metric
plugins (``modelops-metrics`` ships them). The core does not know those plugins' modules:
:func:`metric_class` asks the registered metric components which factory carries the class name
and imports it on first use, so a plugin that adds metric classes needs no change here, the
core never imports a plugin at import time, and a missing plugin gets a message saying what to
install.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from modelops_core.errors import ComponentImportError, ModelOpsError

if TYPE_CHECKING:
    from modelops_core.plugins.components import ComponentSpec
    from modelops_core.runtime import Runtime


class TaskType(enum.StrEnum):
    """The kind of prediction task; it chooses the default metrics of :func:`create_evaluator`."""

    CLASSIFICATION = "classification"
    BINARY = "binary"
    MULTICLASS = "multiclass"
    REGRESSION = "regression"
    RANKING = "ranking"
    GENERATION = "generation"


class Metric:
    """Base class for a custom metric: set ``name``, implement ``compute``.

    >>> class ShareOfYes(Metric):
    ...     name = "share_of_yes"
    ...     def compute(self, predictions, references):
    ...         return sum(p == "yes" for p in predictions) / len(predictions)
    >>> ShareOfYes()(["yes", "no"], ["yes", "yes"])
    0.5

    A metric is callable, so it can be given to
    :class:`~modelops_core.evaluation.evaluator.Evaluator` directly; registered from a plugin with
    ``registry.add(name, "module:Class")`` it becomes selectable by name. What a metric needs is
    declared on it, never listed in the core:

    - ``needs_scores = True``: the evaluator passes the scores column as ``predictions``;
    - ``needs_probabilities = True``: those scores must lie in [0, 1] (checked up front);
    - ``takes_arrays = True``: columns arrive as numpy arrays rather than plain lists.

    Check inputs with :mod:`modelops_core.evaluation.inputs`, so bad input gets the same
    :class:`~modelops_core.errors.MetricInputError` from every metric.
    """

    name: ClassVar[str] = ""
    higher_is_better: ClassVar[bool | None] = True
    needs_scores: ClassVar[bool] = False
    needs_probabilities: ClassVar[bool] = False
    takes_arrays: ClassVar[bool] = False

    def compute(self, predictions: Sequence[Any], references: Sequence[Any]) -> Any:
        """The metric's value; override it."""
        raise NotImplementedError(f"{type(self).__name__}.compute is not implemented.")

    def __call__(self, predictions: Sequence[Any], references: Sequence[Any]) -> Any:
        return self.compute(predictions, references)


class MetricsPluginMissingError(ModelOpsError, ImportError):
    """A metric class was asked for but no installed plugin provides it (or it cannot load)."""


def metric_class(name: str, runtime: Runtime | None = None) -> Any:
    """The metric class ``name`` (``"AccuracyMetric"``), found among the registered metrics.

    The class is the one whose registered factory is named ``name`` (``module:AccuracyMetric``);
    it is imported now. Without ``runtime`` every installed plugin is looked at (the embedded
    default configuration, whatever ``MODELOPS_*`` selection the environment makes), since the
    class was asked for by name.
    """
    if runtime is None:
        runtime = _every_installed_plugin()
    from modelops_core.plugins.kinds import Kind

    found = [spec for spec in runtime.components[Kind.METRIC] if _class_name(spec) == name]
    factories = {spec.factory_path: spec for spec in found}
    if not factories:
        problems = "".join(f" ({problem})" for problem in runtime.problems)
        raise MetricsPluginMissingError(
            f"No installed plugin registers a metric made by a class named {name!r}{problems}; "
            "install the plugin that provides it (the standard metrics: `pip install "
            "modelops-metrics`, or `pip install ./plugins/metrics`), or import the class from "
            "its own module."
        )
    if len(factories) > 1:
        where = ", ".join(
            f"{path} (metric {spec.name!r} of {spec.distribution or spec.plugin})"
            for path, spec in sorted(factories.items())
        )
        raise MetricsPluginMissingError(
            f"Several plugins register a metric class named {name!r}: {where}; import the one "
            "you mean from its module."
        )
    (spec,) = factories.values()
    try:
        return spec.load()
    except ComponentImportError as exc:
        install = spec.distribution or spec.plugin
        raise MetricsPluginMissingError(
            f"{name} is provided by the metric {spec.name!r} of {install}, which cannot be "
            f"imported ({exc.__cause__ or exc}); run `pip install {install}` to install or "
            "repair it."
        ) from exc


def _class_name(spec: ComponentSpec) -> str:
    """The last name of a factory's ``module:Class`` path, without importing it."""
    return spec.factory_path.rpartition(":")[2].rpartition(".")[2]


def _every_installed_plugin() -> Runtime:
    import warnings

    from modelops_core.config import Config
    from modelops_core.runtime import Runtime

    with warnings.catch_warnings():  # a broken unrelated plugin is reported only if needed
        warnings.simplefilter("ignore")
        return Runtime(Config(), strict=False, environ={})


def __getattr__(name: str) -> Any:
    # class names only: dunder probes (``__path__``, ``__wrapped__``) must not load plugins
    if name[:1].isupper():
        found = metric_class(name)
        globals()[name] = found  # resolved once, like an import
        return found
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
