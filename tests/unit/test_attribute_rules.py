"""Attribute rules: boost / demote on a condition, price-like preferences, catalog fallback."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from reco.schemas.models import ModelDefinition
from reco.serving.attributes import parse_rules

SCORES = np.array([0.9, 0.8, 0.7, 0.6], dtype=np.float32)  # range 0.3


def test_demote_moves_out_of_stock_items_down_by_the_weighted_score_range() -> None:
    rules = parse_rules({"stock": {"effect": "demote", "when": {"op": "eq", "value": 0}, "weight": 1.0}})
    attrs = [{"stock": 0}, {"stock": 3}, {"stock": 0.0}, {}]
    adjusted = rules.apply(SCORES, attrs)
    np.testing.assert_allclose(adjusted, [0.6, 0.8, 0.4, 0.6], atol=1e-6)


def test_boost_on_a_boolean_never_matches_numbers() -> None:
    rules = parse_rules({"on_sale": {"effect": "boost", "when": {"op": "eq", "value": True}, "weight": 0.5}})
    adjusted = rules.apply(SCORES, [{"on_sale": True}, {"on_sale": 1}, {"on_sale": False}, {"on_sale": "true"}])
    np.testing.assert_allclose(adjusted, [1.05, 0.8, 0.7, 0.6], atol=1e-6)


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("gt", 10, [False, True, False, False]),
        ("lte", 10, [True, False, False, False]),
        ("neq", "red", [True, True, False, True]),
        ("in", ["red", "blue"], [False, False, True, True]),
        ("exists", None, [True, True, True, True]),
    ],
)
def test_conditions(op: str, value: object, expected: list[bool]) -> None:
    when = {"op": op} if value is None else {"op": op, "value": value}
    rules = parse_rules({"x": {"effect": "boost", "when": when, "weight": 1.0}})
    attrs = [{"x": 5}, {"x": 20}, {"x": "red"}, {"x": ["blue", "green"]}]
    boosted = rules.apply(np.zeros(4, dtype=np.float32), attrs) > 0
    assert boosted.tolist() == expected


def test_prefer_lower_scales_over_the_candidates_and_ignores_missing_values() -> None:
    rules = parse_rules({"price": {"effect": "prefer_lower", "weight": 1.0}})
    adjusted = rules.apply(np.zeros(4, dtype=np.float32), [{"price": 10}, {"price": 30}, {"price": 20}, {}])
    np.testing.assert_allclose(adjusted, [1.0, 0.0, 0.5, 0.0], atol=1e-6)  # all-equal scores: unit range


def test_the_catalog_backs_attributes_the_request_does_not_carry() -> None:
    rules = parse_rules({"stock": {"effect": "demote", "when": {"op": "eq", "value": 0}, "weight": 1.0}})
    adjusted = rules.apply(SCORES, [{}, {"stock": 5}, {}, {}], {"stock": [0, 0, 4, None]})
    np.testing.assert_allclose(adjusted, [0.6, 0.8, 0.7, 0.6], atol=1e-6)  # the request's 5 wins over 0


def test_no_rules_leaves_scores_untouched() -> None:
    assert parse_rules({}).apply(SCORES, [{}] * 4) is SCORES


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"effect": "demote", "weight": 1}, "needs a 'when' condition"),
        ({"effect": "prefer_lower", "when": {"op": "eq", "value": 1}}, "takes no 'when' condition"),
        ({"effect": "boost", "when": {"op": "gt", "value": "cheap"}}, "compares numbers"),
        ({"effect": "boost", "when": {"op": "in", "value": "red"}}, "needs an array of strings"),
        ({"effect": "boost", "when": {"op": "eq"}}, "needs a value"),
        ({"effect": "boost", "when": {"op": "eq", "value": 1}, "weight": 0}, "greater than 0"),
    ],
)
def test_bad_rules_are_rejected_with_what_to_fix(rule: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ModelDefinition.model_validate({"recipe": "als", "attributes": {"x": rule}})


def test_params_are_checked_against_the_recipe() -> None:
    with pytest.raises(ValidationError, match="factor"):
        ModelDefinition.model_validate({"recipe": "als", "params": {"factor": 8}})
    assert ModelDefinition.model_validate({"recipe": "als"}).params == {}
