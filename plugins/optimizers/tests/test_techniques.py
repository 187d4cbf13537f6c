"""What each technique promises, measured with real threads and the real local model."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from modelops_optimizers.batching import MicroBatch
from modelops_optimizers.cache import CacheBackendError, ResponseCache, cache_key, mask_url
from modelops_optimizers.int8 import Int8Quantization, quantize
from modelops_optimizers.limit import ConcurrencyLimit
from modelops_provider_local.provider import LocalProvider

from modelops_core.optimize.values import BuildRequest, ServingContext

if TYPE_CHECKING:  # conftest is shared by name with other plugins' tests in one session
    from conftest import TrainedModel


def context(**overrides: Any) -> ServingContext:
    values: dict[str, Any] = {
        "model_id": "optimized:test:1",
        "parent_model_id": "parent",
        "cache_namespace": "ns",
    }
    return ServingContext(**{**values, **overrides})


class CountingModel:
    """The local model, counting the calls and inputs it gets (and optionally slower)."""

    def __init__(self, trained: TrainedModel, delay: float = 0.0) -> None:
        self.provider = LocalProvider(root=str(trained.root))
        self.model_id = trained.model_id
        self.delay = delay
        self.calls: list[int] = []
        self.active = 0
        self.most_active = 0
        self._lock = threading.Lock()

    def __call__(self, inputs: list[str]) -> list[Any]:
        with self._lock:
            self.calls.append(len(inputs))
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        try:
            if self.delay:
                time.sleep(self.delay)
            return self.provider.predict(self.model_id, inputs)
        finally:
            with self._lock:
                self.active -= 1


def call_concurrently(predict: Any, texts: list[str]) -> list[list[Any]]:
    results: list[list[Any]] = [[] for _ in texts]
    start = threading.Barrier(len(texts))

    def call(index: int) -> None:
        start.wait()
        results[index] = predict([texts[index]])

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(texts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return results


# --- response cache ------------------------------------------------------------------------


def test_the_cache_sends_each_distinct_input_once(trained: TrainedModel, tmp_path: Path) -> None:
    model = CountingModel(trained)
    cache = ResponseCache(home=str(tmp_path))
    served = cache.wrap(model, context())
    texts = trained.inputs[:5] * 3
    assert served(texts) == model.provider.predict(trained.model_id, texts)
    assert model.calls == [5]
    assert served(texts[:5]) == served(texts[:5])
    assert model.calls == [5]
    assert (cache.hits, cache.misses) == (20, 5)  # 10 repeats, then 2 x 5 hits
    cache.close()


def test_cached_answers_survive_a_restart_and_stay_per_model(
    trained: TrainedModel, tmp_path: Path
) -> None:
    model = CountingModel(trained)
    first = ResponseCache(home=str(tmp_path))
    first.wrap(model, context())(["refund please"])
    first.close()
    again = ResponseCache(home=str(tmp_path))
    again.wrap(model, context())(["refund please"])
    assert model.calls == [1]
    again.wrap(model, context(cache_namespace="another model"))(["refund please"])
    assert model.calls == [1, 1]
    again.close()


def test_an_unreachable_redis_names_the_url_without_its_password() -> None:
    pytest.importorskip("redis")
    url = "redis://admin:s3cret@127.0.0.1:1/0"
    with pytest.raises(CacheBackendError) as caught:
        ResponseCache(backend="redis", url=url)
    message = str(caught.value)
    assert "redis://admin:***@127.0.0.1:1/0" in message
    assert "s3cret" not in message
    assert "[optimize] optimizers" in message and "url" in message


@pytest.mark.parametrize("query", ["", "?decode_responses=true"])
def test_the_redis_cache_serves_hits_whether_redis_answers_bytes_or_text(
    query: str, redis_url: str, tmp_path: Path
) -> None:
    url = redis_url + query
    calls: list[list[str]] = []

    def model(inputs: Any) -> list[Any]:
        calls.append(list(inputs))
        return [{"label": text.upper()} for text in inputs]

    cache = ResponseCache(backend="redis", url=url, prefix=f"test:{tmp_path.name}:")
    try:
        predict = cache.wrap(model, context())
        assert predict(["a", "b"]) == [{"label": "A"}, {"label": "B"}]
        # the hits come back from Redis (str when the URL asks for decode_responses)
        assert predict(["b", "a", "c"]) == [{"label": "B"}, {"label": "A"}, {"label": "C"}]
        assert calls == [["a", "b"], ["c"]]
        assert (cache.hits, cache.misses) == (2, 3)
    finally:
        cache.store.clear()
        cache.close()


def test_the_redis_cache_keeps_a_ttl_under_a_second(redis_url: str, tmp_path: Path) -> None:
    import redis

    url = redis_url
    calls: list[list[str]] = []

    def model(inputs: Any) -> list[Any]:
        calls.append(list(inputs))
        return list(inputs)

    cache = ResponseCache(backend="redis", url=url, prefix=f"ttl:{tmp_path.name}:", ttl=0.3)
    try:
        predict = cache.wrap(model, context())
        assert predict(["a"]) == ["a"]  # was SET ... EX 0: "invalid expire time"
        assert predict(["a"]) == ["a"]
        assert calls == [["a"]]
        client = redis.Redis.from_url(url)
        ttl_ms = client.pttl(f"ttl:{tmp_path.name}:" + cache_key("ns", "a"))
        client.close()
        assert 0 < ttl_ms <= 300
        time.sleep(0.35)
        assert predict(["a"]) == ["a"]
        assert calls == [["a"], ["a"]]
    finally:
        cache.store.clear()
        cache.close()


def test_the_recorded_settings_never_hold_the_password() -> None:
    assert mask_url("rediss://u:p@host:6380/2") == "rediss://u:***@host:6380/2"
    assert mask_url("redis://host:6379/0") == "redis://host:6379/0"


# --- micro-batching --------------------------------------------------------------------------


def test_concurrent_callers_share_fewer_model_calls(trained: TrainedModel) -> None:
    model = CountingModel(trained)
    served = MicroBatch(max_batch=64, max_wait_ms=200, eager=False).wrap(model, context())
    texts = trained.inputs[:16]
    results = call_concurrently(served, texts)
    assert results == [model.provider.predict(trained.model_id, [text]) for text in texts]
    assert sum(model.calls) == 16
    assert len(model.calls) < 16 // 2


def test_eager_batching_gathers_callers_while_the_model_is_busy(trained: TrainedModel) -> None:
    model = CountingModel(trained, delay=0.03)  # a remote model's round trip
    served = MicroBatch(max_batch=64, max_wait_ms=500).wrap(model, context())
    texts = trained.inputs[:12]
    results = call_concurrently(served, texts)
    assert results == [model.provider.predict(trained.model_id, [text]) for text in texts]
    assert len(model.calls) <= 4


def test_a_lone_eager_caller_does_not_wait(trained: TrainedModel) -> None:
    model = CountingModel(trained)
    served = MicroBatch(max_batch=64, max_wait_ms=2000).wrap(model, context())
    started = time.perf_counter()
    served(["my invoice is wrong"])
    assert time.perf_counter() - started < 1.0


def test_batches_hold_at_most_max_batch_inputs(trained: TrainedModel) -> None:
    model = CountingModel(trained)
    served = MicroBatch(max_batch=3, max_wait_ms=100, eager=False).wrap(model, context())
    call_concurrently(served, trained.inputs[:10])
    assert sum(model.calls) == 10 and max(model.calls) <= 3


def test_a_model_error_reaches_every_caller_of_the_batch() -> None:
    def failing(inputs: list[str]) -> list[Any]:
        raise ValueError("upstream is down")

    served = MicroBatch(max_batch=8, max_wait_ms=100, eager=False).wrap(failing, context())
    errors: list[BaseException] = []

    def call() -> None:
        try:
            served(["x"])
        except ValueError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert len(errors) == 4


# --- concurrency limit -----------------------------------------------------------------------


def test_the_concurrency_limit_holds(trained: TrainedModel) -> None:
    model = CountingModel(trained, delay=0.02)
    served = ConcurrencyLimit(max_concurrent=3).wrap(model, context())
    call_concurrently(served, trained.inputs[:12])
    assert model.most_active == 3
    assert len(model.calls) == 12


# --- int8 ------------------------------------------------------------------------------------


def test_int8_stores_int8_weights_and_reports_the_size_reduction(
    trained: TrainedModel, tmp_path: Path
) -> None:
    provider = LocalProvider(root=str(trained.root))
    report = Int8Quantization().build(BuildRequest(trained.model_id, provider, tmp_path / "int8"))
    assert np.load(tmp_path / "int8" / "weights_int8.npy").dtype == np.int8
    assert report["size_reduction"] > 7.5  # float64 -> int8 plus one scale per class
    assert report["artifact_bytes_after"] < report["artifact_bytes_before"] / 2
    served = Int8Quantization().wrap(lambda inputs: [], context(artifact=tmp_path / "int8"))
    texts = trained.inputs
    agreement = np.mean(
        np.array(served(texts)) == np.array(provider.predict(trained.model_id, texts))
    )
    assert agreement >= 0.98


@pytest.mark.parametrize("granularity", ["per_class", "per_row", "per_tensor"])
def test_quantization_error_is_at_most_half_a_step(granularity: str) -> None:
    weights = np.random.default_rng(0).normal(size=(50, 4))
    quantized, scales = quantize(weights, 8, granularity, 1.0)
    assert np.all(np.abs(quantized * scales - weights) <= scales / 2 + 1e-6)
    assert np.abs(quantized).max() == 127


def test_int8_refuses_a_model_without_local_weights(tmp_path: Path) -> None:
    from modelops_core.optimize.values import OptimizeError

    class Hosted:
        name = "openai"

    with pytest.raises(OptimizeError, match="model_path"):
        Int8Quantization().build(BuildRequest("gpt-4o-mini", Hosted(), tmp_path))


def test_int8_options_are_checked() -> None:
    with pytest.raises(ValueError, match="bits"):
        Int8Quantization(bits=9)
    with pytest.raises(ValueError, match="granularity"):
        Int8Quantization(granularity="per_block")
