"""The local provider's trainer against scikit-learn on the same generated tickets.

Ours: ``HashedFeatures`` (word 1-2-grams + char 3-5-grams, 2**18 signed hashed columns) and the
multinomial logistic regression of ``modelops_provider_local.classifier`` (Adam, 5 epochs,
learning rate 0.05, l2 1e-4, auto batch).
Peer: scikit-learn's ``HashingVectorizer`` (the same n-grams, 2**17 columns each, in a
``FeatureUnion``) and ``LogisticRegression(C=1 / (l2 * n))`` with lbfgs (its default, at most
100 iterations), the same objective.
Both are trained on ``n`` tickets and scored on 5,000 held-out ones; predict throughput is
featurize + predict on the held-out texts with a trained model.

Run: ``python benchmarks/local_trainer.py [n ...]`` (default: 10000 100000); needs
scikit-learn (``pip install scikit-learn``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from modelops_provider_local.classifier import train_logistic_regression
from modelops_provider_local.features import HashedFeatures
from modelops_provider_local.synthetic import support_tickets
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

L2 = 1e-4
HELD_OUT = 5000


def timed(function: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started


def run(n: int) -> list[tuple[str, float, float]]:
    records = support_tickets(n + HELD_OUT, seed=11)
    texts = [r["prompt"] for r in records]
    classes = sorted({r["completion"] for r in records})
    labels = np.array([classes.index(r["completion"]) for r in records])
    train_texts, test_texts = texts[:n], texts[n:]
    y_train, y_test = labels[:n], labels[n:]

    ours_features = HashedFeatures()
    x_train, ours_featurize = timed(lambda: ours_features.transform(train_texts))
    settings = {
        "epochs": 5,
        "learning_rate": 0.05,
        "l2": L2,
        "batch_size": min(1024, max(32, n // 100)),
    }
    model, ours_train = timed(
        lambda: train_logistic_regression(x_train, y_train, len(classes), **settings)
    )
    ours_predicted, ours_predict = timed(lambda: model.predict(ours_features.transform(test_texts)))
    ours_accuracy = float(np.mean(ours_predicted == y_test))

    peer_features = FeatureUnion(
        [
            ("words", HashingVectorizer(n_features=2**17, ngram_range=(1, 2))),
            ("chars", HashingVectorizer(n_features=2**17, analyzer="char", ngram_range=(3, 5))),
        ]
    )
    peer_train_x, peer_featurize = timed(lambda: peer_features.transform(train_texts))
    peer = LogisticRegression(C=1.0 / (L2 * n), max_iter=100)
    _, peer_train = timed(lambda: peer.fit(peer_train_x, y_train))
    peer_predicted, peer_predict = timed(lambda: peer.predict(peer_features.transform(test_texts)))
    peer_accuracy = float(np.mean(peer_predicted == y_test))

    return [
        ("featurize train (s)", ours_featurize, peer_featurize),
        ("train (s)", ours_train, peer_train),
        ("featurize + train (s)", ours_featurize + ours_train, peer_featurize + peer_train),
        ("held-out accuracy", ours_accuracy, peer_accuracy),
        ("predict (texts/s)", HELD_OUT / ours_predict, HELD_OUT / peer_predict),
    ]


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [10_000, 100_000]
    print(f"{'n':>7}  {'measure':<22} {'ours':>10} {'sklearn':>10} {'ours/sklearn':>13}")
    for n in sizes:
        for name, ours, peer in run(n):
            print(f"{n:>7}  {name:<22} {ours:>10.3f} {peer:>10.3f} {ours / peer:>13.2f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
