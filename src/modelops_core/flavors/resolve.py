"""Which flavor stores a model, and the record of how it was stored.

:class:`Flavors` holds the flavors a registry (or a server) uses: the ones given in code, the
core's ``json``/``bytes``/``numpy``, then those the plugins declare
(``modelops_register_model_flavors``), built on first need. :func:`describe` makes the JSON
record stored with a version (``metadata["model_flavor"]``); :func:`wrap` turns what a flavor
loaded into a :class:`~modelops_core.flavors.model.FlavorModel`, warning when the installed
libraries differ from the recorded ones.
"""

from __future__ import annotations

import platform
import warnings
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from modelops_core.flavors.builtin import BUILTIN_FLAVORS
from modelops_core.flavors.contract import FlavorError, FlavorVersionWarning
from modelops_core.flavors.model import FlavorModel
from modelops_core.flavors.schema import Schema
from modelops_core.plugins.kinds import Kind

if TYPE_CHECKING:
    from modelops_core.runtime import Runtime

__all__ = ["METADATA_KEY", "Flavors", "describe", "wrap"]

#: the metadata key of a version that holds its flavor record
METADATA_KEY = "model_flavor"
_SAMPLE_ROWS = 5


class Flavors:
    """The flavors in use, by name, in the order they are tried.

    :param given: flavor objects given in code (tried first; ``pickle`` only works this way).
    :param runtime: the runtime whose plugins declare more flavors (built on first need).
    """

    def __init__(self, given: Iterable[Any] = (), runtime: Runtime | None = None) -> None:
        self._given: dict[str, Any] = {}
        for flavor in given:
            self.add(flavor)
        self._builtin = {name: factory() for name, factory in BUILTIN_FLAVORS.items()}
        self._runtime = runtime
        self._built: dict[str, Any] = {}

    def add(self, flavor: Any) -> None:
        """Use ``flavor`` first (replacing one of the same name)."""
        if not isinstance(getattr(flavor, "name", None), str):
            raise TypeError(f"{flavor!r} is not a model flavor: it has no name.")
        self._given[flavor.name] = flavor

    def _plugin_names(self) -> list[str]:
        if self._runtime is None:
            return []
        return [
            name
            for name in self._runtime.components[Kind.MODEL_FLAVOR].names()
            if name not in self._given and name not in self._builtin
        ]

    def _plugin(self, name: str) -> Any:
        if name not in self._built:
            assert self._runtime is not None
            self._built[name] = self._runtime.create(Kind.MODEL_FLAVOR, name)
        return self._built[name]

    def names(self) -> list[str]:
        """Every flavor name, in the order they are tried."""
        return [*self._builtin, *(n for n in self._given if n not in self._builtin),
                *self._plugin_names()]  # fmt: skip

    def get(self, name: str) -> Any | None:
        """The flavor ``name``, or None."""
        if name in self._given:
            return self._given[name]
        if name in self._builtin:
            return self._builtin[name]
        if name in self._plugin_names():
            return self._plugin(name)
        return None

    def named(self, name: str, *, purpose: str) -> Any:
        """The flavor ``name``; a missing one is an error saying how to get it."""
        found = self.get(name)
        if found is not None:
            return found
        if name == "pickle":
            hint = (
                " Unpickling runs code: pass ModelRegistry(flavors=[PickleFlavor()]) only if "
                "you trust every artifact it will load."
            )
        else:
            hint = (
                f" Install the plugin that declares it (e.g. pip install modelops-flavor-{name}) "
                "or pass the flavor object in code."
            )
        raise FlavorError(
            f"No model flavor named {name!r} {purpose}. Available: {', '.join(self.names())}.{hint}"
        )

    def for_model(self, model: Any) -> Any:
        """The first flavor that accepts ``model`` (never one marked ``explicit``)."""
        builtin = [self._given.get(name, flavor) for name, flavor in self._builtin.items()]
        others = [flavor for name, flavor in self._given.items() if name not in self._builtin]
        for flavor in (*builtin, *others):
            if not getattr(flavor, "explicit", False) and flavor.accepts(model):
                return flavor
        for name in self._plugin_names():
            flavor = self._plugin(name)
            if not getattr(flavor, "explicit", False) and flavor.accepts(model):
                return flavor
        kind = f"{type(model).__module__}.{type(model).__qualname__}"
        raise FlavorError(
            f"No model flavor accepts a {kind} (tried: {', '.join(self.names())}). Install the "
            "flavor plugin for its library (pip install modelops-flavor-sklearn, "
            "modelops-flavor-onnx), save it to a file and register the path, or pass "
            "flavor=<a flavor object>."
        )


def describe(
    flavor: Any, model: Any, sample: Any, details: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The JSON record of how ``model`` is stored: flavor, details, schemas, libraries."""
    known: Mapping[str, Any] = {}
    describe_model = getattr(flavor, "describe", None)
    if callable(describe_model):
        known = describe_model(model) or {}
    input_schema: Schema | None = known.get("input")
    output_schema: Schema | None = known.get("output")
    if sample is not None:
        input_schema = Schema.of(sample)
        predict = getattr(model, "predict", None)
        if callable(predict):
            output_schema = Schema.of(predict(_head(sample)))
    libraries = getattr(flavor, "libraries", None)
    return {
        "name": flavor.name,
        "details": dict(details or {}),
        "input": None if input_schema is None else input_schema.to_dict(),
        "output": None if output_schema is None else output_schema.to_dict(),
        "libraries": dict(libraries()) if callable(libraries) else {},
        "python": platform.python_version(),
    }


def _head(sample: Any) -> Any:
    from modelops_core.tabular.frames import library_of

    if library_of(sample) in ("pandas",):
        return sample.iloc[:_SAMPLE_ROWS]
    if library_of(sample) == "pyarrow":
        return sample.slice(0, _SAMPLE_ROWS)
    if isinstance(sample, Mapping):
        return {key: list(value)[:_SAMPLE_ROWS] for key, value in sample.items()}
    return sample[:_SAMPLE_ROWS]


def wrap(loaded: Any, flavor: Any, record: Mapping[str, Any] | None, model_id: str) -> Any:
    """``loaded`` as a :class:`FlavorModel` when it predicts (else as it is); a library whose
    installed version differs from the recorded one gives a :class:`FlavorVersionWarning`."""
    if not callable(getattr(loaded, "predict", None)):
        return loaded
    record = record or {}
    recorded = dict(record.get("libraries") or {})
    libraries = getattr(flavor, "libraries", None)
    installed = dict(libraries()) if callable(libraries) else {}
    changed = [
        f"{name} {version} (installed: {installed[name]})"
        for name, version in recorded.items()
        if name in installed and installed[name] != version
    ]
    if changed:
        warnings.warn(
            f"{model_id} was stored with {', '.join(changed)}; check its predictions, or "
            "register it again with the installed versions.",
            FlavorVersionWarning,
            stacklevel=3,
        )
    schema_in = record.get("input")
    schema_out = record.get("output")
    return FlavorModel(
        native=loaded,
        flavor=flavor.name,
        input_schema=None if not schema_in else Schema.from_dict(schema_in),
        output_schema=None if not schema_out else Schema.from_dict(schema_out),
        libraries=recorded,
        model_id=model_id,
    )
