"""List filters (shorthand, scope, context defaults): parsing tables, and masks against a brute-force reading."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reco.errors import MalformedFilter
from reco.lists.filters import (
    MAX_FILTERS,
    ListFilter,
    check_filter_count,
    describe,
    filters_mask,
    parse_filter,
    parse_scope,
    parse_scope_filters,
    typed_filter,
)
from reco.models.columns import ItemColumns, build_item_columns
from reco.models.text_index import TextIndex, build_text_index
from reco.scenarios.filter_rules import FILTER_OPS

N_ITEMS = 300
BRANDS = ["Acme", "acme", "Zeta", "beta", "a:b", "x|y", "back\\slash", "Ω-corp"]
TAGS = ["red", "blue", "sale", "Red", "big sale", "a|b"]
WORDS = ["desk", "Lamp", "lamp", "chair", "Café", "red", "oak"]
SUBTYPES = ["a=b", ">x", "plain", "~t"]


def _catalog() -> tuple[list[str], dict[str, dict[str, Any]]]:
    rng = np.random.default_rng(20240611)
    ids = [f"i{k:03d}" for k in range(N_ITEMS)]
    properties: dict[str, dict[str, Any]] = {}
    for k, item in enumerate(ids):
        if k % 41 == 0:
            continue  # an item the catalog knows nothing about
        props: dict[str, Any] = {}
        if rng.random() < 0.85:
            props["qty"] = int(rng.integers(-2, 10))
        if rng.random() < 0.85:
            props["price"] = round(float(rng.uniform(0, 60)), 2) if rng.random() < 0.8 else int(rng.integers(0, 60))
        if rng.random() < 0.8:
            props["active"] = bool(rng.random() < 0.5)
        props["brand"] = str(rng.choice(BRANDS)) if rng.random() < 0.85 else None
        if rng.random() < 0.8:
            props["date"] = f"2024-{int(rng.integers(1, 13)):02d}-{int(rng.integers(1, 29)):02d}"
        if rng.random() < 0.7:
            props["time"] = str(rng.choice(["09:00", "12:30", "18:45"]))
        roll = rng.random()
        if roll < 0.15:
            props["tags"] = []
        elif roll < 0.25:
            props["tags"] = str(rng.choice(TAGS))  # a plain string is a one-element array
        elif roll < 0.9:
            chosen = [str(t) for t in rng.choice(TAGS, size=int(rng.integers(1, 4)), replace=False)]
            props["tags"] = tuple(chosen) if roll < 0.3 else chosen
        if rng.random() < 0.9:
            props["title"] = " ".join(str(w) for w in rng.choice(WORDS, size=int(rng.integers(0, 4))))
        if rng.random() < 0.7:
            props["meta.size"] = float(rng.integers(0, 10)) / 2
        if rng.random() < 0.7:
            props["sub-type"] = str(rng.choice(SUBTYPES))
        if rng.random() < 0.5:
            props["long name"] = str(rng.choice(["p q", "r"]))
        props["mixed"] = 1 if k % 2 else "one"  # mixed kinds: not a column
        properties[item] = props
    return ids, properties


IDS, PROPERTIES = _catalog()
COLUMNS = ItemColumns(build_item_columns(IDS, PROPERTIES), N_ITEMS)
TEXTS = TextIndex(build_text_index(IDS, PROPERTIES), N_ITEMS)
ARRAYS = {"tags"}
PRICES = sorted({p["price"] for p in PROPERTIES.values() if isinstance(p.get("price"), float)})
P1, P2 = PRICES[5], PRICES[-3]


def _tokens(text: str) -> set[str]:
    return set(re.findall(r"\w+", unicodedata.normalize("NFKC", text).lower()))


def _expected(raw: Any, op: str, value: Any, is_array: bool) -> bool:
    """The documented semantics, one item at a time."""
    elements = [] if raw is None else [raw] if isinstance(raw, str) or not is_array else list(raw)
    if op == "empty":
        return raw is None or (is_array and not elements)
    if op in ("notempty", "neq", "notin"):
        return not _expected(raw, {"notempty": "empty", "neq": "eq", "notin": "in"}[op], value, is_array)
    if raw is None:
        return False
    if op == "ftsearch":
        wanted, held = _tokens(value), set().union(*(_tokens(s) for s in elements))
        return bool(wanted) and wanted <= held
    checks: dict[str, Callable[[Any], bool]] = {
        "eq": lambda x: x == value,
        "in": lambda x: x in value,
        "lt": lambda x: x < value,
        "lte": lambda x: x <= value,
        "gt": lambda x: x > value,
        "gte": lambda x: x >= value,
    }
    return any(checks[op](x) for x in elements)


def _brute_force(name: str, op: str, value: Any) -> np.ndarray:
    return np.array(
        [_expected((PROPERTIES.get(item) or {}).get(name), op, value, name in ARRAYS) for item in IDS], dtype=bool
    )


# (shorthand, property, op, value as the brute force reads it)
SHORTHAND_CASES: list[tuple[str, str, str, Any]] = [
    ("qty:3", "qty", "eq", 3),
    ("qty=3", "qty", "eq", 3),
    ("AND:qty:3", "qty", "eq", 3),
    ("qty!=3", "qty", "neq", 3),
    ("qty>2", "qty", "gt", 2),
    ("qty>=2", "qty", "gte", 2),
    ("qty<0", "qty", "lt", 0),
    ("qty<=-1", "qty", "lte", -1),
    ("qty>=1e0", "qty", "gte", 1),
    ("qty<+.5e1", "qty", "lt", 5),
    ("qty:1|2|3", "qty", "in", [1, 2, 3]),
    ("qty!=1|2", "qty", "notin", [1, 2]),
    (f"price:{P1}", "price", "eq", P1),  # equality on a float property is allowed here
    (f"price!={P1}", "price", "neq", P1),
    (f"price:{P1}|{P2}", "price", "in", [P1, P2]),
    ("price>=19.99", "price", "gte", 19.99),
    ("price<10.5", "price", "lt", 10.5),
    ("active:true", "active", "eq", True),
    ("active=FALSE", "active", "eq", False),
    ("active!=true", "active", "neq", True),
    ("active:true|False", "active", "in", [True, False]),
    ("brand:Acme", "brand", "eq", "Acme"),
    ("brand:acme", "brand", "eq", "acme"),
    ("brand!=Acme", "brand", "neq", "Acme"),
    ("brand:a:b", "brand", "eq", "a:b"),
    ("brand:x\\|y", "brand", "eq", "x|y"),
    ("brand:back\\\\slash", "brand", "eq", "back\\slash"),
    ("brand:Acme|Zeta", "brand", "in", ["Acme", "Zeta"]),
    ("brand!=Acme|x\\|y", "brand", "notin", ["Acme", "x|y"]),
    ("brand>=b", "brand", "gte", "b"),
    ("brand<Z", "brand", "lt", "Z"),
    ("brand~ACME", "brand", "ftsearch", "ACME"),
    ("brand~corp", "brand", "ftsearch", "corp"),
    ("date>=2024-06-01", "date", "gte", "2024-06-01"),
    ("date<2024-03-15", "date", "lt", "2024-03-15"),
    ("date<=2024-03-15", "date", "lte", "2024-03-15"),
    ("date>2024-10", "date", "gt", "2024-10"),
    ("time:12:30", "time", "eq", "12:30"),
    ("time>=12:00", "time", "gte", "12:00"),
    ("tags:red", "tags", "eq", "red"),
    ("tags!=red", "tags", "neq", "red"),
    ("tags:red|blue", "tags", "in", ["red", "blue"]),
    ("tags!=red|blue", "tags", "notin", ["red", "blue"]),
    ("tags:a\\|b", "tags", "eq", "a|b"),
    ("tags>=s", "tags", "gte", "s"),
    ("tags~big sale", "tags", "ftsearch", "big sale"),
    ("tags~RED", "tags", "ftsearch", "RED"),
    ("title~desk lamp", "title", "ftsearch", "desk lamp"),
    ("title~LAMP", "title", "ftsearch", "LAMP"),
    ("title~café", "title", "ftsearch", "café"),
    ("meta.size>=2.5", "meta.size", "gte", 2.5),
    ("meta.size:1.5", "meta.size", "eq", 1.5),
    ("sub-type:a=b", "sub-type", "eq", "a=b"),
    ("sub-type=>x", "sub-type", "eq", ">x"),
    ("sub-type:~t", "sub-type", "eq", "~t"),
    ("sub-type!=~t", "sub-type", "neq", "~t"),
]
SUBSETS = [
    np.random.default_rng(7).choice(N_ITEMS, size=60, replace=False).astype(np.int64),
    np.array([5, 5, 0, N_ITEMS - 1, 41], dtype=np.int64),  # repeats and catalog-less items
    np.array([], dtype=np.int64),
]


def _raises(words: list[str], parameter: str, call: Any, *args: Any) -> MalformedFilter:
    with pytest.raises(MalformedFilter) as caught:
        call(*args)
    error = caught.value
    for word in words:
        assert word in error.message, (word, error.message)
    assert error.status_code == 400 and error.code == "MALFORMED_FILTER"
    assert error.data["parameter"] == parameter and len(error.data["filter"]) <= 200
    return error


# --- shorthand parsing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "op", "value", "logic"),
    [
        ("category:electronics", "category", "eq", "electronics", "and"),
        ("category=electronics", "category", "eq", "electronics", "and"),
        ("type!=comment", "type", "neq", "comment", "and"),
        ("price>10", "price", "gt", "10", "and"),
        ("price>=10", "price", "gte", "10", "and"),
        ("price<10", "price", "lt", "10", "and"),
        ("price<=10", "price", "lte", "10", "and"),
        ("title~desk lamp", "title", "ftsearch", "desk lamp", "and"),
        ("OR:brand:Acme", "brand", "eq", "Acme", "or"),
        ("or:brand:Acme", "brand", "eq", "Acme", "or"),
        ("Or:brand>=b", "brand", "gte", "b", "or"),
        ("AND:brand:Acme", "brand", "eq", "Acme", "and"),
        ("aNd:brand!=Acme", "brand", "neq", "Acme", "and"),
        ("OR:AND:x", "AND", "eq", "x", "or"),  # one prefix only: the rest is property AND
        ("or=x", "or", "eq", "x", "and"),  # a property named "or" without the prefix
        ("OR=x", "OR", "eq", "x", "and"),
        ("brand:Acme|Zeta", "brand", "in", ["Acme", "Zeta"], "and"),
        ("brand=Acme|Zeta|Beta", "brand", "in", ["Acme", "Zeta", "Beta"], "and"),
        ("OR:brand!=Acme|Zeta", "brand", "notin", ["Acme", "Zeta"], "or"),
        ("brand:x\\|y", "brand", "eq", "x|y", "and"),
        ("brand:x\\|y|z", "brand", "in", ["x|y", "z"], "and"),
        ("brand:a\\\\|b", "brand", "in", ["a\\", "b"], "and"),
        ("brand:a\\\\\\|b", "brand", "eq", "a\\|b", "and"),
        ("path>=C:\\\\dir", "path", "gte", "C:\\dir", "and"),
        ("time:12:30", "time", "eq", "12:30", "and"),
        ("a==b", "a", "eq", "=b", "and"),
        ("a:=b", "a", "eq", "=b", "and"),
        ("a=:b", "a", "eq", ":b", "and"),
        ("a:>5", "a", "eq", ">5", "and"),
        ("a>=>5", "a", "gte", ">5", "and"),
        ("a!==b", "a", "neq", "=b", "and"),
        ("a<>b", "a", "lt", ">b", "and"),
        ("a~x:y", "a", "ftsearch", "x:y", "and"),
        ("url:http://x.org/?a=1", "url", "eq", "http://x.org/?a=1", "and"),
        ("meta.size:1", "meta.size", "eq", "1", "and"),
        ("sub-type:a", "sub-type", "eq", "a", "and"),
        ("A_b.c-9:v", "A_b.c-9", "eq", "v", "and"),
        ("x: spaced ", "x", "eq", " spaced ", "and"),  # nothing is trimmed
        ("p" * 64 + ":v", "p" * 64, "eq", "v", "and"),
        ("n:é€", "n", "eq", "é€", "and"),
    ],
)
def test_shorthand_parses(text: str, name: str, op: str, value: Any, logic: str) -> None:
    rule = parse_filter(text)
    assert rule == ListFilter(name, op, value, logic, text, "filter")  # type: ignore[arg-type]
    assert rule.op in FILTER_OPS
    assert parse_filter(text, "context").source == "context"


def test_longest_filter_is_accepted() -> None:
    text = "title:" + "x" * 506
    assert len(text) == 512 and parse_filter(text).value == "x" * 506


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", ["is empty", "property:value"]),
        ("brand:", ["'brand:'", "value after brand: is empty"]),
        ("brand!=", ["value after brand!= is empty"]),
        ("OR:brand:", ["value after brand: is empty"]),
        ("brand", ["no operator after 'brand'", "brand:value"]),
        ("OR:brand", ["no operator after 'brand'"]),
        ("OR:x", ["no operator after 'x'"]),
        ("OR:", ["nothing follows the logic prefix 'OR:'"]),
        ("and:", ["nothing follows the logic prefix 'and:'"]),
        (":x", ["must start with a property name", "':'"]),
        ("=x", ["must start with a property name", "'='"]),
        ("OR::x", ["must start with a property name", "':'"]),
        (" brand:x", ["must start with a property name", "' '"]),
        ("é:1", ["must start with a property name", "'é'", "scope"]),
        ("bra nd:x", ["' ' after 'bra'", "property-name character", "operator"]),
        ("brand/x:y", ["'/' after 'brand'", "!= >= <= > < ~ : ="]),
        ("prix_é:1", ["'é' after 'prix_'", "scope"]),
        ("brand!x", ["'!' after 'brand'", "operator"]),
        ("p" * 65 + ":v", ["property name", "65 characters", "at most 64"]),
        ("brand:a\\x", ["unknown escape '\\x'", "character 2", "\\|", "\\\\"]),
        ("brand:\\n", ["unknown escape '\\n'", "character 1"]),
        ("brand:a\\", ["lone backslash at the end", "\\\\"]),
        ("brand:a\\\\\\", ["lone backslash at the end"]),
        ("brand:a||b", ["empty alternative", "\\|"]),
        ("brand:a|", ["empty alternative"]),
        ("brand:|a", ["empty alternative"]),
        ("brand!=|", ["empty alternative"]),
        ("price>1|2", ["a|b only works with :, = or !=", "not >"]),
        ("date<=a|b", ["not <="]),
        ("title~a|b", ["not ~"]),
        ("title~!!!", ["'!!!' has no words to search for"]),
        ("title~ ", ["no words"]),
        ("title:" + "x" * 507, ["513 characters long", "at most 512"]),
    ],
)
def test_malformed_shorthand_names_the_bad_part(text: str, words: list[str]) -> None:
    error = _raises(words, "filter", parse_filter, text)
    assert error.message.startswith("filter ")
    assert error.data["filter"] == text[:200]
    _raises(words, "context", parse_filter, text, "context")


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("|", "\\|")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.text(st.characters(codec="utf-8"), min_size=1, max_size=20), min_size=1, max_size=6),
    st.sampled_from([":", "=", "!="]),
    st.sampled_from(["", "OR:", "and:"]),
)
def test_escaped_values_read_back(values: list[str], symbol: str, prefix: str) -> None:
    rule = parse_filter(f"{prefix}prop.x-1{symbol}{'|'.join(_escape(v) for v in values)}")
    assert rule.property_name == "prop.x-1" and rule.logic == ("or" if prefix == "OR:" else "and")
    if len(values) == 1:
        assert (rule.op, rule.value) == ("neq" if symbol == "!=" else "eq", values[0])
    else:
        assert (rule.op, rule.value) == ("notin" if symbol == "!=" else "in", values)


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from("ab:=!<>~|\\.-_ Oo1R"), max_size=14))
def test_any_text_parses_to_a_valid_rule_or_is_malformed(text: str) -> None:
    try:
        rule = parse_filter(text)
    except MalformedFilter as error:
        assert error.message.startswith(f"filter {text!r}: ") and error.data == {"parameter": "filter", "filter": text}
        return
    assert re.fullmatch(r"[A-Za-z0-9_.\-]{1,64}", rule.property_name) and rule.op in FILTER_OPS
    assert text.endswith(rule.text) and rule.value and all(rule.value)


# --- scope parsing -------------------------------------------------------------------------------


def _scope(*filters: Any, **extra: Any) -> str:
    return json.dumps({"filters": list(filters), **extra}, ensure_ascii=False)


@pytest.mark.parametrize(
    ("operator", "op"),
    [
        *[(o, "eq") for o in ("eq", "=", "==", "equals", "EQ", "Equals")],
        *[(o, "neq") for o in ("neq", "!=", "not_equals", "NOT_EQUALS")],
        *[(o, "gt") for o in ("gt", ">", "GT")],
        *[(o, "gte") for o in ("gte", ">=")],
        *[(o, "lt") for o in ("lt", "<")],
        *[(o, "lte") for o in ("lte", "<=", "LtE")],
        *[(o, "ftsearch") for o in ("search", "ftsearch", "match", "MATCH")],
    ],
)
def test_scope_scalar_operators(operator: str, op: str) -> None:
    item = {"column": "brand", "operator": operator, "value": "acme"}
    filters, ignored = parse_scope(_scope(item))
    text = json.dumps(item, separators=(",", ":"))
    assert filters == [ListFilter("brand", op, "acme", "and", text, "scope")] and ignored == []


@pytest.mark.parametrize(
    ("operator", "op"), [("in", "in"), ("IN", "in"), *[(o, "notin") for o in ("not_in", "notin", "NIN")]]
)
def test_scope_list_operators(operator: str, op: str) -> None:
    (rule,) = parse_scope(_scope({"column": "qty", "operator": operator, "value": [1, "2", True]}))[0]
    assert (rule.property_name, rule.op, rule.value) == ("qty", op, [1, "2", True])


@pytest.mark.parametrize(
    ("item", "op"),
    [
        ({"column": "tags", "operator": "exists"}, "notempty"),
        ({"column": "tags", "operator": "NotEmpty", "value": None}, "notempty"),
        ({"column": "tags", "operator": "not_exists"}, "empty"),
        ({"column": "tags", "operator": "empty"}, "empty"),
    ],
)
def test_scope_operators_without_value(item: dict[str, Any], op: str) -> None:
    (rule,) = parse_scope(_scope(item))[0]
    assert (rule.op, rule.value) == (op, None)


def test_scope_logic_contains_ignored_keys_and_context() -> None:
    text = _scope(
        {"column": "tags", "operator": "Contains", "value": "red", "logic": "or"},
        {"column": "long name", "operator": "eq", "value": "p q", "logic": "AND"},
        {"column": "price", "operator": "gte", "value": 50.5, "logic": "Or"},
        boost={"a": 1},
        limit=3,
    )
    filters, ignored = parse_scope(text)
    assert ignored == ["boost", "limit"]
    assert [(f.property_name, f.op, f.value, f.logic, f.array_only) for f in filters] == [
        ("tags", "eq", "red", "or", True),
        ("long name", "eq", "p q", "and", False),
        ("price", "gte", 50.5, "or", False),
    ]
    assert filters[0].text == '{"column":"tags","operator":"Contains","value":"red","logic":"or"}'
    assert parse_scope("{}") == ([], []) and parse_scope('{"filters": null, "x": 1}') == ([], ["x"])
    assert parse_scope('{"filters": []}') == ([], [])
    context = parse_scope_filters([{"column": "brand", "operator": "eq", "value": "Acme"}], "context")
    assert context == [ListFilter("brand", "eq", "Acme", "and", context[0].text, "context")]


def _item(**fields: Any) -> dict[str, Any]:
    return {"column": "brand", "operator": "eq", "value": "x", **fields}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", ["scope ''", "not valid JSON", '{"filters": [']),
        ("category:electronics", ["not valid JSON", "character 1"]),
        ('{"filters": [}', ["not valid JSON", "character 14"]),
        ('{"filters": [{"column": "p", "operator": "eq", "value": NaN}]}', ["NaN is not a JSON number"]),
        ('{"filters": [{"column": "p", "operator": "gt", "value": -Infinity}]}', ["-Infinity is not a JSON number"]),
        ("[" * 3000 + "]" * 3000, ["not valid JSON"]),
        ("[]", ["must be a JSON object", "not a JSON array"]),
        ('"filters"', ["not a JSON string"]),
        ("3", ["not a JSON number"]),
        ("null", ["not a JSON null"]),
        ('{"filters": {"column": "p"}}', ["scope filters", "must be a JSON array", "not a JSON object"]),
        ('{"filters": "brand:x"}', ["must be a JSON array", "not a JSON string"]),
        (_scope(*[_item()] * 21), ["holds 21 filters", "at most 20"]),
        (_scope("brand:x"), ["scope filter #1", "must be an object", "not a JSON string"]),
        (_scope(_item(), [1]), ["scope filter #2", "not a JSON array"]),
        (_scope({"operator": "eq", "value": "x"}), ["missing 'column'"]),
        (_scope(_item(column=None)), ["missing 'column'"]),
        (_scope(_item(column="")), ["'column' must be a property name"]),
        (_scope(_item(column=3)), ["'column' must be a property name"]),
        (_scope(_item(column="p" * 65)), ["1 to 64 characters"]),
        (_scope({"column": "brand", "value": "x"}), ["missing 'operator'", "eq, =, ==, equals, contains"]),
        (_scope(_item(operator="like")), ['unknown operator "like"', "not_in", "search"]),
        (_scope(_item(operator="~")), ['unknown operator "~"']),
        (_scope(_item(operator=["eq"])), ['unknown operator ["eq"]']),
        (_scope(_item(op="eq")), ["unknown key 'op'", "column, operator, value and logic"]),
        (_scope(_item(values=["x"])), ["unknown key 'values'"]),
        (_scope(_item(logic="XOR")), ['\'logic\' must be "AND" or "OR"', '"XOR"']),
        (_scope(_item(logic=True)), ["'logic'", "true"]),
        (_scope({"column": "brand", "operator": "eq"}), ["missing 'value' for operator 'eq'", "not_exists"]),
        (_scope(_item(value=None)), ["missing 'value'"]),
        (_scope(_item(value=["a", "b"])), ["operator 'eq' takes a single value", "in (or not_in)"]),
        (_scope(_item(operator="gte", value=[1])), ["operator 'gte' takes a single value"]),
        (_scope(_item(operator="contains", value=["a"])), ["operator 'contains' takes a single value"]),
        (_scope(_item(value={"a": 1})), ["must be a string, number or boolean", "not a JSON object"]),
        (_scope(_item(operator="in", value="a")), ["operator 'in' needs a JSON array of 1 to 1000 values"]),
        (_scope(_item(operator="not_in", value=[])), ["operator 'not_in' needs a JSON array"]),
        (_scope(_item(operator="in", value=list(range(1001)))), ["1 to 1000 values"]),
        (_scope(_item(operator="nin", value=["a", None])), ["every value must be a string, number or boolean"]),
        (_scope(_item(operator="in", value=[["a"]])), ["every value must be"]),
        (_scope(_item(operator="exists", value="x")), ["operator 'exists' takes no value", "remove 'value'"]),
        (_scope(_item(operator="search", value="")), ["operator 'search' needs a string with at least one word"]),
        (_scope(_item(operator="match", value="?!")), ["at least one word"]),
        (_scope(_item(operator="ftsearch", value=3)), ["at least one word"]),
        (_scope(_item(value="x" * 8200)), ["bytes long", "at most 8192 (8 KiB)"]),
    ],
)
def test_malformed_scope_names_the_bad_part(text: str, words: list[str]) -> None:
    error = _raises(words, "scope", parse_scope, text)
    assert error.message.startswith("scope")


def test_scope_size_limit_is_8_kib_of_utf8() -> None:
    base = _scope(_item(value=""))
    fits = _scope(_item(value="x" * (8192 - len(base))))
    assert len(fits) == 8192 and parse_scope(fits)[0][0].value == "x" * (8192 - len(base))
    wide = _scope(_item(value="é" * 4100))  # under 8192 characters, over 8192 bytes
    assert len(wide) < 8192
    _raises([f"is {len(wide.encode())} bytes long", "at most 8192"], "scope", parse_scope, wide)


def test_scope_errors_carry_the_offending_filter() -> None:
    item = _item(operator="like", value="y" * 300)
    error = _raises(["scope filter #2"], "scope", parse_scope, _scope(_item(), item))
    assert error.data["filter"] == json.dumps(item, separators=(",", ":"))[:200]
    assert "..." in error.message and len(error.message) < 700
    error = _raises(["context filter #1", "unknown key 'x'"], "context", parse_scope_filters, [{"x": 1}], "context")
    assert error.data["filter"] == '{"x":1}'
    _raises(["context filters", "must be a JSON array"], "context", parse_scope_filters, {"a": 1}, "context")


# --- count ---------------------------------------------------------------------------------------


def test_at_most_20_filters_per_request() -> None:
    shorthand = [parse_filter(f"p{k}:x") for k in range(5)]
    scope = parse_scope(_scope(*[_item() for _ in range(MAX_FILTERS)]))[0]
    context = [parse_filter("c:y", "context")]
    check_filter_count(shorthand + scope[:15])
    check_filter_count([])
    assert MAX_FILTERS == 20
    error = _raises(
        ["too many filters: 26", "filter: 5", "scope: 20", "context: 1", "at most 20"],
        "scope",
        check_filter_count,
        shorthand + scope + context,
    )
    assert error.data["filter"] == scope[15].text
    _raises(["21"], "context", check_filter_count, [context[0]] * 21)


# --- evaluation ----------------------------------------------------------------------------------


def test_the_random_catalog_has_every_kind() -> None:
    kinds = {name: COLUMNS.kind(name) for name in COLUMNS.names()}
    assert kinds == {
        "active": "bool",
        "brand": "string",
        "date": "string",
        "long name": "string",
        "meta.size": "number",
        "price": "number",
        "qty": "number",
        "sub-type": "string",
        "tags": "strings",
        "time": "string",
        "title": "string",
    }
    assert COLUMNS.is_float("price") and not COLUMNS.is_float("qty")
    assert TEXTS.names() == ["brand", "date", "long name", "sub-type", "tags", "time", "title"]


@pytest.mark.parametrize(("text", "name", "op", "value"), SHORTHAND_CASES)
def test_shorthand_masks_match_brute_force(text: str, name: str, op: str, value: Any) -> None:
    expected = _brute_force(name, op, value)
    assert 0 < expected.sum() < N_ITEMS  # every case tells matching items from the others
    rule = parse_filter(text)
    mask = filters_mask([rule], COLUMNS, TEXTS)
    assert mask.dtype == np.bool_ and mask.shape == (N_ITEMS,)
    np.testing.assert_array_equal(mask, expected)
    for rows in SUBSETS:
        np.testing.assert_array_equal(filters_mask([rule], COLUMNS, TEXTS, rows), expected[rows])
    # The same rule as an OR filter alone, and from a context, selects the same items.
    np.testing.assert_array_equal(
        filters_mask([parse_filter("OR:" + text.removeprefix("AND:"), "context")], COLUMNS, TEXTS), expected
    )


@pytest.mark.parametrize(
    ("item", "name", "op", "value"),
    [
        ({"column": "price", "operator": "gte", "value": "50"}, "price", "gte", 50.0),
        ({"column": "price", "operator": ">", "value": 19.99}, "price", "gt", 19.99),
        ({"column": "price", "operator": "eq", "value": P1}, "price", "eq", P1),
        ({"column": "price", "operator": "!=", "value": str(P1)}, "price", "neq", P1),
        ({"column": "qty", "operator": "in", "value": [1, "2", 3.0]}, "qty", "in", [1, 2, 3]),
        ({"column": "qty", "operator": "nin", "value": [1, 2]}, "qty", "notin", [1, 2]),
        ({"column": "qty", "operator": "<=", "value": "-1e0"}, "qty", "lte", -1),
        ({"column": "active", "operator": "==", "value": True}, "active", "eq", True),
        ({"column": "active", "operator": "equals", "value": "FALSE"}, "active", "eq", False),
        ({"column": "active", "operator": "not_equals", "value": True}, "active", "neq", True),
        ({"column": "active", "operator": "not_exists"}, "active", "empty", None),
        ({"column": "tags", "operator": "contains", "value": "red"}, "tags", "eq", "red"),
        ({"column": "tags", "operator": "not_in", "value": ["red", "a|b"]}, "tags", "notin", ["red", "a|b"]),
        ({"column": "tags", "operator": "exists"}, "tags", "notempty", None),
        ({"column": "tags", "operator": "empty"}, "tags", "empty", None),
        ({"column": "brand", "operator": "exists"}, "brand", "notempty", None),
        ({"column": "brand", "operator": "in", "value": ["x|y", "a:b"]}, "brand", "in", ["x|y", "a:b"]),
        ({"column": "date", "operator": "lt", "value": "2024-05-01"}, "date", "lt", "2024-05-01"),
        ({"column": "title", "operator": "match", "value": "Desk"}, "title", "ftsearch", "Desk"),
        ({"column": "long name", "operator": "eq", "value": "p q"}, "long name", "eq", "p q"),
        ({"column": "long name", "operator": "search", "value": "Q"}, "long name", "ftsearch", "Q"),
        ({"column": "meta.size", "operator": "lte", "value": 1}, "meta.size", "lte", 1),
    ],
)
def test_scope_masks_match_brute_force(item: dict[str, Any], name: str, op: str, value: Any) -> None:
    expected = _brute_force(name, op, value)
    assert 0 < expected.sum() < N_ITEMS
    filters, _ = parse_scope(_scope(item))
    np.testing.assert_array_equal(filters_mask(filters, COLUMNS, TEXTS), expected)
    np.testing.assert_array_equal(filters_mask(filters, COLUMNS, TEXTS, SUBSETS[0]), expected[SUBSETS[0]])


def test_no_filters_pass_every_item() -> None:
    np.testing.assert_array_equal(filters_mask([], COLUMNS, TEXTS), np.ones(N_ITEMS, dtype=bool))
    assert filters_mask([], COLUMNS, TEXTS, SUBSETS[1]).tolist() == [True] * 5
    assert filters_mask([parse_filter("qty:3")], COLUMNS, TEXTS, SUBSETS[2]).shape == (0,)


def test_and_or_combination_by_hand() -> None:
    props: dict[str, dict[str, Any]] = {
        "a": {"c": "x", "b": "A", "n": 1},
        "b": {"c": "x", "b": "B", "n": 2},
        "c": {"c": "y", "b": "A"},
        "d": {},
    }
    ids = ["a", "b", "c", "d"]
    columns, texts = ItemColumns(build_item_columns(ids, props), 4), TextIndex(build_text_index(ids, props), 4)

    def hits(*texts_: str) -> list[str]:
        mask = filters_mask([parse_filter(t) for t in texts_], columns, texts)
        return [ids[r] for r in np.flatnonzero(mask)]

    assert hits("c:x") == ["a", "b"]
    assert hits("c:x", "b:A") == ["a"]
    assert hits("OR:b:A", "OR:n>=2") == ["a", "b", "c"]
    assert hits("c:x", "OR:b:B", "OR:n<0") == ["b"]  # AND, and at least one OR
    assert hits("c:y", "OR:b:B") == []
    assert hits("OR:b:Z") == []
    assert hits("b!=A") == ["b", "d"]  # missing values match negations


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, len(SHORTHAND_CASES) - 1), st.sampled_from(["", "AND:", "OR:", "or:"])), max_size=6
    ),
    st.lists(st.integers(0, N_ITEMS - 1), max_size=40),
)
def test_and_or_combinations_match_brute_force(picks: list[tuple[int, str]], rows: list[int]) -> None:
    rules, ands, ors = [], np.ones(N_ITEMS, dtype=bool), np.zeros(N_ITEMS, dtype=bool)
    for index, prefix in picks:
        text, name, op, value = SHORTHAND_CASES[index]
        rules.append(parse_filter(prefix + text.removeprefix("AND:")))
        if prefix.upper() == "OR:":
            ors |= _brute_force(name, op, value)
        else:
            ands &= _brute_force(name, op, value)
    expected = ands & ors if any(p.upper() == "OR:" for _, p in picks) else ands
    np.testing.assert_array_equal(filters_mask(rules, COLUMNS, TEXTS), expected)
    subset = np.array(rows, dtype=np.int64)
    np.testing.assert_array_equal(filters_mask(rules, COLUMNS, TEXTS, subset), expected[subset])


# --- typed values and evaluation errors ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("price>=abc", "filter 'price>=abc': 'price' is a number property, 'abc' is not a number; write e.g. 50"),
        ("qty:nan", "'qty' is a number property, 'nan' is not a number"),
        ("qty:inf", "'inf' is not a number"),
        ("qty<-Infinity", "'-Infinity' is not a number"),
        ("qty:1_000", "'1_000' is not a number"),
        ("qty:0x10", "'0x10' is not a number"),
        ("qty: 5", "' 5' is not a number"),
        ("qty:1|two", "'two' is not a number"),
        ("qty>1e999", "'1e999' is out of range"),
        ("active:yes", "'active' is a boolean property, 'yes' is not true or false"),
        ("active:1", "'1' is not true or false"),
        ("active>true", "'active' is a boolean property and has no order; use active:true or active:false"),
        ("active<=false", "has no order"),
        ("qty~5", "full-text search needs a full-text index, 'qty' (number) has none; properties with one: brand,"),
        ("active~true", "'active' (bool) has none"),
    ],
)
def test_values_that_do_not_fit_the_property(text: str, message: str) -> None:
    rule = parse_filter(text)
    error = _raises([message], "filter", filters_mask, [parse_filter("qty:3"), rule], COLUMNS, TEXTS)
    assert error.data == {"parameter": "filter", "filter": text}
    _raises([message], "filter", typed_filter, rule, COLUMNS, TEXTS)


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (
            {"column": "price", "operator": "gte", "value": "cheap"},
            "'price' is a number property, 'cheap' is not a number",
        ),
        ({"column": "price", "operator": "gte", "value": True}, "'price' is a number property, true is not a number"),
        ({"column": "price", "operator": "in", "value": [1, "x"]}, "'x' is not a number"),
        ({"column": "price", "operator": "lt", "value": 10**400}, "is out of range"),
        ({"column": "active", "operator": "eq", "value": 1}, "'active' is a boolean property, 1 is not true or false"),
        ({"column": "active", "operator": "gt", "value": True}, "has no order"),
        ({"column": "brand", "operator": "eq", "value": 5}, "'brand' is a string property, 5 is not a string"),
        ({"column": "tags", "operator": "in", "value": ["a", False]}, "'tags' is a string array property, false"),
        (
            {"column": "brand", "operator": "contains", "value": "x"},
            "'contains' needs an array property, 'brand' is a string",
        ),
        ({"column": "qty", "operator": "contains", "value": 1}, "'qty' is a number property; use eq"),
        ({"column": "price", "operator": "search", "value": "x"}, "'price' (number) has none; properties with one"),
    ],
)
def test_scope_values_that_do_not_fit_the_property(item: dict[str, Any], message: str) -> None:
    (rule,) = parse_scope(_scope(item))[0]
    error = _raises([message, "scope filter '{"], "scope", filters_mask, [rule], COLUMNS, TEXTS)
    assert error.data["filter"] == rule.text[:200]


def test_unknown_property_lists_at_most_20_names() -> None:
    names = [f"p{k:02d}" for k in range(25)]
    columns = ItemColumns(build_item_columns(["a"], {"a": dict.fromkeys(names, 1)}), 1)
    error = _raises(
        ["unknown property 'zzz'", "p00, p01", "p19 (and 5 more)"],
        "context",
        typed_filter,
        parse_filter("zzz:1", "context"),
        columns,
        TextIndex({}, 1),
    )
    assert "p20" not in error.message
    _raises(
        ["no filterable properties"], "filter", typed_filter, parse_filter("a:1"), ItemColumns({}, 1), TextIndex({}, 1)
    )
    _raises(
        ["properties with one: none", "retrain"],
        "filter",
        typed_filter,
        parse_filter("p00~x"),
        columns,
        TextIndex({}, 1),
    )


@pytest.mark.parametrize(
    ("text", "typed"),
    [
        ("qty:3", ("qty", "in", [3.0])),  # number equality runs as in: no float-equality refusal
        (f"price!={P1}", ("price", "notin", [P1])),
        ("price>=-2.5", ("price", "gte", -2.5)),
        ("price<1E3", ("price", "lt", 1000.0)),
        ("qty:1|2", ("qty", "in", [1.0, 2.0])),
        ("active:TRUE", ("active", "eq", True)),
        ("active!=false|true", ("active", "notin", [False, True])),
        ("brand:Acme", ("brand", "eq", "Acme")),
        ("tags>=m", ("tags", "gte", "m")),
        ("title~desk", ("title", "ftsearch", "desk")),
    ],
)
def test_typed_filter(text: str, typed: tuple[str, str, Any]) -> None:
    assert typed_filter(parse_filter(text), COLUMNS, TEXTS) == typed


def test_float_equality_is_allowed_unlike_scenarios() -> None:
    matched = filters_mask([parse_filter(f"price:{P1}")], COLUMNS, TEXTS)
    assert matched.sum() >= 1
    assert all(PROPERTIES[IDS[r]]["price"] == P1 for r in np.flatnonzero(matched))


# --- describe ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "phrase"),
    [
        (parse_filter("category:electronics"), "category is electronics"),
        (parse_filter("type!=comment"), "type is not comment"),
        (parse_filter("price>=50"), "price at least 50"),
        (parse_filter("price>50"), "price above 50"),
        (parse_filter("price<=50"), "price at most 50"),
        (parse_filter("price<50"), "price below 50"),
        (parse_filter("OR:brand:Acme|Zeta"), "brand is one of Acme, Zeta"),
        (parse_filter("brand!=Acme|x\\|y"), "brand is none of Acme, x|y"),
        (parse_filter("title~desk lamp"), "title matches 'desk lamp'"),
        (parse_scope(_scope({"column": "price", "operator": "gte", "value": 50.0}))[0][0], "price at least 50"),
        (parse_scope(_scope({"column": "price", "operator": "lt", "value": 9.5}))[0][0], "price below 9.5"),
        (parse_scope(_scope({"column": "active", "operator": "eq", "value": True}))[0][0], "active is true"),
        (parse_scope(_scope({"column": "tags", "operator": "contains", "value": "red"}))[0][0], "tags contains red"),
        (
            parse_scope(_scope({"column": "q", "operator": "in", "value": [1, 2.5, False]}))[0][0],
            "q is one of 1, 2.5, false",
        ),
        (parse_scope(_scope({"column": "tags", "operator": "exists"}))[0][0], "tags is set"),
        (parse_scope(_scope({"column": "tags", "operator": "not_exists"}))[0][0], "tags is missing"),
    ],
)
def test_describe(rule: ListFilter, phrase: str) -> None:
    assert describe(rule) == phrase


@pytest.mark.parametrize(
    ("text", "kept", "words"),
    [
        ("type!=comment", N_ITEMS, ["'type'", "keeps every item"]),
        ("type:comment", 0, ["'type'", "keeps no item"]),
        ("brnd:Acme", 0, ["did you mean 'brand'?"]),
    ],
)
def test_a_property_no_item_has_is_a_warning_not_an_error(text: str, kept: int, words: list[str]) -> None:
    warnings: list[str] = []
    mask = filters_mask([parse_filter(text)], COLUMNS, TEXTS, warnings=warnings)
    assert int(mask.sum()) == kept
    [warning] = warnings
    assert warning.startswith(f"filter '{text}': no item has the property")
    for word in words:
        assert word in warning
