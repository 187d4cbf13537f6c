"""Data in and out (issue 16): datasets from and to pandas, polars, Arrow, Parquet and Hugging
Face datasets; ``modelops dataset`` commands on .csv and .parquet files."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from modelops_core import Dataset
from modelops_core.cli.main import cli
from modelops_core.datasets.errors import DatasetFormatError, DatasetReadError

pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")
pl = pytest.importorskip("polars")

PAIRS = [("2+2?", "4"), ("capital of France?", "Paris"), ("3*3?", "9")]
CHAT = [
    {"role": "system", "content": "be brief"},
    {"role": "user", "content": "hi"},
    {"role": "assistant", "content": "hello"},
]


def frame() -> object:
    return pd.DataFrame({"prompt": [p for p, _ in PAIRS], "completion": [c for _, c in PAIRS]})


def test_every_table_library_gives_the_same_dataset() -> None:
    from_records = Dataset.from_records([{"prompt": p, "completion": c} for p, c in PAIRS])
    datasets = [
        Dataset.from_pandas(frame()),
        Dataset.from_polars(pl.from_pandas(frame())),
        Dataset.from_arrow(pa.Table.from_pandas(frame())),
    ]
    for dataset in datasets:
        assert dataset.format == "prompt_completion"
        assert dataset.pairs() == PAIRS
        assert dataset.fingerprint() == from_records.fingerprint()


def test_chat_rows_and_renamed_columns() -> None:
    chat = Dataset.from_pandas(pd.DataFrame({"messages": [CHAT, CHAT[1:]]}))
    assert chat.format == "chat" and chat.records[0]["messages"] == CHAT
    renamed = Dataset.from_polars(
        pl.DataFrame({"question": ["q"], "answer": ["a"]}),
        mapping={"prompt": "question", "completion": "answer"},
    )
    assert renamed.pairs() == [("q", "a")]


def test_parquet_and_hf_round_trips(tmp_path: Path) -> None:
    pytest.importorskip("datasets")
    dataset = Dataset.from_pandas(pd.DataFrame({"messages": [CHAT, CHAT[1:]]}))
    path = dataset.to_parquet(tmp_path / "train.parquet")
    assert Dataset.from_parquet(path).records == dataset.records
    assert not list(tmp_path.glob("*.tmp*"))  # written atomically
    hf = dataset.to_hf()
    assert hf.num_rows == 2 and hf.column_names == ["messages"]
    assert Dataset.from_hf(hf).fingerprint() == dataset.fingerprint()
    hf.save_to_disk(str(tmp_path / "saved"))
    assert Dataset.from_hf(tmp_path / "saved").fingerprint() == dataset.fingerprint()
    table = dataset.to_pandas()
    assert list(table.columns) == ["messages"] and table["messages"][0] == CHAT


def test_bad_tables_are_named() -> None:
    with pytest.raises(DatasetFormatError) as caught:
        Dataset.from_pandas(frame(), mapping={"prompt": "question", "completion": "prompt"})
    assert str(caught.value) == (
        "DataFrame: no column 'question' (mapped to prompt); the columns are: 'prompt', "
        "'completion'. Pass mapping={'prompt': '<column>'}."
    )
    with pytest.raises(DatasetReadError, match=r"DataFrame has no rows \(columns: prompt\)"):
        Dataset.from_pandas(pd.DataFrame({"prompt": []}))
    with pytest.raises(DatasetFormatError) as caught:  # a missing cell: NaN in pandas
        Dataset.from_pandas(pd.DataFrame({"prompt": ["a", None], "completion": ["b", "c"]}))
    assert str(caught.value) == "DataFrame[1]: 'prompt' must be a string, not a float."
    with pytest.raises(DatasetFormatError, match="a builtins.list is not a table"):
        Dataset.from_pandas([1, 2])


def test_a_damaged_parquet_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "train.parquet"
    Dataset.from_pandas(frame()).to_parquet(path)
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(DatasetReadError, match=r"train.parquet is not a readable Parquet file"):
        Dataset.from_parquet(path)


def test_dataset_commands_take_csv_and_parquet(tmp_path: Path) -> None:
    csv = tmp_path / "train.csv"
    csv.write_text('prompt,completion\n2+2?,4\n"capital of France?",Paris\n3*3?,9\n')
    parquet = Dataset.from_pandas(frame()).to_parquet(tmp_path / "train.parquet")
    runner = CliRunner()
    fingerprint = Dataset.from_pandas(frame()).fingerprint()
    for path in (csv, parquet):
        result = runner.invoke(cli, ["dataset", "validate", str(path), "--json"])
        assert result.exit_code == 0, result.output
        report = json.loads(result.output)
        assert (report["examples"], report["problems"], report["fingerprint"]) == (
            3, [], fingerprint,
        )  # fmt: skip
        output = tmp_path / f"{path.suffix[1:]}.jsonl"
        result = runner.invoke(cli, ["dataset", "convert", str(path), str(output), "--to", "chat"])
        assert result.exit_code == 0, result.output
        assert Dataset.from_jsonl(output).convert("prompt_completion").pairs() == PAIRS
        result = runner.invoke(cli, ["dataset", "stats", str(path), "--json"])
        assert json.loads(result.output)["fingerprint"] == fingerprint
        if importlib.util.find_spec("modelops_sanitizers") is None:
            continue  # the default sanitizers are a plugin (core-only run)
        sanitized = tmp_path / f"clean-{path.suffix[1:]}.jsonl"
        result = runner.invoke(cli, ["dataset", "sanitize", str(path), str(sanitized)])
        assert result.exit_code == 0, result.output
        assert Dataset.from_jsonl(sanitized).pairs() == PAIRS


def test_a_csv_without_the_columns_is_named_not_invalid_json(tmp_path: Path, capsys) -> None:
    from modelops_core.cli.main import main

    csv = tmp_path / "train.csv"
    csv.write_text("question,answer\nx,y\n")
    code = main(["dataset", "validate", str(csv)])
    _, err = capsys.readouterr()
    assert code != 0
    assert "invalid JSON" not in err
    assert f"{csv}: no column 'prompt' (mapped to prompt). The columns are: question, answer" in (
        err
    )
