"""The Vertex AI tuning API's rules, kept as data (``data/tuning_rules.json``: each rule with its
source), and the checks built on them: a proto3-JSON reader of request bodies that takes the
field names and types from the installed google-genai SDK's models, the field rules of a
``TuningJob`` create request, and the answers' shape.

Used by the fake (:mod:`modelops_provider_vertex.testing`) to answer as the service does, and
by the provider's preflight (hyperparameter names, labels). Imports no Google library until a
check that needs the SDK's models runs.
"""

from __future__ import annotations

import enum
import json
import math
import re
import types as pytypes
import typing
from collections.abc import Mapping
from datetime import datetime
from importlib import resources
from typing import Any

import attrs

RULES_FILE = "data/tuning_rules.json"


@attrs.frozen
class Rule:
    """One rule: its value and where it comes from."""

    name: str
    value: Any
    source: str


@attrs.frozen
class Rules:
    """The rules of ``data/tuning_rules.json`` by name."""

    by_name: Mapping[str, Rule]
    revision: Mapping[str, str]

    def __getitem__(self, name: str) -> Any:
        return self.by_name[name].value

    def source(self, name: str) -> str:
        return self.by_name[name].source


def load_rules() -> Rules:
    """Read ``data/tuning_rules.json`` from the installed package."""
    text = resources.files("modelops_provider_vertex").joinpath(RULES_FILE).read_text("utf-8")
    raw = json.loads(text)
    rules = {
        name: Rule(name, entry["value"], entry["source"]) for name, entry in raw["rules"].items()
    }
    return Rules(rules, dict(raw["revision"]))


@attrs.frozen
class Violation:
    """A field of a request that breaks a rule: ``google.rpc.BadRequest.FieldViolation``."""

    field: str
    description: str

    def as_json(self) -> dict[str, str]:
        return {"field": self.field, "description": self.description}


def snake(name: str) -> str:
    """``epochCount`` -> ``epoch_count`` (the proto field name)."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


# --- proto3 JSON, typed by the SDK's models ------------------------------------------------------

_INTEGER = re.compile(r"-?\d+")
_FLOAT_WORDS = {"NaN", "Infinity", "-Infinity"}


def _unwrap(annotation: Any) -> Any:
    """``Optional[X]`` -> ``X``."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, pytypes.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else Any
    return annotation


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        return int(value)
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return int(value)
    return None


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        if value in _FLOAT_WORDS:
            return float(value.replace("Infinity", "inf"))
        try:
            return float(value)
        except ValueError:
            return None
    return None


