"""Dataset: readers, formats, conversions, provider exports, validation, fingerprint, split."""

from __future__ import annotations

import json

import pytest

from modelops_core import Dataset, DatasetFormatError
from modelops_core.datasets.errors import (
    DatasetEncodingError,
    DatasetReadError,
    UnknownProviderError,
)


def chat(user: str, answer: str, system: str | None = None) -> dict:
    messages = [{"role": "system", "content": system}] if system else []
    messages += [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]
    return {"messages": messages}


def write_jsonl(path, rows) -> str:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return str(path)


CHATS = [chat(f"question {i}", f"answer {i}", system="Be brief.") for i in range(12)]
PREFERENCES = [
    {
        "input": {"messages": [{"role": "user", "content": f"q{i}"}]},
        "preferred_output": [{"role": "assistant", "content": f"good {i}"}],
        "non_preferred_output": [{"role": "assistant", "content": f"bad {i}"}],
    }
    for i in range(12)
]


def test_from_jsonl_reads_openai_chat(tmp_path):
    ds = Dataset.from_jsonl(write_jsonl(tmp_path / "c.jsonl", CHATS))
    assert ds.format == "chat" and len(ds) == 12
    assert ds.records[0] == CHATS[0]


def test_pairs_of_a_single_user_turn_is_exactly_the_user_text():
    ds = Dataset.from_records([chat("What is 2+2?", "4")])
    assert ds.pairs() == [("What is 2+2?", "4")]


def test_pairs_of_a_multi_turn_chat_render_the_turns_before_the_last_answer():
    record = chat("hi", "hello", system="Be kind.")
    record["messages"] += [
        {"role": "user", "content": "bye"},
        {"role": "assistant", "content": "ciao"},
    ]
    ((prompt, target),) = Dataset.from_records([record]).pairs()
    assert target == "ciao"
    assert prompt == "system: Be kind.\nuser: hi\nassistant: hello\nuser: bye"


def test_prompt_completion_converts_to_chat_and_back():
    ds = Dataset.from_records([{"prompt": "p", "completion": "c"}])
    as_chat = ds.convert(to="chat")
    assert as_chat.records[0] == chat("p", "c")
    assert as_chat.convert(to="prompt_completion").records == ds.records


def test_converting_to_preference_is_refused_with_the_reason():
    with pytest.raises(DatasetFormatError, match="non-preferred"):
        Dataset.from_records(CHATS).convert(to="preference")


def test_preference_converts_to_chat_with_the_preferred_answer():
    as_chat = Dataset.from_records(PREFERENCES).convert(to="chat")
    assert as_chat.records[0] == chat("q0", "good 0")


def test_mixed_prompt_completion_and_chat_become_chat():
    ds = Dataset.from_records([{"prompt": "a", "completion": "b"}, chat("c", "d")])
    assert ds.format == "chat" and ds.records[0] == chat("a", "b")


def test_tool_turns_and_weights_are_kept():
    record = {"messages": [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": "", "tool_calls": [{"id": "1"}], "weight": 0},
        {"role": "tool", "content": "sunny", "tool_call_id": "1"},
        {"role": "assistant", "content": "Sunny.", "weight": 1},
    ]}  # fmt: skip
    ds = Dataset.from_records([record])
    assert ds.records[0] == record
    assert ds.validate().ok


@pytest.mark.usefixtures("provider_plugins")
@pytest.mark.parametrize(
    ("records", "provider", "shape_key"),
    [
        (CHATS, "openai", "messages"),
        (CHATS, "vertex", "contents"),
        (CHATS, "bedrock", "prompt"),
        (CHATS, "bedrock-conversation", "schemaVersion"),
        (CHATS, "local", "completion"),
        (PREFERENCES, "openai-dpo", "preferred_output"),
        (PREFERENCES, "vertex-preference", "completions"),
    ],
)
def test_export_round_trip_keeps_every_example(tmp_path, records, provider, shape_key):
    ds = Dataset.from_records(records)
    path = ds.export(tmp_path / f"{provider}.jsonl", provider=provider)
    first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    assert shape_key in first
    back = Dataset.from_jsonl(path)
    assert len(back) == len(ds)
    assert back.pairs() == ds.pairs()
    if back.format == ds.format:
        assert back.fingerprint() == ds.fingerprint()


@pytest.mark.usefixtures("provider_plugins")
def test_vertex_export_has_system_instruction_and_model_role(tmp_path):
    path = Dataset.from_records(CHATS[:1]).export(tmp_path / "v.jsonl", provider="vertex")
    record = json.loads(path.read_text())
    assert record == {
        "systemInstruction": {"role": "system", "parts": [{"text": "Be brief."}]},
        "contents": [
            {"role": "user", "parts": [{"text": "question 0"}]},
            {"role": "model", "parts": [{"text": "answer 0"}]},
        ],
    }


