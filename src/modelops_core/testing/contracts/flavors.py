"""The contract suite of model flavors (``modelops_register_model_flavors``).

A flavor's tests subclass :class:`ModelFlavorContract`, set ``plugin`` and ``component_name``
and give :meth:`example` (a model the flavor stores and inputs to predict on). The suite stores
and loads the example the way the registry and serving do (:mod:`modelops_core.flavors`):
the same predictions (and probabilities) after loading, a JSON record of the flavor, schema
and library versions, other models refused, damaged artifacts refused with a typed error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import pytest

from modelops_core.errors import ModelOpsError
from modelops_core.flavors.contract import FlavorError
from modelops_core.flavors.model import FlavorModel
from modelops_core.flavors.resolve import describe, wrap
from modelops_core.plugins.kinds import Kind
from modelops_core.testing.contracts.base import ComponentContract


def store(flavor: Any, model: Any, folder: Path) -> tuple[Any, dict[str, Any]]:
    """Store ``model`` as the registry does: bytes, or a folder the flavor fills."""
    if callable(getattr(flavor, "dumps", None)):
        return flavor.dumps(model), {}
    target = folder / "model"
    target.mkdir(parents=True)
    return target, dict(flavor.save(model, target) or {})


def load(flavor: Any, stored: Any, details: dict[str, Any]) -> Any:
    """Load what :func:`store` stored, as the registry does."""
    if callable(getattr(flavor, "loads", None)):
        return flavor.loads(stored)
    return flavor.load(stored, details)


class ModelFlavorContract(ComponentContract):
    """Round trip, record, refusals. Override :meth:`example`; a flavor whose models do not
    predict (``json``, ``bytes``) compares the loaded object itself."""

    kind = Kind.MODEL_FLAVOR
    #: bytes that are not a model of this flavor (None: every byte string is one, e.g. bytes)
    garbage: ClassVar[bytes | None] = b"\x00not a model\xff" * 8

    def example(self) -> tuple[Any, Any]:
        """(a model the flavor stores, inputs to predict on or None)."""
        raise NotImplementedError("give a model of this flavor and inputs for it")

    def test_it_offers_the_flavor_methods(self, component: Any) -> None:
        assert component.name == self.component_name
        as_bytes = callable(getattr(component, "dumps", None)) and callable(
            getattr(component, "loads", None)
        )
        as_folder = callable(getattr(component, "save", None)) and callable(
            getattr(component, "load", None)
        )
        assert as_bytes or as_folder, "offer dumps/loads or save/load"

    def test_it_accepts_its_models_and_refuses_others(self, component: Any) -> None:
        model, _ = self.example()
        assert component.accepts(model) is True
        assert component.accepts(object()) is False

    def test_a_loaded_model_predicts_like_the_original(
        self, component: Any, tmp_path: Path
    ) -> None:
        import numpy as np

        model, inputs = self.example()
        stored, details = store(component, model, tmp_path)
        record = describe(component, model, inputs, details)
        loaded = wrap(load(component, stored, details), component, record, "m:1")
        if inputs is None:
            assert not isinstance(loaded, FlavorModel)
            assert _same(loaded, model)
            return
        assert isinstance(loaded, FlavorModel) and loaded.flavor == self.component_name
        np.testing.assert_array_equal(np.asarray(loaded.predict(inputs)),
                                      np.asarray(model.predict(inputs)))  # fmt: skip
        if callable(getattr(model, "predict_proba", None)):
            np.testing.assert_allclose(
                loaded.predict_proba(inputs), model.predict_proba(inputs), rtol=1e-5, atol=1e-6
            )

    def test_the_record_is_json_with_schema_and_libraries(
        self, component: Any, tmp_path: Path
    ) -> None:
        model, inputs = self.example()
        _, details = store(component, model, tmp_path)
        record = describe(component, model, inputs, details)
        assert json.loads(json.dumps(record)) == record
        assert record["name"] == self.component_name
        assert all(isinstance(k, str) and isinstance(v, str) and v
                   for k, v in record["libraries"].items())  # fmt: skip
        if inputs is not None:
            assert record["input"] is not None and record["output"] is not None

    def test_a_model_stored_twice_loads_the_same(self, component: Any, tmp_path: Path) -> None:
        import numpy as np

        model, inputs = self.example()
        first, details = store(component, model, tmp_path / "a")
        second, _ = store(component, load(component, first, details), tmp_path / "b")
        again = load(component, second, details)
        if inputs is None:
            assert _same(again, model)
        else:
            np.testing.assert_array_equal(np.asarray(again.predict(inputs)),
                                          np.asarray(model.predict(inputs)))  # fmt: skip

    def test_a_damaged_artifact_is_refused_with_a_typed_error(
        self, component: Any, tmp_path: Path
    ) -> None:
        if self.garbage is None:
            pytest.skip("every byte string is a model of this flavor")
        model, _ = self.example()
        stored, details = store(component, model, tmp_path)
        if isinstance(stored, Path):
            for file in (p for p in stored.rglob("*") if p.is_file()):
                file.write_bytes(self.garbage)
            with pytest.raises(ModelOpsError):
                component.load(stored, details)
            empty = tmp_path / "empty"
            empty.mkdir()
            with pytest.raises(FlavorError):
                component.load(empty, details)
        else:
            with pytest.raises(ModelOpsError):
                component.loads(self.garbage)


def _same(loaded: Any, original: Any) -> bool:
    if hasattr(original, "shape"):
        import numpy as np

        return bool(np.array_equal(loaded, original))
    return bool(loaded == original)
