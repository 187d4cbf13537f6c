"""Signed feature hashing of texts: word 1-2-grams and character 3-5-grams into a sparse matrix.

A text is lower-cased and its whitespace collapsed to single spaces. Its features are

- every word (``\\w+``) and every pair of adjacent words, and
- every run of 3, 4 and 5 characters of `` text `` (padded with one space on each side, so
  word starts and ends are visible),

each hashed with a stable 64-bit hash (never Python's salted ``hash()``): the low bits pick the
column (``hash % n_features``), the top bit picks the sign (+1 or -1), so collisions tend to
cancel instead of adding up. A row holds the signed counts, scaled to unit L2 norm.

Words are hashed with BLAKE2b (8 bytes, cached per distinct word); character n-grams with
FNV-1a over their code points, vectorized with numpy over all texts at once; every feature hash
then goes through the splitmix64 finalizer with a salt per feature family. The same text gives
the same row on every machine and in every process.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    # scipy has no type hints (scipy-stubs is not a dependency): its names are Any
    from scipy import sparse  # type: ignore[import-untyped,unused-ignore]

_WORD = re.compile(r"\w+")
_SPACES = re.compile(r"\s+")
_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3
_GOLDEN = 0x9E3779B97F4A7C15
# one salt per feature family, so "ab" the word and "ab" the character run differ
_SALT_WORD = 0x5157_4F52_4431_0001
_SALT_BIGRAM = 0x5157_4F52_4432_0002
_SALT_CHAR = 0x4348_4152_0000_0003


def normalize_text(text: str) -> str:
    """Lower-case ``text`` and collapse every whitespace run to one space."""
    return _SPACES.sub(" ", text.lower()).strip()


@attrs.frozen
class HashedFeatures:
    """Turns texts into a CSR matrix of ``n_features`` signed, L2-normalized hashed n-grams.

    :param n_features: number of columns (a power of two keeps the modulo a bit mask).
    :param char_ngrams: smallest and largest character n-gram length (``(0, 0)``: none).
    :param word_ngrams: smallest and largest word n-gram length, at most 2.
    """

    n_features: int = 2**18
    char_ngrams: tuple[int, int] = (3, 5)
    word_ngrams: tuple[int, int] = (1, 2)

    def __attrs_post_init__(self) -> None:
        if self.n_features < 2:
            raise ValueError(f"n_features must be at least 2, got {self.n_features}")
        if self.word_ngrams[1] > 2:
            raise ValueError(f"word n-grams go up to 2, got {self.word_ngrams}")

    def to_config(self) -> dict[str, object]:
        """The settings as JSON-ready values (stored beside a model's weights)."""
        return {
            "n_features": self.n_features,
            "char_ngrams": list(self.char_ngrams),
            "word_ngrams": list(self.word_ngrams),
        }

    @classmethod
    def from_config(cls, config: dict[str, object]) -> HashedFeatures:
        """The featurizer :meth:`to_config` described."""
        chars = config["char_ngrams"]
        words = config["word_ngrams"]
        assert isinstance(chars, list) and isinstance(words, list)
        return cls(
            n_features=int(str(config["n_features"])),
            char_ngrams=(int(chars[0]), int(chars[1])),
            word_ngrams=(int(words[0]), int(words[1])),
        )

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """The ``len(texts) x n_features`` matrix of hashed, signed, L2-normalized counts."""
        import numpy as np
        from scipy import sparse

        normalized = [normalize_text(text) for text in texts]
        rows: list[npt.NDArray[np.int64]] = []
        hashes: list[npt.NDArray[np.uint64]] = []
        for part_rows, part_hashes in (
            self._word_hashes(normalized),
            self._char_hashes(normalized),
        ):
            rows.append(part_rows)
            hashes.append(part_hashes)
        all_rows = np.concatenate(rows)
        all_hashes = np.concatenate(hashes)
        columns = (all_hashes % np.uint64(self.n_features)).astype(np.int64)
        signs = np.where(all_hashes >> np.uint64(63), -1.0, 1.0)
        matrix = sparse.csr_matrix(
            (signs, (all_rows, columns)), shape=(len(texts), self.n_features), dtype=np.float64
        )
        matrix.sum_duplicates()
        matrix.eliminate_zeros()
        return l2_normalize_rows(matrix)

    def _word_hashes(
        self, texts: Sequence[str]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint64]]:
        import numpy as np

        low, high = self.word_ngrams
        if high < 1:
            return np.empty(0, np.int64), np.empty(0, np.uint64)
        cache: dict[str, int] = {}
        token_hashes: list[int] = []
        counts = np.empty(len(texts), dtype=np.int64)
        for index, text in enumerate(texts):
            tokens = _WORD.findall(text)
            counts[index] = len(tokens)
            for token in tokens:
                value = cache.get(token)
                if value is None:
                    digest = hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest()
                    value = cache[token] = int.from_bytes(digest, "little")
                token_hashes.append(value)
        words = np.array(token_hashes, dtype=np.uint64)
        doc = np.repeat(np.arange(len(texts), dtype=np.int64), counts)
        rows: list[npt.NDArray[np.int64]] = []
        hashes: list[npt.NDArray[np.uint64]] = []
        if low <= 1:
            rows.append(doc)
            hashes.append(_mix(words ^ np.uint64(_SALT_WORD)))
        if high >= 2 and len(words) > 1:
            same_doc = doc[1:] == doc[:-1]
            pairs = words[:-1][same_doc] * np.uint64(_GOLDEN) + _rotate(words[1:][same_doc], 31)
            rows.append(doc[1:][same_doc])
            hashes.append(_mix(pairs ^ np.uint64(_SALT_BIGRAM)))
        if not rows:
            return np.empty(0, np.int64), np.empty(0, np.uint64)
        return np.concatenate(rows), np.concatenate(hashes)

    def _char_hashes(
        self, texts: Sequence[str]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint64]]:
        import numpy as np

        low, high = self.char_ngrams
        if high < 1 or not texts:
            return np.empty(0, np.int64), np.empty(0, np.uint64)
        # One array of code points for all texts, separated by NUL (never inside a text,
        # it is removed first); the running count of separators is each position's text.
        joined = "\0".join(" " + text.replace("\0", "") + " " for text in texts)
        points = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        is_separator = points == 0
        separators_before = np.concatenate(([0], np.cumsum(is_separator, dtype=np.int64)))
        rows: list[npt.NDArray[np.int64]] = []
        hashes: list[npt.NDArray[np.uint64]] = []
        prime = np.uint64(_FNV_PRIME)
        running = np.full(len(points), _FNV_OFFSET, dtype=np.uint64)
        for length in range(1, high + 1):
            starts = len(points) - length + 1
            if starts <= 0:
                break
            # running[i] = FNV-1a of points[i : i + length]
            running = (running[:starts] ^ points[length - 1 : length - 1 + starts]) * prime
            if length < low:
                continue
            inside = separators_before[length : length + starts] == separators_before[:starts]
            rows.append(separators_before[:starts][inside])
            salted = running[inside] ^ np.uint64(_SALT_CHAR + length)
            hashes.append(_mix(salted))
        if not rows:
            return np.empty(0, np.int64), np.empty(0, np.uint64)
        return np.concatenate(rows), np.concatenate(hashes)


def l2_normalize_rows(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    """``matrix`` with each non-empty row scaled to unit Euclidean norm (in place)."""
    import numpy as np

    squared = np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel()
    norms = np.sqrt(squared)
    norms[norms == 0] = 1.0
    matrix.data /= np.repeat(norms, np.diff(matrix.indptr))
    return matrix


def _rotate(values: npt.NDArray[np.uint64], bits: int) -> npt.NDArray[np.uint64]:
    import numpy as np

    return (values << np.uint64(bits)) | (values >> np.uint64(64 - bits))


def _mix(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """The splitmix64 finalizer: every input bit affects every output bit."""
    import numpy as np

    values = values ^ (values >> np.uint64(30))
    values = values * np.uint64(0xBF58476D1CE4E5B9)
    values = values ^ (values >> np.uint64(27))
    values = values * np.uint64(0x94D049BB133111EB)
    return values ^ (values >> np.uint64(31))