@pytest.mark.usefixtures("provider_plugins")
def test_vertex_preference_export_scores_the_completions(tmp_path):
    path = Dataset.from_records(PREFERENCES[:1]).export(tmp_path / "p.jsonl", "vertex-preference")
    record = json.loads(path.read_text())
    assert [c["score"] for c in record["completions"]] == [1, 0]
    assert record["completions"][0]["completion"] == {
        "role": "model",
        "parts": [{"text": "good 0"}],
    }


@pytest.mark.usefixtures("provider_plugins")
def test_bedrock_conversation_export_shape(tmp_path):
    path = Dataset.from_records(CHATS[:1]).export(tmp_path / "b.jsonl", "bedrock-conversation")
    record = json.loads(path.read_text())
    assert record["schemaVersion"] == "bedrock-conversation-2024"
    assert record["system"] == [{"text": "Be brief."}]
    assert record["messages"][1] == {"role": "assistant", "content": [{"text": "answer 0"}]}


@pytest.mark.usefixtures("provider_plugins")
def test_unknown_provider_lists_the_known_ones(tmp_path):
    ds = Dataset.from_records(CHATS)
    with pytest.raises(
        UnknownProviderError,
        match="Known: bedrock, bedrock-conversation, local, openai, openai-dpo, vertex",
    ):
        ds.export(tmp_path / "x.jsonl", provider="azure")
    with pytest.raises(UnknownProviderError, match="Did you mean 'openai'"):
        ds.validate(provider="opneai")


@pytest.mark.usefixtures("provider_plugins")
def test_validate_reports_every_problem_at_once_with_lines():
    records = [
        chat("a", "b"),
        chat("a", "b"),
        {"messages": [{"role": "user", "content": "no answer"}]},
        {"messages": [{"role": "user", "content": "  "}, {"role": "assistant", "content": "x"}]},
    ]
    report = Dataset.from_records(records).validate(provider="openai")
    found = {(p.line, p.code, p.field) for p in report.problems}
    # a repeated example is a warning: OpenAI takes the file
    assert [(w.line, w.code) for w in report.warnings] == [(2, "duplicate")]
    assert (3, "no_assistant", "messages") in found
    assert (4, "empty_content", "messages[0].content") in found
    assert (0, "too_few_examples", "") in found
    assert not report.ok and "line 2" in report.to_text()


@pytest.mark.usefixtures("provider_plugins")
def test_validate_token_limit_per_model():
    long_answer = "word " * 20_000
    records = [chat(f"q{i}", long_answer if i == 3 else "short") for i in range(16)]
    ds = Dataset.from_records(records)
    assert [p.line for p in ds.validate("vertex").problems] == []
    over = ds.validate("openai", model="gpt-3.5-turbo").problems
    assert [(p.line, p.code) for p in over] == [(4, "too_many_tokens")]


@pytest.mark.usefixtures("provider_plugins")
def test_validate_format_the_provider_cannot_take():
    report = Dataset.from_records(CHATS).validate(provider="openai-dpo")
    assert [p.code for p in report.problems] == ["format"]


@pytest.mark.usefixtures("provider_plugins")
def test_validate_with_a_pluggable_tokenizer():
    ds = Dataset.from_records([chat(f"q{i}", "a") for i in range(10)])
    report = ds.validate("openai", tokenizer=lambda text: 100_000)
    assert {p.code for p in report.problems} == {"too_many_tokens"}


def test_fingerprint_ignores_key_order_and_whitespace(tmp_path):
    a = tmp_path / "a.jsonl"
    b = tmp_path / "b.jsonl"
    a.write_text('{"prompt": "p", "completion": "c"}\n')
    b.write_text('{ "completion":"c",   "prompt":"p" }\n\n')
    assert Dataset.from_jsonl(a).fingerprint() == Dataset.from_jsonl(b).fingerprint()
    assert Dataset.from_jsonl(a).fingerprint().startswith("sha256:")
    changed = Dataset.from_records([{"prompt": "p", "completion": "C"}])
    assert changed.fingerprint() != Dataset.from_jsonl(a).fingerprint()


def test_split_is_seeded_and_disjoint():
    ds = Dataset.from_records([{"prompt": f"p{i}", "completion": str(i % 2)} for i in range(20)])
    train, test = ds.split(test_size=0.25, seed=1)
    assert (len(train), len(test)) == (15, 5)
    again = ds.split(test_size=0.25, seed=1)
    assert again[1].records == test.records
    assert not {r["prompt"] for r in train} & {r["prompt"] for r in test}


def test_split_stratified_keeps_label_shares():
    labels = ["yes"] * 16 + ["no"] * 4
    ds = Dataset.from_records(
        [{"prompt": f"p{i}", "completion": label} for i, label in enumerate(labels)]
    )
    _, test = ds.split(test_size=0.25, stratify=True)
    assert sorted(r["completion"] for r in test) == ["no", "yes", "yes", "yes", "yes"]


def test_stats_counts_roles_and_tokens():
    stats = Dataset.from_records(CHATS).stats()
    assert stats.examples == 12
    assert stats.role_counts == {"assistant": 12, "system": 12, "user": 12}
    assert stats.tokens.min > 0 and stats.total_tokens >= 12 * stats.tokens.min
    assert stats.turns.p50 == 3


