"""Building the Google clients (Gen AI SDK for Vertex AI, Cloud Storage) from the options of
``[providers.vertex]``: credentials, project, location and endpoints.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from modelops_core.finetune.provider_contract import MissingCredentialsError, ProviderError

CREDENTIALS_ENV = "GOOGLE_APPLICATION_CREDENTIALS"
PROJECT_ENV = "GOOGLE_CLOUD_PROJECT"
SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)

#: Where credentials come from, named in every credentials error.
CREDENTIAL_HINT = (
    f"Set {CREDENTIALS_ENV} to a service-account key file, or [providers.vertex] "
    'credentials = "/path/to/key.json", or run `gcloud auth application-default login` '
    "(Application Default Credentials)."
)


@attrs.frozen
class VertexSettings:
    """Where and how to reach Vertex AI and Cloud Storage.

    ``credentials`` is a path to a credentials file (service-account key, or any file
    ``google.auth.load_credentials_from_file`` reads), a ``google.auth`` credentials object
    (tests), or None for Application Default Credentials.
    """

    project: str | None = None
    location: str = "us-central1"
    credentials: Any = attrs.field(default=None, repr=False)
    base_url: str | None = None
    api_version: str | None = None
    storage_endpoint: str | None = None
    timeout: float = 600.0
    max_retries: int = 2
    http_client: Any = attrs.field(default=None, repr=False)
    http_options: Any = attrs.field(default=None, repr=False)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.location, str) or not self.location.strip():
            raise ValueError(
                'location must be a Vertex AI region such as "us-central1" in [providers.vertex].'
            )
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {self.max_retries}.")
        if self.timeout <= 0:
            raise ValueError(f"timeout must be above 0 seconds, got {self.timeout}.")


@attrs.frozen
class ResolvedCredentials:
    """Credentials and the project they belong to (when the credentials say)."""

    credentials: Any = attrs.field(repr=False)
    project: str | None
    source: str


def _is_credentials_object(value: Any) -> bool:
    from google.auth.credentials import Credentials

    return isinstance(value, Credentials)


def resolve_credentials(settings: VertexSettings) -> ResolvedCredentials:
    """The configured credentials file or object, else Application Default Credentials.

    :raises MissingCredentialsError: nothing usable; the message names
        ``GOOGLE_APPLICATION_CREDENTIALS`` and the ``credentials`` config key.
    """
    import google.auth
    from google.auth import exceptions

    given = settings.credentials
    if given is not None and _is_credentials_object(given):
        return ResolvedCredentials(given, getattr(given, "project_id", None), "object")
    if given is not None:
        path = Path(os.fspath(given)).expanduser()
        if not path.is_file():
            raise MissingCredentialsError(
                f"[providers.vertex] credentials points to {path}, which is not a file. "
                + CREDENTIAL_HINT
            )
        credentials, project = _load_file(path)
        return ResolvedCredentials(credentials, project, str(path))
    try:
        credentials, project = google.auth.default(scopes=list(SCOPES))
    except exceptions.DefaultCredentialsError as exc:
        raise MissingCredentialsError(
            f"No Google Cloud credentials for the vertex provider ({exc}). " + CREDENTIAL_HINT
        ) from exc
    return ResolvedCredentials(credentials, project, "application default credentials")


def _load_file(path: Path) -> tuple[Any, str | None]:
    """Service-account or authorized-user credentials from ``path``, by their declared type.

    Other types (external accounts …) are refused: loading a credential configuration without
    checking its type is what google-auth deprecated as unsafe; such files work through
    ``GOOGLE_APPLICATION_CREDENTIALS`` (Application Default Credentials) instead.
    """
    import json

    from google.oauth2 import credentials as user_credentials
    from google.oauth2 import service_account

    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        kind = info.get("type") if isinstance(info, dict) else None
        if kind == "service_account":
            loaded = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
                info, scopes=list(SCOPES)
            )
            return loaded, info.get("project_id")
        if kind == "authorized_user":
            from_info = user_credentials.Credentials.from_authorized_user_info
            user = from_info(info, list(SCOPES))  # type: ignore[no-untyped-call]
            return user, info.get("quota_project_id")
    except (OSError, ValueError, KeyError) as exc:
        raise MissingCredentialsError(
            f"[providers.vertex] credentials file {path} is not usable: {exc}. " + CREDENTIAL_HINT
        ) from exc
    raise MissingCredentialsError(
        f"[providers.vertex] credentials file {path} has type {kind!r}; the credentials key "
        "takes a service-account key (or authorized-user) file. For other credential types "
        f"set {CREDENTIALS_ENV} to the file and leave credentials unset. " + CREDENTIAL_HINT
    )


def resolve_project(
    settings: VertexSettings, resolved: ResolvedCredentials, environ: Mapping[str, str]
) -> str:
    """``project`` from the config, else ``GOOGLE_CLOUD_PROJECT``, else the credentials'."""
    project = settings.project or environ.get(PROJECT_ENV) or resolved.project
    if not project:
        raise ProviderError(
            "No Google Cloud project for the vertex provider: set [providers.vertex] project "
            f'= "my-project" or {PROJECT_ENV} (the credentials from {resolved.source} name none).'
        )
    return str(project)


def _http_options_fields(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    fields = getattr(type(value), "model_fields", None)
    if fields is None:
        raise ValueError(
            "http_options must be a mapping or a google.genai.types.HttpOptions, got "
            f"{type(value).__name__}."
        )
    return {name: getattr(value, name) for name in fields if getattr(value, name) is not None}


def build_genai_client(
    settings: VertexSettings, resolved: ResolvedCredentials, project: str
) -> Any:
    """A ``google.genai.Client`` in Vertex AI mode; imports the SDK."""
    from google import genai
    from google.genai import types

    options = _http_options_fields(settings.http_options)
    if settings.base_url is not None:
        options["base_url"] = settings.base_url
    if settings.api_version is not None:
        options["api_version"] = settings.api_version
    if settings.http_client is not None:
        options["httpx_client"] = settings.http_client
    options.setdefault("timeout", int(settings.timeout * 1000))  # the SDK takes milliseconds
    if settings.max_retries > 0:
        options.setdefault(
            "retry_options", types.HttpRetryOptions(attempts=settings.max_retries + 1)
        )
    return genai.Client(
        vertexai=True,
        project=project,
        location=settings.location,
        credentials=resolved.credentials,
        http_options=types.HttpOptions(**options),
    )


def build_storage_client(
    settings: VertexSettings, resolved: ResolvedCredentials, project: str
) -> Any:
    """A ``google.cloud.storage.Client`` (``storage_endpoint`` or ``STORAGE_EMULATOR_HOST``)."""
    from google.cloud import storage  # type: ignore[import-untyped]

    arguments: dict[str, Any] = {"project": project, "credentials": resolved.credentials}
    if settings.storage_endpoint:
        arguments["client_options"] = {"api_endpoint": settings.storage_endpoint}
    return storage.Client(**arguments)
