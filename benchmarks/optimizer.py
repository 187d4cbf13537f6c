"""Before/after of each optimization technique on a real local model (run by hand).

    python benchmarks/optimizer.py [--quick] [--requests 2000] [--threads 8] [--runs 5]

User path (printed first): per technique, ``optimizer.serve(id)`` built fresh (empty cache) and
the whole request mix answered one call at a time, against a fresh provider answering it with
the original model; wall-clock medians of ``--runs`` (>= 5), alternating. ``--quick``: 300
requests.

Trains a local classifier on generated support tickets, then serves a realistic request mix
(Zipf-distributed: a few queries are asked very often, most rarely) through each technique and
through the original, in the same run:

- sequential: one caller, one input per call (latency p50/p95, throughput);
- concurrent: ``--threads`` callers at once (throughput), where micro-batching applies.

The response cache starts empty for every measurement (its hit rate is the mix's repeat rate).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import userpath
from modelops_provider_local.synthetic import support_tickets

from modelops_core import InferenceOptimizer, Runtime
from modelops_core.config import parse_config
from modelops_core.finetune.provider_contract import TuningRequest
from modelops_core.optimize.benchmark import measure, peak_memory

TECHNIQUES: dict[str, list[Any]] = {
    "response_cache": ["response_cache"],
    "micro_batch": [("micro_batch", {"max_batch": 64, "max_wait_ms": 5})],
    "concurrency_limit": [("concurrency_limit", {"max_concurrent": 2})],
    "int8": ["int8"],
    "latency target": ["response_cache", "micro_batch"],
}


def request_mix(texts: list[str], requests: int, seed: int = 0) -> list[str]:
    """``requests`` texts drawn with Zipf(1.1) popularity (rank 1 asked most)."""
    rng = np.random.default_rng(seed)
    ranks = np.minimum(rng.zipf(1.1, size=requests), len(texts)) - 1
    return [texts[rank] for rank in ranks]


def concurrent_throughput(predict: Any, texts: list[str], threads: int) -> float:
    position = iter(range(len(texts)))
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                index = next(position, None)
            if index is None:
                return
            predict([texts[index]])

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="300 requests (under a minute)")
    parser.add_argument("--runs", type=int, default=5, help="user-path runs (>= 5)")
    args = parser.parse_args()
    if args.quick:
        args.requests = min(args.requests, 300)
    work = Path(tempfile.mkdtemp(prefix="optimizer-bench-"))
    records = support_tickets(3000, seed=11)
    for name, part in (("train", records[:2000]), ("holdout", records[2000:])):
        (work / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in part))
    runtime = Runtime(
        parse_config({"home": str(work / ".modelops"), "providers": {"local": {"inline": True}}})
    )
    local = runtime.create("provider", runtime.config.provider("local"))
    job = local.start(
        TuningRequest(model="local:logreg", training_file=str(work / "train.jsonl"),
                      hyperparameters={"epochs": 3, "seed": 1})
    )  # fmt: skip
    model_id = str(job.fine_tuned_model)
    pool = [r["prompt"] for r in records[2000:]]
    mix = request_mix(pool, args.requests)
    print(f"model {model_id}; {len(mix)} requests, {len(set(mix))} distinct "
          f"({1 - len(set(mix)) / len(mix):.0%} repeats); {args.threads} threads\n")  # fmt: skip

    def original(inputs: Any) -> list[Any]:
        return list(local.predict(model_id, list(inputs)))

    local.predict(model_id, pool[:1])
    base = measure(original, mix, repeats=1)
    base_threads = concurrent_throughput(original, mix, args.threads)
    base_memory = peak_memory(lambda inputs: local.__class__(root=str(local.root)).predict(
        model_id, list(inputs)), pool[:8])  # fmt: skip
    optimizer = InferenceOptimizer(runtime)
    user_rows = []
    for label, techniques in TECHNIQUES.items():
        fast_id = optimizer.optimize(
            model_id, techniques=techniques, holdout=work / "holdout.jsonl"
        )

        def optimized(fast_id: str = fast_id) -> None:
            served = optimizer.serve(fast_id)  # set-up included: a fresh server, empty cache
            for text in mix:
                served.predict([text])
            served.close()

        def unoptimized() -> None:
            fresh = local.__class__(root=str(local.root))
            for text in mix:
                fresh.predict(model_id, [text])

        ours_s, theirs_s = userpath.median_pair(optimized, unoptimized, args.runs)
        user_rows.append(userpath.Row(f"serve({label}) + {len(mix)} predict calls", ours_s,
                                      "the original model", theirs_s, args.runs))  # fmt: skip
    userpath.print_rows("answering the request mix, one caller", user_rows)
    print("\ninner loop (latency and throughput of predict calls, servers built beforehand):")
    print(f"{'technique':18} {'p50 ms':>8} {'orig':>8} {'ratio':>6} {'seq/s':>8} {'orig':>8} "
          f"{'ratio':>6} {'thr/s':>8} {'orig':>8} {'ratio':>6} "
          f"{'mem KiB':>8} {'orig':>8}")  # fmt: skip
    for label, techniques in TECHNIQUES.items():
        fast_id = optimizer.optimize(
            model_id, techniques=techniques, holdout=work / "holdout.jsonl"
        )
        served = optimizer.serve(fast_id)
        for component in served._components:
            clear = getattr(component, "clear", None)
            if callable(clear):
                clear()  # an empty cache: the gate's evaluation filled it with the holdout
        memory = peak_memory(served.predict, pool[:8])
        for component in served._components:
            clear = getattr(component, "clear", None)
            if callable(clear):
                clear()
        timing = measure(served.predict, mix, repeats=1)
        for component in served._components:
            clear = getattr(component, "clear", None)
            if callable(clear):
                clear()
        threads = concurrent_throughput(served.predict, mix, args.threads)
        served.close()
        print(
            f"{label:18} {timing['p50_ms']:8.3f} {base['p50_ms']:8.3f} "
            f"{base['p50_ms'] / timing['p50_ms']:5.1f}x "
            f"{timing['throughput_per_s']:8.0f} {base['throughput_per_s']:8.0f} "
            f"{timing['throughput_per_s'] / base['throughput_per_s']:5.1f}x "
            f"{threads:8.0f} {base_threads:8.0f} {threads / base_threads:5.1f}x "
            f"{memory / 1024:8.0f} {base_memory / 1024:8.0f}"
        )


if __name__ == "__main__":
    main()
