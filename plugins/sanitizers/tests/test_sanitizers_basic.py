"""strip_keys, filter_by_length and dedupe, as components and as plain functions."""

from __future__ import annotations

import pytest
from modelops_sanitizers import dedupe, filter_by_length, strip_keys
from modelops_sanitizers.basic import Dedupe, FilterByLength, StripKeys
from modelops_sanitizers.errors import SanitizerOptionError


def test_strip_keys_removes_nested_keys_and_leaves_the_input_alone() -> None:
    data = [{"prompt": "hi", "email": "x", "messages": [{"content": "a", "email": "y"}]}]
    assert strip_keys(data, ["email"]) == [{"prompt": "hi", "messages": [{"content": "a"}]}]
    assert data[0]["email"] == "x" and data[0]["messages"][0]["email"] == "y"


def test_strip_keys_top_level_only() -> None:
    data = [{"email": "x", "meta": {"email": "y"}}]
    assert strip_keys(data, ["email"], recursive=False) == [{"meta": {"email": "y"}}]


def test_strip_keys_needs_keys() -> None:
    with pytest.raises(SanitizerOptionError, match="keys"):
        StripKeys(keys=[])


def test_filter_by_length_counts_characters_of_chat_messages() -> None:
    data = [
        {"messages": [{"role": "user", "content": "abc"}]},  # 4 + 3 characters
        {"messages": [{"role": "user", "content": "abcd"}]},  # 4 + 4
    ]
    assert filter_by_length(data, "messages", 7) == data[:1]


def test_filter_by_length_report_lists_dropped_indexes() -> None:
    sanitizer = FilterByLength(key="text", max_len=3)
    out = list(sanitizer.apply([{"text": "abcd"}, {"text": "abc"}, {"id": 1}, {"text": ""}]))
    assert out == [{"text": "abc"}, {"id": 1}, {"text": ""}]
    report = sanitizer.report()
    assert report["dropped_records"] == [0] and report["records_without_key"] == 1


def test_filter_by_length_counts_tokens_with_the_core_estimator() -> None:
    from modelops_core.datasets.tokens import count_tokens

    short, long = "Hello, world!", "tokens " * 40
    assert count_tokens(short) <= 5 < count_tokens(long)
    # 13 characters would be dropped at max_len=5, but 4 tokens are kept
    sanitizer = FilterByLength(key="text", max_len=5, unit="tokens")
    assert list(sanitizer.apply([{"text": short}, {"text": long}])) == [{"text": short}]
    assert sanitizer.report()["dropped_records"] == [1]
    assert filter_by_length([{"text": short}], "text", 5, unit="chars") == []


def test_filter_by_length_takes_a_tokenizer() -> None:
    words = FilterByLength(key="text", max_len=2, unit="tokens", tokenizer=lambda t: len(t.split()))
    out = list(words.apply([{"text": "one two"}, {"text": "one two three"}]))
    assert out == [{"text": "one two"}]


def test_filter_by_length_refuses_bad_options() -> None:
    with pytest.raises(SanitizerOptionError, match="unit='words'"):
        FilterByLength(key="text", max_len=10, unit="words")
    with pytest.raises(ValueError, match="max_len=-1"):
        FilterByLength(key="text", max_len=-1)


def test_dedupe_normalises_whitespace_and_case_by_default() -> None:
    data = [{"q": "Hello   World", "a": "x"}, {"q": " hello world", "a": "X"}, {"q": "hello"}]
    assert dedupe(data) == [data[0], data[2]]
    assert dedupe(data, normalize=False) == data


def test_dedupe_on_chosen_keys() -> None:
    data = [{"q": "same", "id": 1}, {"q": "same", "id": 2}, {"q": "other", "id": 3}]
    assert dedupe(data, keys=["q"]) == [data[0], data[2]]
    assert dedupe(data) == data  # the ids differ, so whole records are distinct


def test_dedupe_streams_and_reports_duplicates() -> None:
    sanitizer = Dedupe()
    records = iter([{"a": [1, "x"]}, {"a": [1, "X "]}, {"a": [2]}, {"a": [1, "x"]}])
    output = sanitizer.apply(records)
    assert next(output) == {"a": [1, "x"]}
    assert list(output) == [{"a": [2]}]
    assert sanitizer.report()["duplicate_records"] == [1, 3]


def test_dedupe_does_not_confuse_key_order_or_types() -> None:
    assert dedupe([{"a": 1, "b": 2}, {"b": 2, "a": 1}]) == [{"a": 1, "b": 2}]
    assert len(dedupe([{"a": 1}, {"a": "1"}])) == 2


def test_reports_list_the_first_ten_dropped_records_and_count_them_all() -> None:
    lengths = FilterByLength(key="t", max_len=1)
    list(lengths.apply([{"t": "long"}] * 25))
    assert lengths.report()["records_dropped"] == 25
    assert lengths.report()["dropped_records"] == list(range(10))
    duplicates = Dedupe()
    assert list(duplicates.apply([{"t": "same"}] * 25)) == [{"t": "same"}]
    report = duplicates.report()
    assert (report["duplicates_dropped"], report["records_out"]) == (24, 1)
    assert report["duplicate_records"] == list(range(1, 11))
