"""The errors of the serving layer; each carries the HTTP status the server answers with.

The message is what the client reads (in the ``error`` field of the JSON body), so it names
what failed (the model, alias, field or provider) and what to do; a provider's message is
passed through :func:`~modelops_core.config.mask_urls_in` before it is kept.
"""

from __future__ import annotations

from modelops_core.errors import ConfigError, ModelOpsError

__all__ = [
    "ModelLoadError",
    "ModelNotReadyError",
    "RequestBodyError",
    "ServingConfigError",
    "ServingError",
    "TrafficError",
    "UnauthorizedError",
    "UnknownModelError",
    "UpstreamError",
    "UpstreamTimeoutError",
]


class ServingError(ModelOpsError):
    """A request the server cannot answer; ``status`` is the HTTP status it answers with."""

    status = 500


class UnknownModelError(ServingError, LookupError):
    """The model, alias or version asked for does not exist (the message lists what does)."""

    status = 404


class RequestBodyError(ServingError, ValueError):
    """The request body is not what the endpoint takes (the message names the field).

    :param field: the JSON path of the field (``$.messages[0].content``), when known.
    """

    status = 422

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class UnauthorizedError(ServingError):
    """The request lacks the server's token (``Authorization: Bearer <token>``)."""

    status = 401


class ModelLoadError(ServingError):
    """A version could not be loaded; the server stays up and readiness names it."""

    status = 503


class ModelNotReadyError(ServingError):
    """The version that would answer is still loading."""

    status = 503


class UpstreamError(ServingError):
    """The provider that serves a tuned model failed or refused the call."""

    status = 502


class UpstreamTimeoutError(UpstreamError):
    """The provider did not answer within ``[serving] provider_timeout`` seconds."""

    status = 504


class TrafficError(ServingError, ValueError):
    """A traffic split that cannot stand: weights that do not sum to 100, an unknown alias."""

    status = 422


class ServingConfigError(ConfigError):
    """A ``[serving]`` key with a value the server cannot use (the message names the key)."""
