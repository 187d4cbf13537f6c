"""The block reader's fast path without numpy: whether a block holds one object per line is
decided by counting bytes, and a run's line sizes come from splitting the block. Both are
checked against a line-by-line reference on random blocks of every awkward shape."""

from __future__ import annotations

import random

import pytest

from modelops_core.datasets.jsonl.reader import Run, iter_runs, one_object_per_line
from modelops_core.datasets.jsonl.structs import CHAT_DECODER

PIECES = [b"{}", b'{"a": 1}', b"{", b"}", b"", b" ", b"\r", b"x", b"{\r", b"}\r", b"[1]", b"{}}"]


def reference(data: bytes) -> bool:
    """Every line (a CRLF's ``\\r`` dropped) starts with ``{`` and ends with ``}``."""
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()
    if not lines:
        return False
    for line in lines:
        body = line[:-1] if line.endswith(b"\r") else line
        if not (line.startswith(b"{") and body.endswith(b"}")):
            return False
    return True


@pytest.mark.parametrize("seed", range(4))
def test_one_object_per_line_agrees_with_the_line_by_line_check(seed: int) -> None:
    rng = random.Random(seed)
    agreed = {True: 0, False: 0}
    for _ in range(4000):
        lines = [
            b"".join(rng.choices(PIECES, k=rng.randint(1, 3)))
            if rng.random() < 0.3
            else rng.choice([b"{}", b'{"a": "}\\n{"}', b'{"b": [1, 2]}'])
            for _ in range(rng.randint(1, 6))
        ]
        endings = [rng.choice([b"\n", b"\r\n", b"\n", b"\r\r\n"]) for _ in lines]
        data = b"".join(line + ending for line, ending in zip(lines, endings, strict=True))
        if rng.random() < 0.3:  # a last line without its line ending
            data = data[: -len(endings[-1])]
        expected = reference(data)
        assert one_object_per_line(data) is expected, data
        agreed[expected] += 1
    assert min(agreed.values()) > 400  # both answers were compared many times


def test_a_run_gives_each_lines_size_in_bytes_without_its_line_ending(tmp_path) -> None:
    chat = (
        b'{"messages": [{"role": "user", "content": "h\xc3\xa9"}, '
        b'{"role": "assistant", "content": "ok"}]}'
    )
    lines = [chat, chat.replace(b"ok", b"okay"), chat + b"\r", chat]
    path = tmp_path / "chat.jsonl"
    for data in (b"\n".join(lines), b"\n".join(lines) + b"\n"):
        path.write_bytes(data)
        runs = list(iter_runs(path, CHAT_DECODER))
        assert all(isinstance(run, Run) for run in runs)
        assert [line for run in runs for line in run.lines] == [1, 2, 3, 4]
        assert [size for run in runs for size in run.sizes] == [len(line) for line in lines]


def test_reading_and_sanitizing_a_chat_file_do_not_import_numpy(tmp_path) -> None:
    """numpy costs about 0.1 s of every process that imports it: as much as sanitizing a
    whole 1 MB file. The user's paths (the API and the CLI) must not import it."""
    import os
    import subprocess
    import sys

    pytest.importorskip("modelops_sanitizers")
    source = tmp_path / "chat.jsonl"
    record = (
        '{"messages": [{"role": "user", "content": "card 4111 1111 1111 1111, ip 10.0.0.1, '
        'ssn 123-45-6789 and +1 212 555 0147"}, {"role": "assistant", "content": "ok"}]}\n'
    )
    source.write_text(record * 300)
    environment = {**os.environ, "MODELOPS_CACHE_DIR": str(tmp_path / "cache")}
    api = (
        "import sys\n"
        "from modelops_core import Dataset, DatasetSanitizer\n"
        "DatasetSanitizer().sanitize(Dataset.from_jsonl(sys.argv[1])).save(sys.argv[2])\n"
        "print('numpy' in sys.modules)\n"
    )
    cli = (
        "import sys\n"
        "from modelops_core.cli.main import main\n"
        "try:\n"
        "    main(['dataset', 'sanitize', sys.argv[1], sys.argv[2]])\n"
        "except SystemExit as exit:\n"
        "    assert not exit.code, exit.code\n"
        "print('numpy' in sys.modules)\n"
    )
    for name, script in (("api", api), ("cli", cli)):
        output = tmp_path / f"{name}.jsonl"
        done = subprocess.run(
            [sys.executable, "-c", script, str(source), str(output)],
            capture_output=True, text=True, check=True, env=environment, cwd=tmp_path,
        )  # fmt: skip
        assert done.stdout.split()[-1] == "False", (name, done.stdout, done.stderr)
        text = output.read_text()
        assert "4111" not in text and "[CARD]" in text and len(text.splitlines()) == 300
