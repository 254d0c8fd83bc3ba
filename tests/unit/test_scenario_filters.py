"""Scenario filters against a brute-force, pure-Python reading of the same rules on a random catalog."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import numpy as np
import pytest

from reco.errors import ItemPropertyNotFound, WrongDataType, WrongOpUse
from reco.models.columns import ItemColumns, build_item_columns
from reco.models.text_index import TextIndex, build_text_index
from reco.scenarios.filter_rules import FILTER_OPS, MAX_IN_VALUES, check_filter
from reco.scenarios.filters import filter_mask

N_ITEMS = 300
BRANDS = ["acme", "Acme", "zeta", "beta", "Ω-corp", "émile"]
TAGS = ["red", "blue", "sale", "new", "Red", "big sale"]
WORDS = ["Café", "CAFÉ", "cafe", "red", "Shoe", "shoe", "lait", "crème-brûlée", "RED", "x"]


def _catalog() -> tuple[list[str], dict[str, dict[str, Any]]]:
    rng = np.random.default_rng(20240607)
    ids = [f"i{k:03d}" for k in range(N_ITEMS)]
    properties: dict[str, dict[str, Any]] = {}
    for k, item in enumerate(ids):
        if k % 37 == 0:
            continue  # an item the catalog knows nothing about
        props: dict[str, Any] = {}
        if rng.random() < 0.85:
            props["qty"] = int(rng.integers(-2, 10))
        if rng.random() < 0.85:
            props["price"] = round(float(rng.uniform(0, 60)), 2) if rng.random() < 0.8 else int(rng.integers(0, 60))
        if rng.random() < 0.8:
            props["active"] = bool(rng.random() < 0.5)
        props["brand"] = str(rng.choice(BRANDS)) if rng.random() < 0.8 else None
        if rng.random() < 0.8:
            props["date"] = f"2024-{int(rng.integers(1, 13)):02d}-{int(rng.integers(1, 29)):02d}"
        roll = rng.random()
        if roll < 0.15:
            props["tags"] = []
        elif roll < 0.25:
            props["tags"] = str(rng.choice(TAGS))  # a plain string is a one-element array
        elif roll < 0.9:
            chosen = [str(t) for t in rng.choice(TAGS, size=int(rng.integers(1, 4)), replace=False)]
            props["tags"] = tuple(chosen) if roll < 0.3 else chosen
        if rng.random() < 0.9:
            props["title"] = " ".join(str(w) for w in rng.choice(WORDS, size=int(rng.integers(0, 5))))
        props["mixed"] = 1 if k % 2 else "one"  # mixed kinds: not a column
        properties[item] = props
    return ids, properties


IDS, PROPERTIES = _catalog()
COLUMNS = ItemColumns(build_item_columns(IDS, PROPERTIES), N_ITEMS)
TEXTS = TextIndex(build_text_index(IDS, PROPERTIES), N_ITEMS)
ARRAYS = {"tags"}
PRICES = sorted({p["price"] for p in PROPERTIES.values() if isinstance(p.get("price"), float)})


def _tokens(text: str) -> set[str]:
    return set(re.findall(r"\w+", unicodedata.normalize("NFKC", text).lower()))


def _expected(raw: Any, op: str, value: Any, is_array: bool) -> bool:
    """The documented semantics, one item at a time."""
    if raw == "":
        raw = None  # an empty string is no value
    elements = [] if raw is None else [raw] if isinstance(raw, str) or not is_array else list(raw)
    elements = [x for x in elements if x != ""]
    if op == "empty":
        return raw is None or (is_array and not elements)
    if op in ("notempty", "neq", "notin"):
        return not _expected(raw, {"notempty": "empty", "neq": "eq", "notin": "in"}[op], value, is_array)
    if raw is None:
        return False
    if op == "ftsearch":
        wanted, held = _tokens(value), set().union(*(_tokens(s) for s in elements))
        return bool(wanted) and wanted <= held
    checks = {
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
        [_expected((PROPERTIES.get(item) or {}).get(name), op, value, name in ARRAYS) for item in IDS],
        dtype=bool,
    )


ORDERED = ("lt", "lte", "gt", "gte")
CASES: list[tuple[str, str, Any]] = [
    *[
        (name, op, None)
        for name in ("qty", "price", "active", "brand", "date", "tags", "title")
        for op in ("empty", "notempty")
    ],
    *[("qty", op, v) for op in ("eq", "neq") for v in (0, 3, 7.0, 100, 2.5)],
    *[("qty", op, v) for op in ORDERED for v in (0, 2.5, 5, -1, 9)],
    *[("qty", op, v) for op in ("in", "notin") for v in ([1, 2, 3], [4.0, 99], [-2])],
    *[("price", op, v) for op in ORDERED for v in (10.0, 19.99, 50, PRICES[3], PRICES[-1])],
    *[("price", op, v) for op in ("in", "notin") for v in (PRICES[:5], [1.234], [PRICES[7], 30])],
    *[("active", op, v) for op in ("eq", "neq") for v in (True, False)],
    *[("active", op, v) for op in ("in", "notin") for v in ([True], [True, False], [False])],
    *[("brand", op, v) for op in ("eq", "neq") for v in ("acme", "Acme", "Ω-corp", "nope")],
    *[("brand", op, v) for op in ORDERED for v in ("b", "Acme", "acme", "zz", "")],
    *[("brand", op, v) for op in ("in", "notin") for v in (["acme", "zeta"], ["nope"], ["émile", "beta"])],
    *[("brand", "ftsearch", v) for v in ("acme", "ACME corp", "Ω", "émile", "nope")],
    *[("date", op, v) for op in ORDERED for v in ("2024-03-01", "2024-06-15", "2024-1")],
    *[("date", op, "2024-01-05") for op in ("eq", "neq")],
    *[("date", op, ["2024-01-05", "2024-02-10", "2025"]) for op in ("in", "notin")],
    *[("tags", op, v) for op in ("eq", "neq") for v in ("red", "Red", "big sale", "nope")],
    *[("tags", op, v) for op in ORDERED for v in ("m", "red", "big", "Z")],
    *[("tags", op, v) for op in ("in", "notin") for v in (["red", "blue"], ["nope"], ["sale", "new"])],
    *[("tags", "ftsearch", v) for v in ("red", "RED sale", "big", "sale new", "!!!")],
    *[("title", "ftsearch", v) for v in ("cafe", "café", "CAFÉ red", "red shoe", "crème", "brûlée lait", "x", "?!")],
    *[("title", op, v) for op in ("eq", "neq") for v in ("red", "")],
    *[("title", op, v) for op in ORDERED for v in ("c", "red")],
]
SUBSETS = [
    np.random.default_rng(7).choice(N_ITEMS, size=60, replace=False).astype(np.int64),
    np.array([5, 5, 0, N_ITEMS - 1, 37], dtype=np.int64),  # repeats and catalog-less items
    np.array([], dtype=np.int64),
]


def test_the_random_catalog_has_every_kind() -> None:
    kinds = {name: COLUMNS.kind(name) for name in COLUMNS.names()}
    assert kinds == {
        "active": "bool",
        "brand": "string",
        "date": "string",
        "price": "number",
        "qty": "number",
        "tags": "strings",
        "title": "string",
    }
    assert COLUMNS.is_float("price") and not COLUMNS.is_float("qty") and not COLUMNS.is_float("brand")
    assert TEXTS.names() == ["brand", "date", "tags", "title"]
    tags = [(PROPERTIES.get(i) or {}).get("tags") for i in IDS]
    assert any(t == [] for t in tags) and any(t is None for t in tags) and any(isinstance(t, str) for t in tags)


@pytest.mark.parametrize(("name", "op", "value"), CASES)
def test_filter_mask_matches_brute_force(name: str, op: str, value: Any) -> None:
    expected = _brute_force(name, op, value)
    mask = filter_mask(COLUMNS, TEXTS, name, op, value)
    assert mask.dtype == np.bool_ and mask.shape == (N_ITEMS,)
    np.testing.assert_array_equal(mask, expected)
    for rows in SUBSETS:
        subset = filter_mask(COLUMNS, TEXTS, name, op, value, rows)
        assert subset.shape == rows.shape
        np.testing.assert_array_equal(subset, expected[rows])


def test_cases_cover_every_op_with_non_trivial_masks() -> None:
    mixed = {op for name, op, value in CASES if 0 < _brute_force(name, op, value).sum() < N_ITEMS}
    assert mixed == set(FILTER_OPS)


def test_hand_checked_semantics() -> None:
    props = {
        "a": {"tags": ["red", "sale"], "n": 1, "s": "Red"},
        "b": {"tags": [], "n": 2.5},
        "c": {"s": "red"},
        "d": {"tags": ["blue"], "n": None},
    }
    ids = ["a", "b", "c", "d"]
    columns, texts = ItemColumns(build_item_columns(ids, props), 4), TextIndex(build_text_index(ids, props), 4)

    def hits(name: str, op: str, value: Any) -> list[str]:
        return [ids[r] for r in np.flatnonzero(filter_mask(columns, texts, name, op, value))]

    assert hits("tags", "eq", "red") == ["a"]
    assert hits("tags", "neq", "red") == ["b", "c", "d"]  # empty and missing arrays hold no "red"
    assert hits("tags", "notin", ["red", "blue"]) == ["b", "c"]
    assert hits("tags", "empty", None) == ["b", "c"]
    assert hits("n", "gte", 2) == ["b"]
    assert hits("n", "notin", [1]) == ["b", "c", "d"]  # missing numbers match the negations
    assert hits("s", "eq", "red") == ["c"]  # eq is case-sensitive...
    assert hits("s", "ftsearch", "RED") == ["a", "c"]  # ...ftsearch is not
    assert hits("s", "neq", "red") == ["a", "b", "d"]


def _raises(error: type[Exception], *words: str, **call: Any) -> None:
    with pytest.raises(error) as caught:
        if "columns" in call:
            filter_mask(**call)
        else:
            check_filter(**call)
    message = str(caught.value)
    for word in words:
        assert word in message


@pytest.mark.parametrize("op", ["eq", "neq"])
def test_eq_on_a_decimal_property_compares_exactly_as_in_does(op: str) -> None:
    for price in PRICES[:5]:
        exact = filter_mask(COLUMNS, TEXTS, "price", op, price)
        assert np.array_equal(exact, filter_mask(COLUMNS, TEXTS, "price", "in" if op == "eq" else "notin", [price]))
        matched = [i for i, p in PROPERTIES.items() if p.get("price") == price]
        assert matched and (op == "neq" or np.array(IDS)[exact].tolist() == sorted(matched))
    check_filter("price", op, 19.99, "number")
    check_filter("price", op, 19.99, None)  # kind unknown: nothing to say yet


@pytest.mark.parametrize("op", ORDERED)
def test_ordering_a_boolean_is_a_wrong_op_use(op: str) -> None:
    _raises(
        WrongOpUse,
        "'active'",
        f"'{op}'",
        "boolean",
        property_name="active",
        op=op,
        value=1,
        kind="bool",
    )


@pytest.mark.parametrize(("name", "kind"), [("qty", "number"), ("active", "bool")])
def test_ftsearch_on_numbers_and_booleans_is_a_wrong_op_use(name: str, kind: str) -> None:
    _raises(
        WrongOpUse,
        f"'{name}'",
        "'ftsearch'",
        "text",
        columns=COLUMNS,
        texts=TEXTS,
        property_name=name,
        op="ftsearch",
        value="3",
    )
    _raises(WrongOpUse, f"'{name}'", property_name=name, op="ftsearch", value="3", kind=kind)


def test_unknown_op_is_a_wrong_op_use() -> None:
    _raises(WrongOpUse, "'like'", "ftsearch", property_name="brand", op="like", value="a", kind=None)


@pytest.mark.parametrize(
    ("name", "op", "value", "kind"),
    [
        ("qty", "gt", "5", "number"),
        ("qty", "gt", True, "number"),
        ("qty", "lt", float("nan"), "number"),
        ("brand", "gte", 5, "string"),
        ("tags", "lt", None, "strings"),
        ("active", "eq", 1, "bool"),
        ("active", "neq", "true", "bool"),
        ("qty", "eq", True, "number"),
        ("qty", "eq", "3", "number"),
        ("brand", "eq", 3, "string"),
        ("brand", "eq", None, "string"),
        ("brand", "eq", ["acme"], "string"),
        ("tags", "neq", {"a": 1}, "strings"),
        ("brand", "in", [], "string"),
        ("brand", "in", "acme", "string"),
        ("brand", "in", None, "string"),
        ("brand", "notin", ["acme", 3], "string"),
        ("qty", "in", [1, "2"], "number"),
        ("qty", "in", [1, False], "number"),
        ("active", "in", [True, 0], "bool"),
        ("qty", "in", list(range(MAX_IN_VALUES + 1)), "number"),
        ("brand", "ftsearch", "", "string"),
        ("brand", "ftsearch", "   ", "string"),
        ("tags", "ftsearch", ["red"], "strings"),
        ("title", "ftsearch", None, "string"),
    ],
)
def test_values_that_do_not_fit_the_property_are_wrong_data_types(name: str, op: str, value: Any, kind: str) -> None:
    _raises(WrongDataType, f"'{name}'", f"'{op}'", property_name=name, op=op, value=value, kind=kind)
    _raises(WrongDataType, f"'{name}'", f"'{op}'", columns=COLUMNS, texts=TEXTS, property_name=name, op=op, value=value)


@pytest.mark.parametrize(
    ("op", "value"), [("eq", {"a": 1}), ("eq", None), ("gt", True), ("in", []), ("in", [[1]]), ("ftsearch", 3)]
)
def test_unknown_kind_still_checks_the_value_shape(op: str, value: Any) -> None:
    _raises(WrongDataType, "'p'", property_name="p", op=op, value=value, kind=None)


@pytest.mark.parametrize(
    ("op", "value"), [("eq", "x"), ("eq", 3.5), ("eq", True), ("gt", 3), ("lte", "2024"), ("in", [1, "a", True])]
)
def test_unknown_kind_accepts_any_scalar(op: str, value: Any) -> None:
    check_filter("p", op, value, None)


@pytest.mark.parametrize("op", ["empty", "notempty"])
def test_empty_ops_ignore_the_value(op: str) -> None:
    check_filter("price", op, {"anything": [1]}, "number")
    assert filter_mask(COLUMNS, TEXTS, "active", op, "ignored").sum() > 0


@pytest.mark.parametrize("name", ["nope", "mixed"])
def test_properties_the_model_does_not_have_are_not_found(name: str) -> None:
    _raises(
        ItemPropertyNotFound,
        f"'{name}'",
        "retrain",
        columns=COLUMNS,
        texts=TEXTS,
        property_name=name,
        op="eq",
        value="x",
    )


@pytest.mark.parametrize("texts", [None, TextIndex({}, N_ITEMS)])
def test_ftsearch_without_a_text_index_asks_for_a_retrain(texts: TextIndex | None) -> None:
    _raises(
        WrongOpUse,
        "'title'",
        "retrain",
        "full-text index",
        columns=COLUMNS,
        texts=texts,
        property_name="title",
        op="ftsearch",
        value="red",
    )
    assert filter_mask(COLUMNS, texts, "title", "eq", "red").sum() == _brute_force("title", "eq", "red").sum()
