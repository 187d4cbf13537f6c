"""The plugin contract: every hook a ``modelops`` plugin may implement.

Registration hooks (``modelops_register_<kind>s``) *declare* components: the plugin calls
``registry.add(name, factory)`` and the host owns the table; the configuration chooses.
Event hooks (``modelops_configure``, ``modelops_before_register`` …) let an embedding platform
add audit trails, notifications and policy gates.

Spec arguments are append-only: an implementation takes only the arguments it needs.
``docs/hooks.md`` is checked against this module by a test.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from modelops_core.plugins.markers import hookspec

if TYPE_CHECKING:
    from modelops_core.config import Config
    from modelops_core.plugins.components import ComponentRegistrar
    from modelops_core.runtime import Runtime


# --- registration hooks ------------------------------------------------------------------------


@hookspec
def modelops_register_metrics(registry: ComponentRegistrar) -> None:
    """Declare evaluation metrics.

    Called once per plugin when the runtime loads it; results are ignored. A metric factory
    returns an object with ``name`` and ``compute(predictions, references, **columns)``.

    :param registry: call ``registry.add(name, factory)`` for each metric; ``factory`` is a
        callable or a lazy ``"module:attr"`` string imported only when the metric is chosen.

    Use it in plugin modules only; the runtime calls it, never user code.
    """


@hookspec
def modelops_register_providers(registry: ComponentRegistrar) -> None:
    """Declare fine-tuning and inference providers (local, openai, vertex, bedrock …).

    Called once per plugin when the runtime loads it; results are ignored.

    :param registry: call ``registry.add(name, factory, profile=...)`` for each provider. The
        optional ``profile`` (a :class:`~modelops_core.plugins.protocols.ProviderProfile`) declares
        what the core knows without building the provider: the model names it claims, its
        dataset limits and its export shapes (converters named ``"module:attr"``, imported
        when used).

    Use it in plugin modules only; a provider is chosen with ``[providers] default = "name"``,
    ``provider=`` or, without either, by the model name its profile claims.
    """


@hookspec
def modelops_register_sanitizers(registry: ComponentRegistrar) -> None:
    """Declare dataset sanitizers (pii, strip_keys, filter_by_length, dedupe …).

    Called once per plugin when the runtime loads it; results are ignored.

    :param registry: call ``registry.add(name, factory)`` for each sanitizer.

    Use it in plugin modules only; the pipeline is chosen with ``[sanitizers] pipeline = [...]``.
    """


@hookspec
def modelops_register_registry_backends(registry: ComponentRegistrar) -> None:
    """Declare model registry and tracking backends (SQLite, PostgreSQL …).

    Called once per plugin when the runtime loads it; results are ignored.

    :param registry: call ``registry.add(name, factory)`` for each backend.

    Use it in plugin modules only; the backend is chosen with ``[registry] backend = "name"``.
    """


@hookspec
def modelops_register_artifact_stores(registry: ComponentRegistrar) -> None:
    """Declare artifact stores (local content-addressed files, S3 …).

    Called once per plugin when the runtime loads it; results are ignored.

    :param registry: call ``registry.add(name, factory)`` for each store.

    Use it in plugin modules only; the store is chosen with ``[artifacts] store = "name"``.
    """


@hookspec
def modelops_register_feature_stores(registry: ComponentRegistrar) -> None:
    """Declare feature stores (local SQLite + numpy, Redis …).

    Called once per plugin when the runtime loads it; results are ignored.

    :param registry: call ``registry.add(name, factory)`` for each store.

    Use it in plugin modules only; the store is chosen with ``[features] store = "name"``.
    """


@hookspec
def modelops_register_optimizers(registry: ComponentRegistrar) -> None:
    """Declare inference optimizers (response cache, micro-batching, int8 quantization …).

    Called once per plugin when the runtime loads it; results are ignored.

    :param registry: call ``registry.add(name, factory)`` for each optimizer.

    Use it in plugin modules only; optimizers are chosen with ``[optimize] optimizers = [...]``.
    """


@hookspec
def modelops_register_drift_tests(registry: ComponentRegistrar) -> None:
    """Declare drift tests (KS, PSI, chi-square, Jensen-Shannon, Wasserstein …).

    Called once per plugin when the runtime loads it; results are ignored.

    :param registry: call ``registry.add(name, factory)`` for each drift test.

    Use it in plugin modules only. A drift test offers ``name``, ``kinds``, ``threshold``,
    ``direction`` and ``compute(reference, current)`` on two column profiles (the contract:
    :class:`modelops_core.testing.DriftTestContract`); ``Monitor(method=name)`` and
    ``modelops monitor drift --method NAME`` use it. The core's own plugin declares ``ks``,
    ``chisquare``, ``z``, ``psi``, ``wasserstein``, ``jensenshannon``, ``hellinger``,
    ``anderson`` and ``mmd``.
    """


@hookspec
def modelops_register_engines(registry: ComponentRegistrar) -> None:
    """Declare execution engines (local, dask …) that map metric and drift states over data.

    Called once per plugin when the runtime loads it; results are ignored.

    :param registry: call ``registry.add(name, factory)`` for each engine.

    Use it in plugin modules only; the engine is chosen with ``[engine] name = "name"``.

    Nothing in the core creates an engine yet: the engine contract (local, then Dask mapping
    mergeable metric, fairness, profile and dataset-check states over partitions) will, for
    evaluation, monitoring and dataset checks. Components declared today are listed by
    ``modelops plugins list``.
    """


@hookspec
def modelops_register_steps(registry: ComponentRegistrar) -> None:
    """Declare pipeline steps (dataset, sanitize, finetune, evaluate, gate, register …).

    Called once per plugin when the runtime loads it; results are ignored. A step factory
    takes the step's options from the pipeline file and returns an object with
    ``run(context) -> Mapping[str, Any]`` (see :class:`modelops_core.pipeline.runner.StepContext`).

    :param registry: call ``registry.add(name, factory)`` for each step.

    Use it in plugin modules only; steps are chosen with ``[[pipeline.steps]] uses = "name"``.
    """


@hookspec
def modelops_register_model_flavors(registry: ComponentRegistrar) -> None:
    """Declare model flavors (sklearn, onnx, the local provider's models …).

    Called once per plugin when the runtime loads it; results are ignored. A flavor offers
    ``name``, ``accepts(model)``, and either ``dumps(model) -> bytes`` / ``loads(data)`` or
    ``save(model, path) -> details`` / ``load(path, details)``; optionally ``libraries()`` and
    ``describe(model)`` (the contract: :class:`modelops_core.testing.ModelFlavorContract`).

    :param registry: call ``registry.add(name, factory)`` for each flavor.

    Use it in plugin modules only. ``ModelRegistry.register(name, model=obj)`` stores ``obj``
    with the first flavor that accepts it (or ``flavor="name"``) and records the flavor, the
    input/output schema and the library versions; ``ModelRegistry.load`` and serving load the
    model through the same flavor. The core's own plugin declares ``json``, ``bytes`` and
    ``numpy``.
    """


@hookspec
def modelops_register_alert_sinks(registry: ComponentRegistrar) -> None:
    """Declare alert sinks (a log file, a webhook, Slack, Prometheus exposition …).

    Called once per plugin when the runtime loads it; results are ignored. An alert sink
    offers ``name``, ``send(alert)`` (an :class:`~modelops_core.monitoring.alerts.Alert`; raise
    :class:`~modelops_core.monitoring.alerts.AlertSinkError` when it cannot deliver) and may
    offer ``publish(values)`` (monitor values such as latency quantiles and burn rates). The
    contract: :class:`modelops_core.testing.AlertSinkContract`.

    :param registry: call ``registry.add(name, factory)`` for each sink.

    Use it in plugin modules only; sinks are chosen with ``[alerts] sinks = [...]``. The core's
    own plugin hands every ``modelops_on_alert`` call to the chosen sinks; the first-party
    sinks come with the ``modelops-alerts`` distribution.
    """


# --- lifecycle and event hooks -----------------------------------------------------------------


@hookspec
def modelops_configure(config: Config, runtime: Runtime) -> None:
    """Called once after every plugin is loaded and the component tables are complete.

    All implementations are called (fan-out); results are ignored. Wrappers are allowed.

    :param config: the resolved, frozen configuration.
    :param runtime: the runtime that loaded the plugin; keep a reference instead of a global.

    Use it to set up per-runtime state such as clients or audit sinks.
    """


@hookspec(firstresult=True)
def modelops_before_register(
    name: str, version: str, metadata: Mapping[str, Any], runtime: Runtime
) -> str | None:
    """Decide whether a model version may be registered; return a reason to refuse it.

    Stops at the first non-None result (``firstresult``): pluggy asks the implementations in
    its call order (``tryfirst`` ones first, then the most recently registered plugin first),
    the first reason refuses the registration with a
    :class:`~modelops_core.errors.VetoError` naming that plugin and reason, and the
    implementations after it are not asked. A wrapper (``wrapper=True``) sees the answer and
    may replace it.

    :param name: the model name.
    :param version: the version about to be registered.
    :param metadata: the metadata the version will carry (including evaluation results).
    :param runtime: the runtime doing the registration.
    :returns: None to allow, or a human-readable reason to refuse.

    Use it for policy gates; it must not change anything. When several plugins implement it
    and one refuses, the runtime asks them again one at a time to name the plugin that refused.
    """


@hookspec
def modelops_after_register(
    name: str, version: str, metadata: Mapping[str, Any], runtime: Runtime
) -> None:
    """Called after a model version was stored in the registry.

    All implementations are called (fan-out); results are ignored. Wrappers are allowed.

    :param name: the model name.
    :param version: the version that was registered.
    :param metadata: the stored metadata.
    :param runtime: the runtime that registered it.

    Use it for audit trails and notifications.
    """


@hookspec
def modelops_after_evaluate(result: Mapping[str, Any], runtime: Runtime) -> None:
    """Called after an evaluation finished, with its result.

    All implementations are called (fan-out); results are ignored. Wrappers are allowed.

    :param result: the evaluation result (metric name to value, plus any intervals and
        metadata the evaluator attached); read-only.
    :param runtime: the runtime that evaluated.

    Use it to export metrics or to record evaluations elsewhere.
    """


@hookspec
def modelops_on_job_status(
    job_id: str, status: str, previous_status: str | None, provider: str, runtime: Runtime
) -> None:
    """Called on every status transition of a fine-tuning job.

    All implementations are called (fan-out); results are ignored. Wrappers are allowed.

    :param job_id: the job's id.
    :param status: the new :class:`JobStatus` value, e.g. ``"running"``.
    :param previous_status: the status before the transition, None for a new job.
    :param provider: the provider running the job.
    :param runtime: the runtime watching the job.

    Use it for notifications and dashboards.
    """


@hookspec
def modelops_on_alert(
    name: str, severity: str, message: str, details: Mapping[str, Any], runtime: Runtime
) -> None:
    """Called when a monitor raises an alert (drift, a failed gate, a rollback).

    All implementations are called (fan-out); results are ignored. Wrappers are allowed.

    :param name: the alert's name, e.g. ``"drift.psi"``.
    :param severity: ``"info"``, ``"warning"`` or ``"critical"``.
    :param message: a human-readable summary.
    :param details: structured details (statistic, threshold, feature …).
    :param runtime: the runtime that raised it.

    Use it to route alerts to pagers, chat or tickets.

    ``Monitor(runtime=...)`` and ``modelops monitor drift`` fire it once per drifted column
    (name ``"drift.<method>"``, severity ``"warning"``, details: the column's finding). Later
    monitors (degraded estimated performance, latency SLA, error spikes) and the rollout
    controller will fire it too.
    """
