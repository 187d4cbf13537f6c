"""Building the ``openai`` client from the ``[providers.openai]`` options (OpenAI or Azure)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import attrs

from modelops_core.finetune.provider_contract import MissingCredentialsError

KEY_ENV = "OPENAI_API_KEY"
AZURE_KEY_ENV = "AZURE_OPENAI_API_KEY"


@attrs.frozen
class ClientSettings:
    """Where and how to reach the API. ``azure_endpoint`` set means Azure OpenAI."""

    api_key: str | None = attrs.field(default=None, repr=False)
    base_url: str | None = None
    organization: str | None = None
    project: str | None = None
    azure_endpoint: str | None = None
    api_version: str | None = None
    timeout: float = 600.0
    max_retries: int = 2
    http_client: Any = attrs.field(default=None, repr=False)
    strict_response_validation: bool = False

    def __attrs_post_init__(self) -> None:
        if self.azure_endpoint is not None and not self.api_version:
            raise ValueError(
                "azure_endpoint is set but api_version is not: add api_version = "
                '"2025-04-01-preview" (or a version your resource supports) to '
                "[providers.openai]."
            )
        if self.azure_endpoint is not None and self.base_url is not None:
            raise ValueError(
                "base_url and azure_endpoint are mutually exclusive in [providers.openai]: "
                "keep azure_endpoint for Azure OpenAI, base_url for an OpenAI-compatible server."
            )

    @property
    def is_azure(self) -> bool:
        return self.azure_endpoint is not None

    @property
    def key_names(self) -> str:
        """The env var(s) and config key that hold the key, for messages."""
        names = f"{AZURE_KEY_ENV} or {KEY_ENV}" if self.is_azure else KEY_ENV
        return f'{names} (or [providers.openai] api_key = {{ env = "{KEY_ENV}" }})'


def resolve_api_key(settings: ClientSettings, environ: Mapping[str, str]) -> str:
    """The configured key, else ``OPENAI_API_KEY`` (Azure: ``AZURE_OPENAI_API_KEY`` first)."""
    if settings.api_key:
        return settings.api_key
    names = (AZURE_KEY_ENV, KEY_ENV) if settings.is_azure else (KEY_ENV,)
    for name in names:
        if environ.get(name):
            return environ[name]
    raise MissingCredentialsError(
        f"No API key for the openai provider: set {settings.key_names}. "
        + (
            "For Azure, use a key of the resource at "
            f"{settings.azure_endpoint} (Keys and Endpoint in the Azure portal)."
            if settings.is_azure
            else "Create a key at https://platform.openai.com/api-keys."
        )
    )


def build_client(settings: ClientSettings, environ: Mapping[str, str] | None = None) -> Any:
    """An ``openai.OpenAI`` (or ``openai.AzureOpenAI``) client; imports the SDK."""
    import openai

    api_key = resolve_api_key(settings, os.environ if environ is None else environ)
    common: dict[str, Any] = {
        "api_key": api_key,
        "organization": settings.organization,
        "project": settings.project,
        "timeout": settings.timeout,
        "max_retries": settings.max_retries,
        "_strict_response_validation": settings.strict_response_validation,
    }
    if settings.http_client is not None:
        common["http_client"] = settings.http_client
    if settings.is_azure:
        return openai.AzureOpenAI(
            azure_endpoint=str(settings.azure_endpoint), api_version=settings.api_version, **common
        )
    return openai.OpenAI(base_url=settings.base_url, **common)
