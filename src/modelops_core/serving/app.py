"""The ASGI application behind ``modelops serve`` (a plain ASGI callable: no web framework).

Endpoints (see docs/serving.md):

- ``GET /v2/health/live``, ``GET /v2/health/ready`` (503 naming what is loading or failed),
  ``GET /v2``, ``GET /v2/models/{name}``, ``GET /v2/models/{name}/ready``,
  ``POST /v2/models/{name}/infer``, ``POST /v2/models/{name}/versions/{version}/infer``
  (the Open Inference Protocol v2, REST);
- ``POST /v1/chat/completions`` and ``GET /v1/models`` (OpenAI-compatible; ``model`` is
  ``NAME``, ``NAME@ALIAS`` or ``NAME/VERSION``);
- ``GET /metrics`` (Prometheus text).

A request for ``NAME`` goes to the alias its traffic split assigns (by the unit id from
``X-Modelops-Unit``, the OpenAI ``user`` field or ``[serving] unit_field``); every answer names
the version in ``X-Modelops-Version`` (and ``model_version`` / ``model``). Each prediction
request is appended to the request log after its answer is ready; shadow aliases get a copy
after the answer is sent.
"""

from __future__ import annotations

import asyncio
import hmac
import os
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from modelops_core.config import mask_urls_in
from modelops_core.serving.errors import (
    ModelNotReadyError,
    RequestBodyError,
    ServingError,
    UnauthorizedError,
    UnknownModelError,
    UpstreamError,
    UpstreamTimeoutError,
)
from modelops_core.serving.protocol import (
    ChatRequest,
    InferRequest,
    chat_text,
    decode,
    infer_inputs,
    infer_outputs,
    parse_target,
    plain,
)

if TYPE_CHECKING:
    from modelops_core.runtime import Runtime
    from modelops_core.serving.metrics import Metrics
    from modelops_core.serving.models import ModelLoader, ServedVersion
    from modelops_core.serving.request_log import RequestLog
    from modelops_core.serving.router import Route, Router
    from modelops_core.serving.settings import ServingSettings

