"""The core's model flavors, ``json``, ``bytes`` and ``numpy`` (see
:mod:`modelops_core.flavors.builtin`), declared by its own plugin so that they are listed and
checked like any other flavor. ``pickle`` is not declared: it is only used when given in code."""

from __future__ import annotations

from modelops_core.plugins.components import ComponentRegistrar
from modelops_core.plugins.markers import hookimpl

#: name -> (class in modelops_core.flavors.builtin, description).
FLAVORS = {
    "json": ("JsonFlavor", "dicts and lists of JSON values"),
    "bytes": ("BytesModelFlavor", "raw bytes, stored as they are"),
    "numpy": ("NumpyFlavor", "numpy arrays as .npy, never pickled"),
}


@hookimpl
def modelops_register_model_flavors(registry: ComponentRegistrar) -> None:
    for name, (attr, description) in FLAVORS.items():
        registry.add(name, f"modelops_core.flavors.builtin:{attr}", description=description)
