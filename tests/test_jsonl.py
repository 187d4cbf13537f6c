"""``iter_jsonl`` (what `modelops eval run` reads): the same line and column as the dataset
reader, a byte-order mark ignored, and a clear error for a file that is not UTF-8."""

from __future__ import annotations

import pytest

from modelops_core import Dataset
from modelops_core.datasets.errors import DatasetReadError
from modelops_core.datasets.jsonl.reader import JsonlError, read_jsonl

TRUNCATED = '{"prompt": "a", "completion": "b"}\n{"prompt": "a", "completion": \n'


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_truncated_line_gets_the_column_the_dataset_reader_gives(tmp_path, newline):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(TRUNCATED.replace("\n", newline).encode())
    with pytest.raises(DatasetReadError) as from_dataset:
        Dataset.from_jsonl(path)
    with pytest.raises(JsonlError, match=r"bad.jsonl:2: invalid JSON at column (\d+)") as ours:
        read_jsonl(path)
    assert f"column {from_dataset.value.column}:" in str(ours.value)


def test_a_byte_order_mark_is_not_part_of_the_first_record(tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"prediction": 1}\r\n\r\n{"prediction": 0}\r\n')
    assert read_jsonl(path) == [{"prediction": 1}, {"prediction": 0}]


def test_a_file_that_is_not_utf8_is_named(tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes('{"prediction": "café"}\n'.encode("latin-1"))
    with pytest.raises(JsonlError, match=r"latin1.jsonl: not UTF-8 after line 0"):
        read_jsonl(path)


def test_a_line_that_is_not_an_object_is_named(tmp_path):
    path = tmp_path / "list.jsonl"
    path.write_text('{"prediction": 1}\n[1, 2]\n')
    with pytest.raises(JsonlError, match=r"list.jsonl:2: expected a JSON object, got list"):
        read_jsonl(path)
