"""The CLI's rewrites of library messages (``CLI_HINTS``), kept as patterns that ``re`` compiles
only when a command fails: each one still rewrites its message."""

from __future__ import annotations

import subprocess
import sys

import pytest

from modelops_core.cli.main import cli_message


@pytest.mark.parametrize(
    ("library", "cli"),
    [
        (  # the pattern spans lines (it was compiled with re.DOTALL)
            "No embeddings in index 'docs'\n(known: none). Push some with "
            "push_embeddings(ids, matrix, index=...).",
            "No embeddings in index 'docs'\n(known: none). Push some with "
            "`modelops features push-embeddings FILE --index docs`.",
        ),
        (
            "re-attach with FineTuningJob.attach('ft-1') or `modelops finetune watch ft-1`",
            "re-attach with `modelops finetune watch ft-1`",
        ),
        (
            "raise it or pass wait(timeout=...) to wait",
            "raise it or pass --timeout SECONDS to wait",
        ),
        (
            "mixed; load it with Dataset.from_jsonl(...).fingerprint()",
            "mixed; convert it to one format first with `modelops dataset convert`",
        ),
        (
            "a list. For one record per line use Dataset.from_jsonl.",
            "a list. For one record per line, name the file .jsonl.",
        ),
        ("read .json (or Dataset.from_jsonl for .jsonl)", "read .json (or .jsonl)"),
        (
            "No evaluation. Pass evaluation=<EvaluationResult or {metric: value}> to register(), "
            "or metadata={'evaluation': {...}}.",
            "No evaluation. Pass --evaluation '{\"accuracy\": 0.91}' (a JSON object, or a .json "
            "file such as the one `modelops eval run --output` writes).",
        ),
    ],
)
def test_each_hint_rewrites_its_library_message(library, cli):
    assert cli_message(ValueError(library)) == cli


def test_importing_the_command_compiles_no_hint_pattern():
    probe = (
        "import re\nre.purge()\nimport modelops_core.cli.main as m\n"
        "hints = {getattr(p, 'pattern', p) for p, _ in m.CLI_HINTS}\n"
        "print(sum(1 for key in re._cache if key[1] in hints))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "0"
