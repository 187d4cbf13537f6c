"""Strict checks of AWS exchanges against botocore's own service models.

botocore's ``Stubber`` and parameter validation check types, required members and minimum
lengths, but not the ``pattern``, ``enum``, ``max`` and range traits of the model, nor the HTTP
status codes of the answers. :class:`ServiceSpec` checks all of them, for requests (the
parameters a client call is made with) and responses (the parsed values, or the JSON body on
the wire), with messages in the form AWS itself uses (``Value 'x' at 'jobName' failed to
satisfy constraint: Member must satisfy regular expression pattern: …``).

The models are botocore's (``botocore/data/<service>/<version>/service-2.json``), read with
botocore's loader; :func:`spec_source` names the botocore version and the SHA-256 of each model
file, and ``spec-source.json`` beside this module records the one the suite was last checked
against. AWS validates patterns as full matches, so a pattern must match the whole value.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs

from modelops_core.errors import ModelOpsError

#: ISO-8601 date-time as AWS writes it (``2026-11-22T09:00:00.123Z``, or with an offset).
ISO_8601 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})")
#: errors any AWS endpoint may answer although no operation lists them, with their status.
COMMON_ERRORS: Mapping[str, int] = {
    "UnrecognizedClientException": 403,
    "InvalidSignatureException": 403,
    "IncompleteSignature": 400,
    "ExpiredTokenException": 403,
    "MissingAuthenticationTokenException": 403,
    "SerializationException": 400,
    "UnknownOperationException": 404,
    "InternalFailure": 500,
    "ServiceUnavailableException": 503,
    # S3's own (rest-xml) codes, most of which its model lists for no operation
    "AccessDenied": 403,
    "NoSuchBucket": 404,
    "NoSuchKey": 404,
    "NoSuchUpload": 404,
    "InvalidBucketName": 400,
    "SlowDown": 503,
    "InternalError": 500,
}
#: services whose models list the errors of each operation completely (S3's do not).
_ERRORS_LISTED = frozenset({"bedrock"})
#: the model file of ``spec-source.json``.
SOURCE_FILE = Path(__file__).with_name("spec-source.json")


class SpecViolationError(ModelOpsError):
    """A request or response outside the service model (strict mode); ``violations`` lists them."""

    def __init__(self, message: str, violations: Sequence[Violation] = ()) -> None:
        super().__init__(message)
        self.violations = tuple(violations)


@attrs.frozen
class Violation:
    """One value outside the model: where, which member, which constraint it breaks."""

    service: str
    operation: str
    where: str  # "request", "response" or "status"
    path: str
    constraint: str
    value: Any = None

    def aws_message(self) -> str:
        """The violation as AWS's ValidationException words it."""
        shown = _shown(self.value)
        return f"Value {shown} at '{self.path}' failed to satisfy constraint: {self.constraint}"

    def __str__(self) -> str:
        return f"{self.service}.{self.operation} {self.where}: {self.aws_message()}"


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = text if len(text) <= 80 else text[:77] + "..."
    return "null" if value is None else f"'{text}'"


def validation_message(violations: Sequence[Violation]) -> str:
    """``"2 validation errors detected: Value … ; Value …"`` as AWS writes it."""
    count = len(violations)
    noun = "error" if count == 1 else "errors"
    return f"{count} validation {noun} detected: " + "; ".join(
        violation.aws_message() for violation in violations
    )


@attrs.frozen
class SpecSource:
    """The botocore version and model files the checks read."""

    botocore_version: str
    models: Mapping[str, Mapping[str, str]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "botocore": self.botocore_version,
            "models": {k: dict(v) for k, v in self.models.items()},
        }


def spec_source(services: Iterable[str] = ("bedrock", "s3")) -> SpecSource:
    """The installed botocore version and, per service, its API version, model file and SHA-256."""
    # boto3 and botocore have no type hints (boto3-stubs is not a dependency): Any
    import botocore  # type: ignore[import-untyped,unused-ignore]
    import botocore.loaders  # type: ignore[import-untyped,unused-ignore]

    loader = botocore.loaders.create_loader()
    models: dict[str, dict[str, str]] = {}
    for service in services:
        version = loader.determine_latest_version(service, "service-2")
        folder = Path(botocore.__file__).parent / "data" / service / version
        (path,) = [p for p in folder.iterdir() if p.name.startswith("service-2.json")]
        models[service] = {
            "apiVersion": version,
            "file": f"botocore/data/{service}/{version}/{path.name}",
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        }
    return SpecSource(botocore.__version__, models)


