"""Strict mode: every exchange of a boto3 client checked against its service model.

:class:`ExchangeRecorder` hooks the events of a ``boto3`` session (or one client) and checks
each request's parameters before they are sent and each answer as it arrives (every attempt,
retries included): the HTTP status against the model's, a rest-json body on the wire (ISO-8601
timestamps, no member the model lacks), and the parsed values (patterns, enums, lengths,
ranges, required members). Violations are kept in :attr:`ExchangeRecorder.violations`; a test
suite asserts there are none (the bedrock tests do so after every test and once at the end).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import attrs

from modelops_provider_bedrock.testing.spec import ServiceSpec, Violation


@attrs.frozen
class Exchange:
    """One request and its answer, as the recorder saw them."""

    service: str
    operation: str
    status: int | None
    error_code: str | None
    violations: tuple[Violation, ...]


class ExchangeRecorder:
    """Records and checks every exchange of the clients it is attached to.

    :param specs: service name -> :class:`ServiceSpec` (built on first use otherwise).
    """

    def __init__(self, specs: dict[str, ServiceSpec] | None = None) -> None:
        self._specs = dict(specs or {})
        self.exchanges: list[Exchange] = []
        self.violations: list[Violation] = []
        self._expected: list[list[Violation]] = []

    def spec(self, service: str) -> ServiceSpec:
        """The checks of ``service`` (loaded once)."""
        if service not in self._specs:
            self._specs[service] = ServiceSpec(service)
        return self._specs[service]

    def attach(self, target: Any) -> Any:
        """Hook a ``boto3.session.Session`` (clients built later inherit the hooks) or a client.
        Returns ``target``."""
        events = target.meta.events if hasattr(target, "meta") else target.events
        events.register(
            "before-parameter-build", self._on_request, unique_id=f"strict-request-{id(self)}"
        )
        events.register(
            "response-received", self._on_response, unique_id=f"strict-response-{id(self)}"
        )
        return target

    @contextmanager
    def expected(self) -> Iterator[list[Violation]]:
        """Violations made on purpose inside the block go to the yielded list, not to
        :attr:`violations` (a test that shows a bad request is refused)."""
        seen: list[Violation] = []
        self._expected.append(seen)
        try:
            yield seen
        finally:
            self._expected.remove(seen)

    def _keep(self, found: list[Violation]) -> None:
        if not found:
            return
        if self._expected:
            self._expected[-1].extend(found)
        else:
            self.violations.extend(found)

    def _on_request(self, params: Any, model: Any, **_: Any) -> None:
        service = model.service_model.service_name
        found = self.spec(service).check_request(model.name, params)
        self._keep(found)

    def _on_response(
        self,
        response_dict: Any = None,
        parsed_response: Any = None,
        context: Any = None,
        exception: Any = None,
        **kwargs: Any,
    ) -> None:
        event = str(kwargs.get("event_name", ""))
        if response_dict is None or parsed_response is None:
            return  # no answer (a timeout, a dropped connection): nothing to check
        model = _operation_from(event, self)
        if model is None:
            return
        service = model.service_model.service_name
        spec = self.spec(service)
        status = int(response_dict.get("status_code", 0))
        error = parsed_response.get("Error") or {}
        code = str(error.get("Code")) if error.get("Code") else None
        events = model.has_event_stream_output and status < 300  # read later, by the caller
        rest_json = model.service_model.resolved_protocol == "rest-json"
        if events:  # the status here; a fake checks each event (FakeBedrockRuntime)
            found = spec.check_status(model.name, status)
        elif rest_json and not model.has_streaming_output:
            found = spec.check_wire_response(
                model.name,
                status,
                response_dict.get("headers") or {},
                response_dict.get("body") or b"",
            )
        else:
            found = spec.check_status(model.name, status, code if status >= 300 else None)
            if status < 300:
                found += spec.check_response(model.name, parsed_response)
        self._keep(found)
        self.exchanges.append(Exchange(service, model.name, status, code, tuple(found)))


def _operation_from(event: str, recorder: ExchangeRecorder) -> Any:
    """The operation model named by ``response-received.<service-id>.<Operation>`` (the
    hyphenated service ids of bedrock, bedrock-runtime and s3 are their botocore names)."""
    parts = event.split(".")
    if len(parts) != 3:
        return None
    return recorder.spec(parts[1]).operation(parts[2])
