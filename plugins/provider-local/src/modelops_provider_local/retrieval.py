"""Nearest-prompt retrieval for free-text completions: TF-IDF cosine over hashed n-grams.

This is not a text generator. It stores the training prompts as TF-IDF vectors (the hashed
word and character n-grams of :mod:`features`, each column weighted by
``idf = ln((1 + n) / (1 + df)) + 1``, rows L2-normalized) and answers a new input with the
completion of the training prompt most similar to it (cosine similarity; the first such prompt
on ties). An input sharing no feature with any training prompt gets the most common completion.
It suits FAQ-style data, where similar questions share an answer; it cannot say anything that is
not in the training file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs

from modelops_provider_local.classifier import select_columns
from modelops_provider_local.features import l2_normalize_rows

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    # scipy has no type hints (scipy-stubs is not a dependency): its names are Any
    from scipy import sparse  # type: ignore[import-untyped,unused-ignore]

# similarity rows computed at once: keeps the dense block near 16 M scores
_BLOCK_CELLS = 1 << 24


@attrs.frozen
class RetrievalIndex:
    """Training prompts as TF-IDF rows over ``columns``, and their completions."""

    columns: npt.NDArray[np.int64]
    idf: npt.NDArray[np.float64]
    prompts: sparse.csr_matrix
    completions: list[str]
    fallback: str

    @classmethod
    def build(cls, features: sparse.csr_matrix, completions: Sequence[str]) -> RetrievalIndex:
        """Index the hashed ``features`` of the training prompts."""
        import numpy as np

        columns = np.unique(features.indices).astype(np.int64)
        compact = select_columns(features, columns)
        document_frequency = np.bincount(compact.indices, minlength=len(columns))
        n = compact.shape[0]
        idf = np.log((1.0 + n) / (1.0 + document_frequency)) + 1.0
        prompts = l2_normalize_rows(compact.multiply(idf).tocsr())
        fallback = Counter(completions).most_common(1)[0][0]
        return cls(columns, idf, prompts, list(completions), fallback)

    def nearest(self, features: sparse.csr_matrix) -> npt.NDArray[np.int64]:
        """For each row, the index of the most similar training prompt (-1: nothing shared)."""
        import numpy as np

        queries = l2_normalize_rows(
            select_columns(features, self.columns).multiply(self.idf).tocsr()
        )
        transposed = self.prompts.T.tocsc()
        block = max(1, _BLOCK_CELLS // max(1, self.prompts.shape[0]))
        found = np.empty(queries.shape[0], dtype=np.int64)
        for start in range(0, queries.shape[0], block):
            similarity: Any = (queries[start : start + block] @ transposed).toarray()
            best = np.argmax(similarity, axis=1)
            best[similarity[np.arange(len(best)), best] <= 0.0] = -1
            found[start : start + block] = best
        return found

    def predict(self, features: sparse.csr_matrix) -> list[str]:
        """The completion of the nearest training prompt for each row."""
        return [
            self.completions[index] if index >= 0 else self.fallback
            for index in self.nearest(features).tolist()
        ]
