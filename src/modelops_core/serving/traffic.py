"""Traffic splits: which alias of a model answers a request, decided by a salted hash.

A split is stored per model in the serving database (``modelops_traffic``) by
``modelops traffic set NAME ALIAS=WEIGHT …`` or :meth:`TrafficTable.set`; a model without one
sends 100 % to ``production``. A running server reads the table every ``[serving]
poll_interval`` seconds (0.5 by default), so a change applies within a second.

Assignment: the SHA-256 digest of ``salt + "\\0" + unit`` gives a point in [0, 100) (its first
8 bytes over 2**64); the aliases, sorted by name, own consecutive ranges as wide as their
weights. The same unit lands on the same alias while the weights stand, and when one alias's
weight grows, units only move towards it. A request without a unit id draws a random point.
The unit id is never kept: the log stores :func:`unit_hash` (the first 32 hex digits of the same
digest), whatever the length of the id.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from modelops_core.serving.errors import TrafficError

if TYPE_CHECKING:
    from modelops_core.runtime import Runtime
    from modelops_core.serving.database import ServingDatabase

__all__ = [
    "DEFAULT_ALIAS",
    "TrafficSplit",
    "TrafficTable",
    "parse_weights",
    "unit_hash",
    "unit_point",
]

#: the alias that takes every request of a model without a split
DEFAULT_ALIAS = "production"
_TOTAL = 100.0
_TOLERANCE = 1e-9


def _digest(salt: str, unit: str) -> bytes:
    return hashlib.sha256(f"{salt}\0{unit}".encode("utf-8", "surrogatepass")).digest()


def unit_point(salt: str, unit: str) -> float:
    """The unit's point in [0, 100): the same for the same salt and unit, on every machine."""
    return int.from_bytes(_digest(salt, unit)[:8], "big") / 2.0**64 * _TOTAL


def unit_hash(salt: str, unit: str) -> str:
    """What the request log stores for a unit id: 32 hex digits of the salted digest."""
    return _digest(salt, unit).hex()[:32]


@attrs.frozen
class TrafficSplit:
    """The weights of a model's aliases, the shadow aliases and the salt.

    :param model: the registered model name.
    :param weights: ``(alias, percent)`` pairs sorted by alias; the percents sum to 100.
    :param shadows: aliases that get a mirrored copy of every request (answers logged, never
        returned).
    :param salt: mixed into every unit's hash (an experiment sets its own; default: the name).
    """

    model: str
    weights: tuple[tuple[str, float], ...]
    shadows: tuple[str, ...] = ()
    salt: str = ""

    @classmethod
    def of(
        cls,
        model: str,
        weights: Mapping[str, float],
        shadows: Iterable[str] = (),
        salt: str | None = None,
    ) -> TrafficSplit:
        """A checked split: valid aliases, weights in [0, 100] summing to 100."""
        from modelops_core.registry.model_registry import validate_alias

        if not weights:
            raise TrafficError(f"The traffic split of {model!r} names no alias; give ALIAS=WEIGHT.")
        pairs = []
        for alias, weight in sorted(weights.items()):
            _check_alias(alias, model, validate_alias)
            ok = isinstance(weight, int | float) and not isinstance(weight, bool)
            if not ok or not math.isfinite(weight) or not 0 <= weight <= _TOTAL:
                raise TrafficError(
                    f"The weight of {alias!r} in the traffic split of {model!r} must be a "
                    f"number from 0 to 100, got {weight!r}."
                )
            pairs.append((alias, float(weight)))
        total = math.fsum(weight for _, weight in pairs)
        if abs(total - _TOTAL) > _TOLERANCE:
            shown = " + ".join(f"{alias}={weight:g}" for alias, weight in pairs)
            raise TrafficError(
                f"The weights of {model!r} sum to {total:g}, not 100 ({shown}); give weights "
                "that add up to 100, e.g. production=80 candidate=20."
            )
        shadow_list = sorted(set(shadows))
        for alias in shadow_list:
            _check_alias(alias, model, validate_alias)
            if alias in weights:
                raise TrafficError(
                    f"{alias!r} of {model!r} is both weighted and a shadow; a shadow gets copies "
                    "of requests and answers none, so give it no weight."
                )
        return cls(model, tuple(pairs), tuple(shadow_list), salt if salt else model)

    @classmethod
    def default(cls, model: str) -> TrafficSplit:
        """100 % to ``production``."""
        return cls(model, ((DEFAULT_ALIAS, _TOTAL),), (), model)

    def aliases(self) -> list[str]:
        """The weighted aliases then the shadows."""
        return [alias for alias, _ in self.weights] + list(self.shadows)

    def assign(self, unit: str | None, draw: float | None = None) -> str:
        """The alias that answers ``unit`` (``draw`` in [0, 100) when there is no unit)."""
        if unit is not None:
            point = unit_point(self.salt, unit)
        elif draw is not None:
            point = draw
        else:
            import random

            point = random.random() * _TOTAL
        reached = 0.0
        chosen = self.weights[-1][0]
        for alias, weight in self.weights:
            reached += weight
            if point < reached and weight > 0:
                return alias
            if weight > 0:
                chosen = alias
        return chosen  # rounding at the top end: the last alias with weight

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "weights": dict(self.weights),
            "shadows": list(self.shadows),
            "salt": self.salt,
        }


def _check_alias(alias: str, model: str, validate: Any) -> None:
    from modelops_core.store.contract import InvalidModelNameError

    try:
        validate(alias)
    except InvalidModelNameError as exc:
        raise TrafficError(f"In the traffic split of {model!r}: {exc}") from exc


