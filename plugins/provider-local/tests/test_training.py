"""Training, prediction and artifacts of the local provider, in-process (``inline = true``)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from local_provider_files import write_jsonl
from modelops_provider_local.artifact import load_model
from modelops_provider_local.classifier import train_logistic_regression
from modelops_provider_local.features import HashedFeatures
from modelops_provider_local.provider import LocalProvider

from modelops_core.finetune.provider_contract import JobStatus, ProviderJob, TuningRequest

Tickets = tuple[list[dict[str, str]], list[dict[str, str]]]


def fine_tune(
    tmp_path: Path, records: list[dict[str, str]], model: str = "local:auto", **hyper: object
) -> tuple[LocalProvider, ProviderJob]:
    provider = LocalProvider(home=str(tmp_path / ".modelops"), inline=True)
    train = write_jsonl(tmp_path / "train.jsonl", records)
    job = provider.start(
        TuningRequest(model=model, training_file=str(train), hyperparameters=hyper)
    )
    assert job.status is JobStatus.SUCCEEDED, job.error
    return provider, job


def accuracy(predictions: list[str], records: list[dict[str, str]]) -> float:
    return float(np.mean([p == r["completion"] for p, r in zip(predictions, records, strict=True)]))


def matrix(records: list[dict[str, str]]) -> tuple[object, np.ndarray, list[str]]:
    classes = sorted({r["completion"] for r in records})
    labels = np.array([classes.index(r["completion"]) for r in records])
    return HashedFeatures().transform([r["prompt"] for r in records]), labels, classes


@pytest.mark.slow
def test_routes_held_out_tickets_to_the_right_queue(tmp_path: Path, tickets: Tickets) -> None:
    train, held_out = tickets
    provider, job = fine_tune(tmp_path, train, epochs=3, learning_rate=0.05)
    assert job.fine_tuned_model == f"local:logreg:ft-{job.id.removeprefix('local-')}"
    predictions = provider.predict(job.fine_tuned_model, [r["prompt"] for r in held_out])
    assert accuracy(predictions, held_out) >= 0.85
    assert job.details["kind"] == "logreg"
    assert Path(job.details["artifact_path"], "config.json").is_file()


@pytest.fixture(scope="module")
def peer_comparison(tickets: Tickets) -> tuple[object, np.ndarray, float]:
    """Hashed features (2**15 columns), labels, and scikit-learn's held-out accuracy on them."""
    linear_model = pytest.importorskip("sklearn.linear_model")
    train, held_out = tickets[0][:1000], tickets[1]
    classes = sorted({r["completion"] for r in train})
    labels = np.array([classes.index(r["completion"]) for r in train + held_out])
    features = HashedFeatures(n_features=2**15).transform([r["prompt"] for r in train + held_out])
    peer = linear_model.LogisticRegression(C=1.0 / (1e-3 * len(train)), max_iter=200)
    peer.fit(features[: len(train)], labels[: len(train)])
    peer_accuracy = float(np.mean(peer.predict(features[len(train) :]) == labels[len(train) :]))
    return features, labels, peer_accuracy


@pytest.mark.slow
@pytest.mark.parametrize(("optimizer", "epochs"), [("adam", 5), ("lbfgs", 40)])
def test_accuracy_is_close_to_scikit_learn_on_the_same_features(
    peer_comparison: tuple[object, np.ndarray, float], optimizer: str, epochs: int
) -> None:
    features, labels, peer_accuracy = peer_comparison
    n = 1000
    ours = train_logistic_regression(
        features[:n],
        labels[:n],
        6,
        epochs=epochs,
        learning_rate=0.05,
        l2=1e-3,
        optimizer=optimizer,
    )
    our_accuracy = float(np.mean(ours.predict(features[n:]) == labels[n:]))
    assert abs(our_accuracy - peer_accuracy) <= 0.02, (our_accuracy, peer_accuracy)


def test_the_same_seed_gives_the_same_model_and_another_seed_another(tickets: Tickets) -> None:
    features, labels, _ = matrix(tickets[0][:600])
    first = train_logistic_regression(features, labels, 6, epochs=2, seed=1)
    again = train_logistic_regression(features, labels, 6, epochs=2, seed=1)
    other = train_logistic_regression(features, labels, 6, epochs=2, seed=2)
    assert np.array_equal(first.weights, again.weights)
    assert np.array_equal(first.intercepts, again.intercepts)
    assert not np.array_equal(first.weights, other.weights)


def losses(features: object, labels: np.ndarray, **settings: object) -> list[float]:
    reports: list[float] = []
    train_logistic_regression(
        features, labels, 6, on_epoch=lambda report: reports.append(report.loss), **settings
    )
    return reports


def test_more_epochs_lower_the_loss_and_each_epoch_is_reported(tickets: Tickets) -> None:
    features, labels, _ = matrix(tickets[0][:600])
    adam = losses(features, labels, epochs=4, learning_rate=0.01)
    assert len(adam) == 4
    assert adam[-1] < adam[0]
    lbfgs = losses(features, labels, epochs=6, optimizer="lbfgs")
    assert len(lbfgs) == 6  # one full-data evaluation per epoch, never more
    assert min(lbfgs) < lbfgs[0]


