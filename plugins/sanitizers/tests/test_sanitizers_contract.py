"""Each registered sanitizer passes the core's sanitizer contract suite."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modelops_sanitizers import plugin

from modelops_core.testing import SanitizerContract
from modelops_core.testing.contracts import SanitizerExample


class TestPii(SanitizerContract):
    plugin = plugin
    component_name = "pii"
    distribution = "modelops-sanitizers"

    def component_options(self, tmp_path: Path) -> dict[str, Any]:
        return {"engine": "re"}

    def examples(self) -> list[SanitizerExample]:
        return [
            SanitizerExample(
                records=[
                    {"prompt": "mail jane@example.org", "completion": "ok", "n": 3},
                    {"messages": [{"role": "user", "content": "card 4111 1111 1111 1111"}]},
                ],
                expected=[
                    {"prompt": "mail [EMAIL]", "completion": "ok", "n": 3},
                    {"messages": [{"role": "user", "content": "card [CARD]"}]},
                ],
            )
        ]


class TestStripKeys(SanitizerContract):
    plugin = plugin
    component_name = "strip_keys"
    distribution = "modelops-sanitizers"

    def component_options(self, tmp_path: Path) -> dict[str, Any]:
        return {"keys": ["user_id"]}

    def examples(self) -> list[SanitizerExample]:
        return [
            SanitizerExample(
                records=[{"prompt": "hi", "user_id": 7, "meta": {"user_id": 8, "lang": "en"}}],
                expected=[{"prompt": "hi", "meta": {"lang": "en"}}],
            )
        ]


class TestFilterByLength(SanitizerContract):
    plugin = plugin
    component_name = "filter_by_length"
    distribution = "modelops-sanitizers"

    def component_options(self, tmp_path: Path) -> dict[str, Any]:
        return {"key": "text", "max_len": 5}

    def examples(self) -> list[SanitizerExample]:
        return [
            SanitizerExample(
                records=[{"text": "12345"}, {"text": "123456"}, {"other": "x"}],
                expected=[{"text": "12345"}, {"other": "x"}],
            )
        ]


class TestDedupe(SanitizerContract):
    plugin = plugin
    component_name = "dedupe"
    distribution = "modelops-sanitizers"

    def examples(self) -> list[SanitizerExample]:
        return [
            SanitizerExample(
                records=[{"q": "Hello  World"}, {"q": "hello world "}, {"q": "bye"}],
                expected=[{"q": "Hello  World"}, {"q": "bye"}],
            )
        ]
