"""The testing kit's servers: a free port, a moto server, a PostgreSQL schema that is dropped."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

import pytest

from modelops_core.testing import (
    free_port,
    fresh_postgres_schema,
    moto_server,
    postgres_unavailable_reason,
    postgres_url_or_skip,
)


def test_free_port_can_be_bound_on_loopback() -> None:
    port = free_port()
    with socket.socket() as server:
        server.bind(("127.0.0.1", port))


def answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2).close()
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


@pytest.mark.slow  # about 1 s: importing moto
def test_an_in_process_moto_server_answers_while_open_and_stops_after() -> None:
    with moto_server(in_process=True) as url:
        assert url.startswith("http://127.0.0.1:")
        assert answers(url)
    assert not answers(url)


def test_postgres_unavailable_reason_names_the_url_that_cannot_be_reached() -> None:
    pytest.importorskip("psycopg", reason="psycopg is not installed")
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/test"  # nothing listens there
    reason = postgres_unavailable_reason(url)
    assert reason is not None and url in reason


def test_a_fresh_postgres_schema_is_unique_and_dropped_on_exit() -> None:
    url = postgres_url_or_skip()
    import psycopg

    with fresh_postgres_schema(url, prefix="modelops_kit") as schema:
        assert schema.startswith("modelops_kit_")
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(f'CREATE SCHEMA "{schema}"')
    with psycopg.connect(url) as connection:
        found = connection.execute(
            "SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", (schema,)
        ).fetchone()
    assert found is None
