"""Request bodies and answers: the Open Inference Protocol v2 and OpenAI's chat completions.

Bodies are decoded with msgspec into the structs below; a body that does not fit raises
:class:`~modelops_core.serving.errors.RequestBodyError` naming the field
(``$.messages[0].content``) and what it must be.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import msgspec

from modelops_core.serving.errors import RequestBodyError

__all__ = [
    "ChatRequest",
    "InferRequest",
    "chat_text",
    "decode",
    "infer_inputs",
    "infer_outputs",
    "parse_target",
]

#: OIP datatype -> numpy dtype name
DATATYPES = {
    "BOOL": "bool", "UINT8": "uint8", "UINT16": "uint16", "UINT32": "uint32",
    "UINT64": "uint64", "INT8": "int8", "INT16": "int16", "INT32": "int32", "INT64": "int64",
    "FP16": "float16", "FP32": "float32", "FP64": "float64", "BYTES": "object",
}  # fmt: skip
_NUMPY_TO_OIP = {v: k for k, v in DATATYPES.items() if k != "BYTES"}


class ChatMessage(msgspec.Struct):
    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(msgspec.Struct):
    model: str
    messages: list[ChatMessage]
    stream: bool = False
    user: str | None = None


class InferInput(msgspec.Struct):
    name: str
    shape: list[int]
    datatype: str
    data: list[Any]
    parameters: dict[str, Any] | None = None


class InferRequest(msgspec.Struct):
    inputs: list[InferInput]
    id: str | None = None
    parameters: dict[str, Any] | None = None
    outputs: list[dict[str, Any]] | None = None


_DECODER = msgspec.json.Decoder()


def decode(body: bytes, kind: type[Any]) -> tuple[Any, dict[str, Any]]:
    """``(the struct, the raw JSON object)`` of ``body``; errors name the field."""
    if not body:
        raise RequestBodyError("The request has no body; send a JSON object.", field="$")
    try:
        raw = _DECODER.decode(body)
    except msgspec.DecodeError as exc:
        raise RequestBodyError(f"The body ($) is not valid JSON: {exc}.", field="$") from exc
    if not isinstance(raw, dict):
        raise RequestBodyError(
            f"The body must be a JSON object, got {type(raw).__name__}.", field="$"
        )
    try:
        return msgspec.convert(raw, kind), raw
    except msgspec.ValidationError as exc:
        text = str(exc)
        field = text.rpartition(" - at `")[2].rstrip("`") if " - at `" in text else "$"
        if text.startswith("Object missing required field"):
            missing = text.split("`")[1]
            field = f"{field}.{missing}" if field != "$" else f"$.{missing}"
        raise RequestBodyError(f"Invalid field {field}: {text}.", field=field) from exc


def parse_target(text: str) -> tuple[str, str | None, str | None]:
    """``(name, version, alias)`` of ``NAME``, ``NAME@ALIAS`` or ``NAME/VERSION``."""
    if "@" in text:
        name, _, alias = text.partition("@")
        return name, None, alias
    if "/" in text:
        name, _, version = text.partition("/")
        return name, version, None
    return text, None, None


def chat_text(request: ChatRequest) -> str:
    """The model's input of a chat: a lone user turn is its text, else one ``role: content``
    line per turn (how the datasets render a conversation for a model)."""
    from modelops_core.datasets.formats import render_turns

    if not request.messages:
        raise RequestBodyError(
            "$.messages is empty; send at least one message.", field="$.messages"
        )
    turns = []
    for index, message in enumerate(request.messages):
        content = message.content
        if isinstance(content, list):
            parts = [part.get("text") for part in content if part.get("type") == "text"]
            if not all(isinstance(part, str) for part in parts):
                raise RequestBodyError(
                    f"$.messages[{index}].content: a text part needs a string 'text'.",
                    field=f"$.messages[{index}].content",
                )
            content = "".join(str(part) for part in parts)
        turns.append({"role": message.role, "content": content or ""})
    return render_turns(turns)


def infer_inputs(request: InferRequest, columns: bool) -> Any:
    """The model's input of an OIP request: one input as an array (strings as a list), several
    as columns (a DataFrame when ``columns`` and pandas is installed, else a dict)."""
    import numpy as np

    if not request.inputs:
        raise RequestBodyError("$.inputs is empty; send at least one input.", field="$.inputs")
    arrays = {}
    for index, tensor in enumerate(request.inputs):
        where = f"$.inputs[{index}]"
        dtype = DATATYPES.get(tensor.datatype.upper())
        if dtype is None:
            raise RequestBodyError(
                f"{where}.datatype {tensor.datatype!r} is not an OIP datatype; use one of "
                f"{', '.join(DATATYPES)}.",
                field=f"{where}.datatype",
            )
        if any(size < 0 for size in tensor.shape):
            raise RequestBodyError(f"{where}.shape has a negative size.", field=f"{where}.shape")
        data = _flatten(tensor.data)
        expected = math.prod(tensor.shape)
        if len(data) != expected:
            raise RequestBodyError(
                f"{where}.data holds {len(data)} values; shape {tensor.shape} needs {expected}.",
                field=f"{where}.data",
            )
        if dtype == "object":
            if not all(isinstance(value, str) for value in data):
                raise RequestBodyError(
                    f"{where}.data: BYTES values must be strings.", field=f"{where}.data"
                )
            arrays[tensor.name] = data if len(tensor.shape) <= 1 else np.asarray(
                data, dtype=object).reshape(tensor.shape)  # fmt: skip
            continue
        try:
            arrays[tensor.name] = np.asarray(data, dtype=dtype).reshape(tensor.shape)
        except (TypeError, ValueError) as exc:
            raise RequestBodyError(
                f"{where}.data does not hold {tensor.datatype} values: {exc}.",
                field=f"{where}.data",
            ) from exc
    if len(arrays) == 1:
        return next(iter(arrays.values()))
    if columns:
        try:
            import pandas

            return pandas.DataFrame({name: list(value) for name, value in arrays.items()})
        except ImportError:
            pass
    return arrays


def _flatten(data: list[Any]) -> list[Any]:
    if data and isinstance(data[0], list):
        flat: list[Any] = []
        for item in data:
            flat += _flatten(item) if isinstance(item, list) else [item]
        return flat
    return data


def infer_outputs(result: Any) -> list[dict[str, Any]]:
    """The OIP ``outputs`` of a prediction (one tensor named ``predict``)."""
    import numpy as np

    if isinstance(result, Mapping):
        return [_tensor(str(name), np.asarray(value)) for name, value in result.items()]
    return [_tensor("predict", np.asarray(result))]


def _tensor(name: str, array: Any) -> dict[str, Any]:
    datatype = _NUMPY_TO_OIP.get(str(array.dtype), "BYTES")
    data = array.ravel().tolist()
    if datatype == "BYTES":
        data = [value if isinstance(value, str) else str(value) for value in data]
    return {"name": name, "shape": list(array.shape), "datatype": datatype, "data": data}


def plain(value: Any) -> Any:
    """``value`` with numpy arrays and scalars as lists and numbers (for JSON)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value
