"""``modelops features push | get | list | nearest`` as a user types them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("modelops_featurestore_local")

import numpy as np
from project_env import enter_project

from modelops_core import FeatureStore, Runtime
from modelops_core.cli.main import main


@pytest.fixture(autouse=True)
def in_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return enter_project(tmp_path, monkeypatch)


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
    assert out.splitlines()[2].split("\t")[:2] == ["1", "b"]
    np.save(in_project / "q.npy", np.array([0, 0, 1, 0], dtype=np.float32))
    code, out, _ = run(capsys, "features", "nearest", "--vector", "q.npy", "-k", "1")
    assert code == 0 and out.splitlines()[2].startswith("1\tc\t")
    (in_project / "q.txt").write_text("1, 0, 0, 0")
    code, out, _ = run(capsys, "features", "nearest", "--vector", "q.txt", "-k", "1")
    assert code == 0 and out.splitlines()[2].startswith("1\ta\t")


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


def test_nearest_on_an_empty_store_points_to_the_cli_command(
    capsys: pytest.CaptureFixture[str], in_project: Path
) -> None:
    (in_project / "q.json").write_text("[1, 0, 0]")
    code, _, err = run(capsys, "features", "nearest", "--vector", "q.json", "--index", "docs")
    assert code == 2
    assert "Push some with `modelops features push-embeddings FILE --index docs`." in err
    assert "push_embeddings(" not in err


def test_push_embeddings_from_jsonl_npz_npy_and_parquet_then_nearest_json(
    capsys: pytest.CaptureFixture[str], in_project: Path
) -> None:
    rows = [{"id": "a", "vector": [1, 0, 0], "lang": "en"},
            {"id": "b", "vector": [0, 1, 0], "lang": "fr"}]  # fmt: skip
    (in_project / "v.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, out, err = run(capsys, "features", "push-embeddings", "v.jsonl")
    assert code == 0, err
    assert (
        out.strip() == "pushed 2 vector(s) of dimension 3 to index 'default' (2 in total, cosine)"
    )
    np.savez(in_project / "v.npz", ids=np.array(["c"]), vectors=np.array([[0.0, 0.0, 1.0]]))
    assert run(capsys, "features", "push-embeddings", "v.npz")[0] == 0
    np.save(in_project / "v.npy", np.array([[1.0, 1.0, 0.0]]))
    (in_project / "ids.txt").write_text("d\n")
    assert run(capsys, "features", "push-embeddings", "v.npy", "--ids", "ids.txt")[0] == 0
    pyarrow = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    table = pyarrow.table({"id": ["e"], "vector": [[0.0, 1.0, 1.0]], "lang": ["de"]})
    pq.write_table(table, in_project / "v.parquet")
    assert run(capsys, "features", "push-embeddings", "v.parquet")[0] == 0
    (in_project / "q.json").write_text("[1, 0.1, 0]")
    code, out, _ = run(capsys, "features", "nearest", "--vector", "q.json", "-k", "5",
                       "--exact", "--json")  # fmt: skip
    found = json.loads(out)
    assert code == 0 and [n["id"] for n in found] == ["a", "d", "b", "e", "c"]
    assert found[0]["metadata"] == {"lang": "en"} and found[3]["metadata"] == {"lang": "de"}
    query = np.array([1, 0.1, 0]) / np.linalg.norm([1, 0.1, 0])
    assert found[0]["distance"] == pytest.approx(1 - query[0], abs=1e-6)
    listed = json.loads(run(capsys, "features", "list", "--json")[1])
    assert listed["indexes"][0]["name"] == "default" and listed["indexes"][0]["vectors"] == 5


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.jsonl", '{"id": "a", "vector": [1, 2]}\n{"id": "b", "vector": [1]}\n',
         "bad.jsonl:2: 'vector' has 1 numbers but the first vector of the file has 2"),
        ("bad.jsonl", '{"id": "a", "vector": [1, "x"]}\n', "bad.jsonl:1: 'vector'[1] is 'x'"),
        ("bad.jsonl", '{"key": "a", "vector": [1]}\n', "bad.jsonl:1: no 'id' key (it has: key"),
        ("v.npy", None, "a .npy file holds no ids; pass --ids FILE"),
        ("v.csv", "id,vector\n", ".csv is not a file of embeddings; use .jsonl"),
    ],
)  # fmt: skip
def test_a_bad_file_of_embeddings_is_named_and_nothing_is_stored(
    capsys: pytest.CaptureFixture[str], in_project: Path, name: str, content: str | None,
    message: str,
) -> None:  # fmt: skip
    if content is None:
        np.save(in_project / name, np.ones((2, 3)))
    else:
        (in_project / name).write_text(content)
    code, _, err = run(capsys, "features", "push-embeddings", name)
    assert code == 2 and message in err, err
    assert json.loads(run(capsys, "features", "list", "--json")[1])["indexes"] == []
