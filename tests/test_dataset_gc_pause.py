"""Reading a dataset into memory, or loading a module, leaves what it made in the collector's
oldest generation (the next young collections do not walk them), and never releases objects a
caller froze."""

from __future__ import annotations

import gc
import json
import sys
import weakref

import pytest

from modelops_core import Dataset, DatasetSanitizer, Runtime
from modelops_core.config import parse_config
from modelops_core.gc_pause import GcPaused, import_module


def chat_file(tmp_path, count: int = 50):
    path = tmp_path / "chat.jsonl"
    lines = []
    for index in range(count):
        messages = [{"role": "user", "content": f"q{index}"}, {"role": "assistant", "content": "a"}]
        lines.append(json.dumps({"messages": messages}))
    path.write_text("\n".join(lines) + "\n")
    return path


def oldest_generation_holds(objects: list[object]) -> bool:
    oldest = {id(item) for item in gc.get_objects(generation=2)}
    return all(id(item) in oldest for item in objects)


def young_generations_hold_any_of(objects: list[object]) -> bool:
    young = {id(item) for generation in (0, 1) for item in gc.get_objects(generation=generation)}
    return any(id(item) in young for item in objects)


@pytest.fixture
def collector_running():
    enabled = gc.isenabled()
    gc.enable()
    yield
    if not enabled:
        gc.disable()


def test_records_read_from_a_file_are_in_the_oldest_generation(tmp_path, collector_running):
    dataset = Dataset.from_jsonl(chat_file(tmp_path))
    containers = [*dataset.records, *(record["messages"] for record in dataset.records)]
    assert oldest_generation_holds(containers)
    assert not young_generations_hold_any_of(containers)
    assert gc.isenabled()


def test_records_given_in_code_are_in_the_oldest_generation(collector_running):
    records = [{"messages": [{"role": "user", "content": f"q{i}"}]} for i in range(20)]
    dataset = Dataset.from_records(records)
    assert dataset.records == tuple(records) and dataset.records[0] is not records[0]
    assert oldest_generation_holds([*dataset.records, *(r["messages"] for r in dataset.records)])


def test_sanitized_records_are_in_the_oldest_generation(tmp_path, collector_running):
    pytest.importorskip("modelops_sanitizers")
    runtime = Runtime(parse_config({}, source="test.toml"))
    clean = DatasetSanitizer(runtime).sanitize(Dataset.from_jsonl(chat_file(tmp_path)))
    assert len(clean) == 50
    assert oldest_generation_holds([*clean.records, *(r["messages"] for r in clean.records)])


def test_objects_a_caller_froze_stay_frozen(tmp_path, collector_running):
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        dataset = Dataset.from_jsonl(chat_file(tmp_path))
        assert gc.get_freeze_count() == frozen  # not released into the oldest generation
        assert len(dataset) == 50 and gc.isenabled()
    finally:
        gc.unfreeze()


def test_a_stopped_collector_stays_stopped_and_its_generations_untouched():
    enabled = gc.isenabled()
    gc.disable()
    try:
        young = [[index] for index in range(10)]  # containers made just now: generation 0
        with GcPaused(promote=True):
            pass
        assert not gc.isenabled()
        assert not oldest_generation_holds(young)
    finally:
        if enabled:
            gc.enable()


def test_without_promote_the_generations_are_left_alone(collector_running):
    with GcPaused():
        young = [[index] for index in range(10)]
    assert gc.isenabled() and young_generations_hold_any_of(young)


def test_a_module_loads_with_the_collector_paused_and_its_objects_promoted(
    tmp_path, monkeypatch, collector_running
):
    (tmp_path / "gc_probe_module.py").write_text(
        "import gc\nPAUSED = not gc.isenabled()\nTABLE = [[index] for index in range(10)]\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "gc_probe_module", raising=False)
    module = import_module("gc_probe_module")
    assert module.PAUSED and gc.isenabled()
    assert oldest_generation_holds([module.TABLE, *module.TABLE])


def test_a_loaded_module_is_returned_without_touching_the_generations(collector_running):
    young = [[index] for index in range(10)]
    assert import_module("modelops_core.gc_pause") is sys.modules["modelops_core.gc_pause"]
    assert young_generations_hold_any_of(young)


def test_garbage_promoted_with_the_records_is_still_collected(tmp_path, collector_running):
    class Node:
        pass

    node = Node()
    node.self = node  # a cycle: only the collector frees it
    alive = weakref.ref(node)
    del node
    Dataset.from_jsonl(chat_file(tmp_path))  # promotes the cycle to the oldest generation
    gc.collect()
    assert alive() is None
