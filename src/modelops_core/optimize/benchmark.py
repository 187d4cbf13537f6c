"""Measuring a model as it is served: latency percentiles, throughput, memory, cost.

Every call sends one input (online serving). ``peak_memory_bytes`` is the peak of Python
allocations (``tracemalloc``, numpy arrays included) while the model serves its first batch
of 8 inputs, loading included. Before an optimized model and its original are measured, a
throwaway copy of each serves those inputs once (a warm-up), so the code they share is loaded
and neither pays it: the figures are the same in a new process as in a warm one. The cost
estimate prices what reaches the parent model (a cache
hit costs nothing) with ``[prices."<model id or prefix>"] input``/``output`` (dollars per 1M
tokens) and ``request`` (dollars per provider call).
"""

from __future__ import annotations

import threading
import time
import tracemalloc
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from modelops_core.optimize.stack import ParentCounter, ServedModel
from modelops_core.optimize.values import OptimizeError, is_optimized_model_id

if TYPE_CHECKING:
    from modelops_core.runtime import Runtime

Predict = Callable[[Sequence[str]], list[Any]]

#: Inputs in the batch whose peak memory is measured (small, so loading the model dominates).
MEMORY_BATCH = 8


def percentile(sorted_values: Sequence[float], share: float) -> float:
    """The ``share`` quantile (0..1) of sorted values, linear interpolation (numpy's default)."""
    if not sorted_values:
        return float("nan")
    position = share * (len(sorted_values) - 1)
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def measure(
    predict: Predict,
    inputs: Sequence[str],
    *,
    repeats: int = 3,
    concurrency: int = 1,
) -> dict[str, float]:
    """Call ``predict([text])`` for every input, ``repeats`` times, from ``concurrency``
    threads; the latency of each call and the throughput of them all."""
    if repeats < 1 or concurrency < 1:
        raise OptimizeError(f"repeats and concurrency must be >= 1, got {repeats}, {concurrency}.")
    work = [text for _ in range(repeats) for text in inputs]
    latencies: list[float] = []
    lock = threading.Lock()
    position = iter(range(len(work)))

    def worker() -> None:
        mine: list[float] = []
        while True:
            with lock:
                index = next(position, None)
            if index is None:
                break
            start = time.perf_counter()
            predict([work[index]])
            mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    if concurrency == 1:
        worker()
    else:
        threads = [threading.Thread(target=worker) for _ in range(concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "calls": float(len(latencies)),
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "mean_ms": sum(latencies) / len(latencies) * 1000 if latencies else float("nan"),
        "throughput_per_s": len(latencies) / elapsed if elapsed > 0 else float("inf"),
    }


def peak_memory(predict: Predict, inputs: Sequence[str]) -> int:
    """Peak traced bytes while ``predict(inputs)`` runs (the first call loads the model)."""
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    baseline = tracemalloc.get_traced_memory()[0]
    try:
        predict(list(inputs))
        return max(0, tracemalloc.get_traced_memory()[1] - baseline)
    finally:
        if not was_tracing:
            tracemalloc.stop()


def price_for(
    model: str, prices: Mapping[str, Mapping[str, float]]
) -> tuple[str | None, dict[str, float]]:
    """The ``[prices]`` entry for ``model``: exact, else the longest matching prefix."""
    key = model if model in prices else None
    if key is None:
        matches = [k for k in prices if model.startswith(k)]
        key = max(matches, key=len) if matches else None
    return key, dict(prices[key]) if key is not None else {}


def cost_figures(
    model: str, counter: ParentCounter, requests: int, prices: Mapping[str, Mapping[str, float]]
) -> dict[str, Any]:
    """What reached the parent per request, and dollars per 1,000 requests when priced."""
    key, rates = price_for(model, prices)
    figures: dict[str, Any] = {
        "parent_calls": counter.calls,
        "parent_inputs": counter.inputs,
        "parent_share": counter.inputs / requests if requests else float("nan"),
        "price_key": key,
        "cost_per_1k_requests": None,
    }
    priced = {unit: rates[unit] for unit in ("input", "output", "request") if unit in rates}
    if priced and requests:
        dollars = (
            counter.input_tokens * priced.get("input", 0.0) / 1e6
            + counter.output_tokens * priced.get("output", 0.0) / 1e6
            + counter.calls * priced.get("request", 0.0)
        )
        figures["cost_per_1k_requests"] = dollars / requests * 1000
    return figures


def figures_for(
    predict: Predict,
    counter: ParentCounter,
    priced_model: str,
    inputs: Sequence[str],
    prices: Mapping[str, Mapping[str, float]],
    repeats: int,
    concurrency: int,
) -> dict[str, Any]:
    """Memory (first batch), then latency and throughput, then cost, of one served model."""
    memory = peak_memory(predict, inputs[:MEMORY_BATCH])
    counter.reset()
    timing = measure(predict, inputs, repeats=repeats, concurrency=concurrency)
    requests = int(timing["calls"])
    return {
        **timing,
        "peak_memory_bytes": memory,
        **cost_figures(priced_model, counter, requests, prices),
    }


def run_benchmark(
    runtime: Runtime,
    model_id: str,
    inputs: Sequence[str] | None,
    *,
    repeats: int,
    concurrency: int,
    provider: str | None,
) -> dict[str, Any]:
    """The figures of ``model_id`` and, for an optimized model, of its original."""
    from modelops_core.finetune.job import infer_provider
    from modelops_core.optimize.stack import create_parent, load_served

    prices = runtime.config.prices
    if not is_optimized_model_id(model_id):
        texts = _inputs(inputs, None, model_id)
        parent = create_parent(runtime, provider or infer_provider(model_id, runtime.config))
        try:
            counter = _parent_counter(parent, model_id)
            figures = figures_for(counter, counter, model_id, texts, prices, repeats, concurrency)
        finally:
            _close(parent)
        return {"model_id": model_id, "inputs": len(texts), "model": figures}
    texts = _inputs(inputs, _holdout_inputs(runtime, model_id), model_id)
    _warm_up(runtime, model_id, texts[:MEMORY_BATCH])
    served = load_served(runtime, model_id)
    try:
        parent_id = served.record.parent_model_id
        optimized = figures_for(
            served.predict, served.counter, parent_id, texts, prices, repeats, concurrency
        )
        fresh = create_parent(runtime, served.record.parent_provider)  # loads its model anew
        try:
            counter = _parent_counter(fresh, parent_id)
            original = figures_for(counter, counter, parent_id, texts, prices, repeats, concurrency)
        finally:
            _close(fresh)
    finally:
        served.close()
    return {
        "model_id": model_id,
        "original_model_id": parent_id,
        "techniques": served.record.technique_names(),
        "inputs": len(texts),
        "model": optimized,
        "original": original,
        "speedup": {
            "p50": _ratio(original["p50_ms"], optimized["p50_ms"]),
            "p95": _ratio(original["p95_ms"], optimized["p95_ms"]),
            "throughput": _ratio(optimized["throughput_per_s"], original["throughput_per_s"]),
            "memory": _ratio(original["peak_memory_bytes"], optimized["peak_memory_bytes"]),
        },
    }


def _warm_up(runtime: Runtime, model_id: str, inputs: Sequence[str]) -> None:
    """Serve ``inputs`` once with a throwaway copy of the optimized model and of its original,
    so the code both share (numpy, scipy, the featurizer, the provider's modules) is loaded
    before either is measured: otherwise the first one measured pays it, and a model 3x
    smaller reads as 17x larger in a new process. The measured copies load their own weights."""
    from modelops_core.optimize.stack import create_parent, load_served

    warm = load_served(runtime, model_id)
    try:
        warm.predict(list(inputs))
        parent = create_parent(runtime, warm.record.parent_provider)
        try:
            parent.predict(warm.record.parent_model_id, list(inputs))
        finally:
            _close(parent)
    finally:
        warm.close()


def _parent_counter(parent: Any, model_id: str) -> ParentCounter:
    def predict(inputs: Sequence[str]) -> list[Any]:
        return list(parent.predict(model_id, list(inputs)))

    return ParentCounter(predict)


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def _close(component: Any) -> None:
    close = getattr(component, "close", None)
    if callable(close):
        close()


def _holdout_inputs(runtime: Runtime, model_id: str) -> list[str] | None:
    from pathlib import Path

    from modelops_core.datasets.dataset import Dataset
    from modelops_core.optimize.values import parse_optimized_model_id
    from modelops_core.registry.model_registry import ModelRegistry

    name, version = parse_optimized_model_id(model_id)
    with ModelRegistry(runtime) as registry:
        path = registry.get_version(name, version).metadata.get("holdout_path")
    if not isinstance(path, str) or not Path(path).is_file():
        return None
    return [pair[0] for pair in Dataset.from_jsonl(path).pairs()]


def _inputs(given: Sequence[str] | None, fallback: list[str] | None, model_id: str) -> list[str]:
    if given is not None:
        if isinstance(given, str):
            raise TypeError("inputs must be a list of texts; wrap a single text in [text].")
        texts = list(given)
    elif fallback is not None:
        texts = fallback
    else:
        raise OptimizeError(
            f"No inputs to benchmark {model_id} with: pass inputs=[...] (or --inputs FILE); "
            "models optimized with holdout=<path> use that file by default."
        )
    if not texts:
        raise OptimizeError("inputs is empty; benchmark with at least one text.")
    return texts


__all__ = ["ServedModel", "measure", "peak_memory", "percentile", "run_benchmark"]