__all__ = ["ServingApp", "create_app"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

#: the environment variable ``modelops serve`` passes its options in (JSON) to each worker
OPTIONS_VARIABLE = "MODELOPS_SERVE_OPTIONS"
_MAX_BODY = 16 * 1024 * 1024
_OPEN_PATHS = ("/v2/health/live", "/v2/health/ready")
_ENCODER = msgspec.json.Encoder()
_JSON = b"application/json"


class Answer:
    """What a handler answers, and what the request log and metrics record of it."""

    __slots__ = ("body", "content_type", "headers", "model", "status", "variant", "version")

    def __init__(
        self,
        status: int,
        payload: Any,
        *,
        model: str = "",
        version: str = "",
        variant: str = "",
        content_type: bytes = _JSON,
    ) -> None:
        self.status = status
        self.body = payload if isinstance(payload, bytes) else _ENCODER.encode(payload)
        self.content_type = content_type
        self.model = model
        self.version = version
        self.variant = variant
        self.headers: list[tuple[bytes, bytes]] = []


class ServingApp:
    """``modelops serve``'s ASGI app.

    :param runtime: the runtime (configuration, plugins, registry); default: built from the
        configuration file found from the working directory (or ``config_path``).
    :param settings: the ``[serving]`` settings to use instead of the configuration's.
    :param models: the model names to serve (default: every registered model).
    :param token: the token clients must send (``Authorization: Bearer``); default
        ``[serving] token``.
    """

    def __init__(
        self,
        runtime: Runtime | None = None,
        *,
        settings: ServingSettings | None = None,
        models: Sequence[str] = (),
        token: str | None = None,
        config_path: str | None = None,
    ) -> None:
        self._runtime = runtime
        self._settings = settings
        self._models = tuple(models)
        self._token = token
        self._config_path = config_path
        self._started = False
        self._shadow_tasks: set[asyncio.Task[None]] = set()
        self.metrics: Metrics
        self.loader: ModelLoader
        self.router: Router
        self.log: RequestLog | None
        self.settings: ServingSettings

    # --- life cycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Open the registry, start loading models, start the request-log writer."""
        if self._started:
            return
        from modelops_core.serving.metrics import Metrics
        from modelops_core.serving.models import ModelLoader
        from modelops_core.serving.request_log import open_request_log
        from modelops_core.serving.router import Router
        from modelops_core.serving.settings import serving_settings

        if self._runtime is None:
            from modelops_core.config import load_config
            from modelops_core.runtime import Runtime

            self._runtime = Runtime(load_config(self._config_path))
        runtime = self._runtime
        self.settings = self._settings or serving_settings(runtime.config)
        self.token = self._token or self.settings.token
        self.metrics = Metrics()
        self.loader = ModelLoader(runtime)
        self.router = Router(runtime, self.settings, self.loader, self._models)
        self.log = open_request_log(self.settings, runtime)
        self.router.start()
        if self.log is not None:
            self.log.start()
        self._started = True

    def close(self) -> None:
        """Write the queued log rows, stop the threads."""
        if not self._started:
            return
        self._started = False
        self.router.close()
        if self.log is not None:
            self.log.close()
        self.loader.close()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    self.start()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed",
                                "message": mask_urls_in(str(exc))})  # fmt: skip
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await asyncio.to_thread(self.close)
                await send({"type": "lifespan.shutdown.complete"})
                return

    # --- requests ------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        if kind != "http":
            return
        if not self._started:
            self.start()
        await self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        method: str = scope["method"]
        path: str = scope["path"]
        headers = dict(scope["headers"])
        openai = path.startswith("/v1/")
        try:
            if self.token and path not in _OPEN_PATHS:
                given = headers.get(b"authorization", b"").decode("latin-1")
                if not hmac.compare_digest(given.encode(), f"Bearer {self.token}".encode()):
                    raise UnauthorizedError(
                        "This server requires a token: send 'Authorization: Bearer <token>' "
                        "(the token modelops serve was started with)."
                    )
            body = await _body(receive) if method == "POST" else b""
            if not self.router.routes.read and not path.startswith("/v2/health"):
                await self._routes_read()
            answer = await self._route(method, path, headers, body, started, send)
        except ServingError as exc:
            answer = _error(exc, openai)
        if answer is None:  # streamed: already sent and logged
            return
        await _send(send, answer)

    async def _route(
        self,
        method: str,
        path: str,
        headers: dict[bytes, bytes],
        body: bytes,
        started: float,
        send: Send,
    ) -> Answer | None:
        parts = path.strip("/").split("/")
        if method == "POST":
            if path == "/v1/chat/completions":
                return await self._chat(headers, body, started, send)
            if path == "/v1/feedback":  # A/B experiments: serving/experiments/feedback.py
                from modelops_core.serving.experiments.feedback import handle_feedback

                return await handle_feedback(self._runtime, self.settings, body)
            if parts[:2] == ["v2", "models"] and parts[-1] == "infer":
                if len(parts) == 4:
                    return await self._infer(parts[2], None, headers, body, started)
                if len(parts) == 6 and parts[3] == "versions":
                    return await self._infer(parts[2], parts[4], headers, body, started)
        elif method == "GET":
            if path == "/v2/health/live":
                return Answer(200, {"live": True})
            if path == "/v2/health/ready":
                return self._ready()
            if path == "/metrics":
                return Answer(200, self.metrics.render().encode(),
                              content_type=b"text/plain; version=0.0.4; charset=utf-8")  # fmt: skip
            if path == "/v1/models":
                return self._openai_models()
            if path == "/v2":
                from modelops_core._version import __version__

                return Answer(200, {"name": "modelops", "version": __version__,
                                    "extensions": []})  # fmt: skip
            if parts[:2] == ["v2", "models"] and len(parts) in (3, 4, 5, 6):
                return self._model_metadata(parts[2:])
        raise UnknownModelError(
            f"No endpoint {method} {path}. Endpoints: GET /v2/health/live, /v2/health/ready, "
            "/v2/models/NAME, /v1/models, /metrics; POST /v2/models/NAME/infer, "
            "/v2/models/NAME/versions/VERSION/infer, /v1/chat/completions, /v1/feedback."
        )

    # --- choosing the version ------------------------------------------------------------------

    def _route_of(self, name: str) -> Route:
        routes = self.router.routes
        route = routes.models.get(name)
        if route is not None:
            return route
        if not routes.read:
            raise ModelNotReadyError("The server is still reading the registry; retry shortly.")
        served = ", ".join(sorted(routes.models)) or "none"
        raise UnknownModelError(
            f"No model {name[:200]!r} is served here (served: {served}). Register it, or "
            "check the name."
        )

    def _choose(
        self, name: str, version: str | None, alias: str | None, unit: str | None
    ) -> tuple[Route, str, str]:
        """``(route, version, variant)`` that answers."""
        route = self._route_of(name)
        if version is not None:
            if version not in route.versions:
                version = _equal_version(version, route.versions)
            return route, version, ""
        if alias is None:
            alias = route.split.assign(unit)
        found = route.aliases.get(alias)
        if found is None:
            known = ", ".join(f"{a} -> {v}" for a, v in sorted(route.aliases.items())) or "none"
            raise UnknownModelError(
                f"{name} has no alias {alias[:64]!r} (its aliases: {known}; versions: "
                f"{', '.join(route.versions)}). Ask for NAME/VERSION or NAME@ALIAS, or set the "
                f"alias: modelops registry alias set {name} {alias[:64]} VERSION."
            )
        return route, found, alias

    async def _routes_read(self) -> None:
        """Wait (up to 10 s) for the first read of the registry after start-up."""
        deadline = time.monotonic() + 10.0
        while not self.router.routes.read and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    async def _served(self, name: str, version: str) -> ServedVersion:
        ready = self.loader.ready(name, version)
        if ready is not None:
            return ready
        return await asyncio.wrap_future(self.loader.load(name, version))

    def _unit(self, headers: dict[bytes, bytes], raw: dict[str, Any], user: Any) -> str | None:
        given = headers.get(b"x-modelops-unit")
        if given:
            return given.decode("utf-8", "replace")
        if isinstance(user, str) and user:
            return user
        field = self.settings.unit_field
        if field:
            for source in (raw, raw.get("parameters"), raw.get("metadata")):
                if isinstance(source, dict) and source.get(field) not in (None, ""):
                    return str(source[field])
        return None

    async def _predict(self, served: ServedVersion, inputs: Any) -> Any:
        if not served.provider:
            try:
                return served.predict(inputs)
            except ServingError:
                raise
            except Exception as exc:
                from modelops_core.flavors.schema import SchemaMismatchError

                if isinstance(exc, SchemaMismatchError | ValueError | TypeError):
                    raise RequestBodyError(
                        f"{served.model} {served.version} cannot predict this input: {exc}",
                        field="$.inputs",
                    ) from exc
                raise ServingError(
                    f"{served.model} {served.version} failed: {type(exc).__name__}: {exc}"
                ) from exc
        loop = asyncio.get_running_loop()
        timeout = self.settings.provider_timeout
        try:
            return await asyncio.wait_for(
                loop.run_in_executor(None, served.predict, inputs), timeout
            )
        except TimeoutError as exc:
            raise UpstreamTimeoutError(
                f"{served.flavor[9:]} did not answer for {served.model} {served.version} "
                f"({served.model_id}) within {timeout:g} s ([serving] provider_timeout)."
            ) from exc
        except ServingError:
            raise
        except Exception as exc:
            raise UpstreamError(
                f"{served.flavor[9:]} failed for {served.model} {served.version} "
                f"({served.model_id}): {mask_urls_in(str(exc))}"
            ) from exc

    # --- the prediction endpoints --------------------------------------------------------------

    async def _infer(
        self,
        target: str,
        version: str | None,
        headers: dict[bytes, bytes],
        body: bytes,
        started: float,
    ) -> Answer:
        request_id = os.urandom(12).hex()
        name, pinned, alias = parse_target(target)
        version = version or pinned
        route = None
        chosen_version = ""
        variant = ""
        unit = None
        raw: dict[str, Any] = {}
        try:
            request, raw = decode(body, InferRequest)
            request_id = request.id or request_id
            unit = self._unit(headers, raw, None)
            route, chosen_version, variant = self._choose(name, version, alias, unit)
            served = await self._served(name, chosen_version)
            inputs = infer_inputs(request, columns=(served.inputs or {}).get("kind") == "columns")
            outputs = infer_outputs(await self._predict(served, inputs))
            answer = Answer(
                200,
                {"model_name": name, "model_version": chosen_version, "id": request_id,
                 "outputs": outputs},
                model=name, version=chosen_version, variant=variant,
            )  # fmt: skip
            output: Any = outputs
            error = None
        except ServingError as exc:
            answer = _error(exc, False)
            answer.model, answer.version, answer.variant = name, chosen_version, variant
            output, error = None, str(exc)
        self._finish(answer, route, unit, started, request_id, "infer", raw.get("inputs"),
                     output, error)  # fmt: skip
        if route is not None and answer.status == 200 and version is None and alias is None:
            self._mirror(route, unit, raw, "infer")
        return answer

    async def _chat(
        self, headers: dict[bytes, bytes], body: bytes, started: float, send: Send
    ) -> Answer | None:
        request_id = "chatcmpl-" + os.urandom(12).hex()
        name = ""
        route = None
        chosen_version = ""
        variant = ""
        unit = None
        raw: dict[str, Any] = {}
        pinned = alias = None
        try:
            request, raw = decode(body, ChatRequest)
            name, pinned, alias = parse_target(request.model)
            unit = self._unit(headers, raw, request.user)
            text = chat_text(request)
            route, chosen_version, variant = self._choose(name, pinned, alias, unit)
            served = await self._served(name, chosen_version)
            if request.stream:
                streamed, failure = await self._stream(served, text, request_id, send, variant)
                status = 200 if failure is None else failure.status  # for the log and metrics
                answer = Answer(status, b"", model=name, version=chosen_version, variant=variant)
                error = None if failure is None else mask_urls_in(str(failure))
                self._finish(answer, route, unit, started, request_id, "chat",
                             raw.get("messages"), streamed, error)  # fmt: skip
                return None
            answer_text = _first_text(await self._predict(served, [text]))
            answer = Answer(
                200,
                {
                    "id": request_id,
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": f"{name}/{chosen_version}",
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": answer_text},
                        }
                    ],
                },
                model=name,
                version=chosen_version,
                variant=variant,
            )
            output: Any = answer_text
            error = None
        except ServingError as exc:
            answer = _error(exc, True)
            answer.model, answer.version, answer.variant = name, chosen_version, variant
            output, error = None, str(exc)
        self._finish(answer, route, unit, started, request_id, "chat", raw.get("messages"),
                     output, error)  # fmt: skip
        if route is not None and answer.status == 200 and pinned is None and alias is None:
            self._mirror(route, unit, raw, "chat")
        return answer

    async def _stream(
        self, served: ServedVersion, text: str, request_id: str, send: Send, variant: str
    ) -> tuple[str, ServingError | None]:
        """Server-sent events: the provider's pieces as they come (one piece otherwise).
        Returns the text sent (the whole answer, or what came before a failure) and the
        failure, which the client got as an error event: both go to the request log."""
        model = f"{served.model}/{served.version}"
        if served.stream is not None:
            pieces = _pieces_of(served.stream, text, self.settings.provider_timeout, served)
        else:
            answer = _first_text(await self._predict(served, [text]))
            pieces = _one(answer)
        try:  # a provider that fails before its first piece gets a plain error answer
            first: list[str] = [await anext(pieces)]
        except StopAsyncIteration:
            first = []
        headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache"),
                   *_version_headers(served.model, served.version, variant),
                   (b"x-request-id", request_id.encode())]  # fmt: skip
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        created = int(time.time())

        def chunk(delta: dict[str, Any], finish: str | None) -> bytes:
            event = {"id": request_id, "object": "chat.completion.chunk", "created": created,
                     "model": model, "choices": [{"index": 0, "delta": delta,
                                                  "finish_reason": finish}]}  # fmt: skip
            return b"data: " + _ENCODER.encode(event) + b"\n\n"

        await send({"type": "http.response.body", "body": chunk({"role": "assistant"}, None),
                    "more_body": True})  # fmt: skip
        sent: list[str] = []
        failure = None
        try:
            async for piece in _chained(first, pieces):
                body = chunk({"content": piece}, None)
                await send({"type": "http.response.body", "body": body, "more_body": True})
                sent.append(piece)
            tail = chunk({}, "stop")
        except ServingError as exc:  # headers are sent: the error travels as an event
            failure = exc
            error = {"message": mask_urls_in(str(exc)), "type": type(exc).__name__,
                     "code": exc.status}  # fmt: skip
            tail = b"data: " + _ENCODER.encode({"error": error}) + b"\n\n"
        await send({"type": "http.response.body", "body": tail + b"data: [DONE]\n\n"})
        return "".join(sent), failure

    # --- logging, metrics, shadows -------------------------------------------------------------

    def _finish(
        self,
        answer: Answer,
        route: Route | None,
        unit: str | None,
        started: float,
        request_id: str,
        endpoint: str,
        given: Any,
        output: Any,
        error: str | None,
        shadow: bool = False,
    ) -> None:
        seconds = time.perf_counter() - started
        model = answer.model if answer.model in self.router.routes.models else ""
        answer.headers = _version_headers(answer.model, answer.version, answer.variant)
        answer.headers.append((b"x-request-id", request_id.encode()))
        label = f"shadow:{answer.variant}" if shadow else answer.variant
        self.metrics.observe(model, answer.version, label, answer.status, seconds)
        if self.log is None:
            return
        from modelops_core.serving.traffic import unit_hash

        hashed = None
        if unit is not None:
            hashed = unit_hash(route.split.salt if route is not None else "", unit)
        self.log.append((
            request_id, time.time(), answer.model[:256], answer.version or None,
            answer.variant or None, int(shadow), hashed, seconds * 1000.0, answer.status,
            endpoint, given, output, error,
        ))  # fmt: skip

    def _mirror(self, route: Route, unit: str | None, raw: dict[str, Any], endpoint: str) -> None:
        for alias in route.split.shadows:
            version = route.aliases.get(alias)
            if version is None:
                continue
            task = asyncio.get_running_loop().create_task(
                self._shadow(route, alias, version, unit, raw, endpoint)
            )
            self._shadow_tasks.add(task)
            task.add_done_callback(self._shadow_tasks.discard)

    async def _shadow(
        self,
        route: Route,
        alias: str,
        version: str,
        unit: str | None,
        raw: dict[str, Any],
        endpoint: str,
    ) -> None:
        """Answer a copy on the shadow alias; log it, never return it."""
        started = time.perf_counter()
        request_id = os.urandom(12).hex()
        output: Any = None
        error = None
        try:
            served = await self._served(route.model, version)
            if endpoint == "chat":
                chat = msgspec.convert(raw, ChatRequest)
                output = _first_text(await self._predict(served, [chat_text(chat)]))
            else:
                infer = msgspec.convert(raw, InferRequest)
                columns = (served.inputs or {}).get("kind") == "columns"
                output = infer_outputs(
                    await self._predict(served, infer_inputs(infer, columns=columns))
                )
            answer = Answer(200, b"", model=route.model, version=version, variant=alias)
        except Exception as exc:  # a shadow's failure is logged, never returned
            error = mask_urls_in(str(exc))
            status = exc.status if isinstance(exc, ServingError) else 500
            answer = Answer(status, b"", model=route.model, version=version, variant=alias)
        given = raw.get("messages") if endpoint == "chat" else raw.get("inputs")
        self._finish(answer, route, unit, started, request_id, endpoint, given, output, error,
                     shadow=True)  # fmt: skip

    # --- metadata ------------------------------------------------------------------------------

    def _ready(self) -> Answer:
        routes = self.router.routes
        states = self.loader.states()
        waiting = {key: state for key, state in states.items() if state != "ready"}
        problems = dict(routes.problems)
        ready = routes.read and not waiting and not problems
        payload = {"ready": ready, "models": states, "problems": problems}
        if not routes.read:
            payload["problems"] = {"registry": "not read yet"}
        return Answer(200 if ready else 503, payload)

    def _model_metadata(self, parts: list[str]) -> Answer:
        name, pinned, alias = parse_target(parts[0])
        version = parts[2] if len(parts) >= 3 and parts[1] == "versions" else pinned
        route, chosen, variant = self._choose(name, version, alias, None)
        if parts[-1] == "ready" and len(parts) in (2, 4):
            ready = self.loader.ready(name, chosen) is not None
            return Answer(200 if ready else 503, {"name": name, "version": chosen,
                                                  "ready": ready})  # fmt: skip
        served = self.loader.ready(name, chosen)
        payload = {
            "name": name,
            "versions": list(route.versions),
            "aliases": dict(route.aliases),
            "traffic": route.split.to_dict(),
            "platform": served.flavor if served is not None else "loading",
            "inputs": [_schema_tensor("input", served.inputs)] if served and served.inputs else [],
            "outputs": [_schema_tensor("predict", served.outputs)]
            if served and served.outputs
            else [],
        }
        answer = Answer(200, payload, model=name, version=chosen, variant=variant)
        answer.headers = _version_headers(name, chosen, variant)
        return answer

    def _openai_models(self) -> Answer:
        data = []
        for name, route in sorted(self.router.routes.models.items()):
            data.append({"id": name, "object": "model", "owned_by": "modelops"})
            data += [{"id": f"{name}@{alias}", "object": "model", "owned_by": "modelops"}
                     for alias in sorted(route.aliases)]  # fmt: skip
            data += [{"id": f"{name}/{version}", "object": "model", "owned_by": "modelops"}
                     for version in route.versions]  # fmt: skip
        return Answer(200, {"object": "list", "data": data})


