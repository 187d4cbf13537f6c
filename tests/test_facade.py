"""The one facade lifecycle (``modelops_core.store.facade``) on a served optimized model: its
techniques and parent provider close outermost first, every one even when one fails, and the
model refuses to predict once closed. (The registry, tracker and feature store run the same
lifecycle on real stores in their own test files.)"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from modelops_core.optimize.stack import ServedModel, assemble
from modelops_core.optimize.values import (
    LAYER_CACHE,
    OptimizationRecord,
    ServingContext,
    TechniqueSetting,
)
from modelops_core.store.facade import FacadeClosedError


class Suffix:
    """A technique that appends its name to every output; its close can fail."""

    layer = LAYER_CACHE

    def __init__(self, name: str, closed: list[str], failure: str | None = None) -> None:
        self.name, self._closed, self._failure = name, closed, failure

    def __repr__(self) -> str:
        return f"Suffix({self.name!r})"

    def wrap(
        self, predict: Callable[[Sequence[str]], list[Any]], context: ServingContext
    ) -> Callable[[Sequence[str]], list[Any]]:
        return lambda inputs: [f"{output}+{self.name}" for output in predict(inputs)]

    def close(self) -> None:
        self._closed.append(self.name)
        if self._failure:
            raise OSError(self._failure)


class Echo:
    """A parent provider that answers each input with itself."""

    def __init__(self, closed: list[str]) -> None:
        self._closed = closed

    def predict(self, model_id: str, inputs: Sequence[str]) -> list[str]:
        return list(inputs)

    def close(self) -> None:
        self._closed.append("parent")


def served(closed: list[str], failures: dict[str, str] | None = None) -> ServedModel:
    names = ("inner", "outer")
    record = OptimizationRecord("echo-1", "echo", tuple(TechniqueSetting(n) for n in names))
    techniques = [Suffix(name, closed, (failures or {}).get(name)) for name in names]
    return assemble("optimized:echo:1", record, techniques, Echo(closed), None)  # type: ignore[arg-type]


def test_the_with_block_closes_the_outermost_technique_first_and_the_parent_last() -> None:
    closed: list[str] = []
    with served(closed) as model:
        assert model.predict(["a"]) == ["a+inner+outer"]
    assert closed == ["outer", "inner", "parent"]
    model.close()  # twice is fine
    assert closed == ["outer", "inner", "parent"]


def test_a_closed_model_refuses_to_predict() -> None:
    model = served([])
    model.close()
    with pytest.raises(FacadeClosedError) as caught:
        model.predict(["a"])
    assert str(caught.value) == (
        "This ServedModel was closed (by close() or the end of its `with` block), so it cannot "
        "predict. Serve the model again with InferenceOptimizer(runtime).serve(model_id)."
    )


def test_a_technique_whose_close_fails_still_lets_the_others_close() -> None:
    closed: list[str] = []
    model = served(closed, {"outer": "cache file gone", "inner": "socket reset"})
    with pytest.raises(OSError) as caught:
        model.close()
    assert str(caught.value) == "cache file gone"  # the first failure, raised after all closed
    assert closed == ["outer", "inner", "parent"]
    assert caught.value.__notes__ == [
        "Closing Suffix('inner') of this ServedModel also failed: OSError: socket reset"
    ]
    assert model.closed
    model.close()  # the failure is reported once
