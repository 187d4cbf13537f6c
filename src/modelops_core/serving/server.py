"""Running the app: :func:`serve` starts granian (decision 0006) with ``create_app`` in each
worker. Bound to 127.0.0.1 unless told otherwise; any other address needs a token."""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Sequence

from modelops_core.serving.errors import ServingConfigError

__all__ = ["is_loopback", "serve"]


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    workers: int = 1,
    token: str | None = None,
    models: Sequence[str] = (),
    config_path: str | None = None,
) -> None:
    """Serve the registry's models on ``host:port`` until interrupted.

    :param token: required when ``host`` is not a loopback address (else
        ``[serving] token``); clients send ``Authorization: Bearer <token>``.
    :param models: the models to serve (default: every registered model).
    """
    if not is_loopback(host) and not token:
        from modelops_core.config import load_config
        from modelops_core.serving.settings import serving_settings

        token = serving_settings(load_config(config_path)).token
        if not token:
            raise ServingConfigError(
                f"modelops serve binds {host}, which other machines can reach, so it needs a "
                "token: pass --token (or set MODELOPS_SERVE_TOKEN, or [serving] token = "
                '{ "$env" = "..." }), or bind 127.0.0.1.'
            )
    try:
        from granian import Granian
        from granian.constants import Interfaces
        from granian.log import LogLevels
    except ImportError as exc:
        raise ServingConfigError(
            "modelops serve needs its server: pip install 'modelops-core[serve]'."
        ) from exc
    from modelops_core.serving.app import OPTIONS_VARIABLE

    os.environ[OPTIONS_VARIABLE] = json.dumps(
        {"models": list(models), "token": token, "config": config_path}
    )
    Granian(
        "modelops_core.serving.app:create_app",
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        factory=True,
        websockets=False,
        log_access=False,
        log_level=LogLevels.warning,
    ).serve()
