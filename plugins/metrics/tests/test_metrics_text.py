"""Text metrics: the contract, and agreement with sacrebleu, rouge-score and the SQuAD script."""

from __future__ import annotations

import collections
import math
import re
import string
from typing import Any

import numpy as np
import pytest
import sacrebleu
from modelops_metrics import plugin
from modelops_metrics.text import BleuMetric, PerplexityMetric, RougeLMetric, TokenF1Metric
from rouge_score import rouge_scorer

from modelops_core.errors import ModelOpsError
from modelops_core.testing import MetricContract, MetricExample
from modelops_core.testing.contracts import assert_close

VOCABULARY = [
    "the",
    "a",
    "an",
    "cat",
    "dog",
    "sat",
    "on",
    "mat",
    ",",
    ".",
    "!",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "lazy",
    "3.5",
    "1,000",
    "don't",
    "U.S.",
    "well-known",
    "42",
    "-",
    "(",
    ")",
    '"',
    "&",
    ";",
    "Über",
    "café",
    "THE",
    "Cat",
]


def random_texts(seed: int, count: int, longest: int = 14) -> list[str]:
    rng = np.random.default_rng(seed)
    return [
        " ".join(rng.choice(VOCABULARY, rng.integers(0, longest + 1)).tolist())
        for _ in range(count)
    ]


def noisy_copies(texts: list[str], seed: int) -> list[str]:
    """Texts that share words with ``texts`` (so n-grams match), some dropped, some changed."""
    rng = np.random.default_rng(seed)
    copies = []
    for text in texts:
        words = [
            word if rng.random() < 0.7 else rng.choice(VOCABULARY)
            for word in text.split()
            if rng.random() < 0.9
        ]
        copies.append(" ".join(words))
    return copies


REFERENCES = random_texts(1, 40)
PREDICTIONS = noisy_copies(REFERENCES, 2)


# --- the official SQuAD v1.1 evaluation, as published (normalize_answer, f1_score) --------------


def squad_normalize_answer(s: str) -> str:
    def remove_articles(text: str) -> str:
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text: str) -> str:
        return " ".join(text.split())

    def remove_punc(text: str) -> str:
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    return white_space_fix(remove_articles(remove_punc(s.lower())))


def squad_f1_score(prediction: str, ground_truth: str) -> float:
    prediction_tokens = squad_normalize_answer(prediction).split()
    ground_truth_tokens = squad_normalize_answer(ground_truth).split()
    if not prediction_tokens or not ground_truth_tokens:  # SQuAD v2 convention for empties
        return float(prediction_tokens == ground_truth_tokens)
    common = collections.Counter(prediction_tokens) & collections.Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0.0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    return (2 * precision * recall) / (precision + recall)


def rouge_l_peer(predictions: list[str], references: list[Any]) -> float:
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    scores = []
    for prediction, reference in zip(predictions, references, strict=True):
        options = [reference] if isinstance(reference, str) else reference
        scores.append(
            max(scorer.score(option, prediction)["rougeL"].fmeasure for option in options)
        )
    return float(np.mean(scores))


def sacrebleu_score(predictions: list[str], references: list[Any], **options: Any) -> float:
    streams = [list(stream) for stream in zip(*references, strict=True)]
    return sacrebleu.corpus_bleu(predictions, streams, **options).score / 100


# --- the contract --------------------------------------------------------------------------------


class _TextContract(MetricContract):
    plugin = plugin
    distribution = "modelops-metrics"


class TestTokenF1(_TextContract):
    component_name = "token_f1"

    def examples(self) -> list[MetricExample]:
        expected = float(
            np.mean([squad_f1_score(p, r) for p, r in zip(PREDICTIONS, REFERENCES, strict=True)])
        )
        return [
            MetricExample(PREDICTIONS, REFERENCES, expected),
            MetricExample(["The cat sat"], ["a cat sat down"], 0.8),
        ]


class TestBleu(_TextContract):
    component_name = "bleu"

    def examples(self) -> list[MetricExample]:
        references = [[reference] for reference in REFERENCES]
        return [
            MetricExample(PREDICTIONS, REFERENCES, sacrebleu_score(PREDICTIONS, references)),
            MetricExample(["the cat sat on the mat"], ["the cat sat on the mat"], 1.0),
        ]


class TestRougeL(_TextContract):
    component_name = "rouge_l"

    def examples(self) -> list[MetricExample]:
        return [MetricExample(PREDICTIONS, REFERENCES, rouge_l_peer(PREDICTIONS, REFERENCES))]


LOGPROBS = [np.log(np.random.default_rng(seed).random(seed + 2)).tolist() for seed in range(6)]


class TestPerplexity(_TextContract):
    component_name = "perplexity"

    def examples(self) -> list[MetricExample]:
        tokens = [value for sequence in LOGPROBS for value in sequence]
        expected = math.exp(-math.fsum(tokens) / len(tokens))
        return [
            MetricExample(LOGPROBS, [None] * len(LOGPROBS), expected),
            MetricExample([[math.log(0.25)] * 3], [None], 4.0),
        ]


# --- agreement with the peers --------------------------------------------------------------------


@pytest.mark.parametrize("seed", [3, 4, 5])
@pytest.mark.parametrize("tokenize", ["13a", "none"])
@pytest.mark.parametrize("smooth", ["none", "exp"])
def test_bleu_equals_sacrebleu(seed: int, tokenize: str, smooth: str) -> None:
    references = [[text] for text in random_texts(seed, 60)]
    predictions = noisy_copies([options[0] for options in references], seed + 100)
    expected = sacrebleu_score(predictions, references, tokenize=tokenize, smooth_method=smooth)
    actual = BleuMetric(tokenize=tokenize, smooth=smooth).compute(predictions, references)  # type: ignore[arg-type]
    assert_close(actual, expected)


