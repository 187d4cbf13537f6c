"""Turning Google SDK exceptions (Gen AI SDK, Cloud Storage, google-auth, HTTP transports)
into the provider-neutral errors of modelops-core.

HTTP 429 and 5xx (and dropped connections, timeouts) are :class:`ProviderUnavailableError`
with the wait the API asked for (``Retry-After``, else the ``google.rpc.RetryInfo`` of the
error's details); 401 and credentials that cannot refresh are
:class:`MissingCredentialsError` naming ``GOOGLE_APPLICATION_CREDENTIALS``; other 4xx are
:class:`ProviderRejectedError` carrying Google's message verbatim.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from modelops_core.finetune.provider_contract import (
    MissingCredentialsError,
    ProviderUnavailableError,
    error_for_status,
)
from modelops_provider_vertex.client import CREDENTIAL_HINT


def _transport_errors() -> tuple[type[BaseException], ...]:
    """Connection-level exception classes of the HTTP stacks the Google SDKs use."""
    found: list[type[BaseException]] = []
    for module, name in (
        ("httpx2", "TransportError"),
        ("httpx", "TransportError"),
        ("requests.exceptions", "ConnectionError"),
        ("requests.exceptions", "Timeout"),
        ("google.auth.exceptions", "TransportError"),
    ):
        try:
            found.append(getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError):
            continue
    return tuple(found)


def _headers_of(response: Any) -> Mapping[str, str] | None:
    headers = getattr(response, "headers", None)
    return headers if isinstance(headers, Mapping) or hasattr(headers, "items") else None


_RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"


def retry_delay_of(error_body: Any) -> float | None:
    """Seconds from a ``google.rpc.RetryInfo`` in a Google error's ``details``
    (``{"@type": ".../google.rpc.RetryInfo", "retryDelay": "7s"}``); None when absent or
    unreadable."""
    error = error_body.get("error") if isinstance(error_body, Mapping) else None
    details = error.get("details") if isinstance(error, Mapping) else None
    for item in details if isinstance(details, list) else []:
        if isinstance(item, Mapping) and item.get("@type") == _RETRY_INFO:
            delay = item.get("retryDelay")
            if isinstance(delay, str) and delay.endswith("s"):
                try:
                    return max(float(delay[:-1]), 0.0)
                except ValueError:
                    return None
    return None


def _with_retry_info(headers: Mapping[str, str] | None, body: Any) -> Mapping[str, str] | None:
    """The headers, with the ``RetryInfo`` delay as ``Retry-After`` when they carry none."""
    delay = retry_delay_of(body)
    if delay is None:
        return headers
    present = {str(k).lower() for k in (headers or {})}
    if "retry-after" in present or "retry-after-ms" in present:
        return headers
    return {**dict((headers or {}).items()), "retry-after": f"{delay:g}"}


#: why a 403 usually happens, appended to its message.
FORBIDDEN_HINT = (
    "Check that the Vertex AI API is enabled for the project and that the credentials "
    "have the roles it needs (roles/aiplatform.user, roles/storage.objectAdmin on the "
    "staging bucket)."
)


def _raise_for_status(
    status: int,
    status_name: str | None,
    message: str,
    *,
    where: str,
    headers: Mapping[str, str] | None,
    exc: BaseException,
) -> None:
    """Raise the modelops error for an HTTP error of a Google API (408, 429, 5xx transient)."""
    raise error_for_status(
        status,
        message,
        service="Vertex AI",
        where=where,
        detail=f"HTTP {status}" + (f" {status_name}" if status_name else ""),
        headers=headers,
        credentials_refused="Google refused the credentials",
        credentials_fix=CREDENTIAL_HINT,
        hint=FORBIDDEN_HINT if status == 403 else "",
    ) from exc


@contextmanager
def translated(call: str, *, job_id: str | None = None) -> Iterator[None]:
    """Run a Google SDK call; re-raise its failure as a modelops provider error.

    :param call: the SDK call, for the message (``tunings.tune``, ``storage upload``).
    :param job_id: the tuning job concerned, when known (named in the message).
    """
    from google.api_core import exceptions as api_exceptions
    from google.auth import exceptions as auth_exceptions
    from google.genai import errors as genai_errors

    about = f" for job {job_id}" if job_id else ""
    where = f"vertex provider, {call}{about}"
    transport_errors = _transport_errors()
    try:
        yield
    except genai_errors.APIError as exc:
        _raise_for_status(
            int(exc.code),
            exc.status,
            str(exc.message or exc),
            where=where,
            headers=_with_retry_info(_headers_of(getattr(exc, "response", None)), exc.details),
            exc=exc,
        )
    except api_exceptions.GoogleAPICallError as exc:
        status = int(exc.code) if exc.code is not None else 500
        name = getattr(exc, "grpc_status_code", None)
        _raise_for_status(
            status,
            getattr(name, "name", None),
            str(exc.message),
            where=where,
            headers=_headers_of(getattr(exc, "response", None)),
            exc=exc,
        )
    except (auth_exceptions.RefreshError, auth_exceptions.DefaultCredentialsError) as exc:
        raise MissingCredentialsError(
            f"The Google credentials could not be used ({where}): {exc}. {CREDENTIAL_HINT}"
        ) from exc
    except transport_errors as exc:
        raise ProviderUnavailableError(
            f"Could not reach Google Cloud ({where}): {type(exc).__name__}: {exc}. Check the "
            "network, base_url or storage_endpoint; the request can be retried."
        ) from exc
