"""Building the boto3 clients (bedrock, bedrock-runtime, s3) from ``[providers.bedrock]``.

Credentials come from the options when given (``access_key_id`` …, best written
``{ env = "…" }``), else from ``profile``, else from boto3's normal chain (environment,
shared files, SSO, instance or container role). ``boto3`` is imported here, on first use.
"""

from __future__ import annotations

from typing import Any

import attrs

from modelops_core.finetune.provider_contract import MissingCredentialsError, ProviderError
from modelops_provider_bedrock.errors import CREDENTIAL_NAMES


@attrs.frozen
class ClientSettings:
    """Where and how to reach AWS; injected clients win over everything else."""

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    runtime_endpoint_url: str | None = None
    s3_endpoint_url: str | None = None
    access_key_id: str | None = attrs.field(default=None, repr=False)
    secret_access_key: str | None = attrs.field(default=None, repr=False)
    session_token: str | None = attrs.field(default=None, repr=False)
    max_attempts: int = 3
    timeout: float = 60.0


def _session(settings: ClientSettings) -> Any:
    # boto3 and botocore have no type hints (boto3-stubs is not a dependency): Any
    import boto3  # type: ignore[import-untyped,unused-ignore]
    import botocore.exceptions  # type: ignore[import-untyped,unused-ignore]

    if bool(settings.access_key_id) != bool(settings.secret_access_key):
        raise MissingCredentialsError(
            "[providers.bedrock] sets only one of access_key_id and secret_access_key; set both "
            '(e.g. access_key_id = { env = "AWS_ACCESS_KEY_ID" }) or neither, to use '
            f"{CREDENTIAL_NAMES}."
        )
    try:
        return boto3.session.Session(
            aws_access_key_id=settings.access_key_id,
            aws_secret_access_key=settings.secret_access_key,
            aws_session_token=settings.session_token,
            profile_name=settings.profile,
            region_name=settings.region,
        )
    except botocore.exceptions.ProfileNotFound as exc:
        raise MissingCredentialsError(
            f"The AWS profile {settings.profile!r} ([providers.bedrock] profile) does not exist "
            f"({exc}); run `aws configure --profile {settings.profile}` or fix the name."
        ) from exc


class ClientFactory:
    """Builds each client once, on first use, from one boto3 session.

    :param injected: clients given as options (``bedrock_client``, ``s3_client``,
        ``runtime_client``); tests pass stubbed or moto-backed clients this way.
    :param session: a ``boto3.session.Session`` to build the other clients from (an embedding
        platform's own session; tests share one so service models load once).
    """

    def __init__(
        self, settings: ClientSettings, injected: dict[str, Any], session: Any = None
    ) -> None:
        self.settings = settings
        self._clients = {name: client for name, client in injected.items() if client is not None}
        self._injected = frozenset(self._clients)
        self._given_session = session
        self._session: Any = None

    def session(self) -> Any:
        """The boto3 session (given, or built from the settings), checked for credentials and
        a region."""
        if self._session is None:
            session = self._given_session or _session(self.settings)
            if session.get_credentials() is None:
                raise MissingCredentialsError(
                    f"No AWS credentials for the bedrock provider: set {CREDENTIAL_NAMES}; "
                    'in modelops.toml, [providers.bedrock] profile = "…" or access_key_id / '
                    'secret_access_key = { env = "AWS_ACCESS_KEY_ID" } …'
                )
            if not session.region_name:
                raise ProviderError(
                    "No AWS region for the bedrock provider: set [providers.bedrock] region = "
                    '"us-east-1" (a region where Bedrock customization is offered) or AWS_REGION.'
                )
            self._session = session
        return self._session

    def client(self, service: str) -> Any:
        """The ``bedrock``, ``bedrock-runtime`` or ``s3`` client."""
        key = {"bedrock": "bedrock_client", "bedrock-runtime": "runtime_client", "s3": "s3_client"}
        if key[service] not in self._clients:
            from botocore.config import Config  # type: ignore[import-untyped,unused-ignore]

            endpoint = {
                "bedrock": self.settings.endpoint_url,
                "bedrock-runtime": self.settings.runtime_endpoint_url,
                "s3": self.settings.s3_endpoint_url,
            }[service]
            config = Config(
                # total attempts, the first one included (botocore's max_attempts counts
                # retries only: max_attempts=1 would make two attempts)
                retries={"total_max_attempts": self.settings.max_attempts, "mode": "standard"},
                connect_timeout=self.settings.timeout,
                read_timeout=self.settings.timeout,
            )
            session = self.session()
            region = self.settings.region or session.region_name
            self._clients[key[service]] = session.client(
                service, region_name=region, endpoint_url=endpoint, config=config
            )
        return self._clients[key[service]]

    def close(self) -> None:
        """Close the connections of the clients built here (injected ones are left alone)."""
        for name in [name for name in self._clients if name not in self._injected]:
            close = getattr(self._clients.pop(name), "close", None)
            if callable(close):
                close()
