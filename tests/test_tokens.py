"""The offline token estimator and the pluggable tokenizer slot."""

from __future__ import annotations

import pytest

from modelops_core.datasets.tokens import count_tokens, token_counter
from modelops_core.errors import ModelOpsError


def test_common_words_are_one_token_each():
    assert count_tokens("the cat sat on the mat") == 6


def test_punctuation_digits_and_long_words():
    assert count_tokens("Hello, world!") == 4
    assert count_tokens("1234567") == 3  # digits go in groups of three
    assert count_tokens("internationalization") == 4  # long words split in 5-letter chunks


def test_never_more_tokens_than_characters():
    for text in ["", "a", "  \n\n  ", "日本語のテキスト", "x" * 1000, "a.b,c;d"]:
        assert count_tokens(text) <= len(text)


def test_tokenizer_slot_accepts_callables_and_objects():
    class Counter:
        def count(self, text):
            return 7

    class Encoder:
        def encode(self, text):
            return list(text)

    assert token_counter(None)("hi there") == count_tokens("hi there")
    assert token_counter(len)("abc") == 3
    assert token_counter(Counter())("abc") == 7
    assert token_counter(Encoder())("abcd") == 4
    with pytest.raises(ModelOpsError, match="not usable"):
        token_counter(42)
