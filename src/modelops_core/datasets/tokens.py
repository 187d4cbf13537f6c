"""Token counts: the tokenizer a provider's limit is counted with, an offline estimate as the
fallback, and a pluggable slot.

A provider declares in its :class:`~modelops_core.plugins.protocols.DatasetLimits` which
tokenizer its token limit is counted with, per model (``tokenizer`` / ``tokenizers``): the
OpenAI provider declares tiktoken's ``o200k_base`` for the gpt-4o and gpt-4.1 families and
``cl100k_base`` for gpt-3.5-turbo and gpt-4. :func:`resolve_counter` turns a choice into a
:class:`Counting` (the counter and its name, shown in reports):

- ``None`` or ``"auto"``: the declared tokenizer when it can be used (tiktoken installed, its
  vocabulary cached or downloadable), else the estimate, saying why;
- ``"estimate"``: the estimate;
- ``"tiktoken"`` (the declared encoding, else ``o200k_base``) or ``"tiktoken:<encoding>"``:
  tiktoken, or a :class:`~modelops_core.datasets.errors.TokenizerError` saying how to get it;
- ``"module:callable"``: an importable counter;
- a callable ``text -> int`` or an object with ``.count(text)`` or ``.encode(text)`` (a
  ``tiktoken`` encoding works as is).

The estimate splits text the way byte-pair encoders do for English and code: runs of ASCII
letters count one token per ``WORD_CHUNK`` letters, digits one token per group of three, every
other visible character one token, runs of newlines or of two or more spaces one token, and a
single space none. It is only a fallback: against tiktoken it is off by the factors of
:data:`ESTIMATE_BAND` (measured in ``tests/test_tokens.py``, see ``docs/datasets.md``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import attrs

from modelops_core.datasets.errors import TokenizerError

#: letters per token of a long ASCII word (BPE splits long words into chunks of about this size).
WORD_CHUNK = 5
_PIECES = re.compile(rf"[A-Za-z]{{1,{WORD_CHUNK}}}|\d{{1,3}}|\n+| {{2,}}|\t+|[^\sA-Za-z\d]")

#: the estimate divided by tiktoken's count (o200k_base and cl100k_base), lowest and highest
#: over the texts measured in ``tests/test_tokens.py`` (English prose, long English, code,
#: Russian, Amharic, Chinese, Arabic, Hindi): the estimate can be this far off either way.
ESTIMATE_BAND = (0.33, 3.4)

#: the ``--tokenizer`` choices besides ``module:callable``.
TOKENIZER_CHOICES: tuple[str, ...] = ("auto", "estimate", "tiktoken", "tiktoken:<encoding>")

#: tiktoken's encoding when ``"tiktoken"`` is asked for and the provider declares none.
DEFAULT_ENCODING = "o200k_base"

_INSTALL = "pip install 'modelops-provider-openai[tiktoken]' (or pip install tiktoken)"


@runtime_checkable
class Tokenizer(Protocol):
    """Anything with ``count(text) -> int``."""

    def count(self, text: str) -> int: ...


def count_tokens(text: str) -> int:
    """Estimated tokens of ``text`` (the offline estimate; never more than ``len(text)``).

    >>> count_tokens("Hello, world!")
    4
    """
    return len(_PIECES.findall(text))


class EstimatingTokenizer:
    """The estimate (:func:`count_tokens`) as an object."""

    name = "estimate"

    def count(self, text: str) -> int:
        return count_tokens(text)


TokenCounter = Callable[[str], int]


def token_counter(tokenizer: Any = None) -> TokenCounter:
    """A ``text -> int`` function from ``tokenizer``: None (the estimate), a callable, an object
    with ``count(text)``, one with ``encode(text)`` (its length is the count), or a name that
    :func:`resolve_counter` takes (``"estimate"``, ``"tiktoken:o200k_base"``, ``"pkg.mod:fn"``)."""
    if tokenizer is None:
        return count_tokens
    if isinstance(tokenizer, str):
        return resolve_counter(tokenizer).count
    count = getattr(tokenizer, "count", None)
    if callable(count):
        return lambda text: int(count(text))
    encode = getattr(tokenizer, "encode", None)
    if callable(encode):
        return lambda text: len(encode(text))
    if callable(tokenizer):
        return lambda text: int(tokenizer(text))
    raise TokenizerError(
        f"tokenizer={tokenizer!r} is not usable: give a callable text -> int, an object with "
        ".count(text) or .encode(text) (e.g. a tiktoken encoding), a name such as "
        "'tiktoken:o200k_base' or 'package.module:function', or None for the estimate."
    )


@attrs.frozen
class Counting:
    """A token counter and which one it is.

    :param name: what counted (``"tiktoken o200k_base"``, ``"estimate"``, ``"pkg.mod:fn"``),
        with the reason when the estimate stands in for the declared tokenizer.
    :param count: ``text -> int``.
    :param within_bytes: the counter never counts more tokens than the text has UTF-8 bytes (the
        estimate and tiktoken), so records shorter than a limit in bytes need no counting.
    :param exact: the count is the one the provider's limit is checked with.
    """

    name: str
    count: TokenCounter = attrs.field(eq=False, repr=False)
    within_bytes: bool = False
    exact: bool = False


def estimate(reason: str = "") -> Counting:
    """The estimate as a :class:`Counting`; ``reason`` says why it stands in."""
    low, high = ESTIMATE_BAND
    band = f"estimate (may be {low}x to {high}x the real count)"
    return Counting(f"{band}: {reason}" if reason else band, count_tokens, within_bytes=True)


def tiktoken_counter(encoding: str) -> Counting:
    """tiktoken's ``encoding`` (special tokens count as text, as in a training file).

    :raises TokenizerError: tiktoken is not installed, the encoding does not exist, or its
        vocabulary is neither cached nor downloadable.
    """
    try:
        import tiktoken
    except ImportError as exc:
        raise TokenizerError(
            f"tiktoken is not installed, so {encoding} cannot count tokens: {_INSTALL}, or pass "
            "--tokenizer estimate (tokenizer='estimate')."
        ) from exc
    known = tiktoken.list_encoding_names()
    if encoding not in known:
        raise TokenizerError(
            f"tiktoken has no encoding {encoding!r}; known: {', '.join(sorted(known))}."
        )
    try:
        loaded = tiktoken.get_encoding(encoding)
    except Exception as exc:  # network, proxy or cache errors of tiktoken's loader
        from modelops_core.config import mask_urls_in

        raise TokenizerError(
            f"tiktoken could not load the {encoding} vocabulary "
            f"({type(exc).__name__}: {mask_urls_in(str(exc))[:300]}). tiktoken downloads it "
            "once and caches it in TIKTOKEN_CACHE_DIR (else <tmp>/data-gym-cache): connect "
            "once, or set TIKTOKEN_CACHE_DIR to a directory holding a copy, or pass "
            "--tokenizer estimate (tokenizer='estimate')."
        ) from exc
    encode = loaded.encode_ordinary
    return Counting(
        f"tiktoken {encoding}", lambda text: len(encode(text)), within_bytes=True, exact=True
    )


def resolve_counter(choice: Any = None, declared: str = "") -> Counting:
    """The :class:`Counting` for ``choice`` (see the module docs), given the tokenizer the
    provider ``declared`` for the model (``""``: none).

    :raises TokenizerError: naming the choice and what to install, set or pass instead.
    """
    if choice is None or choice == "auto":
        if not declared:
            return estimate()
        if declared.startswith("tiktoken:"):
            try:
                return tiktoken_counter(declared.removeprefix("tiktoken:"))
            except TokenizerError as exc:
                return estimate(_fallback_reason(exc, declared))
        return _imported(declared, exact=True)
    if not isinstance(choice, str):
        name = _describe(choice)
        exact = declared.startswith("tiktoken:") and name == declared.replace(":", " ", 1)
        return Counting(name, token_counter(choice), exact=exact)
    if choice == "estimate":
        return estimate()
    if choice == "tiktoken":
        encoding = declared.removeprefix("tiktoken:") if declared.startswith("tiktoken:") else ""
        return tiktoken_counter(encoding or DEFAULT_ENCODING)
    if choice.startswith("tiktoken:"):
        return tiktoken_counter(choice.removeprefix("tiktoken:"))
    if ":" in choice:
        return _imported(choice, exact=choice == declared)
    raise TokenizerError(
        f"tokenizer {choice!r} is not known: choose {', '.join(TOKENIZER_CHOICES)} or give "
        "'package.module:function' (a function text -> int, or an object with .count or "
        ".encode)."
    )


def _fallback_reason(exc: TokenizerError, declared: str) -> str:
    encoding = declared.removeprefix("tiktoken:")
    cause = exc.__cause__
    if isinstance(cause, ImportError):
        return f"tiktoken is not installed ({_INSTALL} to count with {encoding})"
    if cause is None:
        return str(exc)
    return (
        f"tiktoken could not load {encoding} ({type(cause).__name__}); connect once so it "
        "caches the vocabulary, or set TIKTOKEN_CACHE_DIR to a copy"
    )


def _imported(spec: str, *, exact: bool) -> Counting:
    """The counter ``module:attr`` names (imported now)."""
    import importlib

    module_name, _, attr = spec.partition(":")
    try:
        target: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise TokenizerError(
            f"tokenizer {spec!r} cannot be imported ({type(exc).__name__}: {exc}); give "
            "'package.module:function' of an installed package, or --tokenizer estimate."
        ) from exc
    return Counting(spec, token_counter(target), exact=exact)


def _describe(tokenizer: Any) -> str:
    kind = tokenizer if callable(tokenizer) and hasattr(tokenizer, "__qualname__") else None
    name = getattr(kind or type(tokenizer), "__qualname__", type(tokenizer).__name__)
    module = getattr(kind or type(tokenizer), "__module__", "")
    encoding = getattr(tokenizer, "name", None)
    if isinstance(encoding, str) and module.startswith("tiktoken"):
        return f"tiktoken {encoding}"
    return f"{module}:{name}" if module else str(name)
