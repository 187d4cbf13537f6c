"""Turning botocore / boto3 exceptions into the provider-neutral errors of modelops-core.

Throttling, 5xx and dropped connections are :class:`ProviderUnavailableError` (with the wait
AWS asked for in ``x-amz-retry-after``, in milliseconds, the header botocore's retry handler
reads; ``Retry-After`` is not read, as botocore does not); refused or unknown credentials are
:class:`MissingCredentialsError`; every other client error (ValidationException,
ResourceNotFoundException, AccessDeniedException …) is :class:`ProviderRejectedError` carrying
AWS's message verbatim, the job name, and a hint when the IAM role is the likely cause.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from modelops_core.finetune.provider_contract import (
    MissingCredentialsError,
    ProviderError,
    ProviderRejectedError,
    ProviderUnavailableError,
)

#: where credentials come from, named when they are missing or refused.
CREDENTIAL_NAMES = (
    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE (or [providers.bedrock] profile), "
    "or another source of the boto3 credential chain (SSO, instance role)"
)
_TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "ServiceUnavailableException",
        "InternalServerException",
        "InternalFailure",
        "RequestTimeout",
        "SlowDown",
        "ModelStreamErrorException",  # "Retry your request" (Converse streams)
    }
)
_CREDENTIAL_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "InvalidSignatureException",
        "ExpiredToken",
        "ExpiredTokenException",
        "MissingAuthenticationTokenException",
    }
)
ROLE_HINT = (
    "Check the IAM role in [providers.bedrock] role_arn: its trust policy must let "
    "bedrock.amazonaws.com assume it, it needs s3:GetObject/s3:ListBucket on the training "
    "data and s3:PutObject on the output prefix, and your own identity needs iam:PassRole on it."
)


#: what to do about the sender-fault errors whose fix is not in AWS's message.
HINTS = {
    "ServiceQuotaExceededException": (
        "Wait for a running customization job to finish, or request a higher quota in "
        "Service Quotas (Amazon Bedrock)."
    ),
    "TooManyTagsException": (
        "A resource takes at most 50 tags: send fewer metadata entries with the job."
    ),
    "ConflictException": (
        "Another request changed the job at the same time, or the name is taken: check "
        "`modelops finetune list`, then retry or pick another name."
    ),
}
#: botocore's retry header: a wait in whole milliseconds (botocore.retries.standard).
RETRY_AFTER_HEADER = "x-amz-retry-after"


def retry_after(headers: Any) -> float | None:
    """Seconds to wait from ``x-amz-retry-after`` (milliseconds), read as botocore reads it:
    an integer of at least 0, else ignored (None)."""
    lowered = {str(name).lower(): str(value) for name, value in dict(headers or {}).items()}
    value = lowered.get(RETRY_AFTER_HEADER)
    if value is None:
        return None
    try:
        milliseconds = int(value)
    except ValueError:
        return None
    return milliseconds / 1000.0 if milliseconds >= 0 else None


def _mentions_role(code: str, message: str) -> bool:
    lowered = message.lower()
    return code == "AccessDeniedException" or any(
        word in lowered for word in ("role", "passrole", "assume", "not authorized")
    )


def client_error(exc: Any, where: str) -> ProviderError:
    """The modelops error for a botocore ``ClientError`` raised ``where``."""
    error = exc.response.get("Error", {})
    metadata = exc.response.get("ResponseMetadata", {})
    code = str(error.get("Code", "Unknown"))
    if code[:1].islower() and code.endswith("Exception"):  # an event stream's exception event
        code = code[0].upper() + code[1:]  # (throttlingException): the service's error code
    message = str(error.get("Message", "") or exc)
    status = int(metadata.get("HTTPStatusCode", 0) or 0)
    request_id = f", request id {metadata['RequestId']}" if metadata.get("RequestId") else ""
    detail = f"{code}" + (f", HTTP {status}" if status else "") + request_id
    if code in _TRANSIENT_CODES or status >= 500 or status == 429:
        wait_for = retry_after(metadata.get("HTTPHeaders", {}) or {})
        wait = f"retry after {wait_for:g} s" if wait_for is not None else "retry later"
        return ProviderUnavailableError(
            f"Bedrock is unavailable or throttling ({where}, {detail}): {message} "
            f"[transient: {wait}]",
            retry_after=wait_for,
        )
    if code in _CREDENTIAL_CODES:
        return MissingCredentialsError(
            f"AWS refused the credentials ({where}, {detail}): {message} "
            f"Set valid credentials: {CREDENTIAL_NAMES}."
        )
    hint = f" {ROLE_HINT}" if _mentions_role(code, message) else ""
    if code in HINTS:
        hint += f" {HINTS[code]}"
    return ProviderRejectedError(
        f"Bedrock rejected the request ({where}, {detail}): {message}{hint}"
    )


@contextmanager
def translated(call: str, *, job: str | None = None) -> Iterator[None]:
    """Run a boto3 call; re-raise its failure as a modelops provider error.

    :param call: the API call, for the message (``bedrock.create_model_customization_job``).
    :param job: the job name concerned, when known (named in the message).
    """
    # boto3 and botocore have no type hints (boto3-stubs is not a dependency): Any
    import boto3.exceptions  # type: ignore[import-untyped,unused-ignore]
    import botocore.exceptions  # type: ignore[import-untyped,unused-ignore]

    where = f"bedrock provider, {call}" + (f" for job {job}" if job else "")
    try:
        yield
    except botocore.exceptions.ClientError as exc:
        raise client_error(exc, where) from exc
    except botocore.exceptions.NoCredentialsError as exc:
        raise MissingCredentialsError(
            f"No AWS credentials ({where}): set {CREDENTIAL_NAMES}."
        ) from exc
    except (
        botocore.exceptions.EndpointConnectionError,
        botocore.exceptions.ConnectionClosedError,
        botocore.exceptions.ConnectTimeoutError,
        botocore.exceptions.ReadTimeoutError,
    ) as exc:
        raise ProviderUnavailableError(
            f"Could not reach AWS ({where}): {exc}. Check the network, region and endpoint_url; "
            "the request can be retried."
        ) from exc
    except botocore.exceptions.ParamValidationError as exc:
        raise ProviderRejectedError(
            f"Bedrock request refused before sending ({where}): {exc}"
        ) from exc
    except boto3.exceptions.S3UploadFailedError as exc:
        cause = exc.__context__
        if isinstance(cause, botocore.exceptions.ClientError):
            raised = client_error(cause, where)
            if isinstance(raised, ProviderRejectedError):
                raise ProviderRejectedError(
                    f"{raised} Check [providers.bedrock] bucket and your s3:PutObject permission."
                ) from exc
            raise raised from exc
        raise ProviderRejectedError(
            f"Uploading the training data failed ({where}): {exc}. Check [providers.bedrock] "
            "bucket and your s3:PutObject permission."
        ) from exc
