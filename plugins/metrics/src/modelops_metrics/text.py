"""Text metrics: SQuAD token F1, corpus BLEU-4, ROUGE-L and perplexity.

Predictions are generated texts and references their reference texts (one string, or several
acceptable strings per item) for ``token_f1``, ``bleu`` and ``rouge_l``; for ``perplexity``
predictions are the per-token log-probabilities of each generated sequence.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Sequence
from typing import Any, Literal

import attrs
import numpy as np

from modelops_core.errors import MetricInputError
from modelops_core.evaluation.inputs import (
    as_weights,
    check_lengths,
    check_not_empty,
    check_texts,
)
from modelops_core.evaluation.metrics import Metric

# --- input checks --------------------------------------------------------------------------------


def _check_lengths(predictions: Sequence[Any], references: Sequence[Any]) -> None:
    """The shared checks: one reference per prediction, at least one pair."""
    check_lengths({"predictions": predictions, "references": references})
    check_not_empty(predictions, "predictions")


def _texts(predictions: Sequence[Any]) -> list[str]:
    return check_texts(predictions, "predictions")


def _reference_sets(references: Sequence[Any]) -> list[list[str]]:
    """Each reference as a non-empty list of acceptable strings."""
    sets = []
    for index, value in enumerate(references):
        if isinstance(value, str):
            options = [value]
        elif isinstance(value, Sequence | np.ndarray):
            options = list(value)
        else:
            options = []
        if not options or not all(isinstance(option, str) for option in options):
            raise MetricInputError(
                f"references[{index}] is {value!r}; pass a string or a non-empty list of "
                "acceptable strings.",
                argument="references",
            )
        sets.append(options)
    return sets


def _weights(sample_weight: Any, length: int) -> list[float]:
    weights = as_weights(sample_weight, length)
    return [1.0] * length if weights is None else weights.tolist()


@attrs.define
class WeightedMeanState:
    """Mergeable state of a metric averaged over items: a weighted sum and the total weight."""

    metric: _PerItemTextMetric
    total: float = 0.0
    weight: float = 0.0

    def update(
        self,
        predictions: Sequence[str],
        references: Sequence[Any],
        *,
        sample_weight: Sequence[float] | None = None,
    ) -> WeightedMeanState:
        """Add a chunk of pairs; returns this state."""
        scores, weights = self.metric.scores(predictions, references, sample_weight)
        self.total += math.fsum(
            score * weight for score, weight in zip(scores, weights, strict=True)
        )
        self.weight += math.fsum(weights)
        return self

    def merge(self, other: WeightedMeanState) -> WeightedMeanState:
        """Add another state of the same metric; returns this state."""
        self.total += other.total
        self.weight += other.weight
        return self

    def compute(self) -> float:
        """The weighted mean over every chunk seen so far."""
        if self.weight == 0:
            raise MetricInputError("the state is empty (or all weights are 0); add pairs first.")
        return self.total / self.weight


class _PerItemTextMetric(Metric):
    """A text metric averaged over pairs, the best over several references of an item."""

    takes_arrays = True  # the evaluator passes numpy arrays

    def pair_score(self, prediction: str, reference: str) -> float:
        raise NotImplementedError

    def scores(
        self,
        predictions: Sequence[str],
        references: Sequence[Any],
        sample_weight: Sequence[float] | None,
    ) -> tuple[list[float], list[float]]:
        """The score of every pair and its weight."""
        _check_lengths(predictions, references)
        texts = _texts(predictions)
        reference_sets = _reference_sets(references)
        weights = _weights(sample_weight, len(texts))
        scores = [
            max(self.pair_score(text, reference) for reference in options)
            for text, options in zip(texts, reference_sets, strict=True)
        ]
        return scores, weights

    def compute(
        self,
        predictions: Sequence[str],
        references: Sequence[Any],
        *,
        sample_weight: Sequence[float] | None = None,
    ) -> float:
        """The (weighted) mean score over the pairs."""
        state = self.state().update(predictions, references, sample_weight=sample_weight)
        if state.weight == 0:
            raise MetricInputError("every sample_weight is 0; give some pair a positive weight.")
        return state.compute()

    def state(self) -> WeightedMeanState:
        """An empty mergeable state."""
        return WeightedMeanState(self)


# --- token F1 ------------------------------------------------------------------------------------

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = frozenset(string.punctuation)


def squad_normalize(text: str) -> str:
    """SQuAD v1.1 answer normalisation: lower case, drop punctuation and articles, fix spaces."""
    text = "".join(character for character in text.lower() if character not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def token_f1_score(prediction: str, reference: str) -> float:
    """SQuAD token-overlap F1 of one pair (1.0 when both normalise to no tokens)."""
    prediction_tokens = squad_normalize(prediction).split()
    reference_tokens = squad_normalize(reference).split()
    if not prediction_tokens or not reference_tokens:
        return float(prediction_tokens == reference_tokens)
    common = sum((Counter(prediction_tokens) & Counter(reference_tokens)).values())
    if common == 0:
        return 0.0
    precision = common / len(prediction_tokens)
    recall = common / len(reference_tokens)
    return 2 * precision * recall / (precision + recall)


class TokenF1Metric(_PerItemTextMetric):
    """SQuAD-style token-overlap F1, averaged over pairs; higher is better.

    Both texts are normalised as the official SQuAD v1.1 script does: lower-cased, ASCII
    punctuation (``string.punctuation``) removed, the articles "a", "an", "the" removed, and
    whitespace collapsed; then split on whitespace. With ``c`` the tokens in common (as a
    multiset), ``P = c / |prediction|``, ``R = c / |reference|`` and ``F1 = 2PR / (P + R)``
    (0 when ``c = 0``; 1 when both are empty, 0 when only one is). With several references for
    an item, the best F1 counts. Reference: Rajpurkar et al., "SQuAD: 100,000+ Questions for
    Machine Comprehension of Text", EMNLP 2016.

    >>> TokenF1Metric().compute(["The cat sat"], ["a cat sat down"])
    0.8
    """

    name = "token_f1"
    higher_is_better = True

    def pair_score(self, prediction: str, reference: str) -> float:
        return token_f1_score(prediction, reference)


# --- ROUGE-L -------------------------------------------------------------------------------------

_NON_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")


def rouge_tokenize(text: str) -> list[str]:
    """rouge-score's default tokens: lower case, runs of ``[a-z0-9]``, no stemming."""
    return [token for token in _NON_ALPHANUMERIC.sub(" ", text.lower()).split() if token]