def test_bleu_with_several_references_and_lowercase_equals_sacrebleu() -> None:
    first, second = random_texts(6, 50), random_texts(7, 50)
    predictions = noisy_copies(first, 8)
    references = [[a, b] for a, b in zip(first, second, strict=True)]
    expected = sacrebleu_score(predictions, references, lowercase=True, smooth_method="exp")
    actual = BleuMetric(lowercase=True, smooth="exp").compute(predictions, references)
    assert_close(actual, expected)


def test_bleu_is_zero_without_a_four_gram_match_unless_smoothed() -> None:
    predictions, references = ["the mat sat on the cat"], ["the cat sat on the mat"]
    assert BleuMetric().compute(predictions, references) == 0.0
    assert_close(
        BleuMetric(smooth="exp").compute(predictions, references),
        sacrebleu_score(predictions, [[references[0]]], smooth_method="exp"),
    )


def test_bleu_penalises_short_predictions() -> None:
    reference = "the quick brown fox jumps over the lazy dog today"
    full = BleuMetric().compute([reference], [reference])
    short = BleuMetric().compute(["the quick brown fox jumps over"], [reference])
    assert full == 1.0
    assert_close(short, math.exp(1 - 10 / 6))


@pytest.mark.parametrize("seed", [10, 11])
def test_rouge_l_equals_rouge_score(seed: int) -> None:
    references = random_texts(seed, 80, longest=25)
    predictions = noisy_copies(references, seed + 1)
    assert_close(
        RougeLMetric().compute(predictions, references), rouge_l_peer(predictions, references)
    )


def test_rouge_l_takes_the_best_of_several_references() -> None:
    references = [[a, b] for a, b in zip(random_texts(12, 30), random_texts(13, 30), strict=True)]
    predictions = noisy_copies([pair[1] for pair in references], 14)
    assert_close(
        RougeLMetric().compute(predictions, references), rouge_l_peer(predictions, references)
    )


def test_token_f1_normalises_case_punctuation_and_articles() -> None:
    assert TokenF1Metric().compute(["The Eiffel Tower!"], ["eiffel tower"]) == 1.0
    assert TokenF1Metric().compute(["", "the"], ["", "an"]) == 1.0
    assert TokenF1Metric().compute(["Paris"], [""]) == 0.0


def test_token_f1_takes_the_best_reference_and_weights() -> None:
    metric = TokenF1Metric()
    best = metric.compute(["blue whale"], [["whale shark", "the blue whale"]])
    assert best == 1.0
    weighted = metric.compute(["a b", "c"], ["a b", "d"], sample_weight=[3, 1])
    assert_close(weighted, 0.75)


def test_perplexity_mean_of_sequences() -> None:
    expected = np.mean([math.exp(-np.mean(sequence)) for sequence in LOGPROBS])
    assert_close(PerplexityMetric(aggregate="mean").compute(LOGPROBS, None), expected)


@pytest.mark.parametrize(
    "metric",
    [TokenF1Metric(), RougeLMetric(), BleuMetric(smooth="exp"), PerplexityMetric("mean")],
    ids=lambda metric: metric.name,
)
def test_chunked_states_equal_one_shot(metric: Any) -> None:
    if metric.name == "perplexity":
        predictions: list[Any] = LOGPROBS
        references: list[Any] = [None] * len(LOGPROBS)
    else:
        predictions, references = PREDICTIONS, REFERENCES
    expected = metric.compute(predictions, references)
    parts = [metric.state().update(predictions[i::3], references[i::3]) for i in range(3)]
    assert_close(parts[2].merge(parts[0]).merge(parts[1]).compute(), expected)


# --- bad input -----------------------------------------------------------------------------------


def test_perplexity_refuses_probabilities_and_text() -> None:
    with pytest.raises(ModelOpsError, match=r"predictions\[0\] has a log-probability"):
        PerplexityMetric().compute([[0.5, 0.2]])
    with pytest.raises(ValueError, match=r"predictions\[0\] is text"):
        PerplexityMetric().compute(["hello"])


def test_a_reference_that_is_not_text_is_named() -> None:
    with pytest.raises(ValueError, match=r"references\[1\] is 3"):
        RougeLMetric().compute(["a", "b"], ["a", 3])
    with pytest.raises(ValueError, match=r"predictions\[0\] is int"):
        BleuMetric().compute([1], ["a"])


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="tokenize is 'intl'"):
        BleuMetric(tokenize="intl")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="aggregate is 'sum'"):
        PerplexityMetric(aggregate="sum")  # type: ignore[arg-type]


def test_bleu_says_why_it_is_zero() -> None:
    labels, answers = ["billing", "returns", "shipping"], ["billing", "sales", "shipping"]
    assert BleuMetric().compute(labels, answers) == 0.0  # one-word answers: no 4-grams at all
    assert BleuMetric().explain(labels, answers) == (
        "no prediction has 2 tokens, so BLEU-4 has no 2-grams to match; for short answers use "
        "exact_match or token_f1"
    )
    swapped = (["the mat sat on the cat"], ["the cat sat on the mat"])
    assert BleuMetric().explain(*swapped) == (
        "no 4-gram of the predictions is in the references; BleuMetric(smooth='exp') gives "
        "partial credit when only the longer orders miss"
    )
    assert BleuMetric(smooth="exp").explain(*swapped) is None  # smoothed: above 0
    assert BleuMetric().explain(["a b c d"], ["x y z w"]) == (
        "no 1-gram of the predictions is in the references"
    )
    assert BleuMetric().explain(["the cat sat on the mat"], ["the cat sat on the mat"]) is None
