"""The offline token estimator, tiktoken (the tokenizer OpenAI's limits are counted with) and
the pluggable tokenizer slot."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest
from tiktoken_cache import tiktoken_dir, vocab  # noqa: F401
from token_texts import AMHARIC, ENGLISH, LONG_ENGLISH, RUSSIAN, TEXTS

from modelops_core.datasets.errors import TokenizerError
from modelops_core.datasets.tokens import (
    ESTIMATE_BAND,
    count_tokens,
    resolve_counter,
    token_counter,
)
from modelops_core.datasets.validate import record_tokens
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


# --- tiktoken: the tokenizer OpenAI's limits are counted with --------------------------------


def cookbook_tokens(messages: list[dict], encoding) -> int:
    """``num_tokens_from_messages`` as OpenAI's chat fine-tuning data-prep cookbook writes it."""
    num_tokens = 0
    for message in messages:
        num_tokens += 3
        for key, value in message.items():
            num_tokens += len(encoding.encode(value))
            if key == "name":
                num_tokens += 1
    num_tokens += 3
    return num_tokens


@pytest.mark.parametrize("encoding", ["o200k_base", "cl100k_base"])
@pytest.mark.parametrize("text", [ENGLISH, RUSSIAN, AMHARIC, LONG_ENGLISH * 3])
@pytest.mark.usefixtures("vocab")
def test_tiktoken_counts_are_tiktokens(encoding, text):
    import tiktoken

    counting = resolve_counter(f"tiktoken:{encoding}")
    assert counting.name == f"tiktoken {encoding}" and counting.exact
    assert counting.count(text) == len(tiktoken.get_encoding(encoding).encode(text))


@pytest.mark.usefixtures("vocab")
def test_a_record_counts_as_the_cookbook_counts_it():
    import tiktoken

    encoding = tiktoken.get_encoding("o200k_base")
    messages = [
        {"role": "system", "content": ENGLISH},
        {"role": "user", "content": RUSSIAN, "name": "ivan"},
        {"role": "assistant", "content": AMHARIC},
    ]
    counted = record_tokens({"messages": messages}, "chat", resolve_counter("tiktoken").count)
    assert counted == cookbook_tokens(messages, encoding)
    pair = {"prompt": RUSSIAN, "completion": ENGLISH}
    as_chat = [{"role": "user", "content": RUSSIAN}, {"role": "assistant", "content": ENGLISH}]
    count = resolve_counter("tiktoken:o200k_base").count
    assert record_tokens(pair, "prompt_completion", count) == cookbook_tokens(as_chat, encoding)


@pytest.mark.usefixtures("vocab")
def test_the_estimate_band_is_what_was_measured():
    import tiktoken

    low, high = ESTIMATE_BAND
    ratios = {
        (name, encoding): count_tokens(text)
        / len(tiktoken.get_encoding(encoding).encode_ordinary(text))
        for name, text in TEXTS.items()
        for encoding in ("o200k_base", "cl100k_base")
    }
    assert all(low <= ratio <= high for ratio in ratios.values()), ratios
    # the band is the measured one, not a loose guess: its ends are reached
    assert min(ratios.values()) < low + 0.1 and max(ratios.values()) > high - 0.2
    assert ratios[("amharic", "o200k_base")] < 0.5  # under-counts Ge'ez script
    assert ratios[("russian", "o200k_base")] > 3  # over-counts Cyrillic


def test_tiktoken_without_its_vocabulary_is_a_typed_error(tmp_path, monkeypatch):
    pytest.importorskip("tiktoken", reason="the openai provider's tiktoken extra")
    empty = tmp_path / "cache"
    empty.mkdir()
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(empty))
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # a refused connection
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:9")
    import tiktoken.registry

    monkeypatch.setattr(tiktoken.registry, "ENCODINGS", {})  # nothing loaded in this process
    with pytest.raises(TokenizerError, match="TIKTOKEN_CACHE_DIR") as caught:
        resolve_counter("tiktoken:cl100k_base")
    assert "--tokenizer estimate" in str(caught.value)
    fallback = resolve_counter("auto", "tiktoken:cl100k_base")
    assert fallback.name.startswith("estimate") and "could not load cl100k_base" in fallback.name
    assert fallback.count("hello world") == count_tokens("hello world")


def test_auto_without_tiktoken_installed_uses_the_estimate_and_says_so():
    code = (
        "import sys; sys.modules['tiktoken'] = None\n"
        "from modelops_core.datasets.tokens import resolve_counter\n"
        "print(resolve_counter('auto', 'tiktoken:o200k_base').name)\n"
        "try:\n"
        "    resolve_counter('tiktoken')\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
    )
    first, second = done.stdout.splitlines()
    low, high = ESTIMATE_BAND
    assert first == (
        f"estimate (may be {low}x to {high}x the real count): tiktoken is not installed "
        "(pip install 'modelops-provider-openai[tiktoken]' (or pip install tiktoken) to count "
        "with o200k_base)"
    )
    assert second.startswith("TokenizerError tiktoken is not installed")


def test_named_tokenizers_and_bad_names(tmp_path, monkeypatch):
    (tmp_path / "my_words.py").write_text("def count(text):\n    return len(text.split())\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    counting = resolve_counter("my_words:count")
    assert counting.name == "my_words:count" and counting.count("a b c") == 3
    assert resolve_counter("estimate").count("Hello, world!") == 4
    with pytest.raises(TokenizerError, match="not known: choose auto, estimate, tiktoken"):
        resolve_counter("bpe")
    with pytest.raises(TokenizerError, match="cannot be imported"):
        resolve_counter("no_such_module_xyz:count")
    if importlib.util.find_spec("tiktoken") is not None:
        with pytest.raises(TokenizerError, match="has no encoding 'o300k'"):
            resolve_counter("tiktoken:o300k")
    else:
        with pytest.raises(TokenizerError, match="tiktoken is not installed, so o300k cannot"):
            resolve_counter("tiktoken:o300k")