def longest_common_subsequence(first: Sequence[str], second: Sequence[str]) -> int:
    """Length of the longest common subsequence of two token lists (dynamic programming)."""
    if len(first) < len(second):
        first, second = second, first
    previous = [0] * (len(second) + 1)
    for token in first:
        current = [0]
        for index, other in enumerate(second):
            if token == other:
                current.append(previous[index] + 1)
            else:
                current.append(max(previous[index + 1], current[index]))
        previous = current
    return previous[-1]


def rouge_l_score(prediction: str, reference: str) -> float:
    """ROUGE-L F-measure of one pair (0.0 when either has no tokens)."""
    prediction_tokens = rouge_tokenize(prediction)
    reference_tokens = rouge_tokenize(reference)
    if not prediction_tokens or not reference_tokens:
        return 0.0
    common = longest_common_subsequence(reference_tokens, prediction_tokens)
    precision = common / len(prediction_tokens)
    recall = common / len(reference_tokens)
    if precision + recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


class RougeLMetric(_PerItemTextMetric):
    """ROUGE-L: F-measure of the longest common subsequence, averaged over pairs.

    Tokens as in Google's ``rouge-score`` without stemming: lower case, every run of characters
    other than ``[a-z0-9]`` is a separator. With ``L`` the LCS length, ``P = L / |prediction|``,
    ``R = L / |reference|`` and ``F = 2PR / (P + R)`` (beta = 1; 0 when either text has no
    tokens). With several references for an item, the best F counts. Reference: Lin, "ROUGE:
    A Package for Automatic Evaluation of Summaries", ACL Workshop 2004.

    >>> RougeLMetric().compute(["the cat sat on the mat"], ["the cat is on the mat"])
    0.8333333333333334
    """

    name = "rouge_l"
    higher_is_better = True

    def pair_score(self, prediction: str, reference: str) -> float:
        return rouge_l_score(prediction, reference)


