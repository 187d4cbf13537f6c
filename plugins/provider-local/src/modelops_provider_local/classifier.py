"""Multinomial logistic regression on sparse features, trained with Adam or L-BFGS.

The objective is the mean cross-entropy over the training examples plus ``l2 / 2 * ||W||^2``
(the intercepts are not penalized). It is the objective of scikit-learn's
``LogisticRegression(C=1 / (l2 * n))``, so the two can be compared on the same features.

Two optimizers, and what ``epochs`` and ``learning_rate`` mean for each:

- ``adam`` (default): mini-batch Adam. One epoch is one pass over the training examples in a
  fresh random order (from ``seed``), in batches of ``batch_size``; ``learning_rate`` is Adam's
  step size (the largest change one step makes to one weight, roughly). Weights start at zero.
- ``lbfgs``: full-batch L-BFGS (``scipy.optimize.minimize(method="L-BFGS-B")``) with the
  analytic gradient. One epoch is one evaluation of the objective and its gradient, which is one
  pass over the training examples; ``epochs`` caps the evaluations (``maxfun``) and the
  iterations (``maxiter``), and it stops earlier once converged. ``learning_rate`` is not used
  (the line search picks each step); the job's events say so.

Only the hashed columns that occur in the training data get weights (the others would stay
zero: their gradient is the L2 term of a zero weight), so training works on those columns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    # scipy has no type hints (scipy-stubs is not a dependency): its names are Any
    from scipy import sparse  # type: ignore[import-untyped,unused-ignore]

OPTIMIZERS = ("adam", "lbfgs")


class TrainingStopped(Exception):
    """Raised inside training when ``should_stop()`` answered True (the job was cancelled)."""


@attrs.frozen
class EpochReport:
    """What one epoch achieved, measured on the whole training set after the epoch."""

    epoch: int
    loss: float
    train_accuracy: float
    validation_accuracy: float | None = None
    #: mean cross-entropy on the validation rows whose label was trained (no L2 term).
    validation_loss: float | None = None
    #: optimizer steps taken so far (adam: mini-batches; lbfgs: evaluations).
    steps: int = 0


@attrs.frozen
class LinearWeights:
    """A trained model: ``scores = X[:, columns] @ weights + intercepts``, one column per class.

    :param columns: the sorted hashed columns that have weights (int64).
    :param weights: ``len(columns) x n_classes`` float64.
    :param intercepts: ``n_classes`` float64.
    """

    columns: npt.NDArray[np.int64]
    weights: npt.NDArray[np.float64]
    intercepts: npt.NDArray[np.float64]

    def scores(self, features: sparse.csr_matrix) -> npt.NDArray[np.float64]:
        """The ``n x n_classes`` class scores (logits) of ``features`` (all hashed columns)."""
        import numpy as np

        compact = select_columns(features, self.columns)
        return np.asarray(compact @ self.weights) + self.intercepts

    def predict(self, features: sparse.csr_matrix) -> npt.NDArray[np.int64]:
        """The index of the best-scoring class for each row."""
        import numpy as np

        best: npt.NDArray[np.int64] = np.argmax(self.scores(features), axis=1)
        return best


def select_columns(features: sparse.csr_matrix, columns: npt.NDArray[np.int64]) -> Any:
    """``features`` restricted to ``columns`` (sorted), renumbered ``0 .. len(columns) - 1``."""
    import numpy as np
    from scipy import sparse

    position = np.searchsorted(columns, features.indices)
    position = np.minimum(position, max(len(columns) - 1, 0))
    keep = columns[position] == features.indices if len(columns) else np.zeros(0, bool)
    row_of = np.repeat(np.arange(features.shape[0]), np.diff(features.indptr))
    indptr = np.concatenate(
        ([0], np.cumsum(np.bincount(row_of[keep], minlength=features.shape[0])))
    )
    return sparse.csr_matrix(
        (features.data[keep], position[keep], indptr), shape=(features.shape[0], len(columns))
    )


def train_logistic_regression(
    features: sparse.csr_matrix,
    labels: npt.NDArray[np.int64],
    n_classes: int,
    *,
    epochs: int,
    learning_rate: float = 0.05,
    batch_size: int = 32,
    l2: float = 1e-4,
    seed: int = 0,
    optimizer: str = "adam",
    validation: tuple[sparse.csr_matrix, npt.NDArray[np.int64]] | None = None,
    on_epoch: Callable[[EpochReport], None] = lambda report: None,
    should_stop: Callable[[], bool] = lambda: False,
) -> LinearWeights:
    """Fit the weights; ``on_epoch`` hears every epoch; ``should_stop`` is asked between them.

    Deterministic: the same inputs and ``seed`` give the same weights.

    :raises TrainingStopped: when ``should_stop()`` returned True.
    """
    import numpy as np

    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    columns = np.unique(features.indices).astype(np.int64)
    compact = select_columns(features, columns)
    problem = _Problem(compact, labels, n_classes, l2)
    compact_validation = None
    if validation is not None:
        compact_validation = (select_columns(validation[0], columns), validation[1])

    def report(
        epoch: int,
        weights: Any,
        intercepts: Any,
        measured: tuple[float, float] | None = None,
        steps: int = 0,
    ) -> None:
        loss, accuracy = measured or problem.loss_and_accuracy(weights, intercepts)
        validation_accuracy = validation_loss = None
        if compact_validation is not None:
            scores = np.asarray(compact_validation[0] @ weights) + intercepts
            validation_accuracy = float(np.mean(np.argmax(scores, 1) == compact_validation[1]))
            known = compact_validation[1] >= 0  # labels the training data never had: -1
            if known.any():
                log_probabilities = _log_softmax(scores[known])
                rows = np.arange(int(known.sum()))
                validation_loss = -float(
                    np.mean(log_probabilities[rows, compact_validation[1][known]])
                )
        on_epoch(
            EpochReport(epoch, loss, accuracy, validation_accuracy, validation_loss, steps or epoch)
        )

    if optimizer == "adam":
        weights, intercepts = _adam(
            problem, epochs, learning_rate, batch_size, seed, report, should_stop
        )
    else:
        weights, intercepts = _lbfgs(problem, epochs, report, should_stop)
    return LinearWeights(columns, weights, intercepts)


class _Problem:
    """The objective on the compacted training matrix."""

    def __init__(
        self, features: Any, labels: npt.NDArray[np.int64], n_classes: int, l2: float
    ) -> None:
        import numpy as np

        self.features = features
        self.transposed = features.T.tocsr()
        self.labels = labels
        self.n_classes = n_classes
        self.l2 = l2
        self.one_hot = np.zeros((len(labels), n_classes))
        self.one_hot[np.arange(len(labels)), labels] = 1.0

    @property
    def n_columns(self) -> int:
        return int(self.features.shape[1])

    def loss_and_accuracy(self, weights: Any, intercepts: Any) -> tuple[float, float]:
        import numpy as np

        scores = np.asarray(self.features @ weights) + intercepts
        log_probabilities = _log_softmax(scores)
        data_loss = -float(np.mean(log_probabilities[np.arange(len(self.labels)), self.labels]))
        loss = data_loss + 0.5 * self.l2 * float(np.sum(weights * weights))
        accuracy = float(np.mean(np.argmax(scores, axis=1) == self.labels))
        return loss, accuracy

    def value_and_gradient(self, flat: Any) -> tuple[float, Any, float]:
        """The objective, its gradient and the training accuracy at ``flat``."""
        import numpy as np

        weights = flat[: -self.n_classes].reshape(self.n_columns, self.n_classes)
        intercepts = flat[-self.n_classes :]
        scores = np.asarray(self.features @ weights) + intercepts
        log_probabilities = _log_softmax(scores)
        n = len(self.labels)
        loss = -float(np.sum(log_probabilities * self.one_hot)) / n
        loss += 0.5 * self.l2 * float(np.sum(weights * weights))
        residual = (np.exp(log_probabilities) - self.one_hot) / n
        weight_gradient = np.asarray(self.transposed @ residual) + self.l2 * weights
        gradient = np.concatenate((weight_gradient.ravel(), residual.sum(axis=0)))
        accuracy = float(np.mean(np.argmax(scores, axis=1) == self.labels))
        return loss, gradient, accuracy


def _log_softmax(scores: Any) -> Any:
    import numpy as np

    shifted = scores - scores.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _adam(
    problem: _Problem,
    epochs: int,
    learning_rate: float,
    batch_size: int,
    seed: int,
    report: Callable[..., None],
    should_stop: Callable[[], bool],
) -> tuple[Any, Any]:
    import numpy as np

    beta1, beta2, epsilon = 0.9, 0.999, 1e-8
    rng = np.random.default_rng(seed)
    n, k = len(problem.labels), problem.n_classes
    weights = np.zeros((problem.n_columns, k))
    intercepts = np.zeros(k)
    first = [np.zeros_like(weights), np.zeros_like(intercepts)]
    second = [np.zeros_like(weights), np.zeros_like(intercepts)]
    step = 0
    for epoch in range(1, epochs + 1):
        if should_stop():
            raise TrainingStopped
        order = rng.permutation(n)
        shuffled = problem.features[order]
        one_hot = problem.one_hot[order]
        for start in range(0, n, batch_size):
            if step % 64 == 63 and should_stop():
                raise TrainingStopped
            batch = shuffled[start : start + batch_size]
            targets = one_hot[start : start + batch_size]
            scores = np.asarray(batch @ weights) + intercepts
            residual = (np.exp(_log_softmax(scores)) - targets) / batch.shape[0]
            gradients = (
                np.asarray(batch.T @ residual) + problem.l2 * weights,
                residual.sum(axis=0),
            )
            step += 1
            correction1 = 1.0 - beta1**step
            correction2 = 1.0 - beta2**step
            for index, (parameter, gradient) in enumerate(
                zip((weights, intercepts), gradients, strict=True)
            ):
                first[index] *= beta1
                first[index] += (1.0 - beta1) * gradient
                second[index] *= beta2
                second[index] += (1.0 - beta2) * gradient * gradient
                parameter -= (
                    learning_rate
                    * (first[index] / correction1)
                    / (np.sqrt(second[index] / correction2) + epsilon)
                )
        report(epoch, weights, intercepts, steps=step)
    return weights, intercepts


def _lbfgs(
    problem: _Problem,
    epochs: int,
    report: Callable[..., None],
    should_stop: Callable[[], bool],
) -> tuple[Any, Any]:
    import numpy as np
    from scipy.optimize import minimize  # type: ignore[import-untyped,unused-ignore]

    k = problem.n_classes
    evaluations = 0
    best: tuple[float, Any] | None = None

    def objective(flat: Any) -> tuple[float, Any]:
        nonlocal evaluations, best
        if evaluations >= epochs:
            raise _BudgetSpent  # scipy may ask for one more evaluation than maxfun
        if should_stop():
            raise TrainingStopped
        loss, gradient, accuracy = problem.value_and_gradient(flat)
        evaluations += 1
        if best is None or loss < best[0]:
            best = (loss, flat.copy())
        report(evaluations, flat[:-k].reshape(-1, k), flat[-k:], (loss, accuracy), evaluations)
        return loss, gradient

    start = np.zeros(problem.n_columns * k + k)
    try:
        result = minimize(
            objective,
            start,
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": epochs, "maxfun": epochs, "gtol": 1e-6},
        )
        flat = result.x
    except _BudgetSpent:
        assert best is not None
        flat = best[1]
    return flat[:-k].reshape(-1, k).copy(), flat[-k:].copy()


class _BudgetSpent(Exception):
    """The L-BFGS run used all its epochs (objective evaluations)."""
