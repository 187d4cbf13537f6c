"""Model families, their training-file format, and neutral -> Bedrock hyperparameters.

Bedrock takes every hyperparameter as a **string** (``{"epochCount": "2"}``); an int is refused
by the service model. The names each family takes are checked here, before anything is
uploaded (:data:`FAMILY_HYPERPARAMETERS`, from the "Custom model hyperparameters" pages of the
Bedrock user guide), and the ranges where they are documented for the family (Amazon Nova);
other ranges are checked by Bedrock itself, whose ``ValidationException`` is reported verbatim.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from modelops_core.finetune.provider_contract import ProviderRejectedError

#: ``Dataset.export`` formats: Nova reads ``bedrock-conversation-2024`` chats, the other
#: families (Titan, Cohere, Llama) read ``{"prompt", "completion"}`` records.
CONVERSATION_FORMAT = "bedrock-conversation"
PROMPT_COMPLETION_FORMAT = "bedrock"
FORMATS = (CONVERSATION_FORMAT, PROMPT_COMPLETION_FORMAT)

#: Cross-region inference profiles put a region group before the model id.
_REGION_GROUPS = ("us.", "eu.", "apac.", "global.")

#: provider-neutral name -> Bedrock's name.
NEUTRAL_NAMES: dict[str, str] = {
    "epochs": "epochCount",
    "learning_rate": "learningRate",
    "batch_size": "batchSize",
    "warmup_steps": "learningRateWarmupSteps",
}
#: neutral names other providers understand and Bedrock fine-tuning has no equivalent for.
UNSUPPORTED: dict[str, str] = {
    "seed": "Bedrock model customization has no seed",
    "beta": "beta is for preference tuning, which Bedrock fine-tuning does not offer",
    "learning_rate_multiplier": "Bedrock takes an absolute learning_rate, not a multiplier",
}
#: Bedrock name -> (low, high, integer?) for Amazon Nova (inclusive ranges).
NOVA_RANGES: dict[str, tuple[float, float, bool]] = {
    "epochCount": (1, 5, True),
    "learningRate": (1e-6, 1e-4, False),
    "learningRateWarmupSteps": (0, 100, True),
}
#: base-model prefix -> the hyperparameters (Bedrock's names) the family takes, as the Bedrock
#: user guide lists them ("Custom model hyperparameters": cm-hp-nova-mm, cm-hp-titan-text,
#: cm-hp-cohere-command, cm-hp-meta-llama, cm-hp-anth-claude-3).
FAMILY_HYPERPARAMETERS: dict[str, tuple[str, ...]] = {
    "amazon.nova-": ("epochCount", "learningRate", "learningRateWarmupSteps"),
    "amazon.titan-text-": ("epochCount", "batchSize", "learningRate", "learningRateWarmupSteps"),
    "cohere.command": (
        "epochCount",
        "batchSize",
        "learningRate",
        "earlyStoppingThreshold",
        "earlyStoppingPatience",
        "evalPercentage",
    ),
    "meta.llama": ("epochCount", "batchSize", "learningRate"),
    "anthropic.claude-3-haiku": (
        "epochCount",
        "batchSize",
        "learningRateMultiplier",
        "earlyStoppingThreshold",
        "earlyStoppingPatience",
    ),
}
#: Bedrock names that must be whole numbers for every family.
_INTEGERS = frozenset({"epochCount", "batchSize", "learningRateWarmupSteps"})


def base_model_name(model: str) -> str:
    """``model`` without a foundation-model ARN prefix or a cross-region group."""
    name = model.rsplit("foundation-model/", 1)[-1] if "foundation-model/" in model else model
    for group in _REGION_GROUPS:
        if name.startswith(group):
            return name.removeprefix(group)
    return name


def is_nova(model: str) -> bool:
    """True for Amazon Nova models (``amazon.nova-lite-v1:0:300k``, ``us.amazon.nova-…``)."""
    return base_model_name(model).startswith("amazon.nova-")


def format_for_model(model: str) -> str:
    """The training-file format ``model`` reads: conversations for Nova, else prompt/completion."""
    return CONVERSATION_FORMAT if is_nova(model) else PROMPT_COMPLETION_FORMAT


def family_hyperparameters(model: str) -> tuple[str, ...]:
    """The Bedrock hyperparameter names ``model``'s family takes; for a model of no family
    listed in :data:`FAMILY_HYPERPARAMETERS` (a custom-model ARN, say), every listed name."""
    name = base_model_name(model)
    if ":custom-model/" in name:
        name = name.split(":custom-model/", 1)[1]
    for prefix, names in FAMILY_HYPERPARAMETERS.items():
        if name.startswith(prefix):
            return names
    return tuple(dict.fromkeys(n for names in FAMILY_HYPERPARAMETERS.values() for n in names))


def _valid_names(model: str) -> str:
    """``epochs (epochCount), learning_rate (learningRate), …`` for the model's family."""
    neutral = {bedrock: name for name, bedrock in NEUTRAL_NAMES.items()}
    return ", ".join(
        f"{neutral[name]} ({name})" if name in neutral else name
        for name in family_hyperparameters(model)
    )


