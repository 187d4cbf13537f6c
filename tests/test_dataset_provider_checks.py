"""Dataset checks that agree with the provider (issue 15, section 2): image parts of OpenAI's
vision fine-tuning, message keys OpenAI's data-prep checks flag, and token limits counted with
the tokenizer the limits apply to."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tiktoken_cache import tiktoken_dir, vocab  # noqa: F401
from token_texts import AMHARIC, LONG_ENGLISH

from modelops_core import Dataset
from modelops_core.cli.main import main
from modelops_core.datasets.errors import DatasetFormatError
from modelops_core.datasets.stream import validate_file
from modelops_core.datasets.tokens import ESTIMATE_BAND, count_tokens
from modelops_core.datasets.validate import record_tokens

pytestmark = pytest.mark.usefixtures("provider_plugins")

IMAGE = "https://example.com/receipts/0042.png"
VISION = {
    "messages": [
        {"role": "system", "content": "You read receipts."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is the total?"},
                {"type": "image_url", "image_url": {"url": IMAGE, "detail": "high"}},
            ],
        },
        {"role": "assistant", "content": "12.40 EUR"},
    ]
}


def chat(user: str, answer: str, **extra: object) -> dict:
    return {
        "messages": [
            {"role": "user", "content": user, **extra},
            {"role": "assistant", "content": answer},
        ]
    }


def write(path: Path, records: list) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return path


def numbered(record: dict, count: int = 10) -> list[dict]:
    """``count`` distinct copies of a chat record (OpenAI needs 10 examples)."""
    out = []
    for index in range(count):
        copy = json.loads(json.dumps(record))
        copy["messages"][-1]["content"] += f" #{index}"
        out.append(copy)
    return out


# --- vision fine-tuning: content as parts with image_url ----------------------------------------


def test_image_parts_are_valid_and_kept_for_openai(tmp_path):
    path = write(tmp_path / "vision.jsonl", numbered(VISION))
    for fast in (True, False):
        report = validate_file(path, "openai", "gpt-4o-2024-08-06", fast=fast)
        assert report.ok, report.to_text()
        assert report.warnings == ()
    dataset = Dataset.from_jsonl(path)
    assert dataset.records[0]["messages"][1]["content"] == VISION["messages"][1]["content"]
    out = dataset.export(tmp_path / "openai.jsonl", "openai")
    first = json.loads(out.read_text().splitlines()[0])
    assert first["messages"][1] == VISION["messages"][1]
    assert dataset.pairs()[0][0] == "system: You read receipts.\nuser: What is the total?"


def test_only_the_text_parts_are_counted():
    text_only = {
        "messages": [
            {"role": "system", "content": "You read receipts."},
            {"role": "user", "content": "What is the total?"},
            {"role": "assistant", "content": "12.40 EUR"},
        ]
    }
    canonical = Dataset.from_records([VISION]).records[0]
    assert record_tokens(canonical, "chat") == record_tokens(text_only, "chat")


def test_image_parts_that_are_wrong_are_named(tmp_path):
    bad_url = json.loads(json.dumps(VISION))
    bad_url["messages"][1]["content"][1]["image_url"]["url"] = "ftp://example.com/a.png"
    bad_detail = json.loads(json.dumps(VISION))
    bad_detail["messages"][1]["content"][1]["image_url"]["detail"] = "max"
    answer_image = json.loads(json.dumps(VISION))
    answer_image["messages"][2]["content"] = VISION["messages"][1]["content"]
    path = write(tmp_path / "bad.jsonl", [bad_url, bad_detail, answer_image])
    report = validate_file(path)
    got = [(p.line, p.code, p.field) for p in report.problems]
    assert got == [
        (1, "invalid", "messages[1][1].image_url.url"),
        (2, "invalid", "messages[1][1].image_url.detail"),
        (3, "image_not_input", "messages[2].content"),
    ]
    assert "neither an http(s) URL nor a base64 data URL" in report.problems[0].reason


def test_a_shape_that_takes_no_images_refuses_them(tmp_path):
    dataset = Dataset.from_records([VISION])
    with pytest.raises(DatasetFormatError, match="holds images.*vertex export does not take"):
        dataset.export(tmp_path / "vertex.jsonl", "vertex")
    with pytest.raises(DatasetFormatError, match="prompt/completion takes text only"):
        dataset.convert("prompt_completion")


# --- message keys: OpenAI's message_unrecognized_key, weight on assistant turns only ------------


def test_an_unknown_message_key_is_an_error_for_openai_and_a_warning_otherwise(tmp_path):
    records = [
        chat(f"q{i}", "a", timestamp="2024-05-01T10:00:00Z") if i == 2 else chat(f"q{i}", "a")
        for i in range(10)
    ]
    path = write(tmp_path / "keys.jsonl", records)
    for fast in (True, False):
        strict = validate_file(path, "openai", fast=fast)
        assert [(p.line, p.code, p.field) for p in strict.problems] == [
            (3, "message_unrecognized_key", "messages[0].timestamp")
        ]
        assert "unknown message key 'timestamp'" in strict.problems[0].reason
        loose = validate_file(path, fast=fast)
        assert loose.ok and [(w.line, w.code) for w in loose.warnings] == [
            (3, "message_unrecognized_key")
        ]
    in_memory = Dataset.from_jsonl(path)
    assert [(p.line, p.code) for p in in_memory.validate("openai").problems] == [
        (3, "message_unrecognized_key")
    ]
    assert [(p.line, p.code) for p in in_memory.validate().warnings] == [
        (3, "message_unrecognized_key")
    ]
    # convert writes what the provider takes: the key is gone
    exported = in_memory.export(tmp_path / "openai.jsonl", "openai").read_text()
    assert "timestamp" not in exported


def test_weight_belongs_on_assistant_messages_only(tmp_path):
    records = [chat(f"q{i}", "a") for i in range(10)]
    records[4]["messages"][0]["weight"] = 0
    records[5]["messages"][1]["weight"] = 0  # fine: an assistant turn not trained on
    path = write(tmp_path / "weights.jsonl", records)
    for fast in (True, False):
        strict = validate_file(path, "openai", fast=fast)
        assert [(p.line, p.code, p.field) for p in strict.problems] == [
            (5, "weight_not_on_assistant", "messages[0].weight")
        ]
        loose = validate_file(path, fast=fast)
        assert loose.ok and [(w.line, w.code) for w in loose.warnings] == [
            (5, "weight_not_on_assistant")
        ]


def test_cli_reports_the_key_with_the_provider_and_warns_without(tmp_path, capsys):
    records = [chat(f"q{i}", "a", timestamp=1) if i == 0 else chat(f"q{i}", "a") for i in range(10)]
    path = str(write(tmp_path / "keys.jsonl", records))
    assert main(["dataset", "validate", path, "--provider", "openai"]) == 2
    out = capsys.readouterr().out
    assert "messages[0].timestamp" in out and "1 problem(s) for openai" in out
    assert main(["dataset", "validate", path]) == 0
    out = capsys.readouterr().out
    assert "Warnings in" in out and "10 examples, valid, 1 warning(s)." in out


# --- token limits counted with the tokenizer the limit applies to ------------------------------


@pytest.mark.usefixtures("vocab")
def test_tiktoken_passes_what_the_estimate_refuses_and_refuses_what_it_passes(tmp_path):
    """gpt-3.5-turbo allows 16,385 tokens (cl100k_base). Long English words: the estimate counts
    about 1.8 times too many; Amharic: about a third of the real count."""
    import tiktoken

    encoding = tiktoken.get_encoding("cl100k_base")
    english = LONG_ENGLISH * 5  # 12,800 real tokens, ~23,000 estimated
    amharic = AMHARIC * 70  # ~18,700 real tokens, ~6,300 estimated
    records = [chat(f"q{i}", "a") for i in range(10)]
    records[2] = chat("Summarize.", english)
    records[6] = chat("Translate.", amharic)
    path = write(tmp_path / "long.jsonl", records)

    def cookbook(user: str, answer: str) -> int:  # num_tokens_from_messages of two turns
        roles = len(encoding.encode("user")) + len(encoding.encode("assistant"))
        return 3 + 2 * 3 + roles + len(encoding.encode(user)) + len(encoding.encode(answer))

    amharic_tokens = cookbook("Translate.", amharic)
    assert amharic_tokens > 16_385 > count_tokens(amharic)
    assert cookbook("Summarize.", english) < 16_385 < count_tokens(english)

    for fast in (True, False):
        exact = validate_file(path, "openai", "gpt-3.5-turbo", fast=fast)
        assert exact.tokenizer == "tiktoken cl100k_base"
        assert [(p.line, p.code, p.reason) for p in exact.problems] == [
            (
                7,
                "too_many_tokens",
                f"{amharic_tokens:,} tokens, over the 16,385 per example of openai gpt-3.5-turbo",
            )
        ]
        guessed = validate_file(path, "openai", "gpt-3.5-turbo", tokenizer="estimate", fast=fast)
        assert guessed.tokenizer.startswith(f"estimate (may be {ESTIMATE_BAND[0]}x")
        assert [(p.line, p.code) for p in guessed.problems] == [(3, "too_many_tokens")]


@pytest.mark.usefixtures("vocab")
def test_gpt_4o_counts_with_o200k_base(tmp_path):
    path = write(tmp_path / "short.jsonl", [chat(f"q{i}", "a") for i in range(10)])
    assert validate_file(path, "openai", "gpt-4o-mini").tokenizer == "tiktoken o200k_base"
    assert validate_file(path, "openai", "ft:gpt-3.5-turbo-0125:acme::abc").tokenizer == (
        "tiktoken cl100k_base"
    )
    assert validate_file(path).tokenizer == ""  # no limit, nothing counted


@pytest.mark.usefixtures("vocab")
def test_cli_says_which_counter_counted(tmp_path, capsys):
    path = str(write(tmp_path / "short.jsonl", [chat(f"q{i}", "a") for i in range(10)]))
    base = ["dataset", "validate", path, "--provider", "openai", "--model", "gpt-4o"]
    assert main(base) == 0
    assert "tokens counted with tiktoken o200k_base" in capsys.readouterr().out
    assert main([*base, "--tokenizer", "tiktoken:cl100k_base"]) == 0
    assert "tokens counted with tiktoken cl100k_base" in capsys.readouterr().out
    assert main([*base, "--tokenizer", "estimate", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tokenizer"].startswith("estimate (may be")
    assert main([*base, "--tokenizer", "sentencepiece"]) == 2
    assert "tokenizer 'sentencepiece' is not known" in capsys.readouterr().err
