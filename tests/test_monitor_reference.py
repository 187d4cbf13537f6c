"""The reference profile of a model version, stored with it (issue 20): registered from the
training or evaluation data, the lineage saying which; read back by version or alias, and by
``modelops monitor drift NAME@ALIAS CURRENT``. On SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from project_env import enter_project

from modelops_core import Monitor, Profile, ProfileError
from modelops_core.config import ComponentChoice, Config
from modelops_core.monitoring.errors import ReferenceProfileNotFoundError
from modelops_core.registry.model_registry import ModelRegistry
from modelops_core.store.contract import ArtifactError
from modelops_core.testing import make_runtime

store_plugin = pytest.importorskip(
    "modelops_store_sql.plugin", reason="modelops-store-sql is not installed (core-only run)"
)
artifacts_plugin = pytest.importorskip(
    "modelops_artifacts_local.plugin",
    reason="modelops-artifacts-local is not installed (core-only run)",
)
PLUGINS = [("modelops-store-sql", store_plugin), ("modelops-artifacts-local", artifacts_plugin)]


def write_csv(path: Path, shift: float, n: int = 600, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    age = rng.normal(40 + shift, 10, n).round(2)
    plan = rng.choice(
        ["free", "pro", "team"], n, p=[0.6, 0.3, 0.1] if not shift else [0.2, 0.3, 0.5]
    )
    path.write_text("age,plan\n" + "".join(f"{a},{p}\n" for a, p in zip(age, plan, strict=True)))
    return path


@pytest.fixture(params=["sqlite", "postgres"])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ModelRegistry]:
    home = tmp_path / ".modelops"
    if request.param == "sqlite":
        with ModelRegistry(make_runtime(home, PLUGINS)) as opened:
            yield opened
        return
    from modelops_core.testing import fresh_postgres_schema, postgres_url_or_skip

    url = postgres_url_or_skip()
    with fresh_postgres_schema(url, prefix="modelops_refprof") as schema:
        config = Config(home=home, registry=ComponentChoice("sql", {"url": url, "schema": schema}))
        with ModelRegistry(make_runtime(home, PLUGINS, config=config)) as opened:
            yield opened


def test_a_version_keeps_the_profile_of_its_training_data(
    registry: ModelRegistry, tmp_path: Path
) -> None:
    train = write_csv(tmp_path / "train.csv", 0)
    stored = registry.register_with_profile("churn", "1", {"w": [0.5]}, data=train)
    registry.set_alias("churn", "production", "1")

    expected = Profile.build(train)
    for profile in (
        registry.reference_profile("churn", "1"),
        registry.reference_profile("churn", alias="production"),
        registry.reference_profile("churn"),  # the latest version
    ):
        assert profile.to_dict() == expected.to_dict()
    sha256 = "sha256:" + hashlib.sha256(train.read_bytes()).hexdigest()
    lineage = registry.get_version("churn", "1").lineage["reference_profile"]
    assert lineage == {"role": "training", "data": str(train), "data_sha256": sha256}
    recorded = stored.metadata["reference_profile"]
    assert (recorded["rows"], recorded["columns"]) == (
        600,
        {"age": "numeric", "plan": "categorical"},
    )
    assert registry.load("churn", "1") == {"w": [0.5]}  # the model itself is untouched

    current = write_csv(tmp_path / "cur.csv", 8, seed=1)
    from_registry = Monitor(registry.reference_profile("churn", alias="production")).drift(current)
    assert from_registry.to_dict() == Monitor(train).drift(current).to_dict()
    assert from_registry["age"].drifted


def test_an_evaluation_profile_given_as_a_profile_says_so_in_the_lineage(
    registry: ModelRegistry,
) -> None:
    profile = Profile.build({"score": [0.1, 0.4, 0.35, 0.8]})
    registry.register_with_profile(
        "ranker",
        "2.0",
        {"w": 1},
        profile=profile,
        role="evaluation",
        lineage={"training_job": "job-7"},
    )
    record = registry.get_version("ranker", "2.0")
    assert record.lineage["training_job"] == "job-7"
    assert record.lineage["reference_profile"] == {
        "role": "evaluation",
        "data": "builtins.dict",
        "data_sha256": None,
    }
    assert registry.reference_profile("ranker", "2.0").to_dict() == profile.to_dict()


def test_bad_requests_are_named_errors(registry: ModelRegistry, tmp_path: Path) -> None:
    registry.register("plain", "1", {"w": 1})
    with pytest.raises(
        ReferenceProfileNotFoundError,
        match=r"model 'plain' version 1 has no reference profile; register the version with one",
    ):
        registry.reference_profile("plain", "1")
    with pytest.raises(ProfileError, match="'training' or 'evaluation'"):
        registry.register_with_profile("x", "1", {"w": 1}, data={"a": [1]}, role="test")
    with pytest.raises(ProfileError, match=r"give the reference data \(data=...\)"):
        registry.register_with_profile("x", "1", {"w": 1})
    assert "x" not in registry.list_models()  # nothing registered by a refused call


def test_a_row_pointing_to_a_hostile_or_foreign_artifact_is_refused(
    registry: ModelRegistry,
) -> None:
    def pointing_to(artifact: dict[str, Any]) -> dict[str, Any]:
        return {"reference_profile": {"role": "training", "artifact": artifact}}

    registry.register(
        "evil", "1", {"w": 1},
        metadata=pointing_to({"digest": "sha256:../../etc/passwd", "kind": "file", "size": 1}),
    )  # fmt: skip
    with pytest.raises(ProfileError, match="model 'evil' version 1: .* invalid digest") as error:
        registry.reference_profile("evil", "1")
    assert isinstance(error.value.__cause__, ArtifactError)

    foreign = registry.artifacts.put_bytes(json.dumps({"not": "a profile"}).encode())
    registry.register(
        "evil", "2", {"w": 1},
        metadata=pointing_to({"digest": foreign.digest, "kind": "file", "size": foreign.size}),
    )  # fmt: skip
    with pytest.raises(ProfileError, match="model 'evil' version 2 reference profile: not a"):
        registry.reference_profile("evil", "2")


def test_the_cli_registers_a_version_with_its_profile_and_drifts_against_the_alias(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from modelops_core.cli.main import main
    from modelops_core.plugins.discovery import discover

    installed = {entry_point.name for entry_point in discover()}
    if not {"modelops-store-sql", "modelops-artifacts-local"} <= installed:
        pytest.skip("the plugins are importable but not installed as entry points")
    enter_project(tmp_path, monkeypatch)
    train = write_csv(tmp_path / "train.csv", 0)
    current = write_csv(tmp_path / "cur.csv", 8, seed=1)
    (tmp_path / "model.bin").write_bytes(b"weights")

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    code, out, err = run(
        "monitor", "profile", str(train), "--output", "ref.profile.json",
        "--register", "churn", "--model", "model.bin", "--version", "3", "--alias", "production",
    )  # fmt: skip
    assert code == 0, err
    assert out.splitlines()[-1] == (
        "registered churn 3 with the profile of its training data (600 rows, 2 columns), "
        "churn@production -> 3"
    )
    from_file = run("monitor", "drift", "ref.profile.json", str(current), "--json")
    for reference in ("churn@production", "churn@3"):
        code, out, err = run("monitor", "drift", reference, str(current), "--json")
        assert code == 0, err
        assert json.loads(out) == json.loads(from_file[1])
    code, _, err = run("monitor", "drift", "churn@staging", str(current))
    assert code == 2 and "staging" in err and "Traceback" not in err
    code, _, err = run("monitor", "profile", str(train), "--register", "churn")
    assert code == 2 and "--register NAME and --model PATH go together" in err