# --- helpers -----------------------------------------------------------------------------------


async def _body(receive: Receive) -> bytes:
    chunks = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > _MAX_BODY:
            raise RequestBodyError(
                f"The body is larger than {_MAX_BODY // (1024 * 1024)} MiB; send smaller batches.",
                field="$",
            )
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def _send(send: Send, answer: Answer) -> None:
    headers = [(b"content-type", answer.content_type), *answer.headers]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})


def _version_headers(model: str, version: str, variant: str) -> list[tuple[bytes, bytes]]:
    headers = []
    if version:
        headers.append((b"x-modelops-version", version.encode()))
        headers.append((b"x-modelops-model", model.encode()))
    if variant:
        headers.append((b"x-modelops-variant", variant.encode()))
    return headers


def _error(exc: ServingError, openai: bool) -> Answer:
    message = mask_urls_in(str(exc))
    if openai:
        error: dict[str, Any] = {"message": message, "type": type(exc).__name__,
                                 "code": exc.status}  # fmt: skip
        if isinstance(exc, RequestBodyError):
            error["param"] = exc.field
        return Answer(exc.status, {"error": error})
    payload: dict[str, Any] = {"error": message}
    if isinstance(exc, RequestBodyError):
        payload["field"] = exc.field
    return Answer(exc.status, payload)


