"""Turning Google SDK exceptions (Gen AI SDK, Cloud Storage, google-auth, HTTP transports)
into the provider-neutral errors of modelops-core.

HTTP 429 and 5xx (and dropped connections) are :class:`ProviderUnavailableError` with the
``Retry-After`` the API sent; 401 and credentials that cannot refresh are
:class:`MissingCredentialsError` naming ``GOOGLE_APPLICATION_CREDENTIALS``; other 4xx are
:class:`ProviderRejectedError` carrying Google's message verbatim.
"""

from __future__ import annotations

import email.utils
import importlib
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from modelops_core.jobs import (
    MissingCredentialsError,
    ProviderRejectedError,
    ProviderUnavailableError,
)
from modelops_provider_vertex.client import CREDENTIAL_HINT

#: HTTP statuses worth retrying later (408 timeout, 429 rate limit / quota, 5xx).
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def retry_after_seconds(
    headers: Mapping[str, str] | None, now: float | None = None
) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or an HTTP date); None when absent."""
    if not headers:
        return None
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


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


def _raise_for_status(
    status: int,
    status_name: str | None,
    message: str,
    *,
    where: str,
    headers: Mapping[str, str] | None,
    exc: BaseException,
) -> None:
    detail = f"HTTP {status}" + (f" {status_name}" if status_name else "")
    if status == 401:
        raise MissingCredentialsError(
            f"Google refused the credentials ({where}, {detail}): {message} {CREDENTIAL_HINT}"
        ) from exc
    if status in TRANSIENT_STATUSES or status >= 500:
        retry_after = retry_after_seconds(headers)
        wait = f"retry after {retry_after:g} s" if retry_after is not None else "retry later"
        raise ProviderUnavailableError(
            f"Vertex AI is unavailable or rate-limiting ({where}, {detail}): {message} "
            f"[transient: {wait}]",
            retry_after=retry_after,
        ) from exc
    hint = ""
    if status == 403:
        hint = (
            " Check that the Vertex AI API is enabled for the project and that the credentials "
            "have the roles it needs (roles/aiplatform.user, roles/storage.objectAdmin on the "
            "staging bucket)."
        )
    raise ProviderRejectedError(
        f"Vertex AI rejected the request ({where}, {detail}): {message}{hint}"
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
            headers=_headers_of(getattr(exc, "response", None)),
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
