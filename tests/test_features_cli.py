"""``modelops features push | get | list | nearest`` as a user types them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("modelops_featurestore_local")

import numpy as np

from modelops_core import FeatureStore, Runtime
from modelops_core.cli.main import main


@pytest.fixture(autouse=True)
def in_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("MODELOPS_CONFIG", "MODELOPS_LOAD_PLUGINS", "MODELOPS_DISABLE_PLUGIN_AUTOLOAD"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_push_then_get(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "features", "push", "user-1", "--set", "age=31", "--set",
                       "country=FR", "--set", 'tags=["a"]')  # fmt: skip
    assert code == 0 and "pushed 3 feature(s)" in out
    code, out, _ = run(capsys, "features", "get", "user-1", "--json")
    assert code == 0 and json.loads(out) == {"age": 31, "country": "FR", "tags": ["a"]}
    code, out, _ = run(capsys, "features", "get", "user-1")
    assert code == 0 and "country" in out and "FR" in out


def test_get_of_an_unknown_entity_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "features", "get", "nobody")
    assert code == 0 and "no features for 'nobody'" in err


def test_a_malformed_assignment_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "features", "push", "u", "--set", "age")
    assert code == 2 and "NAME=VALUE" in err


def test_a_schema_conflict_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "features", "push", "u", "--set", "age=1", "-s", "profile")
    code, _, err = run(capsys, "features", "push", "v", "--set", "city=x", "-s", "profile")
    assert code == 2 and "version 2" in err


def test_list_shows_sets_indexes_and_entities(capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "features", "push", "u", "--set", "age=1", "-s", "profile")
    with FeatureStore(Runtime()) as store:
        store.push_embeddings(["a", "b"], np.eye(2, 4))
    code, out, _ = run(capsys, "features", "list")
    assert code == 0 and "profile" in out and "age" in out and "cosine" in out
    code, out, _ = run(capsys, "features", "list", "-s", "profile")
    assert code == 0 and "u" in out.split()


def test_nearest_by_id_and_by_file(capsys: pytest.CaptureFixture[str], in_project: Path) -> None:
    with FeatureStore(Runtime()) as store:
        store.push_embeddings(["a", "b", "c"], np.eye(3, 4), [{"n": 1}, {"n": 2}, {"n": 3}])
    code, out, _ = run(capsys, "features", "nearest", "--id", "b", "-k", "2")
    assert code == 0
    assert out.index(" b ") < out.index(" a ") or out.index(" b ") < out.index(" c ")
    np.save(in_project / "q.npy", np.array([0, 0, 1, 0], dtype=np.float32))
    code, out, _ = run(capsys, "features", "nearest", "--vector", "q.npy", "-k", "1")
    assert code == 0 and " c " in out
    (in_project / "q.txt").write_text("1, 0, 0, 0")
    code, out, _ = run(capsys, "features", "nearest", "--vector", "q.txt", "-k", "1")
    assert code == 0 and " a " in out


def test_nearest_with_a_wrong_dimension_names_the_index(
    capsys: pytest.CaptureFixture[str], in_project: Path
) -> None:
    with FeatureStore(Runtime()) as store:
        store.push_embeddings(["a"], np.ones((1, 4)))
    (in_project / "q.json").write_text("[1, 2]")
    code, _, err = run(capsys, "features", "nearest", "--vector", "q.json")
    assert code == 2 and "'default'" in err and "4-dimensional" in err
    code, _, err = run(capsys, "features", "nearest", "--id", "zzz")
    assert code != 0 and "zzz" in err