# --- BLEU ----------------------------------------------------------------------------------------

_MAX_ORDER = 4
_TOKENIZE_13A = (
    (re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), r" \1 "),
    (re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),
    (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),
    (re.compile(r"([0-9])(-)"), r"\1 \2 "),
)
Tokenizer = Literal["13a", "none"]


def tokenize_13a(text: str) -> list[str]:
    """The ``13a`` tokenisation of mteval-v13a (WMT), as sacrebleu applies it by default."""
    text = text.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in text:
        text = (
            text.replace("&quot;", '"')
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
        )
    text = f" {text} "
    for pattern, replacement in _TOKENIZE_13A:
        text = pattern.sub(replacement, text)
    return text.split()


def _ngram_counts(tokens: Sequence[str]) -> Counter[tuple[str, ...]]:
    return Counter(
        tuple(tokens[start : start + order])
        for order in range(1, _MAX_ORDER + 1)
        for start in range(len(tokens) - order + 1)
    )


@attrs.define
class BleuState:
    """Mergeable state of corpus BLEU: clipped matches and totals per n-gram order, lengths."""

    metric: BleuMetric
    matches: list[int] = attrs.field(factory=lambda: [0] * _MAX_ORDER)
    totals: list[int] = attrs.field(factory=lambda: [0] * _MAX_ORDER)
    prediction_length: int = 0
    reference_length: int = 0
    items: int = 0

    def update(self, predictions: Sequence[str], references: Sequence[Any]) -> BleuState:
        """Add a chunk of pairs; returns this state."""
        _check_lengths(predictions, references)
        texts = _texts(predictions)
        for text, options in zip(texts, _reference_sets(references), strict=True):
            tokens = self.metric.tokenize(text)
            reference_counts: Counter[tuple[str, ...]] = Counter()
            reference_lengths = []
            for option in options:
                reference_tokens = self.metric.tokenize(option)
                reference_lengths.append(len(reference_tokens))
                reference_counts |= _ngram_counts(reference_tokens)  # max count over references
            # closest reference length; on a tie the shorter one (as sacrebleu and mteval)
            self.reference_length += min(
                reference_lengths, key=lambda length: (abs(length - len(tokens)), length)
            )
            self.prediction_length += len(tokens)
            for ngram, count in _ngram_counts(tokens).items():
                self.totals[len(ngram) - 1] += count
                self.matches[len(ngram) - 1] += min(count, reference_counts[ngram])
        self.items += len(texts)
        return self

    def merge(self, other: BleuState) -> BleuState:
        """Add another state of the same metric; returns this state."""
        self.matches = [a + b for a, b in zip(self.matches, other.matches, strict=True)]
        self.totals = [a + b for a, b in zip(self.totals, other.totals, strict=True)]
        self.prediction_length += other.prediction_length
        self.reference_length += other.reference_length
        self.items += other.items
        return self

    def zero_reason(self) -> str | None:
        """Why the corpus BLEU is 0.0, in words a user can act on; None when it is not 0."""
        if self.items == 0 or self.compute() > 0.0:
            return None
        if self.prediction_length == 0:
            return "every prediction is empty"
        for order, (matches, total) in enumerate(zip(self.matches, self.totals, strict=True), 1):
            if total == 0:
                return (
                    f"no prediction has {order} tokens, so BLEU-{_MAX_ORDER} has no {order}-grams "
                    "to match; for short answers use exact_match or token_f1"
                )
            if matches == 0 and (order == 1 or self.metric.smooth == "none"):
                return f"no {order}-gram of the predictions is in the references" + (
                    "; BleuMetric(smooth='exp') gives partial credit when only the longer "
                    "orders miss"
                    if order > 1
                    else ""
                )
        return None

    def compute(self) -> float:
        """Corpus BLEU over every chunk seen so far, in [0, 1]."""
        if self.items == 0:
            raise MetricInputError("the state is empty; update it with at least one pair.")
        if self.prediction_length < self.reference_length:
            if self.prediction_length == 0:
                return 0.0
            brevity_penalty = math.exp(1 - self.reference_length / self.prediction_length)
        else:
            brevity_penalty = 1.0
        if not any(self.matches):
            return 0.0
        log_precisions = []
        smoothing_divisor = 1.0
        for matches, total in zip(self.matches, self.totals, strict=True):
            if total == 0:
                return 0.0  # the predictions are too short to have n-grams of this order
            if matches == 0:
                if self.metric.smooth == "none":
                    return 0.0
                smoothing_divisor *= 2  # "exp" (NIST): 1 / (2^k * total) for the k-th zero
                log_precisions.append(math.log(1 / (smoothing_divisor * total)))
            else:
                log_precisions.append(math.log(matches / total))
        return brevity_penalty * math.exp(sum(log_precisions) / _MAX_ORDER)