def test_a_larger_learning_rate_moves_further_in_one_epoch(tickets: Tickets) -> None:
    features, labels, _ = matrix(tickets[0][:600])
    slow = losses(features, labels, epochs=1, learning_rate=1e-4)
    fast = losses(features, labels, epochs=1, learning_rate=0.05)
    assert slow[0] > np.log(6) - 0.1  # barely moved from uniform guessing
    assert fast[0] < slow[0] / 2


def test_events_report_loss_and_accuracy_per_epoch(tmp_path: Path, tickets: Tickets) -> None:
    provider, job = fine_tune(tmp_path, tickets[0][:400], epochs=3, learning_rate=1e-5)
    epochs = [e for e in provider.events(job.id) if "epoch" in e.data]
    assert [e.data["epoch"] for e in epochs] == [1, 2, 3]
    assert all(0.0 <= e.data["train_accuracy"] <= 1.0 and e.data["loss"] > 0 for e in epochs)
    warnings = [e.message for e in provider.events(job.id) if e.level == "warning"]
    assert any("barely move" in message for message in warnings)


def test_the_artifact_round_trips_without_pickle(tmp_path: Path, tickets: Tickets) -> None:
    train, held_out = tickets
    provider, job = fine_tune(tmp_path, train[:500], epochs=2)
    directory = Path(job.details["artifact_path"])
    config = json.loads((directory / "config.json").read_text())
    assert config["kind"] == "classifier" and config["model_id"] == job.fine_tuned_model
    for array in directory.glob("*.npy"):
        np.load(array, allow_pickle=False)
    texts = [r["prompt"] for r in held_out]
    fresh = LocalProvider(home=str(tmp_path / ".modelops"))  # a new process would do this
    assert fresh.predict(job.fine_tuned_model, texts) == load_model(directory).predict(texts)
    assert fresh.predict(job.fine_tuned_model, texts) == provider.predict(
        job.fine_tuned_model, texts
    )


def test_predict_is_vectorized_and_fast(tmp_path: Path, tickets: Tickets) -> None:
    train, held_out = tickets
    provider, job = fine_tune(tmp_path, train[:500], epochs=1)
    texts = [r["prompt"] for r in held_out] * 4
    provider.predict(job.fine_tuned_model, texts[:1])  # loads and caches the model
    started = time.perf_counter()
    outputs = provider.predict(job.fine_tuned_model, texts)
    elapsed = time.perf_counter() - started
    assert len(outputs) == 2000
    assert elapsed < 1.0, f"2,000 predictions took {elapsed:.2f}s"


FAQ = [
    ("how do I reset my password", "Open Settings > Security and choose Reset password."),
    ("where can I download my invoices", "Invoices are under Billing > History."),
    ("can I change the language of the app", "Pick a language in Settings > Language."),
    ("how do I invite a teammate", "Use Team > Invite and enter their email."),
    ("is there a dark mode", "Yes: Settings > Appearance > Dark."),
    ("how do I export my data", "Go to Settings > Privacy > Export data."),
]


def test_free_text_completions_get_nearest_prompt_retrieval(tmp_path: Path) -> None:
    records = [{"prompt": prompt, "completion": answer} for prompt, answer in FAQ]
    provider, job = fine_tune(tmp_path, records)
    assert job.details["kind"] == "retrieval"
    assert job.fine_tuned_model.startswith("local:retrieval:ft-")
    answers = provider.predict(
        job.fine_tuned_model,
        ["I forgot my password, how to reset it?", "download invoices", "zzzz"],
    )
    assert answers[:2] == [FAQ[0][1], FAQ[1][1]]
    assert answers[2] in {answer for _, answer in FAQ}  # nothing shared: most common answer


def test_chat_records_train_on_the_last_user_and_assistant_messages(
    tmp_path: Path, tickets: Tickets
) -> None:
    chats = [
        {
            "messages": [
                {"role": "system", "content": "Route the ticket."},
                {"role": "user", "content": [{"type": "text", "text": r["prompt"]}]},
                {"role": "assistant", "content": r["completion"]},
            ]
        }
        for r in tickets[0][:600]
    ]
    provider, job = fine_tune(tmp_path, chats, model="local:logreg", epochs=2)
    held_out = tickets[1]
    predictions = provider.predict(job.fine_tuned_model, [r["prompt"] for r in held_out])
    assert accuracy(predictions, held_out) >= 0.85


@pytest.mark.slow
def test_features_use_a_stable_hash(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "from modelops_provider_local.features import HashedFeatures;"
        "m = HashedFeatures().transform(['Refund my order, please!']);"
        "print(list(m.indices), list(m.data))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={"PYTHONHASHSEED": seed, "PATH": ""},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1


def test_generated_tickets_are_reproducible_and_can_be_made_unique() -> None:
    from modelops_provider_local.synthetic import support_tickets

    assert support_tickets(100, seed=4) == support_tickets(100, seed=4)
    unique = support_tickets(3000, seed=4, unique=True)
    assert len({record["prompt"] for record in unique}) == 3000
