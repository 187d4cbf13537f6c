"""Turning ``openai`` SDK exceptions into the provider-neutral errors of modelops-core.

429 and 5xx (and dropped connections) are :class:`ProviderUnavailableError` with the
``Retry-After`` the API sent; 401 is :class:`MissingCredentialsError` naming the env var;
other 4xx are :class:`ProviderRejectedError` carrying OpenAI's message verbatim.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from modelops_core.finetune.provider_contract import (
    ProviderError,
    ProviderRejectedError,
    ProviderUnavailableError,
    error_for_status,
)


class InvalidHyperparameterError(ProviderRejectedError, ValueError):
    """A hyperparameter OpenAI would refuse (unknown name, wrong type or out of range), found
    before anything is uploaded; the message names it and lists the valid ones."""


#: 429 codes that will not go away by waiting: the account is out of quota.
_NOT_TRANSIENT_429 = frozenset({"insufficient_quota", "billing_hard_limit_reached"})


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
        code = _code(exc)
        raise error_for_status(
            status,
            api_message(exc),
            service="OpenAI",
            where=where,
            detail=f"HTTP {status}" + (f", code {code}" if code else ""),
            headers=exc.response.headers,
            transient=(status == 429 and code not in _NOT_TRANSIENT_429) or status >= 500,
            request_id=exc.request_id,
            credentials_refused="OpenAI refused the API key",
            credentials_fix=f"Set a valid key in {key_names}.",
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
    except openai.APIError as exc:  # an error event in the middle of a stream
        raise ProviderUnavailableError(
            f"OpenAI failed while streaming ({where}): {api_message(exc)}. The answer is "
            "incomplete; the request can be retried."
        ) from exc
