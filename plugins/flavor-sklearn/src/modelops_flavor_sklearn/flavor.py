"""The ``sklearn`` flavor: an estimator (or pipeline) stored in a folder as

- ``model.skops`` (default): skops' format, which names every type it will build; loading
  refuses a type that is neither trusted by skops, a class of scikit-learn itself, nor listed
  in ``trusted``: nothing is ever unpickled implicitly;
- ``model.onnx`` (``persistence="onnx"``): converted with skl2onnx (``pip install
  'modelops-flavor-sklearn[onnx]'``), loaded as :class:`modelops_flavor_onnx.OnnxModel`;
- ``model.pkl`` (``persistence="pickle"``): only with ``allow_pickle=True``, for saving and
  again for loading (unpickling runs code from the file).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from modelops_core.flavors.contract import FlavorError, UntrustedModelError
from modelops_core.flavors.schema import ColumnSpec, Schema

__all__ = ["PERSISTENCES", "SklearnFlavor"]

PERSISTENCES = ("skops", "onnx", "pickle")
_FILES = {"skops": "model.skops", "onnx": "model.onnx", "pickle": "model.pkl"}


class SklearnFlavor:
    """scikit-learn estimators and pipelines.

    :param persistence: ``skops`` (default), ``onnx`` or ``pickle``.
    :param allow_pickle: permit ``persistence="pickle"`` and loading pickled versions.
    :param trusted: more type names (``"module.Class"``) that loading a skops file may build,
        e.g. a custom transformer of your own package.
    """

    name = "sklearn"

    def __init__(
        self,
        persistence: str = "skops",
        allow_pickle: bool = False,
        trusted: list[str] | tuple[str, ...] = (),
    ) -> None:
        if persistence not in PERSISTENCES:
            raise FlavorError(
                f"sklearn flavor: persistence={persistence!r} is unknown; use one of "
                f"{', '.join(PERSISTENCES)}."
            )
        if persistence == "pickle" and not allow_pickle:
            raise UntrustedModelError(
                "sklearn flavor: persistence='pickle' needs allow_pickle=True (loading a pickle "
                "runs code from the file). Prefer the default, skops."
            )
        self.persistence = persistence
        self.allow_pickle = allow_pickle
        self.trusted = tuple(trusted)

    def accepts(self, model: Any) -> bool:
        kind = type(model)
        return kind.__module__.split(".")[0] == "sklearn" or hasattr(kind, "__sklearn_tags__")

    # --- saving ------------------------------------------------------------------------------

    def save(self, model: Any, path: Path) -> dict[str, Any]:
        target = path / _FILES[self.persistence]
        if self.persistence == "skops":
            import skops.io

            skops.io.dump(model, target)
            return {"format": "skops", "file": target.name}
        if self.persistence == "onnx":
            target.write_bytes(_to_onnx(model))
            return {"format": "onnx", "file": target.name}
        import pickle

        target.write_bytes(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
        return {"format": "pickle", "file": target.name}

    # --- loading -----------------------------------------------------------------------------

    def load(self, path: Path, details: dict[str, Any]) -> Any:
        form = details.get("format", "skops")
        if form not in PERSISTENCES:
            raise FlavorError(
                f"sklearn flavor: {path} was stored as {form!r}, which this version does not "
                f"read ({', '.join(PERSISTENCES)}). Upgrade modelops-flavor-sklearn."
            )
        target = path / _FILES[form]
        if not target.is_file():
            raise FlavorError(
                f"sklearn flavor: {path} holds no {target.name} (it has: "
                f"{', '.join(sorted(p.name for p in path.iterdir())) or 'nothing'}); the "
                "artifact is not an sklearn model folder."
            )
        if form == "skops":
            return self._load_skops(target)
        if form == "onnx":
            from modelops_flavor_onnx import OnnxModel

            return OnnxModel(target.read_bytes())
        if not self.allow_pickle:
            raise UntrustedModelError(
                f"sklearn flavor: {target} is a pickle; unpickling runs code from the file. Load "
                "it only if you trust it: ModelRegistry(flavors=[SklearnFlavor("
                "allow_pickle=True)])."
            )
        import pickle

        try:
            return pickle.loads(target.read_bytes())
        except Exception as exc:  # a damaged pickle raises anything
            raise FlavorError(
                f"sklearn flavor: {target} is not a readable pickle ({type(exc).__name__}: {exc})."
            ) from exc

    def _load_skops(self, target: Path) -> Any:
        import skops.io

        try:
            untrusted = skops.io.get_untrusted_types(file=target)
        except Exception as exc:  # zipfile.BadZipFile, KeyError, JSON errors: a damaged file
            raise FlavorError(
                f"sklearn flavor: {target} is not a readable skops file ({type(exc).__name__}: "
                f"{exc}); the artifact is damaged or was not written by this flavor."
            ) from exc
        refused = [t for t in untrusted if t not in self.trusted and not _sklearn_class(t)]
        if refused:
            raise UntrustedModelError(
                f"sklearn flavor: {target} would build types nobody trusted: "
                f"{', '.join(refused)}. If you trust them, pass "
                f"SklearnFlavor(trusted={refused!r}) to the registry (flavors=[...])."
            )
        return skops.io.load(target, trusted=list(untrusted))

    # --- description -------------------------------------------------------------------------

    def libraries(self) -> dict[str, str]:
        import numpy
        import sklearn
        import skops

        found = {"scikit-learn": sklearn.__version__, "skops": skops.__version__,
                 "numpy": numpy.__version__}  # fmt: skip
        if self.persistence == "onnx":
            import onnxruntime
            import skl2onnx

            found |= {"skl2onnx": skl2onnx.__version__, "onnxruntime": onnxruntime.__version__}
        return found

    def describe(self, model: Any) -> dict[str, Any]:
        """The input schema the estimator knows: its feature names, else its width."""
        names = getattr(model, "feature_names_in_", None)
        if names is not None:
            columns = tuple(ColumnSpec(str(n), "number") for n in names)
            return {"input": Schema("columns", columns), "output": None}
        width = getattr(model, "n_features_in_", None)
        if width is not None:
            return {"input": Schema("tensor", dtype="number", shape=(-1, int(width))),
                    "output": None}  # fmt: skip
        return {}


def _sklearn_class(name: str) -> bool:
    """``name`` is a class defined in scikit-learn (not a function, not another library's)."""
    module, _, attr = name.rpartition(".")
    if module.split(".")[0] != "sklearn":
        return False
    try:
        found = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):
        return False
    return isinstance(found, type)


