"""The recipe catalogue: names a tenant can put in a model definition, and their parameter rules.

Params arrive from a JSON API, so they are checked here — unknown keys, wrong types and values out of
range — with messages that name the offending key and what is allowed, before any training starts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from reco.models.als import ALS
from reco.models.base import Recommender
from reco.models.ease import EASE
from reco.models.interactions import Interactions
from reco.models.knn import ItemKNN
from reco.models.popularity import Popularity, Trending
from reco.models.sequential_rules import SequentialRules
from reco.models.session_knn import SessionKNN

RECIPES: dict[str, type[Recommender]] = {
    "popularity": Popularity,
    "trending": Trending,
    "item_knn": ItemKNN,
    "als": ALS,
    "ease": EASE,
    "session_knn": SessionKNN,
    "sequential_rules": SequentialRules,
}
# Recipes that read a history as a sequence: made for sessions (next click), usable for users too.
SESSION_RECIPES = frozenset(name for name, cls in RECIPES.items() if cls.ORDERED_HISTORY)


def _type_name(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number"}.get(type(value), type(value).__name__)


MAX_INTEGER_DIGITS = 38


def _coerce(recipe: str, key: str, value: Any, default: Any) -> Any:
    """``value`` converted to the type of ``default``; ints are accepted where numbers are."""
    where = f"{recipe} param '{key}'"
    if isinstance(value, int) and not isinstance(value, bool) and len(str(abs(value))) > MAX_INTEGER_DIGITS:
        # float() of such an integer overflows: refuse it before any conversion.
        raise ValueError(f"{where} is out of range: integers have at most {MAX_INTEGER_DIGITS} digits")
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{where} must be a boolean, got {value!r}")
        return value
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(default, int):
        # Checked as a float first: int(inf) or int(nan) would raise something other than ValueError.
        if not numeric or not math.isfinite(float(value)) or float(value) != int(value):
            raise ValueError(f"{where} must be an integer, got {value!r}")
        return int(value)
    if isinstance(default, float):
        if not numeric or not math.isfinite(float(value)):
            raise ValueError(f"{where} must be a finite number, got {value!r}")
        return float(value)
    if not isinstance(value, type(default)):
        raise ValueError(f"{where} must be a {_type_name(default)}, got {value!r}")
    return value


def resolve_params(recipe: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The recipe's defaults overridden by ``params``, validated; raises ValueError otherwise."""
    if recipe not in RECIPES:
        raise ValueError(f"unknown recipe {recipe!r}; allowed: {', '.join(sorted(RECIPES))}")
    cls = RECIPES[recipe]
    given = dict(params or {})
    unknown = sorted(set(given) - set(cls.DEFAULT_PARAMS))
    if unknown:
        allowed = ", ".join(sorted(cls.DEFAULT_PARAMS)) or "none"
        raise ValueError(f"unknown {recipe} param {unknown[0]!r}; allowed params: {allowed}")
    resolved = dict(cls.DEFAULT_PARAMS)
    for key, value in given.items():
        resolved[key] = _coerce(recipe, key, value, cls.DEFAULT_PARAMS[key])
        choices = cls.PARAM_CHOICES.get(key)
        if choices is not None:
            if resolved[key] not in choices:
                raise ValueError(f"{recipe} param {key!r} must be one of {', '.join(choices)}, got {value!r}")
            continue
        low, high = cls.PARAM_RANGES.get(key, (float("-inf"), float("inf")))
        if not isinstance(resolved[key], bool) and not low <= resolved[key] <= high:
            raise ValueError(f"{recipe} param {key!r} must be between {low:g} and {high:g}, got {value!r}")
    return resolved


def fit_recipe(recipe: str, params: Mapping[str, Any] | None, interactions: Interactions) -> Recommender:
    """A trained model of ``recipe`` with validated ``params``."""
    return RECIPES[recipe](resolve_params(recipe, params)).fit(interactions)
