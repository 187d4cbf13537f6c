"""A fake of Bedrock's runtime Converse API at the transport, event stream included.

:class:`FakeBedrockRuntime` answers ``Converse`` (JSON) and ``ConverseStream`` (the binary
``application/vnd.amazon.eventstream`` framing botocore decodes: prelude, headers, payload and
CRC-32 checksums) from the raw request botocore prepared, through a ``before-send`` hook on a
``bedrock-runtime`` client (no socket)::

    runtime = FakeBedrockRuntime(answers={"What is the capital of France?": "Paris"})
    provider = BedrockProvider(runtime_client=runtime.client(), ...)
    provider.predict(model, ["What is the capital of France?"])      # ["Paris"]
    "".join(provider.stream(model, "What is the capital of France?"))  # "Paris"

Like the service, it

- refuses a request outside botocore's model (patterns, lengths, ranges, required members)
  with ``ValidationException`` (HTTP 400) worded as AWS words it;
- answers a prompt it was given in ``answers`` with that answer, any other with
  ``echo: <prompt>``, cut to ``inferenceConfig.maxTokens`` words (``stopReason`` then
  ``max_tokens``);
- streams the answer as the events ``messageStart``, one ``contentBlockDelta`` per word (the
  word and the space after it), ``contentBlockStop``, ``messageStop`` and ``metadata`` (usage,
  latency);
- cuts the next stream when a test asks (:meth:`FakeBedrockRuntime.interrupt_next_stream`):
  with one of the stream's modelled exception events (``modelStreamErrorException``,
  ``throttlingException`` …), or by dropping the connection (urllib3's ``ProtocolError``, as
  a broken HTTP body).

Every answer, and each event of a stream, is checked against the model before it is sent; one
outside it is a bug of the fake, kept in :attr:`FakeBedrockRuntime.violations` and raised as
``SpecViolationError``.
"""

from __future__ import annotations

import binascii
import json
import re
import struct
import threading
import urllib.parse
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from modelops_provider_bedrock.testing.fake import REGION, Received, _RawBody
from modelops_provider_bedrock.testing.spec import (
    ServiceSpec,
    SpecViolationError,
    Violation,
    validation_message,
)

#: the messages of the stream's exception events the fake sends by default.
STREAM_MESSAGES: Mapping[str, str] = {
    "modelStreamErrorException": "The model encountered an error while streaming the response.",
    "throttlingException": "Too many requests, please wait before trying again.",
    "internalServerException": "The server encountered an internal error.",
    "serviceUnavailableException": "The service is unavailable. Try again later.",
    "validationException": "The input fails to satisfy the constraints specified by the model.",
}


