"""Which ASGI stack `modelops serve` runs on: the same tiny scikit-learn endpoint on three stacks.

Run: python benchmarks/serving_stacks.py [--seconds 4]

Stacks: a raw ASGI app on uvicorn (httptools + uvloop), the same endpoint as a Starlette app on
uvicorn, and the raw ASGI app on granian. Each answers ``POST /predict`` with a JSON body of
four numbers by a fitted LogisticRegression's ``predict``. The client is
:func:`serving.load` (keep-alive HTTP/1.1 over asyncio streams, in its own process), the same
for every stack. Figures: requests/s at concurrency 1 and 32, p50/p99 latency. The decision and
the figures are in docs/decisions/0006-serving-stack.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from serving import free_port, load, wait_for

APP = """
import json, pickle, numpy as np
with open({model!r}, "rb") as handle:
    MODEL = pickle.load(handle)  # the benchmark's own file, written a moment ago

def answer(body):
    row = json.loads(body)["inputs"]
    return json.dumps({{"outputs": MODEL.predict(np.asarray([row])).tolist()}}).encode()

async def raw(scope, receive, send):
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    payload = answer(body)
    await send({{"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]}})
    await send({{"type": "http.response.body", "body": payload}})

def starlette_app():
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    async def predict(request):
        return Response(answer(await request.body()), media_type="application/json")

    return Starlette(routes=[Route("/predict", predict, methods=["POST"])])
"""


def fitted_model(folder: Path) -> Path:
    import pickle

    import numpy as np
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    features = rng.normal(size=(500, 4))
    model = LogisticRegression().fit(features, (features[:, 0] > 0).astype(int))
    path = folder / "model.pkl"
    path.write_bytes(pickle.dumps(model))
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    body = b'{"inputs": [0.1, -0.2, 0.3, 0.4]}'
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "stackapp.py").write_text(
            APP.format(model=str(fitted_model(Path(folder)))), encoding="utf-8"
        )
        python = sys.executable
        stacks = {
            "raw ASGI + uvicorn": ["-m", "uvicorn", "stackapp:raw", "--http", "httptools",
                                   "--loop", "uvloop", "--no-access-log"],
            "Starlette + uvicorn": ["-m", "uvicorn", "stackapp:starlette_app", "--factory",
                                    "--http", "httptools", "--loop", "uvloop", "--no-access-log"],
            "raw ASGI + granian": ["-m", "granian", "--interface", "asgi", "stackapp:raw",
                                   "--no-ws", "--log-level", "warning"],
        }  # fmt: skip
        print(f"{'stack':<22}{'conc':>5}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}")
        for name, command in stacks.items():
            port = free_port()
            flag = ["--port", str(port)]
            process = subprocess.Popen(
                [python, *command, *flag],
                cwd=folder,
                env={**os.environ, "PYTHONPATH": folder},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                wait_for(f"http://127.0.0.1:{port}/predict", body)
                for concurrency in (1, 32):
                    result = load(port, "/predict", body, concurrency, args.seconds)
                    print(
                        f"{name:<22}{concurrency:>5}{result.rate:>9.0f}"
                        f"{result.p50 * 1000:>9.2f}{result.p99 * 1000:>9.2f}"
                    )
            finally:
                process.terminate()
                process.wait(10)
            time.sleep(0.5)


if __name__ == "__main__":
    main()
