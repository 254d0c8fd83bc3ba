"""``metadata_filters`` of GET /scenarios/: the URL-compatible parser and the matcher."""

from __future__ import annotations

from typing import Any

import pytest

from reco.errors import WrongParameter
from reco.scenarios.metadata_filters import MetadataFilter, matches, parse_metadata_filter, parse_metadata_filters


@pytest.mark.parametrize(
    ("text", "keys", "op", "value"),
    [
        ("configs.level:eq:5", ("configs", "level"), "eq", 5),
        ("mode:eq:read", ("mode",), "eq", "read"),
        ("mode:EQ:read", ("mode",), "eq", "read"),
        ("score:gte:2.5", ("score",), "gte", 2.5),
        ("flag:eq:true", ("flag",), "eq", True),
        ('name:eq:"5"', ("name",), "eq", "5"),
        ("owner:eq:null", ("owner",), "eq", None),
        ("tags:eq:[1, 2]", ("tags",), "eq", [1, 2]),
        ("at:lt:12:30", ("at",), "lt", "12:30"),  # the value is everything after the op
        ("note:eq:", ("note",), "eq", ""),
        ("x:eq:NaN", ("x",), "eq", "NaN"),  # not a JSON number: the text itself
        (r"a\.b.c:eq:1", ("a.b", "c"), "eq", 1),
        (r"a\\.b:eq:1", ("a\\", "b"), "eq", 1),
        (r"a\\\.b:eq:1", ("a\\.b",), "eq", 1),
        (r"a\:b:eq:1", ("a:b",), "eq", 1),
        (r"\x\y:eq:1", ("xy",), "eq", 1),
    ],
)
def test_filters_parse(text: str, keys: tuple[str, ...], op: str, value: Any) -> None:
    assert parse_metadata_filter(text) == MetadataFilter(keys, op, value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("mode", "no ':' after the keys"),
        ("mode:eq", "no ':' between the op and the value"),
        ("mode:like:x", "unknown op 'like'"),
        ("mode:in:[1]", "unknown op 'in'"),
        (":eq:1", "a key is empty"),
        ("a..b:eq:1", "a key is empty"),
        ("a.:eq:1", "a key is empty"),
        ("mode\\", "it ends with a lone '\\'"),
    ],
)
def test_bad_syntax_names_the_filter_and_the_form(text: str, reason: str) -> None:
    with pytest.raises(WrongParameter) as bad:
        parse_metadata_filter(text)
    assert bad.value.message.startswith(f"metadata filter '{text}' is not valid: {reason}; expected keys:op:value")
    assert bad.value.data == {"metadata_filter": text}


METADATA = {
    "configs": {"level": 5, "ratio": 0.5, "name": "beta", "on": True, "list": [1, "a"], "deep": {"x.y": 1}},
    "mode": "read",
    "nothing": None,
}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (["configs.level:eq:5"], True),
        (["configs.level:eq:5.0"], True),
        (["configs.level:eq:6"], False),
        (['configs.level:eq:"5"'], False),
        (["configs.on:eq:true"], True),
        (["configs.on:eq:1"], False),  # a boolean is not a number
        (["configs.level:eq:true"], False),
        (['configs.list:eq:[1, "a"]'], True),
        (['configs.list:eq:[true, "a"]'], False),
        (["nothing:eq:null"], True),
        (["missing:eq:null"], False),  # a missing key matches nothing
        (["configs.level:gt:4", "configs.level:lte:5"], True),
        (["configs.level:gt:4", "mode:eq:write"], False),  # AND
        (["configs.ratio:lt:1"], True),
        (["configs.name:gte:alpha", "configs.name:lt:gamma"], True),
        (["configs.name:gt:5"], False),  # a string and a number do not compare
        (["configs.on:gt:0"], False),  # nor a boolean and a number
        (["configs.level.deeper:eq:5"], False),  # a number has no keys
        (["configs:eq:5"], False),
        ([r"configs.deep.x\.y:eq:1"], True),
        ([], True),
    ],
)
def test_filters_match_nested_metadata(filters: list[str], expected: bool) -> None:
    assert matches(METADATA, parse_metadata_filters(filters)) is expected


def test_scenarios_without_metadata_match_only_no_filter() -> None:
    assert matches(None, []) is True
    assert matches(None, parse_metadata_filters(["mode:eq:read"])) is False
