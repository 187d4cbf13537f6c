"""`modelops serve` against `mlflow models serve --env-manager local`: the same scikit-learn model,
the same client, the same machine.

Run: python benchmarks/serving.py [--seconds 5] [--mlflow-python /tmp/peers/mlflow/bin/python]

MLflow runs from its own virtual environment (never a dependency of this project):
``python3 -m venv /tmp/peers/mlflow && /tmp/peers/mlflow/bin/pip install mlflow scikit-learn``.
The model is a LogisticRegression on 4 features, registered here with the ``sklearn`` flavor
(skops) and logged there with ``mlflow.sklearn.log_model``. Each request predicts one row.

Figures: requests/s at concurrency 1 and 32 and p50/p99 latency for

- ``modelops serve`` with traffic routing (a split with a unit per request) and the request log;
- ``modelops serve`` with both off (``[serving] request_log = "none"``, no split, no unit):
  the difference per request is the routing + logging overhead;
- MLflow's scoring server (one worker, like ours).

The client (:func:`load`) keeps one HTTP/1.1 connection per concurrent caller over asyncio
streams; it is the same for every server. On a 2-core machine the client shares the CPU with
the server, so compare the ratios printed in the same run, not absolute figures across runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LoadResult:
    rate: float  # requests per second
    p50: float  # seconds
    p99: float  # seconds
    errors: int


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, body: bytes | None = None, timeout: float = 120.0) -> None:
    """Wait until ``url`` answers 200 (POSTing ``body`` when given)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            request = urllib.request.Request(
                url, data=body, headers={"content-type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer in {timeout} s")
        time.sleep(0.2)


async def _caller(
    port: int, path: str, body: bytes, headers: dict[str, str], unit_prefix: str | None,
    stop: float, latencies: list[float], errors: list[int],
) -> None:  # fmt: skip
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    fixed = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    count = 0
    try:
        while time.perf_counter() < stop:
            count += 1
            unit = f"x-modelops-unit: {unit_prefix}-{count}\r\n" if unit_prefix else ""
            head = (
                f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
                f"content-length: {len(body)}\r\n{fixed}{unit}\r\n"
            ).encode()
            started = time.perf_counter()
            writer.write(head + body)
            status_line = await reader.readline()
            length = 0
            chunked = False
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
                elif name.lower() == "transfer-encoding" and "chunked" in value:
                    chunked = True
            if chunked:
                while True:
                    size = int((await reader.readline()).strip(), 16)
                    await reader.readexactly(size + 2)
                    if size == 0:
                        break
            else:
                await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if not status_line.startswith(b"HTTP/1.1 200"):
                errors.append(1)
    finally:
        writer.close()


def load(
    port: int,
    path: str,
    body: bytes,
    concurrency: int,
    seconds: float,
    *,
    headers: dict[str, str] | None = None,
    units: bool = False,
) -> LoadResult:
    """Send ``body`` to ``path`` from ``concurrency`` keep-alive connections for ``seconds``."""

    async def run() -> LoadResult:
        latencies: list[float] = []
        errors: list[int] = []
        # one unmeasured second of warm-up
        warm_stop = time.perf_counter() + 1.0
        await asyncio.gather(
            *(_caller(port, path, body, headers or {}, None, warm_stop, [], [])
              for _ in range(concurrency))
        )  # fmt: skip
        started = time.perf_counter()
        stop = started + seconds
        await asyncio.gather(
            *(_caller(port, path, body, headers or {}, f"u{i}" if units else None, stop,
                      latencies, errors) for i in range(concurrency))
        )  # fmt: skip
        elapsed = time.perf_counter() - started
        ordered = sorted(latencies)
        return LoadResult(
            rate=len(ordered) / elapsed,
            p50=statistics.median(ordered),
            p99=ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
            errors=len(errors),
        )

    return asyncio.run(run())


# --- the comparison ---------------------------------------------------------------------------


def _train(folder: Path) -> tuple[Path, list[list[float]]]:
    """The model's training data as JSON (both sides fit the same model from it)."""
    import numpy as np

    rng = np.random.default_rng(0)
    features = rng.normal(size=(500, 4))
    path = folder / "train.json"
    path.write_text(json.dumps({"x": features.tolist(), "y": (features[:, 0] > 0).astype(int)
                                .tolist()}))  # fmt: skip
    return path, features[:1].tolist()


MODELOPS_SETUP = """
import json, sys
import numpy as np
from sklearn.linear_model import LogisticRegression
from modelops_core.registry.model_registry import ModelRegistry
data = json.load(open(sys.argv[1]))
model = LogisticRegression().fit(np.asarray(data["x"]), np.asarray(data["y"]))
with ModelRegistry() as registry:
    version = registry.register("bench", model=model, flavor="sklearn")
    registry.register("bench", model=model, flavor="sklearn")
    registry.set_alias("bench", "production", version.version)
    registry.set_alias("bench", "candidate", "2")
"""

MLFLOW_SETUP = """
import json, sys
import numpy as np
import mlflow, mlflow.sklearn
from sklearn.linear_model import LogisticRegression
data = json.load(open(sys.argv[1]))
model = LogisticRegression().fit(np.asarray(data["x"]), np.asarray(data["y"]))
mlflow.sklearn.save_model(model, sys.argv[2])
"""


def _modelops(folder: Path, routed: bool, seconds: float, row: list[list[float]]) -> list[str]:
    home = folder / ("routed" if routed else "plain")
    home.mkdir()
    toml = "[serving]\n" + ('request_log = "sql"\n' if routed else 'request_log = "none"\n')
    (home / "modelops.toml").write_text(toml)
    subprocess.run([sys.executable, "-c", MODELOPS_SETUP, str(folder / "train.json")],
                   cwd=home, check=True)  # fmt: skip
    modelops = str(Path(sys.executable).with_name("modelops"))
    if routed:
        subprocess.run([modelops, "traffic", "set", "bench", "production=90", "candidate=10"],
                       cwd=home, check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    port = free_port()
    process = subprocess.Popen([modelops, "serve", "--port", str(port)], cwd=home,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    body = json.dumps({"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP64",
                                   "data": row[0]}]}).encode()  # fmt: skip
    path = "/v2/models/bench/infer"
    label = "modelops serve (routing+log)" if routed else "modelops serve (both off)"
    try:
        wait_for(f"http://127.0.0.1:{port}{path}", body)
        return [_line(label, c, load(port, path, body, c, seconds, units=routed)) for c in (1, 32)]
    finally:
        process.terminate()
        process.wait(10)


def _mlflow(folder: Path, python: str, seconds: float, row: list[list[float]]) -> list[str]:
    model_dir = folder / "mlflow-model"
    subprocess.run([python, "-c", MLFLOW_SETUP, str(folder / "train.json"), str(model_dir)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    port = free_port()
    mlflow = str(Path(python).with_name("mlflow"))
    # MLflow starts `uvicorn` by name: its venv's bin folder goes first on PATH
    environment = {**os.environ, "PATH": f"{Path(python).parent}{os.pathsep}{os.environ['PATH']}"}
    process = subprocess.Popen(
        [mlflow, "models", "serve", "-m", str(model_dir), "--env-manager", "local", "--port",
         str(port), "--host", "127.0.0.1", "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        env=environment,
    )  # fmt: skip
    body = json.dumps({"inputs": row}).encode()
    try:
        wait_for(f"http://127.0.0.1:{port}/invocations", body)
        return [_line("mlflow models serve", c, load(port, "/invocations", body, c, seconds))
                for c in (1, 32)]  # fmt: skip
    finally:
        os.killpg(process.pid, 15)
        process.wait(10)


def _line(label: str, concurrency: int, result: LoadResult) -> str:
    return (
        f"{label:<30}{concurrency:>5}{result.rate:>9.0f}{result.p50 * 1000:>9.2f}"
        f"{result.p99 * 1000:>9.2f}{result.errors:>7}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--mlflow-python", default="/tmp/peers/mlflow/bin/python")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        _, row = _train(folder)
        print(f"{'server':<30}{'conc':>5}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>7}")
        routed = _modelops(folder, True, args.seconds, row)
        print("\n".join(routed), flush=True)
        plain = _modelops(folder, False, args.seconds, row)
        print("\n".join(plain), flush=True)
        if Path(args.mlflow_python).exists():
            peer = _mlflow(folder, args.mlflow_python, args.seconds, row)
            print("\n".join(peer))
            for ours, theirs in zip(routed, peer, strict=True):
                ratio = float(ours.split()[-4]) / float(theirs.split()[-4])
                print(f"throughput ratio at concurrency {ours.split()[-5]}: {ratio:.2f}x MLflow")
        else:
            print(f"(MLflow not measured: {args.mlflow_python} does not exist)")
        for on, off in zip(routed, plain, strict=True):
            # at concurrency 1, time per request = 1 / rate: the difference is the overhead
            if on.split()[-5] == "1":
                overhead = 1e6 / float(on.split()[-4]) - 1e6 / float(off.split()[-4])
                print(f"routing + logging overhead per request (concurrency 1): {overhead:.0f} us")
        print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
