"""Per-item attributes wired into ranking inference: a model's boost / demote / preference rules.

A rule reads its attribute from the request's candidate (``items[].attributes``), else from the
catalog columns the artifact was trained with. Names the model has no rule for are ignored, as the
ranking reference says. Adjustments are fractions of the candidates' score range, so a rule means
the same whatever the recipe's score scale.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import TypeAdapter

from reco.models.columns import ItemColumns, column_key
from reco.schemas.attribute_rules import AttributeRule, Condition

_RULES = TypeAdapter(dict[str, AttributeRule])
_MISSING = object()


@dataclass(frozen=True)
class AttributeRules:
    rules: tuple[tuple[str, AttributeRule], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.rules)

    def names(self) -> list[str]:
        return [name for name, _ in self.rules]

    def apply(
        self,
        scores: np.ndarray,
        request_attributes: Sequence[Mapping[str, Any]],
        catalog_values: Mapping[str, Sequence[Any]] | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> np.ndarray:
        """``scores`` adjusted by every rule that applies in the request's ``context``;
        ``catalog_values[name][i]`` backs a candidate's missing attribute."""
        if not self.rules or scores.size == 0:
            return scores
        finite = scores[np.isfinite(scores)]
        spread = float(finite.max() - finite.min()) if finite.size else 0.0
        unit = spread if spread > 0 else 1.0
        adjusted = scores.astype(np.float32, copy=True)
        for name, rule in self.rules:
            if rule.context and not all(
                _holds(condition, _context_value(context, path)) for path, condition in rule.context.items()
            ):
                continue
            fallback = (catalog_values or {}).get(name)
            values = [
                attrs.get(name, fallback[i] if fallback is not None else None)
                for i, attrs in enumerate(request_attributes)
            ]
            adjusted += np.float32(rule.weight * unit) * _signal(rule, values)
        return adjusted


def catalog_values(columns: ItemColumns, names: Sequence[str], rows: np.ndarray) -> dict[str, list[Any]]:
    """Each rule's catalog property for each candidate row (``None`` where unknown): the request's fallback."""
    found: dict[str, list[Any]] = {}
    known = rows >= 0
    safe = np.where(known, rows, 0)
    for name in names:
        try:
            kind = columns.kind(name)
        except KeyError:
            continue
        key = column_key(name)
        column = columns.columns[key]
        if kind == "number":
            values: list[Any] = [None if math.isnan(v) else v for v in column[safe].astype(float).tolist()]
        elif kind == "bool":
            values = [None if v < 0 else bool(v) for v in column[safe].tolist()]
        elif kind == "string":
            vocab = columns.columns[f"{key}/vocab"]
            values = [None if c < 0 else str(vocab[c]) for c in column[safe].tolist()]
        else:
            vocab, indptr = columns.columns[f"{key}/vocab"], columns.columns[f"{key}/indptr"]
            values = [[str(vocab[c]) for c in column[indptr[r] : indptr[r + 1]]] for r in safe.tolist()]
        found[name] = [v if ok else None for v, ok in zip(values, known.tolist(), strict=True)]
    return found


def parse_rules(attributes: Mapping[str, Any]) -> AttributeRules:
    """Rules from a stored definition (validated when the model was defined)."""
    return AttributeRules(tuple(sorted(_RULES.validate_python(dict(attributes)).items())))


def _signal(rule: AttributeRule, values: list[Any]) -> np.ndarray:
    """Per candidate: +1/-1 (boost/demote when the condition holds) or a 0..1 preference."""
    if rule.effect in {"boost", "demote"}:
        assert rule.when is not None
        hits = np.fromiter((_holds(rule.when, v) for v in values), dtype=bool, count=len(values))
        return hits.astype(np.float32) * (1.0 if rule.effect == "boost" else -1.0)
    numbers = np.fromiter((_number(v) for v in values), dtype=np.float64, count=len(values))
    known = np.isfinite(numbers)
    signal = np.zeros(len(values), dtype=np.float32)
    if known.any():
        low, high = numbers[known].min(), numbers[known].max()
        span = high - low if high > low else 1.0
        scaled = (high - numbers[known]) / span if rule.effect == "prefer_lower" else (numbers[known] - low) / span
        signal[known] = scaled
    return signal


def _context_value(context: Mapping[str, Any] | None, path: str) -> Any:
    """``context["geo"]["country"]`` for ``geo.country``; ``None`` where the path leads nowhere."""
    value: Any = context or {}
    for key in path.split("."):
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return value


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    return float(value)


def _holds(condition: Condition, value: Any) -> bool:
    op, target = condition.op, condition.value
    if value is None:
        return False
    if op == "exists":
        return True
    if op in {"eq", "neq"}:
        # 1 == True in Python; an attribute of another type is never equal.
        same = type(value) is type(target) or (_number(value) == _number(target) and not isinstance(value, bool))
        equal = bool(same and value == target)
        return equal if op == "eq" else not equal
    if op == "in":
        assert isinstance(target, list)
        return value in target if isinstance(value, str) else bool(isinstance(value, list) and set(value) & set(target))
    left, right = _number(value), _number(target)
    if math.isnan(left):
        return False
    return {"gt": left > right, "gte": left >= right, "lt": left < right, "lte": left <= right}[op]
