"""Request validation exactly per ranking-api-v1-recommend.txt."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from reco.schemas.ranking import MAX_CANDIDATES, RecommendRequest

BASE: dict[str, Any] = {"user_id": "u1", "item_ids": ["a"], "model_id": "test_model_item_200"}


def errors_of(payload: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        RecommendRequest.model_validate(payload)
    return str(caught.value)


def test_user_or_session_either_or_both() -> None:
    assert RecommendRequest.model_validate({**BASE}).user_id == "u1"
    only_session = {k: v for k, v in BASE.items() if k != "user_id"} | {"session_id": "s1"}
    assert RecommendRequest.model_validate(only_session).session_id == "s1"
    assert "provide user_id, session_id, or both" in errors_of({k: v for k, v in BASE.items() if k != "user_id"})


def test_item_ids_and_items_are_mutually_exclusive_and_one_is_required() -> None:
    assert "exactly one of item_ids or items" in errors_of({**BASE, "items": [{"id": "a"}]})
    assert "exactly one of item_ids or items" in errors_of({k: v for k, v in BASE.items() if k != "item_ids"})


def test_model_name_is_a_legacy_alias_of_model_id() -> None:
    legacy = {**{k: v for k, v in BASE.items() if k != "model_id"}, "model_name": "m"}
    assert RecommendRequest.model_validate(legacy).model == "m"
    assert "different models" in errors_of({**BASE, "model_name": "other"})
    assert "provide model_id" in errors_of({k: v for k, v in BASE.items() if k != "model_id"})


@pytest.mark.parametrize(
    ("attributes", "ok"),
    [
        ({"price": 34.99, "stock": 12, "on_sale": True, "tags": ["a", "b"], "brand": "x"}, True),
        ({"nested": {"a": 1}}, False),
        ({"mixed": ["a", 1]}, False),
        ({"none": None}, False),
        ({"": 1}, False),
    ],
)
def test_attribute_values_are_strings_numbers_booleans_or_string_arrays(attributes: dict[str, Any], ok: bool) -> None:
    payload = {**{k: v for k, v in BASE.items() if k != "item_ids"}, "items": [{"id": "a", "attributes": attributes}]}
    if ok:
        assert RecommendRequest.model_validate(payload).items[0].attributes == attributes  # type: ignore[index]
    else:
        errors_of(payload)


def test_booleans_stay_booleans_and_numbers_stay_numbers() -> None:
    payload = {
        **{k: v for k, v in BASE.items() if k != "item_ids"},
        "items": [{"id": "a", "attributes": {"flag": True, "n": 1, "x": 1.5}}],
    }
    attributes = RecommendRequest.model_validate(payload).items[0].attributes  # type: ignore[index]
    assert [type(v) for v in attributes.values()] == [bool, int, float]


@pytest.mark.parametrize(
    "change",
    [
        {"limit": 0},
        {"limit": "10"},
        {"limit": True},
        {"item_ids": []},
        {"item_ids": [""]},
        {"item_ids": [7]},
        {"item_ids": ["x"] * (MAX_CANDIDATES + 1)},
        {"user_id": 42},
        {"user_id": "u" * 257},
        {"context": "mobile"},
        {"unknown_field": 1},
    ],
)
def test_out_of_contract_values_are_rejected(change: dict[str, Any]) -> None:
    errors_of({**BASE, **change})


def test_limit_is_a_maximum_without_an_upper_bound() -> None:
    assert RecommendRequest.model_validate({**BASE, "limit": 5000}).limit == 5000


def test_a_bad_attribute_value_is_one_error_that_says_what_is_allowed() -> None:
    payload = {**{k: v for k, v in BASE.items() if k != "item_ids"}, "items": [{"id": "a", "attributes": {"x": None}}]}
    with pytest.raises(ValidationError) as caught:
        RecommendRequest.model_validate(payload)
    (error,) = caught.value.errors()
    assert error["loc"] == ("items", 0, "attributes", "x")
    assert "a string, a number, a boolean or an array of strings" in error["msg"]


def test_items_without_attributes_and_with_unknown_keys() -> None:
    payload = {**{k: v for k, v in BASE.items() if k != "item_ids"}, "items": [{"id": "a"}]}
    assert RecommendRequest.model_validate(payload).candidates()[0].attributes == {}
    payload["items"] = [{"id": "a", "price": 3}]
    assert "price" in errors_of(payload)