def parse_weights(pairs: Iterable[str]) -> dict[str, float]:
    """``["production=80", "candidate=20"]`` -> ``{"production": 80.0, "candidate": 20.0}``."""
    weights: dict[str, float] = {}
    for pair in pairs:
        alias, sign, text = pair.partition("=")
        try:
            weight = float(text)
        except ValueError:
            weight = math.nan
        if not sign or not alias or not math.isfinite(weight):
            raise TrafficError(
                f"{pair!r} is not ALIAS=WEIGHT; write e.g. production=80 candidate=20."
            )
        if alias in weights:
            raise TrafficError(f"{alias!r} is given twice ({pair!r}); give each alias once.")
        weights[alias] = weight
    return weights


class TrafficTable:
    """The stored splits (read and written from code as by ``modelops traffic``).

    :param runtime: its configuration chooses the serving database; its registry checks that
        the aliases exist.
    :param database: a database to use instead (the server passes its own).
    """

    def __init__(
        self, runtime: Runtime | None = None, *, database: ServingDatabase | None = None
    ) -> None:
        if runtime is None and database is None:
            from modelops_core.runtime import Runtime

            runtime = Runtime()
        self.runtime = runtime
        if database is None:
            assert runtime is not None
            from modelops_core.serving.database import ServingDatabase
            from modelops_core.serving.settings import serving_settings

            settings = serving_settings(runtime.config)
            database = ServingDatabase(settings.database, settings.schema)
        self.database = database

    def set(
        self,
        model: str,
        weights: Mapping[str, float],
        *,
        shadows: Iterable[str] = (),
        salt: str | None = None,
        actor: str = "",
    ) -> TrafficSplit:
        """Store the split of ``model`` (checked against the registry's aliases first)."""
        from modelops_core.registry.model_registry import validate_model_name

        validate_model_name(model)
        split = TrafficSplit.of(model, weights, shadows, salt)
        if self.runtime is not None:
            self._check_aliases_exist(split)
        self.database.execute(
            f"INSERT INTO {self.database.traffic_table} "
            "(model, weights, shadows, salt, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (model) DO UPDATE SET weights = excluded.weights, "
            "shadows = excluded.shadows, salt = excluded.salt, "
            "updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            (model, json.dumps(dict(split.weights)), json.dumps(list(split.shadows)), split.salt,
             time.time(), actor),
        )  # fmt: skip
        return split

    def _check_aliases_exist(self, split: TrafficSplit) -> None:
        from modelops_core.registry.model_registry import ModelRegistry

        assert self.runtime is not None
        with ModelRegistry(self.runtime) as registry:
            if split.model not in registry.list_models():
                from modelops_core.serving.errors import UnknownModelError

                known = ", ".join(registry.list_models()) or "none"
                raise UnknownModelError(
                    f"No registered model {split.model!r} (registered: {known}); register it "
                    "before splitting its traffic."
                )
            existing = registry.aliases(split.model)
        missing = [alias for alias in split.aliases() if alias not in existing]
        if missing:
            shown = ", ".join(f"{a} -> {v}" for a, v in sorted(existing.items())) or "none"
            raise TrafficError(
                f"{split.model} has no alias {', '.join(repr(m) for m in missing)} (its aliases: "
                f"{shown}). Set it first: modelops registry alias set {split.model} "
                f"{missing[0]} VERSION."
            )

    def get(self, model: str) -> TrafficSplit:
        """The split of ``model`` (100 % ``production`` when none is stored)."""
        rows = self.database.execute(
            f"SELECT model, weights, shadows, salt FROM {self.database.traffic_table} "
            "WHERE model = ?",
            (model,),
        )
        return split_from_row(rows[0]) if rows else TrafficSplit.default(model)

    def all(self) -> dict[str, TrafficSplit | TrafficError]:
        """Every stored split by model; a damaged row gives the error that names it."""
        rows = self.database.execute(
            f"SELECT model, weights, shadows, salt FROM {self.database.traffic_table}"
        )
        found: dict[str, TrafficSplit | TrafficError] = {}
        for row in rows:
            try:
                found[str(row[0])] = split_from_row(row)
            except TrafficError as exc:
                found[str(row[0])] = exc
        return found

    def clear(self, model: str) -> None:
        """Remove the split of ``model`` (back to 100 % ``production``)."""
        self.database.execute(
            f"DELETE FROM {self.database.traffic_table} WHERE model = ?", (model,)
        )

    def close(self) -> None:
        self.database.close()

    def __enter__(self) -> TrafficTable:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def split_from_row(row: tuple[Any, ...]) -> TrafficSplit:
    """A stored row as a checked split; a row nobody could have stored raises TrafficError."""
    model, weights, shadows, salt = row
    try:
        decoded_weights = json.loads(weights)
        decoded_shadows = json.loads(shadows)
        if not isinstance(decoded_weights, dict) or not isinstance(decoded_shadows, list):
            raise ValueError("weights must be a JSON object and shadows a JSON list")
        if not all(isinstance(alias, str) for alias in decoded_shadows):
            raise ValueError("shadows must be alias names")
    except (TypeError, ValueError) as exc:
        raise TrafficError(
            f"The stored traffic split of {model!r} is damaged ({exc}); set it again with "
            f"modelops traffic set {model} ALIAS=WEIGHT ..."
        ) from exc
    try:
        return TrafficSplit.of(str(model), decoded_weights, decoded_shadows, salt or None)
    except TrafficError as exc:
        raise TrafficError(
            f"The stored traffic split of {model!r} is invalid: {exc} Set it again with "
            f"modelops traffic set {model} ALIAS=WEIGHT ..."
        ) from exc