class ProtoJsonReader:
    """Reads a REST JSON body as the service's proto3 JSON parser does, with the message types
    of the SDK's pydantic models (camelCase aliases; proto field names accepted too).

    :meth:`read` returns the value with integers, floats and enums normalized (``"4"`` -> 4),
    and adds a :class:`Violation` per unknown field or mistyped value; ``at`` is the path
    in proto field names (``tuning_job.supervised_tuning_spec``).
    """

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self.unknown = str(rules["request.unknown_field"])
        self.int64 = set(rules["response.int64_fields"])
        self.violations: list[Violation] = []

    def read(self, value: Any, model: Any, at: str) -> Any:
        if not isinstance(value, dict):
            self._bad(at, "TYPE_MESSAGE", value)
            return None
        fields: dict[str, tuple[str, Any]] = {}
        for python_name, info in model.model_fields.items():
            alias = info.alias or python_name
            fields[alias] = (python_name, info.annotation)
            fields[python_name] = (python_name, info.annotation)
        out: dict[str, Any] = {}
        for key, item in value.items():
            found = fields.get(key)
            if found is None or key in self.rules["response.sdk_only_fields"]:
                self.violations.append(Violation(at, self.unknown.format(name=key, at=at)))
                continue
            python_name, annotation = found
            alias = model.model_fields[python_name].alias or python_name
            out[alias] = self._value(item, _unwrap(annotation), f"{at}.{python_name}", alias)
        return out

    def _value(self, value: Any, kind: Any, at: str, alias: str) -> Any:
        from pydantic import BaseModel

        if value is None:
            return None
        origin = typing.get_origin(kind)
        if kind is Any or kind is object:
            return value
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            return self.read(value, kind, at)
        if isinstance(kind, type) and issubclass(kind, enum.Enum):
            names = [member.value for member in kind]
            if isinstance(value, str) and value in names:
                return value
            number = _integer(value) if not isinstance(value, str) else None
            if number is not None and 0 <= number < len(names):
                return names[number]
            module = "google.cloud.aiplatform.v1beta1"
            self._bad(at, f"type.googleapis.com/{module}.{kind.__name__}", value)
            return None
        if kind is bool:
            if isinstance(value, bool):
                return value
            self._bad(at, "TYPE_BOOL", value)
            return None
        if kind is int:
            number = _integer(value)
            if number is None:
                self._bad(at, "TYPE_INT64" if alias in self.int64 else "TYPE_INT32", value)
            return number
        if kind is float:
            real = _float(value)
            if real is None:
                self._bad(at, "TYPE_DOUBLE", value)
            return real
        if kind is str:
            if isinstance(value, str):
                return value
            self._bad(at, "TYPE_STRING", value)
            return None
        if kind is datetime:
            if isinstance(value, str):
                return value
            self._bad(at, "TYPE_MESSAGE (google.protobuf.Timestamp)", value)
            return None
        if origin is dict:
            _key_kind, item_kind = typing.get_args(kind)
            if not isinstance(value, dict):
                self._bad(at, "TYPE_MESSAGE (map)", value)
                return None
            return {
                k: self._value(v, _unwrap(item_kind), f"{at}[{k}]", alias) for k, v in value.items()
            }
        if origin is list:
            (item_kind,) = typing.get_args(kind)
            if not isinstance(value, list):
                self._bad(at, "TYPE_MESSAGE (repeated)", value)
                return None
            return [
                self._value(v, _unwrap(item_kind), f"{at}[{i}]", alias) for i, v in enumerate(value)
            ]
        return value

    def _bad(self, at: str, kind: str, value: Any) -> None:
        shown = json.dumps(value) if not isinstance(value, str) else f'"{value}"'
        self.violations.append(Violation(at, f"Invalid value at '{at}' ({kind}), {shown}"))


# --- the create request's field rules -----------------------------------------------------------


def label_problems(labels: Mapping[str, Any], rules: Rules, at: str) -> list[Violation]:
    """Vertex's label rules: count, length, characters, keys starting with a lowercase letter."""
    found: list[Violation] = []
    most = int(rules["tuning_job.labels.max_count"])
    longest = int(rules["tuning_job.labels.max_length"])
    if len(labels) > most:
        found.append(Violation(at, f"Too many labels: {len(labels)}; at most {most} are allowed."))
    for key, value in labels.items():
        where = f"{at}[{key}]"
        if not isinstance(value, str):
            continue  # a type error, reported by the reader
        if not key or not (key[0].isalpha() and key[0].islower()):
            found.append(Violation(where, f'Label key "{key}" must start with a lowercase letter.'))
        for kind, text in (("key", key), ("value", value)):
            if len(text) > longest:
                found.append(
                    Violation(
                        where,
                        f'Label {kind} "{text}" is {len(text)} characters long; at most '
                        f"{longest} are allowed.",
                    )
                )
            bad = sorted({c for c in text if not _label_character(c)})
            if bad:
                found.append(
                    Violation(
                        where,
                        f'Label {kind} "{text}" has characters that are not allowed: '
                        f"{''.join(bad)!r}; use lowercase letters, digits, '_' and '-'.",
                    )
                )
    return found


def _label_character(char: str) -> bool:
    if char in "_-" or char.isdigit():
        return True
    return char.isalpha() and (char.islower() or not char.isupper())


def is_valid_label_key(key: str, rules: Rules) -> bool:
    return not label_problems({key: ""}, rules, "labels")


