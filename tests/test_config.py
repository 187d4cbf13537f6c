"""Configuration files: found, validated, secrets resolved; bad input named precisely."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelops_core.cli.config import DEFAULT_CONFIG_TEMPLATE, config_document, to_toml
from modelops_core.config import Config, Secret, load_config, parse_config
from modelops_core.errors import (
    ConfigFileError,
    ConfigTypeError,
    MissingSecretError,
    UnknownConfigKeyError,
)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_with_no_file_the_embedded_default_lives_under_dot_modelops(tmp_path, monkeypatch):
    monkeypatch.delenv("MODELOPS_CONFIG", raising=False)
    config = load_config(start=tmp_path)
    assert config.source == "<embedded default>"
    assert config.home == tmp_path / ".modelops"
    assert (config.registry.name, config.artifacts.name, config.default_provider) == (
        "sql",
        "local",
        "local",
    )


def test_modelops_toml_is_found_from_a_subdirectory_and_home_is_relative_to_it(
    tmp_path, monkeypatch
):
    monkeypatch.delenv("MODELOPS_CONFIG", raising=False)
    write(tmp_path / "modelops.toml", '[registry]\nbackend = "sql"\nurl = "sqlite:///x.db"\n')
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    config = load_config(start=nested)
    assert config.source == str(tmp_path / "modelops.toml")
    assert config.home == tmp_path / ".modelops"
    assert dict(config.registry.options) == {"url": "sqlite:///x.db"}


def test_pyproject_tool_table_is_read(tmp_path, monkeypatch):
    monkeypatch.delenv("MODELOPS_CONFIG", raising=False)
    write(
        tmp_path / "pyproject.toml",
        '[project]\nname = "x"\n[tool.modelops.providers]\ndefault = "openai"\n',
    )
    assert load_config(start=tmp_path).default_provider == "openai"


def test_modelops_config_env_names_the_file(tmp_path, monkeypatch):
    path = write(tmp_path / "elsewhere.toml", '[engine]\nname = "dask"\n')
    monkeypatch.setenv("MODELOPS_CONFIG", str(path))
    assert load_config(start=tmp_path).engine.name == "dask"
    monkeypatch.setenv("MODELOPS_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigFileError, match="missing.toml.*does not exist"):
        load_config(start=tmp_path)


def test_an_unknown_key_names_the_file_the_key_and_the_closest_valid_key(tmp_path):
    path = write(tmp_path / "modelops.toml", '[registy]\nbackend = "sql"\n')
    with pytest.raises(UnknownConfigKeyError) as caught:
        load_config(path)
    assert str(path) in str(caught.value)
    assert "'registy'" in str(caught.value)
    assert "Did you mean 'registry'?" in str(caught.value)


def test_an_unknown_key_inside_a_table_is_named_with_its_table(tmp_path):
    path = write(tmp_path / "modelops.toml", "[plugins]\ndisabel = []\n")
    with pytest.raises(UnknownConfigKeyError, match=r"'plugins\.disabel'.*Did you mean 'disable'"):
        load_config(path)


def test_a_value_of_the_wrong_type_is_named(tmp_path):
    path = write(tmp_path / "modelops.toml", '[plugins]\nstrict = "yes"\n')
    with pytest.raises(ConfigTypeError, match=r"'plugins\.strict'.*must be bool, got str 'yes'"):
        load_config(path)


def test_invalid_toml_reports_line_and_column(tmp_path):
    path = write(tmp_path / "modelops.toml", '[registry]\nbackend = "sql\n')
    with pytest.raises(ConfigFileError, match=r"not valid TOML.*line 2, column \d+"):
        load_config(path)


def test_an_unreadable_file_is_named(tmp_path):
    directory = tmp_path / "modelops.toml"
    directory.mkdir()
    with pytest.raises(ConfigFileError, match="Cannot read the configuration file"):
        load_config(directory)


def test_non_utf8_is_refused_with_the_byte_offset(tmp_path):
    path = tmp_path / "modelops.toml"
    path.write_bytes(b'home = "\xff"\n')
    with pytest.raises(ConfigFileError, match="not UTF-8"):
        load_config(path)


def test_env_secrets_are_resolved_and_never_shown(tmp_path, monkeypatch):
    monkeypatch.setenv("ACME_KEY", "sk-very-secret")
    path = write(
        tmp_path / "modelops.toml",
        '[providers.openai]\napi_key = { env = "ACME_KEY" }\norganization = "acme"\n',
    )
    config = load_config(path)
    api_key = config.provider("openai").options["api_key"]
    assert isinstance(api_key, Secret) and api_key == "sk-very-secret"
    assert "sk-very-secret" not in repr(config)
    shown = to_toml(config_document(config))
    assert "sk-very-secret" not in shown and 'api_key = "***"' in shown
    assert 'organization = "acme"' in shown


def test_a_missing_env_secret_names_the_variable_and_the_key(tmp_path, monkeypatch):
    monkeypatch.delenv("ACME_MISSING", raising=False)
    path = write(
        tmp_path / "modelops.toml", '[artifacts]\nstore = "s3"\nsecret = { env = "ACME_MISSING" }\n'
    )
    with pytest.raises(MissingSecretError, match=r"'ACME_MISSING'.*'artifacts\.secret'"):
        load_config(path)


def test_a_secret_may_have_a_default(tmp_path, monkeypatch):
    monkeypatch.delenv("ACME_MISSING", raising=False)
    path = write(
        tmp_path / "modelops.toml",
        '[features]\nurl = { env = "ACME_MISSING", default = "redis://127.0.0.1" }\n',
    )
    assert load_config(path).features.options["url"] == "redis://127.0.0.1"


def test_component_lists_take_names_or_tables(tmp_path):
    config = parse_config(
        {"evaluation": {"metrics": ["accuracy", {"name": "f1", "average": "macro"}]}},
        source="inline",
    )
    assert [(m.name, dict(m.options)) for m in config.metrics] == [
        ("accuracy", {}),
        ("f1", {"average": "macro"}),
    ]
    with pytest.raises(ConfigTypeError, match=r"evaluation\.metrics\[0\]"):
        parse_config({"evaluation": {"metrics": [{"average": "macro"}]}}, source="inline")


def test_the_config_init_template_is_the_embedded_default(tmp_path):
    from_template = load_config(write(tmp_path / "modelops.toml", DEFAULT_CONFIG_TEMPLATE))
    default = Config(home=tmp_path / ".modelops")
    assert config_document(from_template) == config_document(default)


def test_config_show_output_is_valid_toml_that_loads_back(tmp_path):
    original = parse_config(
        {"registry": {"backend": "sql", "url": "postgresql://db/x", "require_evaluation": True},
         "evaluation": {"metrics": ["accuracy", {"name": "f1", "average": "macro"}]},
         "prices": {"gpt-4o-mini": {"training": 3.0}}},
        source="inline", base=tmp_path,
    )  # fmt: skip
    reloaded = load_config(write(tmp_path / "modelops.toml", to_toml(config_document(original))))
    assert config_document(reloaded) == config_document(original)


def test_config_is_frozen():
    config = Config()
    with pytest.raises(AttributeError):
        config.home = Path("/tmp")  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.providers["x"] = None  # type: ignore[index]
