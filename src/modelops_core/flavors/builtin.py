"""The core's own flavors: ``json``, ``bytes`` and ``numpy`` (chosen by what the model is), and
``pickle``, used only when asked for by name and loaded only by a registry given it explicitly.

They store one byte string each (:class:`~modelops_core.flavors.contract.BytesFlavor`);
versions registered before flavors existed were written by the same classes, then called
serializers, and load unchanged.
"""

from __future__ import annotations

import io
import json
from typing import Any

from modelops_core.flavors.contract import FlavorError

__all__ = ["BUILTIN_FLAVORS", "BytesModelFlavor", "JsonFlavor", "NumpyFlavor", "PickleFlavor"]


class JsonFlavor:
    """Dicts and lists of JSON values (strings, numbers, booleans, None)."""

    name = "json"

    def accepts(self, model: Any) -> bool:
        return isinstance(model, dict | list)

    def dumps(self, model: Any) -> bytes:
        try:
            return json.dumps(model, sort_keys=True, separators=(",", ":")).encode()
        except (TypeError, ValueError) as exc:
            raise FlavorError(
                f"The model is a {type(model).__name__} but not JSON-serializable ({exc}). "
                "Convert its values to JSON types, or register a flavor for them."
            ) from exc

    def loads(self, data: bytes) -> Any:
        try:
            return json.loads(data)
        except (UnicodeDecodeError, ValueError) as exc:
            raise FlavorError(
                f"The stored json model is not valid JSON ({exc}); the artifact is damaged or "
                "was not written by the json flavor."
            ) from exc


class BytesModelFlavor:
    """Raw bytes, stored as they are."""

    name = "bytes"

    def accepts(self, model: Any) -> bool:
        return isinstance(model, bytes | bytearray | memoryview)

    def dumps(self, model: Any) -> bytes:
        return bytes(model)

    def loads(self, data: bytes) -> Any:
        return data


class NumpyFlavor:
    """numpy arrays in the ``.npy`` format, never pickled (object arrays are refused)."""

    name = "numpy"

    def accepts(self, model: Any) -> bool:
        kind = type(model)
        return kind.__module__ == "numpy" and kind.__name__ == "ndarray"

    def dumps(self, model: Any) -> bytes:
        import numpy

        buffer = io.BytesIO()
        try:
            numpy.save(buffer, model, allow_pickle=False)
        except ValueError as exc:
            raise FlavorError(
                f"Cannot store a numpy array of dtype {model.dtype} without pickling ({exc}). "
                "Convert it to a numeric or string dtype."
            ) from exc
        return buffer.getvalue()

    def loads(self, data: bytes) -> Any:
        import numpy

        try:
            return numpy.load(io.BytesIO(data), allow_pickle=False)
        except (OSError, ValueError, EOFError) as exc:
            raise FlavorError(
                f"The stored numpy model is not a .npy array without pickles ({exc}); the "
                "artifact is damaged or was not written by the numpy flavor."
            ) from exc

    def libraries(self) -> dict[str, str]:
        import numpy

        return {"numpy": numpy.__version__}


class PickleFlavor:
    """Any picklable object. Never chosen by itself: unpickling runs code.

    ``ModelRegistry(flavors=[PickleFlavor()])`` then ``register(..., flavor="pickle")``; only a
    registry given it loads such versions.
    """

    name = "pickle"
    explicit = True

    def accepts(self, model: Any) -> bool:
        return True

    def dumps(self, model: Any) -> bytes:
        import pickle

        return pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)

    def loads(self, data: bytes) -> Any:
        import pickle

        return pickle.loads(data)


#: name -> class of the flavors every registry has (tried in this order, before the plugins').
BUILTIN_FLAVORS: dict[str, type[Any]] = {
    "json": JsonFlavor,
    "bytes": BytesModelFlavor,
    "numpy": NumpyFlavor,
}