def test_save_is_atomic_and_reloads(tmp_path):
    ds = Dataset.from_records(CHATS)
    path = ds.save(tmp_path / "out" / "d.jsonl")
    assert Dataset.from_jsonl(path).records == ds.records
    assert [p.name for p in path.parent.iterdir()] == ["d.jsonl"]  # no temp file left


def test_invalid_json_names_file_line_and_column(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"prompt": "a", "completion": "b"}\n{"prompt": "a" "completion": "b"}\n')
    with pytest.raises(DatasetReadError, match=r"bad.jsonl:2: invalid JSON at column 16") as err:
        Dataset.from_jsonl(path)
    assert (err.value.line, err.value.column) == (2, 16)


def test_skip_invalid_keeps_good_lines_and_reports_the_bad(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_text('{"prompt": "a", "completion": "b"}\nnope\n{"messages": [{"content": "x"}]}\n')
    ds = Dataset.from_jsonl(path, skip_invalid=True)
    assert len(ds) == 1
    problems = ds.validate().problems
    assert [(p.line, p.code) for p in problems] == [(2, "invalid"), (3, "invalid")]
    assert "missing role" in problems[1].reason


def test_wrong_encoding_names_the_line_and_the_fix(tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(
        b'{"prompt": "a", "completion": "b"}\n{"prompt": "caf\xe9", "completion": "b"}\n'
    )
    with pytest.raises(DatasetEncodingError, match=r":2: not UTF-8 .*iconv"):
        Dataset.from_jsonl(path)


def test_utf16_file_is_refused_with_the_fix(tmp_path):
    path = tmp_path / "u16.jsonl"
    path.write_text('{"prompt": "a", "completion": "b"}\n', encoding="utf-16")
    with pytest.raises(DatasetEncodingError, match="UTF-16"):
        Dataset.from_jsonl(path)


def test_empty_file_is_an_error(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("\n  \n")
    with pytest.raises(DatasetReadError, match="is empty"):
        Dataset.from_jsonl(path)


def test_unknown_shape_names_the_keys():
    with pytest.raises(DatasetFormatError, match=r"keys: question"):
        Dataset.from_records([{"question": "q"}])


def test_unknown_role_is_refused():
    with pytest.raises(DatasetFormatError, match="unknown role 'bot'"):
        Dataset.from_records([{"messages": [{"role": "bot", "content": "x"}]}])


def test_from_json_reads_a_list_or_a_data_object(tmp_path):
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"data": [{"prompt": "p", "completion": "c"}]}))
    assert Dataset.from_json(path).records == ({"prompt": "p", "completion": "c"},)


def test_from_csv_with_a_mapping(tmp_path):
    path = tmp_path / "qa.csv"
    path.write_text('question,answer\n"What, exactly?",Nothing\n')
    ds = Dataset.from_csv(path, mapping={"prompt": "question", "completion": "answer"})
    assert ds.pairs() == [("What, exactly?", "Nothing")]


def test_from_csv_missing_column_names_it_and_lists_the_columns(tmp_path):
    path = tmp_path / "qa.csv"
    path.write_text("question,reply\nq,r\n")
    with pytest.raises(
        DatasetFormatError, match=r"no column 'answer'.*columns are: question, reply"
    ):
        Dataset.from_csv(path, mapping={"prompt": "question", "completion": "answer"})


def test_from_markdown_sections_and_qa_pairs(tmp_path):
    path = tmp_path / "d.md"
    path.write_text(
        "# Support data\n\n## system\nBe brief.\n\n## user\nHi\n\n## assistant\nHello!\n"
        "Two lines.\n\n---\n\nQ: 2+2?\nA: 4\n\nQ: Capital of France?\nA: Paris\n"
    )
    ds = Dataset.from_markdown(path)
    assert ds.format == "chat" and len(ds) == 3
    assert ds.records[0]["messages"][2] == {"role": "assistant", "content": "Hello!\nTwo lines."}
    assert ds.pairs()[1:] == [("2+2?", "4"), ("Capital of France?", "Paris")]


def test_from_markdown_unknown_section_names_the_line(tmp_path):
    path = tmp_path / "d.md"
    path.write_text("## user\nHi\n## robot\nHello\n")
    with pytest.raises(DatasetFormatError, match=r"d.md:3: unknown section '## robot'"):
        Dataset.from_markdown(path)


def test_vertex_and_bedrock_inputs_are_recognised():
    vertex = {"contents": [{"role": "user", "parts": [{"text": "a"}]},
                           {"role": "model", "parts": [{"text": "b"}]}]}  # fmt: skip
    bedrock = {"schemaVersion": "bedrock-conversation-2024", "system": [],
               "messages": [{"role": "user", "content": [{"text": "a"}]},
                            {"role": "assistant", "content": [{"text": "b"}]}]}  # fmt: skip
    ds = Dataset.from_records([vertex, bedrock])
    assert ds.records[0] == ds.records[1] == chat("a", "b")
