"""The contract suite of optimizer techniques (``modelops_register_optimizers``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest

from modelops_core.plugins.kinds import Kind
from modelops_core.runtime import Runtime
from modelops_core.testing.contracts.base import ComponentContract


class OptimizerContract(ComponentContract):
    """The optimizer suite: an optimization must not change what the model answers.

    The component is built at :meth:`build_request` time (``build``), then ``wrap`` serves
    :meth:`reference_predict` (the model below). Checks: the protocol, JSON settings that
    rebuild an equal component, a JSON build report, outputs equal to the model's (in order,
    with repeated inputs), an empty batch, concurrent callers each getting their own outputs,
    and errors of the model reaching the caller.

    :cvar inputs: the texts the suite sends (include repeats: caches must handle them).
    :cvar min_agreement: the share of outputs that must equal the model's; 1.0 for wrappers,
        lower for a model-layer technique that approximates the weights (int8).
    """

    kind = Kind.OPTIMIZER
    inputs: ClassVar[Sequence[str]] = (
        "refund my order", "the app crashes", "refund my order", "reset my password",
        "where is my parcel", "the app crashes", "cancel my plan",
    )  # fmt: skip
    min_agreement: ClassVar[float] = 1.0

    def reference_predict(self, inputs: Sequence[str]) -> list[Any]:
        """The model below the technique (override for a model-layer technique)."""
        return [f"label:{len(text) % 3}:{text[:4]}" for text in inputs]

    def build_request(self, tmp_path: Path) -> Any:
        """What ``build`` gets (override to give a model-layer technique a real model)."""
        from modelops_core.optimize.values import BuildRequest

        return BuildRequest("contract-model", None, tmp_path / "artifact")

    def _serve(self, component: Any, tmp_path: Path, predict: Any = None) -> Any:
        import json
        import uuid

        from modelops_core.optimize.values import ServingContext

        request = self.build_request(tmp_path)
        request.directory.mkdir(parents=True, exist_ok=True)
        report = component.build(request)
        json.dumps(dict(report))
        context = ServingContext(
            model_id="optimized:contract:1",
            parent_model_id=request.parent_model_id,
            cache_namespace=f"contract-{uuid.uuid4().hex}",
            artifact=request.directory if component.layer == 0 else None,
            report=report,
        )
        return component.wrap(predict or self.reference_predict, context)

    def test_component_is_an_optimizer(self, component: Any) -> None:
        from modelops_core.plugins.protocols import OptimizerComponent

        assert isinstance(component, OptimizerComponent)
        assert isinstance(component.layer, int) and component.layer >= 0

    def test_settings_are_json_and_rebuild_the_component(
        self, component: Any, runtime: Runtime, tmp_path: Path
    ) -> None:
        import json

        settings = dict(component.settings())
        assert json.loads(json.dumps(settings)) == settings
        unmasked = {k: v for k, v in settings.items() if not (isinstance(v, str) and "***" in v)}
        options = {**self.component_options(tmp_path), **unmasked}
        rebuilt = runtime.create(self.kind, self.component_name, **options)
        try:
            assert dict(rebuilt.settings()) == settings
        finally:
            close = getattr(rebuilt, "close", None)
            if callable(close):
                close()

    def test_outputs_match_the_model_below(self, component: Any, tmp_path: Path) -> None:
        served = self._serve(component, tmp_path)
        expected = self.reference_predict(list(self.inputs))
        for _ in range(2):  # the second pass may be served from what the first one stored
            got = list(served(list(self.inputs)))
            assert len(got) == len(expected)
            agreement = sum(a == b for a, b in zip(got, expected, strict=True)) / len(expected)
            assert agreement >= self.min_agreement, (got, expected)

    def test_an_empty_batch_gives_no_outputs(self, component: Any, tmp_path: Path) -> None:
        assert list(self._serve(component, tmp_path)([])) == []

    def test_concurrent_callers_get_their_own_outputs(self, component: Any, tmp_path: Path) -> None:
        import threading

        served = self._serve(component, tmp_path)
        texts = list(self.inputs)
        results: dict[int, list[Any]] = {}
        errors: list[BaseException] = []
        start = threading.Barrier(8)

        def call(index: int) -> None:
            try:
                start.wait()
                results[index] = list(served([texts[index % len(texts)]]))
            except BaseException as exc:  # reported by the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert not errors, errors
        expected = {i: self.reference_predict([texts[i % len(texts)]]) for i in range(8)}
        agreement = sum(results[i] == expected[i] for i in range(8)) / 8
        assert agreement >= self.min_agreement, (results, expected)

    def test_errors_of_the_model_reach_the_caller(self, component: Any, tmp_path: Path) -> None:
        if component.layer == 0:
            pytest.skip("a model-layer technique serves its own artifact, not the model below")

        def failing(inputs: Sequence[str]) -> list[Any]:
            raise RuntimeError("the model below failed")

        served = self._serve(component, tmp_path, failing)
        with pytest.raises(RuntimeError, match="the model below failed"):
            served(["never seen before " + str(id(self))])
