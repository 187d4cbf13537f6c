"""``concurrency_limit``: at most ``max_concurrent`` calls of the model below at once."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from modelops_core.optimize.values import (
    LAYER_CONCURRENCY,
    BuildRequest,
    OptimizeError,
    Predict,
    ServingContext,
)


class ConcurrencyLimitTimeout(OptimizeError):
    """A call waited longer than ``timeout_s`` for a free slot."""


class ConcurrencyLimit:
    """A semaphore around the provider call: protects a rate-limited API or a small server.

    :param max_concurrent: calls allowed at the same time.
    :param timeout_s: the longest a call waits for a slot (default: as long as it takes).
    """

    name = "concurrency_limit"
    layer = LAYER_CONCURRENCY

    def __init__(self, max_concurrent: int = 4, timeout_s: float | None = None) -> None:
        if max_concurrent < 1:
            raise ValueError(f"max_concurrent must be at least 1, got {max_concurrent}")
        if timeout_s is not None and timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, got {timeout_s}")
        self.max_concurrent = max_concurrent
        self.timeout_s = timeout_s

    def settings(self) -> dict[str, Any]:
        settings: dict[str, Any] = {"max_concurrent": self.max_concurrent}
        if self.timeout_s is not None:
            settings["timeout_s"] = self.timeout_s
        return settings

    def build(self, request: BuildRequest) -> dict[str, Any]:
        return {}

    def wrap(self, predict: Predict, context: ServingContext) -> Predict:
        slots = threading.BoundedSemaphore(self.max_concurrent)
        timeout = self.timeout_s
        limit = self.max_concurrent

        def limited(inputs: Sequence[str]) -> list[Any]:
            if not slots.acquire(timeout=timeout):
                raise ConcurrencyLimitTimeout(
                    f"{context.model_id}: no free slot among {limit} within {timeout} s; raise "
                    "max_concurrent or timeout_s of concurrency_limit in [optimize] optimizers."
                )
            try:
                return predict(inputs)
            finally:
                slots.release()

        return limited