def recorded_source() -> dict[str, Any]:
    """What ``spec-source.json`` says the suite was last checked against."""
    recorded: dict[str, Any] = json.loads(SOURCE_FILE.read_text(encoding="utf-8"))
    return recorded


def record_source() -> Path:
    """Write the installed :func:`spec_source` to ``spec-source.json`` (after a botocore upgrade
    and a clean run of the suite: ``python -m modelops_provider_bedrock.testing.spec``)."""
    SOURCE_FILE.write_text(json.dumps(spec_source().as_dict(), indent=2) + "\n", encoding="utf-8")
    return SOURCE_FILE


class ServiceSpec:
    """The checks of one service model (``bedrock``, ``s3`` …), loaded with botocore's loader.

    :param service: the botocore service name.
    :param model: a loaded ``botocore.model.ServiceModel`` (default: botocore's own).
    """

    def __init__(self, service: str, model: Any = None) -> None:
        if model is None:
            import botocore.session  # type: ignore[import-untyped,unused-ignore]

            model = botocore.session.get_session().get_service_model(service)
        self.model = model
        self.name = service

    # --- the public checks -------------------------------------------------------------------

    def operation(self, name: str) -> Any:
        """The operation model of ``name`` (``CreateModelCustomizationJob``)."""
        return self.model.operation_model(name)

    def check_request(self, operation: str, params: Mapping[str, Any]) -> list[Violation]:
        """Violations of the parameters a client call is made with (``ANY`` values skipped)."""
        shape = self.operation(operation).input_shape
        found: list[Violation] = []
        if shape is not None:
            self._value(shape, dict(params), "", found, operation, "request", wire=False)
        return found

    def check_response(
        self, operation: str, parsed: Mapping[str, Any], *, wire: bool = False
    ) -> list[Violation]:
        """Violations of a successful response: botocore's parsed dict, or with ``wire`` the
        JSON body as sent (timestamps then must be ISO-8601 strings where the model says so)."""
        shape = self.operation(operation).output_shape
        body = {k: v for k, v in parsed.items() if k != "ResponseMetadata"}
        found: list[Violation] = []
        if shape is None:
            if body:
                found.append(
                    Violation(self.name, operation, "response", "", "Member must be empty", body)
                )
            return found
        if wire:
            body_members = {
                name
                for name, member in shape.members.items()
                if not member.serialization.get("location")
            }
            required = [name for name in shape.required_members if name in body_members]
        else:
            required = list(shape.required_members)
        self._structure(shape, body, "", found, operation, "response", wire, required)
        found.extend(self._rules(operation, body))
        return found

    def status_for(self, operation: str, error_code: str | None = None) -> int | None:
        """The HTTP status the model gives a success (``responseCode``, default 200) or an error
        code (its ``error.httpStatusCode``); None for an error the model does not know."""
        op = self.operation(operation)
        if error_code is None:
            return int(op.http.get("responseCode", 200))
        for shape in op.error_shapes:
            if _error_code(shape) == error_code:
                return int(shape.metadata.get("error", {}).get("httpStatusCode", 400))
        if error_code in COMMON_ERRORS:
            return COMMON_ERRORS[error_code]
        if error_code.isdigit():
            return int(error_code)
        if self.name not in _ERRORS_LISTED:
            try:
                shape = self.model.shape_for_error_code(error_code)
            except Exception:
                shape = None
            if shape is not None:
                return int(shape.metadata.get("error", {}).get("httpStatusCode", 400))
        return None

    def check_status(
        self, operation: str, status: int, error_code: str | None = None
    ) -> list[Violation]:
        """Violations of an answer's HTTP status: the success code, or the error's own."""
        expected = self.status_for(operation, error_code)
        what = "the answer" if error_code is None else error_code
        if expected is None:
            listed = [_error_code(shape) for shape in self.operation(operation).error_shapes]
            return [
                Violation(
                    self.name,
                    operation,
                    "status",
                    "Error.Code",
                    f"Member must satisfy enum value set: [{', '.join(listed)}] (the errors the "
                    f"model lists for {operation}, or AWS's common errors)",
                    error_code,
                )
            ]
        if status != expected:
            return [
                Violation(
                    self.name,
                    operation,
                    "status",
                    "HTTPStatusCode",
                    f"{what} is HTTP {expected} in the {self.name} model, not {status}",
                    status,
                )
            ]
        return []

    def check_wire_response(
        self, operation: str, status: int, headers: Mapping[str, str], body: bytes
    ) -> list[Violation]:
        """Violations of a raw rest-json answer: its status, and its JSON body against the
        output shape (success) or the error shape (``message`` …)."""
        lowered = {str(k).lower(): str(v) for k, v in headers.items()}
        try:
            document = json.loads(body or b"{}")
        except ValueError:
            return [Violation(self.name, operation, "response", "", "Body must be JSON", body[:80])]
        if not isinstance(document, dict):
            return [
                Violation(
                    self.name, operation, "response", "", "Body must be a JSON object", document
                )
            ]
        if 200 <= status < 300:
            found = self.check_status(operation, status)
            return found + self.check_response(operation, document, wire=True)
        code = lowered.get("x-amzn-errortype", "").split(":")[0]
        code = code or str(document.get("__type") or document.get("code") or "").split("#")[-1]
        found = self.check_status(operation, status, code or str(status))
        shape = next(
            (s for s in self.operation(operation).error_shapes if _error_code(s) == code), None
        )
        if shape is not None:
            members = {k: v for k, v in document.items() if k not in ("__type", "code")}
            self._structure(
                shape, members, "", found, operation, "response", True, list(shape.required_members)
            )
        return found

    # --- the value walk ---------------------------------------------------------------------

    def _value(
        self,
        shape: Any,
        value: Any,
        path: str,
        found: list[Violation],
        operation: str,
        where: str,
        wire: bool,
    ) -> None:
        from botocore.stub import ANY  # type: ignore[import-untyped,unused-ignore]

        if value is ANY:
            return

        def bad(constraint: str) -> None:
            found.append(Violation(self.name, operation, where, path, constraint, value))

        kind = shape.type_name
        if kind == "structure":
            if not isinstance(value, Mapping):
                bad(f"Member must be a structure ({shape.name})")
                return
            self._structure(
                shape, value, path, found, operation, where, wire, list(shape.required_members)
            )
        elif kind == "list":
            if not isinstance(value, list | tuple):
                bad("Member must be a list")
                return
            self._length(shape, len(value), value, path, found, operation, where)
            for index, item in enumerate(value, start=1):
                self._value(
                    shape.member, item, f"{path}.{index}.member", found, operation, where, wire
                )
        elif kind == "map":
            if not isinstance(value, Mapping):
                bad("Member must be a map")
                return
            self._length(shape, len(value), value, path, found, operation, where)
            for key, item in value.items():
                self._value(shape.key, key, f"{path}.key", found, operation, where, wire)
                self._value(shape.value, item, f"{path}.{key}", found, operation, where, wire)
        elif kind == "string":
            if not isinstance(value, str):
                bad("Member must be a string")
                return
            self._length(shape, len(value), value, path, found, operation, where)
            enum = shape.enum
            if enum and value not in enum:
                bad(f"Member must satisfy enum value set: [{', '.join(enum)}]")
            pattern = shape.metadata.get("pattern")
            if pattern is not None and re.fullmatch(pattern, value, re.DOTALL) is None:
                bad(f"Member must satisfy regular expression pattern: {pattern}")
        elif kind in ("integer", "long"):
            if isinstance(value, bool) or not isinstance(value, int):
                bad(f"Member must be an {kind}")
                return
            self._range(shape, value, path, found, operation, where)
        elif kind in ("float", "double"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                bad(f"Member must be a {kind}")
                return
            self._range(shape, value, path, found, operation, where)
        elif kind == "boolean":
            if not isinstance(value, bool):
                bad("Member must be a boolean")
        elif kind == "timestamp":
            self._timestamp(shape, value, wire, bad)
        elif kind == "blob" and not (
            isinstance(value, bytes | bytearray | str) or hasattr(value, "read")
        ):
            bad("Member must be a blob (bytes or a file)")

    def _structure(
        self,
        shape: Any,
        value: Mapping[str, Any],
        path: str,
        found: list[Violation],
        operation: str,
        where: str,
        wire: bool,
        required: Sequence[str],
    ) -> None:
        prefix = f"{path}." if path else ""
        for name in required:
            if value.get(name) is None:
                found.append(
                    Violation(self.name, operation, where, prefix + name, "Member must not be null")
                )
        for name, item in value.items():
            member = shape.members.get(name)
            if member is None:
                found.append(
                    Violation(
                        self.name,
                        operation,
                        where,
                        prefix + name,
                        f"Member must be one of {shape.name}'s members: {', '.join(shape.members)}",
                        item,
                    )
                )
                continue
            if item is None and where == "request":
                continue
            self._value(member, item, prefix + name, found, operation, where, wire)
        if shape.metadata.get("union"):
            set_members = [name for name, item in value.items() if item is not None]
            if len(set_members) != 1:
                found.append(
                    Violation(
                        self.name,
                        operation,
                        where,
                        path or shape.name,
                        f"Exactly one member of the union {shape.name} must be set",
                        set_members,
                    )
                )

    def _length(
        self,
        shape: Any,
        length: int,
        value: Any,
        path: str,
        found: list[Violation],
        operation: str,
        where: str,
    ) -> None:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None and length < low:
            found.append(
                Violation(
                    self.name,
                    operation,
                    where,
                    path,
                    f"Member must have length greater than or equal to {low}",
                    value,
                )
            )
        if high is not None and length > high:
            found.append(
                Violation(
                    self.name,
                    operation,
                    where,
                    path,
                    f"Member must have length less than or equal to {high}",
                    value,
                )
            )

    def _range(
        self,
        shape: Any,
        value: float,
        path: str,
        found: list[Violation],
        operation: str,
        where: str,
    ) -> None:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None and value < low:
            found.append(
                Violation(
                    self.name,
                    operation,
                    where,
                    path,
                    f"Member must have value greater than or equal to {low}",
                    value,
                )
            )
        if high is not None and value > high:
            found.append(
                Violation(
                    self.name,
                    operation,
                    where,
                    path,
                    f"Member must have value less than or equal to {high}",
                    value,
                )
            )

    @staticmethod
    def _timestamp(shape: Any, value: Any, wire: bool, bad: Any) -> None:
        form = shape.serialization.get("timestampFormat", "iso8601")
        if not wire:
            if isinstance(value, datetime):
                return
            if isinstance(value, str) and ISO_8601.fullmatch(value):
                return
            if isinstance(value, int | float) and not isinstance(value, bool):
                return
            bad("Member must be a timestamp (a datetime, or ISO-8601 text)")
        elif form == "iso8601":
            if not (isinstance(value, str) and ISO_8601.fullmatch(value)):
                bad("Member must be an ISO-8601 timestamp such as 2026-11-22T09:00:00Z")
        elif form == "unixTimestamp" and (
            isinstance(value, bool) or not isinstance(value, int | float)
        ):
            bad("Member must be epoch seconds")

    # --- rules the model's documentation states --------------------------------------------

    def _rules(self, operation: str, body: Mapping[str, Any]) -> list[Violation]:
        """``endTime`` is "Time that the resource transitioned to terminal state" (the model's
        documentation of the member): a job still InProgress or Stopping has none."""
        if self.name != "bedrock":
            return []
        jobs: list[tuple[str, Any]] = []
        if operation == "GetModelCustomizationJob":
            jobs.append(("", body))
        elif operation == "ListModelCustomizationJobs":
            for index, item in enumerate(body.get("modelCustomizationJobSummaries") or [], 1):
                jobs.append((f"modelCustomizationJobSummaries.{index}.member.", item))
        found = []
        for prefix, job in jobs:
            if (
                isinstance(job, Mapping)
                and job.get("status") in ("InProgress", "Stopping")
                and job.get("endTime") is not None
            ):
                found.append(
                    Violation(
                        self.name,
                        operation,
                        "response",
                        prefix + "endTime",
                        f"Member must be null while the job is {job['status']} (endTime is "
                        "the time the job reached a terminal state)",
                        job["endTime"],
                    )
                )
        return found


def _error_code(shape: Any) -> str:
    return str(shape.metadata.get("error", {}).get("code", shape.name))


if __name__ == "__main__":  # pragma: no cover - a maintainer's tool
    print(f"recorded {record_source()}: {json.dumps(spec_source().as_dict())}")
