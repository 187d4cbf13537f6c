"""Every URL the project prints goes through one masking function."""

from __future__ import annotations

import pytest
from project_env import enter_project

from modelops_core.config import mask_url, mask_urls_in


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://bob:hunter2@db:5432/reg", "postgresql://bob:***@db:5432/reg"),
        # a raw '@' or ':' in the password: everything up to the last '@' before the host
        ("postgresql://bob:p@ss:w0rd@db:5432/reg", "postgresql://bob:***@db:5432/reg"),
        ("redis://:hunter2@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
        ("redis://u:p@h", "redis://u:***@h"),
        ("postgresql://bob@h/db?password=secret", "postgresql://bob@h/db?password=***"),
        (
            "postgresql://h/db?sslmode=require&sslpassword=k&user=bob#x",
            "postgresql://h/db?sslmode=require&sslpassword=***&user=bob#x",
        ),
        ("rediss://h:6380/0?token=abc&db=1", "rediss://h:6380/0?token=***&db=1"),
        # nothing secret: unchanged, including an '@' in the query
        ("http://h/x?a=b@c", "http://h/x?a=b@c"),
        ("sqlite:///tmp/a.db", "sqlite:///tmp/a.db"),
        ("s3://bucket/key", "s3://bucket/key"),
        ("postgresql://bob@h/db", "postgresql://bob@h/db"),
        # libpq key=value form
        ("host=h user=bob password=hunter2 dbname=x", "host=h user=bob password=*** dbname=x"),
    ],
)
def test_mask_url_hides_every_password_form(url: str, shown: str) -> None:
    assert mask_url(url) == shown
    assert "hunter2" not in mask_url(url)


def test_mask_urls_in_masks_every_url_of_an_error_message() -> None:
    message = (
        "Cannot connect to 'postgresql://bob:pa@ss@h:5499/db' "
        "(connection failed: host=h password=pa@ss) nor redis://:pw@r:6379/0."
    )
    assert mask_urls_in(message) == (
        "Cannot connect to 'postgresql://bob:***@h:5499/db' "
        "(connection failed: host=h password=*** nor redis://:***@r:6379/0."
    )


INLINE_URL = "postgresql://bob:p@ss@127.0.0.1:5499/db?sslmode=disable&password=zzz-secret"


@pytest.fixture
def project_with_inline_password(tmp_path, monkeypatch):
    enter_project(tmp_path, monkeypatch)
    (tmp_path / "modelops.toml").write_text(f'[registry]\nbackend = "sql"\nurl = "{INLINE_URL}"\n')
    return tmp_path


def test_config_show_masks_a_password_written_inline_in_a_url(capsys, project_with_inline_password):
    from modelops_core.cli.main import main

    assert main(["config", "show"]) == 0
    out = capsys.readouterr().out
    assert 'url = "postgresql://bob:***@127.0.0.1:5499/db?sslmode=disable&password=***"' in out
    assert "p@ss" not in out and "zzz-secret" not in out


def test_plugin_trace_masks_url_passwords(capsys, project_with_inline_password, monkeypatch):
    from modelops_core import Runtime
    from modelops_core.config import load_config

    monkeypatch.setenv("MODELOPS_TRACE_PLUGINS", "1")
    Runtime(load_config())
    err = capsys.readouterr().err
    assert "postgresql://bob:***@127.0.0.1:5499/db" in err  # the trace did print the config
    assert "p@ss" not in err and "zzz-secret" not in err
