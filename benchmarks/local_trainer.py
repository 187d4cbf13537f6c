"""The local provider's trainer against scikit-learn on the same generated tickets.

Ours: ``HashedFeatures`` (word 1-2-grams + char 3-5-grams, 2**18 signed hashed columns) and the
multinomial logistic regression of ``modelops_provider_local.classifier`` (Adam, 5 epochs,
learning rate 0.05, l2 1e-4, auto batch).
Peer: scikit-learn's ``HashingVectorizer`` (the same n-grams, 2**17 columns each, in a
``FeatureUnion``) and ``LogisticRegression(C=1 / (l2 * n))`` with lbfgs (its default, at most
100 iterations), the same objective.
Both are trained on ``n`` tickets and scored on 5,000 held-out ones; predict throughput is
featurize + predict on the held-out texts with a trained model.

Run: ``python benchmarks/local_trainer.py [--quick] [n ...]`` (default: 10000 100000;
``--quick``: 10000); needs scikit-learn (``pip install scikit-learn``).

User path (printed first): ``FineTuningJob(model="local:logreg", dataset=..., epochs=5)``
started and waited for (inline), each run in a fresh directory, against the scikit-learn
pipeline fitted on the same 10,000 texts (``--quick``: 2,000); wall-clock medians of 5 runs,
alternating.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from modelops_provider_local.classifier import train_logistic_regression
from modelops_provider_local.features import HashedFeatures
from modelops_provider_local.synthetic import support_tickets
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

sys.path.insert(0, str(Path(__file__).parent))
import userpath

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


def user_path(n: int, runs: int) -> None:
    """``FineTuningJob(model="local:logreg", ...)`` started and waited for, as a user runs it
    (runtime, dataset, job store, training, the registered artifact), against scikit-learn's
    pipeline fitted on the same texts; each run in a fresh working directory."""
    import os
    import tempfile

    from modelops_core import Dataset, FineTuningJob

    records = support_tickets(n, seed=11)
    dataset = Dataset.from_records(records)
    texts = [r["prompt"] for r in records]
    labels = [r["completion"] for r in records]
    home = os.getcwd()

    def ours() -> None:
        with tempfile.TemporaryDirectory(prefix="modelops-local-") as folder:
            os.chdir(folder)
            try:
                Path("modelops.toml").write_text("[providers.local]\ninline = true\n")
                job = FineTuningJob(model="local:logreg", dataset=dataset, epochs=5)
                job.start()
                assert job.wait() == "succeeded", job.status
                job.close()
            finally:
                os.chdir(home)

    def theirs() -> None:
        features = FeatureUnion(
            [
                ("words", HashingVectorizer(n_features=2**17, ngram_range=(1, 2))),
                ("chars", HashingVectorizer(n_features=2**17, analyzer="char",
                                            ngram_range=(3, 5))),
            ]
        )  # fmt: skip
        LogisticRegression(C=1.0 / (L2 * n), max_iter=100).fit(features.transform(texts), labels)

    ours_s, theirs_s = userpath.median_pair(ours, theirs, runs)
    userpath.print_rows(
        f"train a text classifier on {n:,} tickets",
        [userpath.Row('FineTuningJob(model="local:logreg", ...).start(); wait()', ours_s,
                      "scikit-learn fit", theirs_s, runs)],
    )  # fmt: skip


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    argv = [a for a in argv if a != "--quick"]
    user_path(2_000 if quick else 10_000, 5)
    print("\ninner loop (featurize, train and predict called directly):")
    sizes = [int(a) for a in argv] or ([10_000] if quick else [10_000, 100_000])
    print(f"{'n':>7}  {'measure':<22} {'ours':>10} {'sklearn':>10} {'ours/sklearn':>13}")
    for n in sizes:
        for name, ours, peer in run(n):
            print(f"{n:>7}  {name:<22} {ours:>10.3f} {peer:>10.3f} {ours / peer:>13.2f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