class BleuMetric(Metric):
    """Corpus BLEU-4 with the brevity penalty, in [0, 1]; higher is better.

    ``BLEU = BP * exp(mean_{n=1..4} log p_n)``, where ``p_n`` is the clipped n-gram precision
    summed over the corpus (each n-gram of a prediction counts at most as often as in the
    reference that has it most often) and ``BP = exp(1 - r / c)`` when the total prediction
    length ``c`` is below the total reference length ``r`` (closest reference per item; the
    shorter on a tie), else 1. Texts are tokenised with ``13a`` (mteval-v13a, sacrebleu's
    default) or split on whitespace (``"none"``). Equals ``sacrebleu.corpus_bleu(...).score /
    100`` with the same tokenizer and smoothing. Reference: Papineni et al., "BLEU: a Method for
    Automatic Evaluation of Machine Translation", ACL 2002.

    :param tokenize: ``"13a"`` (default) or ``"none"`` (text already tokenised).
    :param smooth: ``"none"`` (default, as in the paper: any order without a match gives 0) or
        ``"exp"`` (the NIST/sacrebleu default for sentences).
    :param lowercase: compare lower-cased texts.

    >>> round(BleuMetric().compute(["the cat sat on the mat"], ["the cat sat on the mat"]), 6)
    1.0
    """

    name = "bleu"
    higher_is_better = True
    takes_arrays = True  # the evaluator passes numpy arrays

    def __init__(
        self,
        tokenize: Tokenizer = "13a",
        smooth: Literal["none", "exp"] = "none",
        lowercase: bool = False,
    ) -> None:
        if tokenize not in ("13a", "none"):
            raise MetricInputError(f"tokenize is {tokenize!r}; choose '13a' or 'none'.")
        if smooth not in ("none", "exp"):
            raise MetricInputError(f"smooth is {smooth!r}; choose 'none' or 'exp'.")
        self.tokenizer = tokenize
        self.smooth = smooth
        self.lowercase = lowercase

    def tokenize(self, text: str) -> list[str]:
        """The tokens BLEU compares."""
        if self.lowercase:
            text = text.lower()
        return tokenize_13a(text) if self.tokenizer == "13a" else text.split()

    def compute(self, predictions: Sequence[str], references: Sequence[Any]) -> float:
        """Corpus BLEU of ``predictions`` against ``references`` (a string or list per item)."""
        return self.state().update(predictions, references).compute()

    def state(self) -> BleuState:
        """An empty mergeable state."""
        return BleuState(self)

    def explain(self, predictions: Sequence[str], references: Sequence[Any]) -> str | None:
        """Why :meth:`compute` gives 0.0 on these pairs (``no prediction has 4 tokens …``);
        None when it does not. ``modelops eval run`` prints it next to the value.

        >>> BleuMetric().explain(["billing", "returns"], ["billing", "shipping"])[:41]
        'no prediction has 2 tokens, so BLEU-4 has'
        """
        return self.state().update(predictions, references).zero_reason()