class FakeBedrockRuntime:
    """A strict fake of Converse and ConverseStream (see the module docstring).

    :param answers: prompt -> the answer the model gives it (others are echoed).
    :param spec: the bedrock-runtime model checks (default: botocore's model).
    """

    def __init__(
        self, *, answers: Mapping[str, str] | None = None, spec: ServiceSpec | None = None
    ) -> None:
        self.answers = dict(answers or {})
        self.spec = spec or ServiceSpec("bedrock-runtime")
        self.received: list[Received] = []
        self.violations: list[Violation] = []
        self._cut: tuple[int, str | None, str | None] | None = None
        self._lock = threading.Lock()

    # --- scripting -----------------------------------------------------------------------------

    def interrupt_next_stream(
        self, after: int, exception: str | None = "modelStreamErrorException", message: str = ""
    ) -> None:
        """End the next ConverseStream after ``after`` events: with the modelled exception
        event ``exception`` (its ``message`` default: :data:`STREAM_MESSAGES`), or, with
        ``exception`` None, a dropped connection."""
        stream = self.spec.operation("ConverseStream").output_shape.members["stream"]
        if exception is not None and exception not in stream.members:
            raise ValueError(
                f"ConverseStream has no event {exception!r}; its exception events are "
                f"{sorted(n for n, s in stream.members.items() if s.metadata.get('exception'))}"
            )
        chosen = message or STREAM_MESSAGES.get(exception or "", "")
        self._cut = (after, exception, chosen)

    # --- transport -----------------------------------------------------------------------------

    def attach(self, client: Any) -> Any:
        """Answer ``client``'s bedrock-runtime calls in-process (a ``before-send`` hook)."""
        client.meta.events.register(
            "before-send.bedrock-runtime", self._on_send, unique_id=f"fake-runtime-{id(self)}"
        )
        return client

    def client(self, session: Any = None) -> Any:
        """A ``bedrock-runtime`` client answered by this fake (endpoint
        ``http://bedrock-runtime.fake.invalid``, which never resolves), one attempt per call."""
        # boto3 and botocore have no type hints (boto3-stubs is not a dependency): Any
        from botocore.config import Config  # type: ignore[import-untyped,unused-ignore]

        if session is None:
            import boto3  # type: ignore[import-untyped,unused-ignore]

            session = boto3.session.Session(
                aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
            )
        client = session.client(
            "bedrock-runtime",
            region_name=REGION,
            endpoint_url="http://bedrock-runtime.fake.invalid",
            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
        )
        return self.attach(client)

    def _on_send(self, request: Any, **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse  # type: ignore[import-untyped,unused-ignore]

        body = request.body or b""
        if hasattr(body, "read"):
            body = body.read()
        if isinstance(body, str):
            body = body.encode("utf-8")
        status, headers, payload = self.handle(request.method, request.url, body)
        raw = payload if isinstance(payload, _Events) else _RawBody(payload)
        return AWSResponse(request.url, status, headers, raw)

    # --- the service ---------------------------------------------------------------------------

    def handle(self, method: str, url: str, body: bytes) -> tuple[int, dict[str, str], Any]:
        """Answer one request: ``(status, headers, body)``; a stream's body is an iterator of
        event-stream messages."""
        with self._lock:
            path = urllib.parse.urlsplit(url).path
            match = re.fullmatch(r"/model/([^/]+)/(converse|converse-stream)", path)
            if match is None or method != "POST":
                return self._error(None, "UnknownOperationException", f"No operation {path}")
            operation = "Converse" if match.group(2) == "converse" else "ConverseStream"
            params = {"modelId": urllib.parse.unquote(match.group(1)), **json.loads(body or b"{}")}
            violations = self.spec.check_request(operation, params)
            if violations:
                self.received.append(Received(operation, params, 400, "ValidationException"))
                return self._error(operation, "ValidationException", validation_message(violations))
            self.received.append(Received(operation, params, 200, None))
            text, stop = self._answer(params)
            if operation == "Converse":
                return self._converse(text, stop, params)
            cut, self._cut = self._cut, None
            return self._converse_stream(text, stop, params, cut)

    def _answer(self, params: Mapping[str, Any]) -> tuple[str, str]:
        messages = params.get("messages") or []
        users = [m for m in messages if m.get("role") == "user"]
        prompt = "".join(part.get("text", "") for part in users[-1]["content"]) if users else ""
        text = self.answers.get(prompt, f"echo: {prompt}")
        budget = (params.get("inferenceConfig") or {}).get("maxTokens")
        words = text.split(" ")
        if budget is not None and len(words) > budget:
            return " ".join(words[:budget]), "max_tokens"
        return text, "end_turn"

    @staticmethod
    def _usage(params: Mapping[str, Any], text: str) -> dict[str, int]:
        asked = sum(
            len(str(part.get("text", "")).split())
            for message in params.get("messages") or []
            for part in message.get("content") or []
        )
        said = len(text.split())
        return {"inputTokens": asked, "outputTokens": said, "totalTokens": asked + said}

    def _converse(
        self, text: str, stop: str, params: Mapping[str, Any]
    ) -> tuple[int, dict[str, str], bytes]:
        document = {
            "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
            "stopReason": stop,
            "usage": self._usage(params, text),
            "metrics": {"latencyMs": 12},
        }
        headers = {"x-amzn-requestid": str(uuid.uuid4()), "content-type": "application/json"}
        payload = json.dumps(document).encode("utf-8")
        self._refuse(self.spec.check_wire_response("Converse", 200, headers, payload))
        return 200, headers, payload

    def _converse_stream(
        self,
        text: str,
        stop: str,
        params: Mapping[str, Any],
        cut: tuple[int, str | None, str | None] | None,
    ) -> tuple[int, dict[str, str], _Events]:
        pieces = re.findall(r"\S+\s*|\s+", text)
        events: list[tuple[str, dict[str, Any]]] = [("messageStart", {"role": "assistant"})]
        events += [
            ("contentBlockDelta", {"delta": {"text": piece}, "contentBlockIndex": 0})
            for piece in pieces
        ]
        events += [
            ("contentBlockStop", {"contentBlockIndex": 0}),
            ("messageStop", {"stopReason": stop}),
            ("metadata", {"usage": self._usage(params, text), "metrics": {"latencyMs": 12}}),
        ]
        messages: list[bytes] = []
        for number, (name, payload) in enumerate(events):
            if cut is not None and number == cut[0]:
                _, exception, message = cut
                if exception is None:
                    return self._stream_answer(messages, dropped=True)
                self._check_event(exception, {"message": message})
                headers = {":message-type": "exception", ":exception-type": exception,
                           ":content-type": "application/json"}  # fmt: skip
                messages.append(encode_event(headers, {"message": message}))
                return self._stream_answer(messages)
            self._check_event(name, payload)
            headers = {":message-type": "event", ":event-type": name,
                       ":content-type": "application/json"}  # fmt: skip
            messages.append(encode_event(headers, payload))
        return self._stream_answer(messages)

    def _stream_answer(
        self, messages: list[bytes], *, dropped: bool = False
    ) -> tuple[int, dict[str, str], _Events]:
        self._refuse(self.spec.check_status("ConverseStream", 200))
        headers = {
            "x-amzn-requestid": str(uuid.uuid4()),
            "content-type": "application/vnd.amazon.eventstream",
        }
        return 200, headers, _Events(messages, dropped)

    def _check_event(self, name: str, payload: Mapping[str, Any]) -> None:
        """The event's payload against its shape in the model (a member of the stream)."""
        stream = self.spec.operation("ConverseStream").output_shape.members["stream"]
        shape = stream.members[name]
        found: list[Violation] = []
        self.spec._structure(
            shape, dict(payload), name, found, "ConverseStream", "response", True,
            list(shape.required_members),
        )  # fmt: skip
        self._refuse(found)

    def _refuse(self, found: list[Violation]) -> None:
        if found:
            self.violations.extend(found)
            raise SpecViolationError(
                "the fake's own answer breaks the bedrock-runtime model: "
                + "; ".join(str(v) for v in found),
                found,
            )

    def _error(
        self, operation: str | None, code: str, message: str
    ) -> tuple[int, dict[str, str], bytes]:
        status = int(self.spec.status_for(operation, code) or 400) if operation else 404
        headers = {
            "x-amzn-requestid": str(uuid.uuid4()),
            "content-type": "application/json",
            "x-amzn-errortype": f"{code}:http://internal.amazon.com/coral/com.amazon.bedrock/",
        }
        return status, headers, json.dumps({"message": message}).encode("utf-8")


class _Events(_RawBody):
    """A stream's raw body: one event-stream message per read, as the service sends them;
    a dropped stream ends in urllib3's ``ProtocolError`` (a broken HTTP body)."""

    def __init__(self, messages: list[bytes], dropped: bool = False) -> None:
        super().__init__(b"".join(messages))
        self.messages = messages
        self.dropped = dropped

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield from self.messages
        if self.dropped:
            from urllib3.exceptions import ProtocolError

            raise ProtocolError(
                "Connection broken: IncompleteRead(0 bytes read, more expected)", None
            )


def encode_event(headers: Mapping[str, str], payload: Mapping[str, Any]) -> bytes:
    """One message of the AWS event-stream framing: total and headers lengths, the prelude's
    CRC-32, string headers (type 7), the JSON payload and the message's CRC-32."""
    head = b"".join(
        struct.pack("!B", len(name.encode())) + name.encode()
        + struct.pack("!BH", 7, len(value.encode())) + value.encode()
        for name, value in headers.items()
    )  # fmt: skip
    body = json.dumps(payload).encode("utf-8")
    total = 12 + len(head) + len(body) + 4
    prelude = struct.pack("!II", total, len(head))
    prelude += struct.pack("!I", binascii.crc32(prelude) & 0xFFFFFFFF)
    message = prelude + head + body
    return message + struct.pack("!I", binascii.crc32(message) & 0xFFFFFFFF)
