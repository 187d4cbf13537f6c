"""The plugin: cheap to import, configured from modelops.toml, validates offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from modelops_provider_vertex import plugin
from modelops_provider_vertex.client import VertexSettings, resolve_credentials
from modelops_provider_vertex.testing import (
    FakeVertex,
    preference_records,
    supervised_records,
    write_jsonl,
)

from modelops_core.config import load_config
from modelops_core.errors import ComponentOptionError
from modelops_core.finetune.provider_contract import ProviderRejectedError
from modelops_core.plugins.kinds import Kind
from modelops_core.testing import packages_imported_by
from modelops_core.testing.fixtures import make_runtime

MODEL = "gemini-2.5-flash"


def test_importing_the_plugin_imports_no_google_library() -> None:
    imported = packages_imported_by("import modelops_provider_vertex.plugin")
    assert not imported & {"google", "httpx2"}


def test_the_provider_is_built_from_the_providers_vertex_table(tmp_path: Path) -> None:
    config_file = tmp_path / "modelops.toml"
    config_file.write_text(
        """
        [providers]
        default = "vertex"
        [providers.vertex]
        project = "fake-project"
        location = "us-central1"
        bucket = "tuning-data"
        prefix = "team-a/tuning"
        base_url = "http://fake.vertex.test/"
        timeout = 30
        max_retries = 0
        max_tokens = 64
        """.replace("\n        ", "\n"),
        encoding="utf-8",
    )
    config = load_config(config_file)
    runtime = make_runtime(
        tmp_path / ".modelops", [("modelops-provider-vertex", plugin)], config=config
    )
    fake = FakeVertex()
    provider = runtime.create(
        Kind.PROVIDER,
        config.provider(),
        http_client=fake.http_client(),
        credentials=fake.credentials(),
    )
    assert provider.bucket == "tuning-data" and provider.prefix == "team-a/tuning"
    assert provider.max_tokens == 64 and provider.settings.timeout == 30.0
    assert provider.list_jobs() == []
    assert fake.requests[-1].url.startswith(
        "http://fake.vertex.test/v1beta1/projects/fake-project/locations/us-central1/tuningJobs"
    )
    assert fake.requests[-1].headers["authorization"] == "Bearer fake"


def test_a_misspelt_option_names_the_valid_ones(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path / ".modelops", [("modelops-provider-vertex", plugin)])
    with pytest.raises(ComponentOptionError, match="bucket"):
        runtime.create(Kind.PROVIDER, "vertex", buckett="tuning-data")


def test_validate_needs_no_credentials_and_no_network(tmp_path: Path) -> None:
    fake = FakeVertex()
    provider = fake.provider(credentials=None, project=None)
    good = write_jsonl(tmp_path / "good.jsonl", supervised_records(16))
    assert provider.validate(good, "supervised", MODEL) == []
    pairs = write_jsonl(tmp_path / "pairs.jsonl", preference_records(16))
    assert provider.validate(pairs, "preference", MODEL) == []
    broken = tmp_path / "broken.jsonl"
    broken.write_text(Path(good).read_text() + "{oops\n")
    assert any(p.startswith("line 17") for p in provider.validate(str(broken), "supervised", MODEL))
    assert fake.requests == []


def test_an_unknown_method_is_refused() -> None:
    with pytest.raises(ProviderRejectedError, match="'supervised', 'preference'"):
        FakeVertex().provider().export_format_for("reinforcement")
    assert FakeVertex().provider().export_format_for("PREFERENCE_TUNING") == "vertex-preference"


def test_a_service_account_key_file_gives_credentials_and_project(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from google.oauth2 import service_account

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    key_file = tmp_path / "key.json"
    key_file.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "from-the-key",
                "private_key_id": "abc",
                "private_key": pem,
                "client_email": "tuner@from-the-key.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )
    resolved = resolve_credentials(VertexSettings(credentials=str(key_file)))
    assert isinstance(resolved.credentials, service_account.Credentials)
    assert resolved.project == "from-the-key"
    provider = FakeVertex().provider(project=None, credentials=str(key_file))
    assert provider.job_name("42") == "projects/from-the-key/locations/us-central1/tuningJobs/42"