def _equal_version(version: str, versions: Sequence[str]) -> str:
    """The stored version equal to ``version`` ("1.0" for "1"); 404 naming them otherwise."""
    from modelops_core.registry.versions import parse_version

    try:
        wanted = parse_version(version)
        for stored in versions:
            if parse_version(stored) == wanted:
                return stored
    except Exception:
        pass
    raise UnknownModelError(
        f"No version {version[:64]!r} of this model (versions: {', '.join(versions) or 'none'})."
    )


def _first_text(result: Any) -> str:
    values = plain(result)
    if isinstance(values, list):
        if not values:
            raise ServingError("The model answered nothing for the input.")
        values = values[0]
    return values if isinstance(values, str) else msgspec.json.encode(values).decode()


async def _one(text: str) -> Any:
    yield text


async def _chained(first: list[str], rest: Any) -> Any:
    for piece in first:
        yield piece
    async for piece in rest:
        yield piece


async def _pieces_of(
    stream: Callable[[str], Any], text: str, timeout: float, served: ServedVersion
) -> Any:
    """The provider's stream, read on a worker thread, piece by piece."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    def pump() -> None:
        try:
            for piece in stream(text):
                loop.call_soon_threadsafe(queue.put_nowait, ("piece", str(piece)))
            loop.call_soon_threadsafe(queue.put_nowait, ("end", None))
        except Exception as exc:
            loop.call_soon_threadsafe(queue.put_nowait, ("error", exc))

    loop.run_in_executor(None, pump)
    while True:
        try:
            kind, value = await asyncio.wait_for(queue.get(), timeout)
        except TimeoutError as exc:
            raise UpstreamTimeoutError(
                f"{served.flavor[9:]} stopped streaming for {served.model} {served.version} "
                f"for {timeout:g} s ([serving] provider_timeout)."
            ) from exc
        if kind == "end":
            return
        if kind == "error":
            raise UpstreamError(
                f"{served.flavor[9:]} failed for {served.model} {served.version}: "
                f"{mask_urls_in(str(value))}"
            )
        yield value


def _schema_tensor(name: str, schema: Any) -> dict[str, Any]:
    schema = dict(schema)
    shape = schema.get("shape") or [-1]
    datatype = {"str": "BYTES", "number": "FP64"}.get(str(schema.get("dtype")), "BYTES")
    return {"name": name, "datatype": datatype, "shape": list(shape), "schema": schema}


def create_app() -> ServingApp:
    """The app of one server worker, from the options ``modelops serve`` put in
    ``MODELOPS_SERVE_OPTIONS`` (the factory granian calls in each worker)."""
    import json

    options = json.loads(os.environ.get(OPTIONS_VARIABLE, "{}"))
    return ServingApp(
        models=options.get("models", ()),
        token=options.get("token"),
        config_path=options.get("config"),
    )
