"""The model the registry (and serving) hands back: loaded once, predicting through its flavor.

:class:`FlavorModel` keeps the flavor's native model (``.native``: the scikit-learn estimator,
the ONNX session wrapper …), the recorded schemas and library versions, and offers
``predict`` and, where the native model has them, ``predict_proba`` and ``decision_function``
(``hasattr(model, "predict_proba")`` tells).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from modelops_core.flavors.schema import Schema

__all__ = ["FlavorModel"]


@attrs.frozen
class FlavorModel:
    """A loaded model: ``predict(inputs)`` and what else its flavor offers.

    :param native: the model as the flavor loaded it.
    :param flavor: the flavor's name (``sklearn``, ``onnx``, ``local`` …).
    :param input_schema: the inputs it was registered with (checked before each call).
    :param output_schema: what ``predict`` returned on the sample at registration.
    :param libraries: distribution -> version at registration.
    :param model_id: ``name:version`` in the registry, when loaded from it.
    """

    native: Any
    flavor: str
    input_schema: Schema | None = None
    output_schema: Schema | None = None
    libraries: Mapping[str, str] = attrs.field(factory=dict)
    model_id: str | None = None

    def _check(self, inputs: Any) -> Any:
        if self.input_schema is not None:
            self.input_schema.check(inputs, f"model {self.model_id or self.flavor}")
        return inputs

    def predict(self, inputs: Any) -> Any:
        """The native model's predictions for ``inputs``."""
        return self.native.predict(self._check(inputs))

    @property
    def predict_proba(self) -> Any:
        """Class probabilities, ``(n, k)`` (absent when the native model has none)."""
        method = getattr(self.native, "predict_proba", None)
        if not callable(method):
            raise AttributeError(
                f"the {self.flavor} model {self.model_id or ''} has no predict_proba"
            )
        return lambda inputs: method(self._check(inputs))

    @property
    def decision_function(self) -> Any:
        """Decision scores (absent when the native model has none)."""
        method = getattr(self.native, "decision_function", None)
        if not callable(method):
            raise AttributeError(
                f"the {self.flavor} model {self.model_id or ''} has no decision_function"
            )
        return lambda inputs: method(self._check(inputs))

    @property
    def classes_(self) -> Any:
        """The class labels, in the order of ``predict_proba``'s columns (when known)."""
        classes = getattr(self.native, "classes_", None)
        if classes is None:
            raise AttributeError(f"the {self.flavor} model has no classes_")
        return classes
