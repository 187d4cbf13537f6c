"""The ``modelops-optimizers`` plugin: five optimizers and the ``optimized`` provider."""

from __future__ import annotations

from modelops_core import hookimpl
from modelops_core.plugins.components import ComponentRegistrar
from modelops_core.plugins.protocols import ProviderProfile


@hookimpl
def modelops_register_optimizers(registry: ComponentRegistrar) -> None:
    registry.add(
        "response_cache",
        "modelops_optimizers.cache:ResponseCache",
        description="exact-key cache of (model, input) -> output; SQLite under home, or Redis",
    )
    registry.add(
        "micro_batch",
        "modelops_optimizers.batching:MicroBatch",
        description="groups concurrent predict calls into one provider call (max_batch, "
        "max_wait_ms)",
    )
    registry.add(
        "concurrency_limit",
        "modelops_optimizers.limit:ConcurrencyLimit",
        description="at most max_concurrent provider calls at once (a semaphore)",
    )
    registry.add(
        "int8",
        "modelops_optimizers.int8:Int8Quantization",
        description="int8 weights with per-class (or per-row/per-tensor) symmetric scales, "
        "for local-provider classifiers",
    )
    registry.add(
        "onnx",
        "modelops_optimizers.conversion:OnnxConversion",
        description="a registered scikit-learn model converted to ONNX (skl2onnx) and run on "
        "onnxruntime, int8-quantized where it has MatMul/Gemm and the gate allows",
    )


@hookimpl
def modelops_register_providers(registry: ComponentRegistrar) -> None:
    registry.add(
        "optimized",
        "modelops_optimizers.provider:OptimizedProvider",
        description="serves optimized:<name>:<version> models: the techniques around the "
        "parent provider's predict",
        profile=ProviderProfile(models=("optimized:*",)),
    )
