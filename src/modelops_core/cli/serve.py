"""``modelops serve``: answer for the registry's models over HTTP (see docs/serving.md)."""

from __future__ import annotations

import click

from modelops_core.cli.context import state


@click.command("serve")
@click.argument("models", nargs=-1)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to bind; anything but a loopback address needs --token.",
)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Server processes (each loads the models and counts its own /metrics).",
)
@click.option("--token", envvar="MODELOPS_SERVE_TOKEN", default=None,
              help="Clients must send 'Authorization: Bearer TOKEN' "
              "(default: $MODELOPS_SERVE_TOKEN, else [serving] token).")  # fmt: skip
def serve_command(
    models: tuple[str, ...], host: str, port: int, workers: int, token: str | None
) -> None:
    """Serve registered models (all of them, or MODELS) by alias, with traffic splits, the
    request log and /metrics, e.g.

    \b
    modelops serve --port 8080
    curl -s 127.0.0.1:8080/v1/chat/completions -H 'X-Modelops-Unit: user-42' \\
      -d '{"model": "ticket-router", "messages": [{"role": "user", "content": "refund?"}]}'
    """
    from modelops_core.errors import ModelOpsError
    from modelops_core.serving.server import serve

    config_path = state().config_path
    click.echo(
        f"modelops serve: http://{host}:{port} ({workers} worker{'s' * (workers > 1)}); "
        "ready at /v2/health/ready",
        err=True,
    )
    try:
        serve(host, port, workers=workers, token=token, models=models,
              config_path=None if config_path is None else str(config_path))  # fmt: skip
    except ModelOpsError as exc:
        from modelops_core.cli.main import fail

        fail(exc)