def _number(name: str, value: Any, model: str) -> float:
    if isinstance(value, bool):
        raise ProviderRejectedError(
            f"bedrock provider: hyperparameter {name} must be a number, got {value!r} "
            f"(model {model})."
        )
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ProviderRejectedError(
            f"bedrock provider: hyperparameter {name} must be a number, got {value!r} "
            f"(model {model})."
        ) from None
    if not math.isfinite(number):
        raise ProviderRejectedError(f"bedrock provider: hyperparameter {name} is {value!r}.")
    return number


def _text(name: str, value: Any, model: str) -> str:
    """The string Bedrock gets: integers without a fraction, rates as plain decimals."""
    number = _number(name, value, model)
    if name in _INTEGERS:
        if not number.is_integer():
            raise ProviderRejectedError(
                f"bedrock provider: hyperparameter {name} must be a whole number, got {value!r} "
                f"(model {model})."
            )
        if number < (0 if name == "learningRateWarmupSteps" else 1):
            raise ProviderRejectedError(
                f"bedrock provider: hyperparameter {name} must be at least "
                f"{0 if name == 'learningRateWarmupSteps' else 1}, got {value!r} (model {model})."
            )
        return str(int(number))
    if number <= 0 and name == "learningRate":
        raise ProviderRejectedError(
            f"bedrock provider: learningRate must be above 0, got {value!r} (model {model})."
        )
    # a plain decimal ("0.00001"), as AWS's examples write it, never "1e-05"
    return format(Decimal(repr(number)), "f")


def bedrock_hyperparameters(neutral: Mapping[str, Any], model: str) -> dict[str, str]:
    """Bedrock's ``hyperParameters`` (all strings) for the neutral ``neutral`` values.

    Neutral names (``epochs``, ``learning_rate``, ``batch_size``, ``warmup_steps``) are
    renamed; other names are taken as Bedrock spells them (``earlyStoppingPatience``).
    Raises :class:`ProviderRejectedError` for a name Bedrock has no equivalent for, a name the
    model's family does not take (listing the ones it takes), a value that is not a number, or
    a value out of the documented range of the model's family.
    """
    allowed = family_hyperparameters(model)
    unknown = [
        name
        for name, value in neutral.items()
        if value is not None
        and name not in UNSUPPORTED
        and NEUTRAL_NAMES.get(name, name) not in allowed
    ]
    if unknown:
        raise ProviderRejectedError(
            f"bedrock provider: {base_model_name(model)} takes no hyperparameter "
            f"{', '.join(repr(name) for name in unknown)}; valid: {_valid_names(model)}. "
            "Nothing was uploaded; remove or rename it."
        )
    result: dict[str, str] = {}
    for name, value in neutral.items():
        if value is None:
            continue
        if name in UNSUPPORTED:
            raise ProviderRejectedError(
                f"bedrock provider: hyperparameter {name!r} is not supported "
                f"({UNSUPPORTED[name]}); remove it. Valid for {base_model_name(model)}: "
                f"{_valid_names(model)}."
            )
        bedrock_name = NEUTRAL_NAMES.get(name, name)
        if bedrock_name in result:
            raise ProviderRejectedError(
                f"bedrock provider: hyperparameter {bedrock_name} is given twice (as {name!r} "
                "and under another name); keep one."
            )
        result[bedrock_name] = (
            _text(bedrock_name, value, model)
            if bedrock_name in _INTEGERS or bedrock_name == "learningRate"
            else str(value)
        )
    if is_nova(model):
        check_nova_ranges(result, model)
    return result


def check_nova_ranges(values: Mapping[str, str], model: str) -> None:
    """Refuse values outside Amazon Nova's documented ranges, naming all of them at once."""
    problems = []
    for name, (low, high, _integer) in NOVA_RANGES.items():
        if name not in values:
            continue
        number = float(values[name])
        if not low <= number <= high:
            problems.append(f"{name}={values[name]} (allowed {low:g} to {high:g})")
    if problems:
        raise ProviderRejectedError(
            f"bedrock provider: hyperparameters out of range for {model}: "
            f"{'; '.join(problems)}. Nothing was uploaded; change them and start again."
        )