def create_problems(job: Mapping[str, Any], rules: Rules) -> list[Violation]:
    """The field rules of a ``TuningJob`` create request (already read by the proto reader,
    camelCase keys)."""
    found: list[Violation] = []
    at = "tuning_job"
    specs = [name for name in rules["tuning_job.oneof_tuning_spec"] if job.get(name) is not None]
    sources = [name for name in rules["tuning_job.oneof_source_model"] if job.get(name)]
    if len(sources) != 1:
        found.append(
            Violation(
                at,
                "Exactly one of base_model and pre_tuned_model must be set; got "
                + (", ".join(snake(s) for s in sources) or "neither")
                + ".",
            )
        )
    base = job.get("baseModel")
    tunable = list(rules["tuning_job.tunable_models"])
    if base is not None and base not in tunable:
        found.append(
            Violation(
                f"{at}.base_model",
                f"Base model {base} is not supported for tuning. Supported base models: "
                + ", ".join(tunable)
                + ".",
            )
        )
    if len(specs) != 1:
        found.append(
            Violation(
                at,
                "Exactly one tuning spec must be set (one of "
                + ", ".join(snake(s) for s in rules["tuning_job.oneof_tuning_spec"])
                + "); got "
                + (", ".join(snake(s) for s in specs) or "none")
                + ".",
            )
        )
    elif specs[0] not in rules["tuning_job.implemented_specs"]:
        found.append(
            Violation(
                f"{at}.{snake(specs[0])}",
                f"{snake(specs[0])} is not supported for base model {base}.",
            )
        )
    name = job.get("tunedModelDisplayName")
    longest = int(rules["tuning_job.tuned_model_display_name.max_length"])
    if isinstance(name, str) and len(name) > longest:
        found.append(
            Violation(
                f"{at}.tuned_model_display_name",
                f"The display name is {len(name)} characters long; at most {longest} are allowed.",
            )
        )
    labels = job.get("labels")
    if isinstance(labels, dict):
        found += label_problems(labels, rules, f"{at}.labels")
    for spec_name in specs:
        spec = job.get(spec_name)
        if isinstance(spec, dict):
            found += _spec_problems(spec, f"{at}.{snake(spec_name)}", rules)
    return found


def _spec_problems(spec: Mapping[str, Any], at: str, rules: Rules) -> list[Violation]:
    found: list[Violation] = []
    pattern = re.compile(str(rules["tuning_job.dataset_uri"]))
    training = spec.get("trainingDatasetUri")
    if not training:
        found.append(Violation(f"{at}.training_dataset_uri", "training_dataset_uri is required."))
    for key in ("trainingDatasetUri", "validationDatasetUri"):
        uri = spec.get(key)
        if uri and not pattern.match(str(uri)):
            found.append(
                Violation(
                    f"{at}.{snake(key)}",
                    f"{snake(key)} must be a Cloud Storage uri gs://bucket/path/file.jsonl, got "
                    f'"{uri}".',
                )
            )
    hyper = spec.get("hyperParameters") or {}
    where = f"{at}.hyper_parameters"
    epochs = hyper.get("epochCount")
    if isinstance(epochs, int) and epochs < 0:
        found.append(
            Violation(f"{where}.epoch_count", f"epoch_count must be positive, got {epochs}.")
        )
    multiplier = hyper.get("learningRateMultiplier")
    if isinstance(multiplier, float) and not (multiplier >= 0 and math.isfinite(multiplier)):
        found.append(
            Violation(
                f"{where}.learning_rate_multiplier",
                f"learning_rate_multiplier must be above 0, got {multiplier}.",
            )
        )
    beta = hyper.get("beta")
    if isinstance(beta, float) and not (beta >= 0 and math.isfinite(beta)):
        found.append(Violation(f"{where}.beta", f"beta must be 0 or more, got {beta}."))
    for key in rules["hyper_parameters.open_model_only"]:
        if hyper.get(key) is not None:
            found.append(
                Violation(
                    f"{where}.{snake(key)}",
                    f"{snake(key)} is only available for open models; Gemini base models "
                    "take learning_rate_multiplier and epoch_count.",
                )
            )
    return found


def check_answer(body: Any, model: str, rules: Rules) -> list[str]:
    """What is wrong with an answer the fake is about to send: fields the SDK's model refuses,
    SDK-only fields, int64 values not written as strings (proto3 JSON)."""
    import pydantic
    from google.genai import types

    problems: list[str] = []
    try:
        getattr(types, model).model_validate(body)
    except pydantic.ValidationError as exc:
        problems.append(f"the google-genai SDK does not accept this {model}:\n{exc}")
    sdk_only = set(rules["response.sdk_only_fields"])
    int64 = set(rules["response.int64_fields"])

    def walk(value: Any, at: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in sdk_only:
                    problems.append(f"{at}.{key}: an SDK-only field the REST API never sends")
                if key in int64 and item is not None and not isinstance(item, str):
                    problems.append(f"{at}.{key}: int64 must be a JSON string, got {item!r}")
                walk(item, f"{at}.{key}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{at}[{index}]")

    walk(body, model)
    return problems