def _to_onnx(model: Any) -> bytes:
    try:
        from skl2onnx import to_onnx
    except ImportError as exc:
        raise FlavorError(
            "sklearn flavor: persistence='onnx' needs skl2onnx and modelops-flavor-onnx; "
            "install them with `pip install 'modelops-flavor-sklearn[onnx]'`."
        ) from exc
    import numpy as np

    width = getattr(model, "n_features_in_", None)
    if width is None:
        raise FlavorError(
            f"sklearn flavor: cannot convert an unfitted {type(model).__name__} to ONNX; fit "
            "it first."
        )
    final = model.steps[-1][1] if hasattr(model, "steps") else model  # a pipeline's classifier
    try:
        converted = to_onnx(
            model, np.zeros((1, int(width)), dtype=np.float32),
            options={id(final): {"zipmap": False}} if hasattr(final, "predict_proba") else None,
            target_opset=None,
        )  # fmt: skip
    except Exception as exc:  # skl2onnx raises RuntimeError, NotImplementedError, MissingShape…
        raise FlavorError(
            f"sklearn flavor: skl2onnx cannot convert {type(model).__name__} to ONNX "
            f"({type(exc).__name__}: {exc}). Store it with persistence='skops' instead."
        ) from exc
    return bytes(converted.SerializeToString())
