"""``micro_batch``: concurrent predict calls grouped into one call of the model below.

No background thread: the first caller of a batch leads it. It waits for companions until the
batch holds ``max_batch`` inputs or ``max_wait_ms`` has passed, then makes the one call and
hands every caller its slice. With ``eager`` (the default) a leader does not wait when no
call of this batcher is in flight, so a lone caller pays no delay; callers that arrive while
a call is running gather into the next batch (which starts when that call ends, or after
``max_wait_ms``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from modelops_core.optimize.values import LAYER_BATCHING, BuildRequest, Predict, ServingContext


class _Batch:
    def __init__(self) -> None:
        self.inputs: list[str] = []
        self.closed = False
        self.done = threading.Event()
        self.outputs: list[Any] = []
        self.error: BaseException | None = None

    def add(self, inputs: Sequence[str]) -> slice:
        start = len(self.inputs)
        self.inputs.extend(inputs)
        return slice(start, len(self.inputs))


class MicroBatcher:
    """The callable :meth:`MicroBatch.wrap` returns (thread-safe)."""

    def __init__(self, predict: Predict, max_batch: int, max_wait: float, eager: bool) -> None:
        self._predict = predict
        self.max_batch = max_batch
        self.max_wait = max_wait
        self.eager = eager
        self._condition = threading.Condition()
        self._open: _Batch | None = None
        self._in_flight = 0
        self.calls = 0

    def __call__(self, inputs: Sequence[str]) -> list[Any]:
        if not inputs:
            return []
        with self._condition:
            batch = self._open
            if batch is not None and batch.closed:
                batch = None
            elif batch is not None and len(batch.inputs) + len(inputs) > self.max_batch:
                batch.closed = True  # full: its leader goes now; this caller starts the next
                self._condition.notify_all()
                batch = None
            leader = batch is None
            if batch is None:
                batch = self._open = _Batch()
            part = batch.add(inputs)
            if len(batch.inputs) >= self.max_batch:
                batch.closed = True
                self._condition.notify_all()
            if leader:
                self._gather(batch)
        if leader:
            self._run(batch)
        else:
            batch.done.wait()
        if batch.error is not None:
            raise batch.error
        return batch.outputs[part]

    def _gather(self, batch: _Batch) -> None:
        """Wait (holding the condition) until the batch should go; close it."""
        deadline = time.monotonic() + self.max_wait
        while not batch.closed:
            if self.eager and self._in_flight == 0:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._condition.wait(remaining)
        batch.closed = True
        if self._open is batch:
            self._open = None
        self._in_flight += 1
        self.calls += 1

    def _run(self, batch: _Batch) -> None:
        try:
            outputs = list(self._predict(batch.inputs))
            if len(outputs) != len(batch.inputs):
                raise ValueError(
                    f"the model returned {len(outputs)} outputs for {len(batch.inputs)} inputs"
                )
            batch.outputs = outputs
        except BaseException as exc:  # every caller of the batch gets the error
            batch.error = exc
        finally:
            with self._condition:
                self._in_flight -= 1
                self._condition.notify_all()
            batch.done.set()


class MicroBatch:
    """Group concurrent calls: at most ``max_batch`` inputs per model call, and a leader waits
    at most ``max_wait_ms`` for companions.

    :param max_batch: the most inputs one model call gets (a larger single call goes alone).
    :param max_wait_ms: the longest a batch waits for more callers.
    :param eager: do not wait when the model is idle (no added latency for a lone caller);
        False always waits up to ``max_wait_ms``, which groups more under bursty load.
    """

    name = "micro_batch"
    layer = LAYER_BATCHING

    def __init__(self, max_batch: int = 32, max_wait_ms: float = 5.0, eager: bool = True) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        if max_wait_ms < 0:
            raise ValueError(f"max_wait_ms must be >= 0, got {max_wait_ms}")
        self.max_batch = max_batch
        self.max_wait_ms = max_wait_ms
        self.eager = eager

    def settings(self) -> dict[str, Any]:
        return {"max_batch": self.max_batch, "max_wait_ms": self.max_wait_ms, "eager": self.eager}

    def build(self, request: BuildRequest) -> dict[str, Any]:
        return {}

    def wrap(self, predict: Predict, context: ServingContext) -> MicroBatcher:
        return MicroBatcher(predict, self.max_batch, self.max_wait_ms / 1000.0, self.eager)