# --- perplexity ----------------------------------------------------------------------------------


@attrs.define
class PerplexityState:
    """Mergeable state of perplexity: summed log-probabilities and token counts."""

    metric: PerplexityMetric
    log_probability: float = 0.0
    tokens: int = 0
    sequence_perplexities: float = 0.0
    sequences: int = 0

    def update(
        self, predictions: Sequence[Sequence[float]], references: Sequence[Any] | None = None
    ) -> PerplexityState:
        """Add a chunk of sequences; returns this state."""
        # references are not used by perplexity: None, or one per sequence
        check_lengths({"predictions": predictions, "references": references})
        for index, sequence in enumerate(predictions):
            if isinstance(sequence, str | bytes):
                raise MetricInputError(
                    f"predictions[{index}] is text; perplexity takes the per-token "
                    "log-probabilities of each sequence (e.g. the provider's logprobs)."
                )
            values = np.asarray(sequence, dtype=np.float64)
            if values.ndim != 1 or values.size == 0:
                raise MetricInputError(
                    f"predictions[{index}] has shape {values.shape}; pass a non-empty list of "
                    "token log-probabilities per sequence."
                )
            if np.isnan(values).any() or (values > 0).any():
                raise MetricInputError(
                    f"predictions[{index}] has a log-probability that is NaN or above 0; pass "
                    "natural-log probabilities (<= 0), not probabilities or scores."
                )
            total = math.fsum(values.tolist())
            self.log_probability += total
            self.tokens += values.size
            self.sequence_perplexities += math.exp(-total / values.size)
            self.sequences += 1
        return self

    def merge(self, other: PerplexityState) -> PerplexityState:
        """Add another state of the same metric; returns this state."""
        self.log_probability += other.log_probability
        self.tokens += other.tokens
        self.sequence_perplexities += other.sequence_perplexities
        self.sequences += other.sequences
        return self

    def compute(self) -> float:
        """Perplexity over every sequence seen so far."""
        if self.sequences == 0:
            raise MetricInputError("predictions is empty; pass at least one sequence.")
        if self.metric.aggregate == "mean":
            return self.sequence_perplexities / self.sequences
        return math.exp(-self.log_probability / self.tokens)


class PerplexityMetric(Metric):
    """Perplexity from per-token log-probabilities; lower is better.

    ``predictions`` is one sequence of natural-log token probabilities per generated text (what
    a provider returns as ``logprobs``); ``references`` is not used and may be None (if given,
    it must have one item per sequence). With ``aggregate="corpus"`` (default) the perplexity
    is ``exp(-sum of every log-probability / number of tokens)``, every token weighing the same;
    with ``"mean"`` it is the mean over sequences of ``exp(-mean log-probability)`` (the value
    Hugging Face ``evaluate`` reports as ``mean_perplexity``). Reference: Jelinek et al.,
    "Perplexity - a measure of the difficulty of speech recognition tasks", JASA 1977.

    :param aggregate: ``"corpus"`` or ``"mean"``.

    >>> PerplexityMetric().compute([[math.log(0.5), math.log(0.5)]], None)
    2.0
    """

    name = "perplexity"
    higher_is_better = False
    takes_arrays = True  # the evaluator passes numpy arrays

    def __init__(self, aggregate: Literal["corpus", "mean"] = "corpus") -> None:
        if aggregate not in ("corpus", "mean"):
            raise MetricInputError(f"aggregate is {aggregate!r}; choose 'corpus' or 'mean'.")
        self.aggregate = aggregate

    def compute(
        self, predictions: Sequence[Sequence[float]], references: Sequence[Any] | None = None
    ) -> float:
        """The perplexity of the sequences of token log-probabilities in ``predictions``."""
        return self.state().update(predictions, references).compute()

    def state(self) -> PerplexityState:
        """An empty mergeable state."""
        return PerplexityState(self)
