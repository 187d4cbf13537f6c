"""Turning ``openai`` SDK exceptions into the provider-neutral errors of modelops-core.

429 and 5xx (and dropped connections) are :class:`ProviderUnavailableError` with the
``Retry-After`` the API sent; 401 is :class:`MissingCredentialsError` naming the env var;
other 4xx are :class:`ProviderRejectedError` carrying OpenAI's message verbatim.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from modelops_core.jobs import (
    MissingCredentialsError,
    ProviderError,
    ProviderRejectedError,
    ProviderUnavailableError,
)

#: 429 codes that will not go away by waiting: the account is out of quota.
_NOT_TRANSIENT_429 = frozenset({"insufficient_quota", "billing_hard_limit_reached"})


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms``, or ``retry-after`` (seconds or an HTTP date)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    milliseconds = lowered.get("retry-after-ms")
    if milliseconds is not None:
        try:
            return max(float(milliseconds) / 1000.0, 0.0)
        except ValueError:
            pass
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


def api_message(exc: Any) -> str:
    """OpenAI's own error message (the ``error.message`` of the body), verbatim."""
    body = getattr(exc, "body", None)
    if isinstance(body, Mapping) and isinstance(body.get("message"), str):
        return str(body["message"])
    return str(getattr(exc, "message", None) or exc)


def _code(exc: Any) -> str | None:
    body = getattr(exc, "body", None)
    code = body.get("code") if isinstance(body, Mapping) else None
    return str(code) if code else None


@contextmanager
def translated(
    call: str, *, job_id: str | None = None, key_names: str = "OPENAI_API_KEY"
) -> Iterator[None]:
    """Run an SDK call; re-raise its failure as a modelops provider error.

    :param call: the SDK call, for the message (``fine_tuning.jobs.create``).
    :param job_id: the job concerned, when known (named in the message).
    :param key_names: where the key comes from, named when the API refuses it.
    """
    import openai

    about = f" for job {job_id}" if job_id else ""
    where = f"openai provider, {call}{about}"
    try:
        yield
    except openai.APIStatusError as exc:
        status = exc.status_code
        message = api_message(exc)
        code = _code(exc)
        detail = f"HTTP {status}" + (f", code {code}" if code else "")
        request_id = f" (request id {exc.request_id})" if exc.request_id else ""
        if status == 401:
            raise MissingCredentialsError(
                f"OpenAI refused the API key ({where}, {detail}): {message} "
                f"Set a valid key in {key_names}."
            ) from exc
        if (status == 429 and code not in _NOT_TRANSIENT_429) or status >= 500:
            retry_after = retry_after_seconds(exc.response.headers)
            wait = f"retry after {retry_after:g} s" if retry_after is not None else "retry later"
            raise ProviderUnavailableError(
                f"OpenAI is unavailable or rate-limiting ({where}, {detail}){request_id}: "
                f"{message} [transient: {wait}]",
                retry_after=retry_after,
            ) from exc
        raise ProviderRejectedError(
            f"OpenAI rejected the request ({where}, {detail}){request_id}: {message}"
        ) from exc
    except openai.APIConnectionError as exc:
        raise ProviderUnavailableError(
            f"Could not reach OpenAI ({where}): {exc}. Check the network, base_url or "
            "azure_endpoint; the request can be retried."
        ) from exc
    except openai.APIResponseValidationError as exc:
        cause = f" {exc.__cause__}" if exc.__cause__ is not None else ""
        raise ProviderError(
            f"OpenAI answered with a response the SDK does not understand ({where}): "
            f"{exc}{cause}\nUpgrade the openai package (pip install -U openai)."
        ) from exc
