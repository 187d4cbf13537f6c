"""A botocore ``Stubber`` that holds scripted answers and our requests to the service model.

:class:`StrictStubber` refuses, when a test scripts it, a response outside the model (an ARN
that fails the model's pattern, an unknown status, a member the output lacks) and an error with
a status code other than the model's (``ThrottlingException`` is HTTP 429, not 400); it scripts
errors with the headers the service sends (``x-amzn-requestid``, ``x-amzn-errortype``) and the
retry header botocore reads (``x-amz-retry-after``, in milliseconds; ``Retry-After`` is refused,
since botocore never reads it). Every request the client makes is checked against the model's
patterns, enums and lengths before the scripted answer is served.
"""

from __future__ import annotations

from typing import Any

# boto3 and botocore have no type hints (boto3-stubs is not a dependency): Any
from botocore.awsrequest import AWSResponse  # type: ignore[import-untyped,unused-ignore]
from botocore.stub import Stubber  # type: ignore[import-untyped,unused-ignore]

from modelops_provider_bedrock.testing.spec import ServiceSpec, SpecViolationError, Violation

#: the request id scripted answers carry.
REQUEST_ID = "3f0c2a86-5b1e-4c55-9a3b-2f4e8d7c6b1a"


# Stubber is Any to mypy (botocore is untyped): subclassing it is what this class is for
class StrictStubber(Stubber):  # type: ignore[misc,unused-ignore]
    """``Stubber`` with the model's patterns, enums, lengths, ranges and status codes enforced.

    :param client: the client to stub.
    :param spec: the checks of the client's service (default: loaded from botocore).
    """

    def __init__(self, client: Any, spec: ServiceSpec | None = None) -> None:
        super().__init__(client)
        self.spec = spec or ServiceSpec(client.meta.service_model.service_name)

    def activate(self) -> None:
        super().activate()
        self.client.meta.events.register(
            "before-parameter-build.*.*", self._check_request, unique_id=f"strict-{id(self)}"
        )

    def deactivate(self) -> None:
        self.client.meta.events.unregister(
            "before-parameter-build.*.*", self._check_request, unique_id=f"strict-{id(self)}"
        )
        super().deactivate()

    def _operation(self, method: str) -> str:
        if not hasattr(self.client, method):
            raise ValueError(f"the {self.spec.name} client has no method {method!r}")
        return str(self.client.meta.method_to_api_mapping[method])

    def _refuse(self, what: str, violations: list[Violation]) -> None:
        if violations:
            listed = "; ".join(str(v) for v in violations)
            raise SpecViolationError(
                f"{what} breaks botocore's {self.spec.name} model: {listed}. Fix the script "
                "(the real service never answers or accepts this).",
                violations,
            )

    def _check_request(self, params: Any, model: Any, **_: Any) -> None:
        self._refuse(f"the request to {model.name}", self.spec.check_request(model.name, params))

    def add_response(self, method: str, service_response: Any, expected_params: Any = None) -> None:
        """Script ``service_response`` for the next ``method`` call, with the model's success
        status (201 for CreateModelCustomizationJob)."""
        operation = self._operation(method)
        self._refuse(
            f"the scripted {operation} response",
            self.spec.check_response(operation, service_response),
        )
        if expected_params is not None:
            self._refuse(
                f"the expected {operation} parameters",
                self.spec.check_request(operation, expected_params),
            )
        status = int(self.spec.status_for(operation) or 200)
        headers = {"x-amzn-requestid": REQUEST_ID, "content-type": "application/json"}
        parsed = dict(service_response)
        parsed["ResponseMetadata"] = {
            "RequestId": REQUEST_ID,
            "HTTPStatusCode": status,
            "HTTPHeaders": headers,
            "RetryAttempts": 0,
        }
        self._validate_operation_response(operation, service_response)
        self._queue.append(
            {
                "operation_name": operation,
                "response": (AWSResponse(None, status, headers, None), parsed),
                "expected_params": expected_params,
            }
        )

    def add_client_error(
        self,
        method: str,
        service_error_code: str = "",
        service_message: str = "",
        http_status_code: int | None = None,
        service_error_meta: Any = None,
        expected_params: Any = None,
        response_meta: Any = None,
        modeled_fields: Any = None,
        *,
        retry_after_ms: int | None = None,
    ) -> None:
        """Script an error answer with the model's status code for ``service_error_code``
        (``http_status_code``, when given, must be that one) and the service's headers.

        :param retry_after_ms: the ``x-amz-retry-after`` header botocore reads (milliseconds).
        """
        operation = self._operation(method)
        status = self.spec.status_for(operation, service_error_code)
        if status is None:
            self._refuse(
                f"the scripted {operation} error",
                self.spec.check_status(operation, http_status_code or 400, service_error_code),
            )
        assert status is not None
        if http_status_code is not None and http_status_code != status:
            self._refuse(
                f"the scripted {operation} error",
                self.spec.check_status(operation, http_status_code, service_error_code),
            )
        meta = dict(response_meta or {})
        given = {str(k).lower(): str(v) for k, v in (meta.pop("HTTPHeaders", None) or {}).items()}
        if "retry-after" in given:
            raise SpecViolationError(
                f"the scripted {operation} error sets Retry-After, which botocore never reads "
                "(it reads x-amz-retry-after, in milliseconds); pass retry_after_ms= instead."
            )
        headers = {
            "x-amzn-requestid": REQUEST_ID,
            "x-amzn-errortype": f"{service_error_code}:http://internal.amazon.com/coral/com.amazon.bedrock/",
            "content-type": "application/json",
            **given,
        }
        if retry_after_ms is not None:
            headers["x-amz-retry-after"] = str(int(retry_after_ms))
        if modeled_fields:
            shape = self.client.meta.service_model.shape_for_error_code(service_error_code)
            self._validate_response(shape, modeled_fields)
        parsed: dict[str, Any] = {
            "Error": {
                "Message": service_message,
                "Code": service_error_code,
                **(service_error_meta or {}),
            },
            "ResponseMetadata": {
                "RequestId": REQUEST_ID,
                "HTTPStatusCode": status,
                "HTTPHeaders": headers,
                "RetryAttempts": 0,
                **meta,
            },
            "message": service_message,
            **(modeled_fields or {}),
        }
        self._queue.append(
            {
                "operation_name": operation,
                "response": (AWSResponse(None, status, headers, None), parsed),
                "expected_params": expected_params,
            }
        )
