"""Token counts without a tokenizer download: a fast offline estimator, and a pluggable slot.

The default estimator splits text the way byte-pair encoders do for English and code: runs of
ASCII letters count one token per ``WORD_CHUNK`` letters, digits one token per group of three,
every other visible character one token, runs of newlines or of two or more spaces one token,
and a single space none (BPE vocabularies fold it into the next word). Its error against a real
BPE is measured and stated in ``docs/datasets.md``.

Any tokenizer plugs in: a callable ``text -> int`` or an object with ``.count(text)`` or
``.encode(text)`` (a ``tiktoken`` encoding works as is).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

#: letters per token of a long ASCII word (BPE splits long words into chunks of about this size).
WORD_CHUNK = 5
_PIECES = re.compile(rf"[A-Za-z]{{1,{WORD_CHUNK}}}|\d{{1,3}}|\n+| {{2,}}|\t+|[^\sA-Za-z\d]")


@runtime_checkable
class Tokenizer(Protocol):
    """Anything with ``count(text) -> int``."""

    def count(self, text: str) -> int: ...


def count_tokens(text: str) -> int:
    """Estimated tokens of ``text`` (the default offline estimator; never more than ``len(text)``).

    >>> count_tokens("Hello, world!")
    4
    """
    return len(_PIECES.findall(text))


class EstimatingTokenizer:
    """The default tokenizer: :func:`count_tokens` as an object."""

    name = "estimate"

    def count(self, text: str) -> int:
        return count_tokens(text)


TokenCounter = Callable[[str], int]


def token_counter(tokenizer: Any = None) -> TokenCounter:
    """A ``text -> int`` function from ``tokenizer``: None (the estimator), a callable, an object
    with ``count(text)``, or one with ``encode(text)`` (its length is the count)."""
    if tokenizer is None:
        return count_tokens
    count = getattr(tokenizer, "count", None)
    if callable(count) and not isinstance(tokenizer, str):
        return lambda text: int(count(text))
    encode = getattr(tokenizer, "encode", None)
    if callable(encode) and not isinstance(tokenizer, str):
        return lambda text: len(encode(text))
    if callable(tokenizer):
        return lambda text: int(tokenizer(text))
    from modelops_core.errors import ModelOpsError

    raise ModelOpsError(
        f"tokenizer={tokenizer!r} is not usable: give a callable text -> int, an object with "
        ".count(text) or .encode(text) (e.g. a tiktoken encoding), or None for the estimator."
    )
