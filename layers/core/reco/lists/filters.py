"""Metadata filters of ``GET /v1/recommendations``: read, typed against the catalog, evaluated to a mask.

Filters come as ``filter`` / ``filters`` shorthand (repeatable query parameters), as the ``filters``
of the ``scope`` JSON, and as a context's saved defaults (in either form). Each becomes a
:class:`ListFilter`; :func:`filters_mask` evaluates them over the serving model's property columns
with :func:`reco.scenarios.filters.filter_mask` (vectorised; array, missing-value and full-text
semantics are that module's). Every problem is a ``MalformedFilter`` (400) whose ``data`` is
``{"parameter": "filter" | "scope" | "context", "filter": <the offending text, at most 200 chars>}``.

Shorthand (``filter``, ``filters``, context defaults written as text)::

    filter    = [logic ":"] property operator value
    logic     = "AND" / "OR"                            ; case-insensitive; default AND
    property  = 1*64( ALPHA / DIGIT / "_" / "-" / "." ) ; a catalog item property name (ASCII)
    operator  = "!=" / ">=" / "<=" / ">" / "<" / "~" / ":" / "="
    value     = 1*char                                  ; may not be empty; any character

- At most 512 characters; nothing is trimmed. A leading ``AND:`` / ``OR:`` (any case) is always the
  logic prefix, once: a property named ``or`` is written ``or=x``. The property is the longest run
  of name characters; the operator is what follows it (two-character operators first); the rest,
  which may itself hold ``:``, ``=``, ``<``, ``>``, ``~``, ``!``, is the value: ``price>=10`` is
  price ``>=`` 10, ``OR:brand:Acme`` is OR brand ``:`` Acme, ``time:12:30`` is time equals
  ``12:30``, ``a==b`` is a equals ``=b``.
- ``:`` and ``=`` mean equals (on an array property: contains); ``!=`` not equals (on an array:
  contains none; items without the property match it); ``>`` ``>=`` ``<`` ``<=`` compare numbers on
  number properties and text on string properties (code-point order, which orders ISO dates; on an
  array, any element); not on boolean properties. ``~`` is a full-text match: every word of the
  value, case-insensitive, on a property with a full-text index; the value needs a word.
- In the value of ``:`` / ``=``, ``a|b|c`` means any of (``in``); with ``!=``, none of (``notin``).
  No alternative may be empty. An unescaped ``|`` after another operator is an error.
- Escapes, in any value: ``\\|`` is a literal pipe and ``\\\\`` a literal backslash; any other
  backslash (a trailing one too) is an error.
- Values are typed by the property's kind in the serving model, when evaluated: number → a finite
  decimal number ``[+-]digits[.digits][(e|E)[+-]digits]`` (``1e3``, ``-2.5``, ``.5``; not ``nan``,
  ``inf``, ``1_000``, ``abc``); boolean → ``true`` / ``false`` (any case); string and array of
  strings → the text as is (case-sensitive).
- Equality (``:`` ``=`` ``!=`` and lists) on a number property is allowed even when it holds
  non-integral values (scenarios refuse ``eq`` there): float64 values compare exactly, so
  ``price:19.99`` matches the items stored as 19.99. It is evaluated as ``in`` / ``notin``.

Scope: ``{"filters": [{"column": "price", "operator": "gte", "value": 50, "logic": "OR"}, ...]}``

- At most 8 KiB (UTF-8) of JSON; a JSON object. ``filters`` is optional (absent or null: none);
  other top-level keys are ignored (their names are returned so the caller can warn).
- ``filters`` is an array of objects with only these keys: ``column`` (required, a non-empty string
  of at most 64 characters, any characters), ``operator`` (required, case-insensitive, below),
  ``value`` and ``logic`` (optional, ``AND`` / ``OR``, case-insensitive, default AND).
- Operators: ``eq`` ``=`` ``==`` ``equals``; ``neq`` ``!=`` ``not_equals``; ``gt`` ``>``;
  ``gte`` ``>=``; ``lt`` ``<``; ``lte`` ``<=``; ``in``; ``not_in`` ``notin`` ``nin``; ``contains``
  (eq on an array property; on any other property an error, use eq); ``exists`` ``notempty``;
  ``not_exists`` ``empty``; ``search`` ``ftsearch`` ``match`` (full-text, as ``~``).
- ``value``: a JSON string, number or boolean; a non-empty array of them (at most 1000) for
  ``in`` / ``not_in``; absent (or null) for the exists ops. Number properties take numbers or
  numeric strings (``"50"`` is 50.0), boolean properties ``true`` / ``false`` (or those strings),
  string properties strings only. NaN and Infinity are refused.

Combination: all filters of a request (shorthand, scope and context defaults, at most
``MAX_FILTERS`` = 20 together) form one list. Every AND filter must hold and, when there is at
least one OR filter, at least one OR filter must hold too: ``mask = AND(and-filters) & OR(or-filters)``.
No filters: every item passes. Items without the property (or with an empty array) never match
equals, any of, comparisons, ``~`` or ``exists``; they do match not equals, none of and ``not_exists``.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, NoReturn

import numpy as np

from reco.errors import ItemPropertyNotFound, MalformedFilter, WrongDataType, WrongOpUse
from reco.models.columns import ItemColumns, Kind
from reco.models.interactions import I64, Bools
from reco.models.text_index import TextIndex, tokenize
from reco.recommendations.case import keep_mask
from reco.scenarios.filter_rules import MAX_IN_VALUES
from reco.scenarios.filters import filter_mask
from reco.schemas.bounds import TooDeep, check_json_depth

MAX_FILTERS: Final = 20
MAX_FILTER_LENGTH: Final = 512
MAX_SCOPE_BYTES: Final = 8 * 1024
MAX_PROPERTY_LENGTH: Final = 64

Source = Literal["filter", "scope", "context"]
_Fail = Callable[[str], NoReturn]

_NAME: Final = re.compile(r"[A-Za-z0-9_.\-]*")
_NUMBER: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_SHORTHAND_OPS: Final = (("!=", "neq"), (">=", "gte"), ("<=", "lte"), (">", "gt"), ("<", "lt"), ("~", "ftsearch"))
_SHORTHAND_OPS_ALL: Final = (*_SHORTHAND_OPS, (":", "eq"), ("=", "eq"))
_SCOPE_OPS: Final[dict[str, str]] = {
    **dict.fromkeys(("eq", "=", "==", "equals", "contains"), "eq"),
    **dict.fromkeys(("neq", "!=", "not_equals"), "neq"),
    **{"gt": "gt", ">": "gt", "gte": "gte", ">=": "gte", "lt": "lt", "<": "lt", "lte": "lte", "<=": "lte"},
    **{"in": "in", "not_in": "notin", "notin": "notin", "nin": "notin"},
    **{"exists": "notempty", "notempty": "notempty", "not_exists": "empty", "empty": "empty"},
    **dict.fromkeys(("search", "ftsearch", "match"), "ftsearch"),
}
_SCOPE_KEYS: Final = ("column", "operator", "value", "logic")
_ORDER_OPS: Final = ("lt", "lte", "gt", "gte")
_PHRASES: Final = {"eq": "is", "neq": "is not", "gt": "above", "gte": "at least", "lt": "below", "lte": "at most"}
_EXAMPLE: Final = '{"filters": [{"column": "category", "operator": "eq", "value": "electronics"}]}'


@dataclass(frozen=True)
class ListFilter:
    """One metadata filter, as read: ``value`` is typed against the catalog only when evaluated."""

    property_name: str
    op: str  # one of reco.scenarios.filters.FILTER_OPS
    value: Any  # str (shorthand) or JSON scalar (scope); a list for in/notin; None for empty/notempty
    logic: Literal["and", "or"]
    text: str  # as the caller wrote it: the shorthand, or the scope filter object as compact JSON
    source: Source
    array_only: bool = False  # written as scope operator ``contains``: the property must be an array


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=repr)


def _failer(source: str, text: str, label: str | None = None) -> _Fail:
    """Raises MalformedFilter as ``<label> '<text>': <problem>`` with the documented ``data``."""

    def fail(problem: str) -> NoReturn:
        shown = text if len(text) <= 100 else f"{text[:97]}..."
        prefix = label or ("filter" if source == "filter" else f"{source} filter")
        raise MalformedFilter(f"{prefix} {shown!r}: {problem}", data={"parameter": source, "filter": text[:200]})

    return fail


def _json_type(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return "null" if value is None else "boolean"
    kinds = {dict: "object", list: "array", str: "string", int: "number", float: "number"}
    return next((name for kind, name in kinds.items() if isinstance(value, kind)), type(value).__name__)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | bool | int) or (isinstance(value, float) and math.isfinite(value))


def _split_value(raw: str, fail: _Fail) -> list[str]:
    """The alternatives of a shorthand value: split on unescaped ``|``, with ``\\|`` and ``\\\\`` unescaped."""
    parts, current, chars = [], [], iter(enumerate(raw))
    for at, char in chars:
        if char == "\\":
            escaped = next(chars, (at, ""))[1]
            if escaped not in ("|", "\\"):
                where = (
                    f"unknown escape '\\{escaped}' at character {at + 1}" if escaped else "a lone backslash at the end"
                )
                fail(f"{where} of the value; the escapes are \\| (a literal pipe) and \\\\ (a literal backslash)")
            current.append(escaped)
        elif char == "|":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    if len(parts) > 1 and not all(parts):
        fail("a list a|b has an empty alternative; write a value between every | (or \\| for a literal pipe)")
    return parts


def parse_filter(text: str, source: Literal["filter", "context"] = "filter") -> ListFilter:
    """Reads one shorthand filter (the grammar is in the module docstring)."""
    fail = _failer(source, text)
    if len(text) > MAX_FILTER_LENGTH:
        fail(f"is {len(text)} characters long, at most {MAX_FILTER_LENGTH} are allowed")
    if not text:
        fail("is empty; write property:value, e.g. category:electronics")
    head, colon, tail = text.partition(":")
    logic: Literal["and", "or"] = "or" if colon and head.upper() == "OR" else "and"
    rest = tail if colon and head.upper() in ("AND", "OR") else text
    if not rest:
        fail(f"nothing follows the logic prefix '{head}:'; write {head}:property:value")
    name = _NAME.match(rest).group()  # type: ignore[union-attr]  # a * pattern always matches
    if not name:
        fail(f"must start with a property name (letters A-Z, digits, _ - .), not {rest[0]!r}; for others use scope")
    if len(name) > MAX_PROPERTY_LENGTH:
        fail(f"property name {name[:20]!r}... is {len(name)} characters long, at most {MAX_PROPERTY_LENGTH}")
    after = rest[len(name) :]
    symbol, op = next(((s, o) for s, o in _SHORTHAND_OPS_ALL if after.startswith(s)), ("", ""))
    if not after:
        fail(f"no operator after {name!r}; write e.g. {name}:value, {name}!=value, {name}>=value or {name}~words")
    if not op:
        fail(
            f"{after[0]!r} after {name!r} is neither a property-name character (letters A-Z, digits, _ - .) "
            "nor an operator (!= >= <= > < ~ : =); for other property names use scope"
        )
    raw = after[len(symbol) :]
    if not raw:
        fail(f"the value after {name}{symbol} is empty; write {name}{symbol}<value> (scope has not_exists)")
    values = _split_value(raw, fail)
    if len(values) > 1 and op not in ("eq", "neq"):
        fail(f"a list a|b only works with :, = or !=, not {symbol}; write \\| for a literal pipe")
    value: Any = values[0]
    if len(values) > 1:
        op, value = ("in" if op == "eq" else "notin"), values
    if op == "ftsearch" and not tokenize(value):
        fail(f"{value!r} has no words to search for; write {name}~some words")
    return ListFilter(name, op, value, logic, text, source)


def parse_scope(text: str) -> tuple[list[ListFilter], list[str]]:
    """Reads the ``scope`` JSON: its filters, and the names of the top-level keys it ignores."""
    fail = _failer("scope", text, "scope")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_SCOPE_BYTES:
        fail(f"is {size} bytes long, at most {MAX_SCOPE_BYTES} (8 KiB) are allowed; send fewer filters")

    def refuse(constant: str) -> NoReturn:
        raise ValueError(f"{constant} is not a JSON number")

    try:
        check_json_depth(text.encode("utf-8", "surrogatepass"), "it")
    except TooDeep as error:
        fail(f"is not valid JSON here: {error}; send an object like {_EXAMPLE}")
    try:
        parsed = json.loads(text, parse_constant=refuse)
    except json.JSONDecodeError as error:
        fail(f"is not valid JSON ({error.msg} at character {error.pos + 1}); send an object like {_EXAMPLE}")
    except (ValueError, RecursionError) as error:
        fail(f"is not valid JSON ({error or 'nested too deeply'}); send an object like {_EXAMPLE}")
    if not isinstance(parsed, dict):
        fail(f"must be a JSON object like {_EXAMPLE}, not a JSON {_json_type(parsed)}")
    ignored = [key for key in parsed if key != "filters"]
    filters = parsed.get("filters")
    return ([] if filters is None else parse_scope_filters(filters, "scope")), ignored


def parse_scope_filters(filters: Any, source: Literal["scope", "context"]) -> list[ListFilter]:
    """Reads a parsed JSON list of filter objects (the scope's ``filters``, or a context's defaults)."""
    fail = _failer(source, _compact(filters), f"{source} filters")
    if not isinstance(filters, list):
        fail(f"must be a JSON array of filter objects like {_EXAMPLE}, not a JSON {_json_type(filters)}")
    if len(filters) > MAX_FILTERS:
        fail(f"holds {len(filters)} filters, at most {MAX_FILTERS} are allowed per request")
    return [_scope_filter(item, index, source) for index, item in enumerate(filters, 1)]


def _scope_filter(item: Any, index: int, source: Literal["scope", "context"]) -> ListFilter:
    text = _compact(item)
    fail = _failer(source, text, f"{source} filter #{index}")
    if not isinstance(item, dict):
        fail(f"must be an object with column, operator and value, not a JSON {_json_type(item)}")
    unknown = [key for key in item if key not in _SCOPE_KEYS]
    if unknown:
        fail(f"unknown key {unknown[0]!r}; a filter object has only column, operator, value and logic")
    column, operator = item.get("column"), item.get("operator")
    if column is None:
        fail("missing 'column': name the item property to filter on")
    if not isinstance(column, str) or not column or len(column) > MAX_PROPERTY_LENGTH:
        fail(f"'column' must be a property name (a string of 1 to {MAX_PROPERTY_LENGTH} characters)")
    names = ", ".join(_SCOPE_OPS)
    if operator is None:
        fail(f"missing 'operator'; use one of {names}")
    if not isinstance(operator, str) or operator.lower() not in _SCOPE_OPS:
        fail(f"unknown operator {_compact(operator)}; use one of {names}")
    op, written = _SCOPE_OPS[operator.lower()], operator.lower()
    logic = item.get("logic", "AND")
    if not isinstance(logic, str) or logic.upper() not in ("AND", "OR"):
        fail(f'\'logic\' must be "AND" or "OR", not {_compact(logic)}')
    value = item.get("value")
    if op in ("empty", "notempty"):
        if value is not None:
            fail(f"operator {written!r} takes no value; remove 'value'")
    elif "value" not in item or value is None:
        fail(f"missing 'value' for operator {written!r}; to match items without {column!r} use not_exists")
    elif op in ("in", "notin"):
        if not isinstance(value, list) or not 0 < len(value) <= MAX_IN_VALUES:
            fail(f'operator {written!r} needs a JSON array of 1 to {MAX_IN_VALUES} values, e.g. ["a", "b"]')
        if not all(_is_scalar(v) for v in value):
            fail(f"operator {written!r}: every value must be a string, number or boolean")
    elif isinstance(value, list):
        fail(f"operator {written!r} takes a single value, not an array; use in (or not_in) for any of several")
    elif not _is_scalar(value):
        fail(f"'value' must be a string, number or boolean, not a JSON {_json_type(value)}")
    elif op == "ftsearch" and not (isinstance(value, str) and tokenize(value)):
        fail(f"operator {written!r} needs a string with at least one word to search for")
    or_logic = logic.upper() == "OR"
    return ListFilter(column, op, value, "or" if or_logic else "and", text, source, written == "contains")


def check_filter_count(filters: Sequence[ListFilter]) -> None:
    """Refuses more than ``MAX_FILTERS`` filters per request (shorthand, scope and context together)."""
    if len(filters) <= MAX_FILTERS:
        return
    counts = ", ".join(f"{s}: {sum(f.source == s for f in filters)}" for s in ("filter", "scope", "context"))
    extra = filters[MAX_FILTERS]
    raise MalformedFilter(
        f"too many filters: {len(filters)} ({counts}), at most {MAX_FILTERS} per request; merge alternatives "
        "into one filter (brand:A|B, or an in list in scope)",
        data={"parameter": extra.source, "filter": extra.text[:200]},
    )


def _typed_value(value: Any, name: str, kind: Kind, fail: _Fail) -> Any:
    shown = repr(value) if isinstance(value, str) else _compact(value)
    if kind == "number":
        number = math.nan
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value) if abs(value) < 1e308 else math.inf
        elif isinstance(value, str) and _NUMBER.fullmatch(value):
            number = float(value)
        if math.isinf(number):
            fail(f"{name!r} is a number property, {shown} is out of range")
        if math.isnan(number):
            fail(f"{name!r} is a number property, {shown} is not a number; write e.g. 50, -2.5 or 1e3")
        return number
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        fail(f"{name!r} is a boolean property, {shown} is not true or false")
    if not isinstance(value, str):
        fail(f"{name!r} is a {'string' if kind == 'string' else 'string array'} property, {shown} is not a string")
    return value


_KEEP_ALL_WHEN_ABSENT: Final = frozenset({"neq", "notin", "empty"})


def _absent_property_warning(rule: ListFilter, columns: ItemColumns, keeps: bool) -> str:
    close = difflib.get_close_matches(rule.property_name, columns.names(), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    outcome = "keeps every item" if keeps else "keeps no item"
    return f"filter '{rule.text}': no item has the property {rule.property_name!r}{hint}, so it {outcome}"


def _unknown_property(name: str, columns: ItemColumns) -> str:
    known = columns.names()
    close = difflib.get_close_matches(name, known, n=1)
    listed = ", ".join(known[:20]) + (f" (and {len(known) - 20} more)" if len(known) > 20 else "")
    hint = f"did you mean {close[0]!r}? " if close else ""
    return (
        f"unknown property {name!r}; {hint}the serving model's items have: {listed or 'no filterable properties'}"
        " (properties come from the catalog when the model was trained)"
    )


def typed_filter(rule: ListFilter, columns: ItemColumns, texts: TextIndex) -> tuple[str, str, Any]:
    """``(property, op, typed value)`` ready for ``filter_mask``, once checked against the column.

    ``eq``/``neq`` on a number property come back as ``in``/``notin`` with one value, so the
    scenarios' refusal of float equality does not apply (see the module docstring).
    """
    fail, name, op = _failer(rule.source, rule.text), rule.property_name, rule.op
    try:
        kind = columns.kind(name)
    except KeyError:
        fail(_unknown_property(name, columns))
    if op == "ftsearch":
        if not texts.has(name):
            having = ", ".join(texts.names()) or "none (retrain the model to build the full-text index)"
            fail(f"full-text search needs a full-text index, {name!r} ({kind}) has none; properties with one: {having}")
        return name, op, rule.value
    if op in ("empty", "notempty"):
        return name, op, None
    if rule.array_only and kind != "strings":
        fail(f"'contains' needs an array property, {name!r} is a {kind} property; use eq")
    if op in _ORDER_OPS and kind == "bool":
        fail(f"{name!r} is a boolean property and has no order; use {name}:true or {name}:false")
    listed = op in ("in", "notin")
    typed = [_typed_value(v, name, kind, fail) for v in (rule.value if listed else [rule.value])]
    if kind == "number" and op in ("eq", "neq"):
        return name, {"eq": "in", "neq": "notin"}[op], typed
    return name, op, typed if listed else typed[0]


def filters_mask(
    filters: Sequence[ListFilter],
    columns: ItemColumns,
    texts: TextIndex,
    rows: I64 | None = None,
    cache: OrderedDict[str, Bools] | None = None,
    warnings: list[str] | None = None,
) -> Bools:
    """Which items pass: ``AND(and-filters) & OR(or-filters)``, aligned with ``rows`` (all items if None).

    One vectorised ``filter_mask`` per rule; the caller bounds the count with :func:`check_filter_count`.
    ``cache`` (the loaded artifact's ``filter_masks``) keeps whole-catalog masks per typed rule: every
    request of a context asks for the same ones.
    """
    mask = np.ones(columns.n_items if rows is None else len(rows), dtype=np.bool_)
    any_or: Bools | None = None
    for rule in filters:
        if rule.property_name not in columns.names():
            # The reference's own example filters on a property a catalog may not have (type!=comment):
            # no item has it, so a negative test keeps every item and a positive one none, with a warning.
            keeps = rule.op in _KEEP_ALL_WHEN_ABSENT
            absent = np.full(mask.shape, keeps, dtype=np.bool_)
            if warnings is not None:
                warnings.append(_absent_property_warning(rule, columns, keeps))
            if rule.logic == "or":
                any_or = absent if any_or is None else any_or | absent
            else:
                mask &= absent
            continue
        name, op, value = typed_filter(rule, columns, texts)
        key = "list:" + json.dumps([name, op, value], sort_keys=True, separators=(",", ":"), default=str)
        hits = cache.get(key) if cache is not None and rows is None else None
        if hits is None:
            try:
                hits = filter_mask(columns, texts, name, op, value, rows)
            except (ItemPropertyNotFound, WrongDataType, WrongOpUse) as error:
                _failer(rule.source, rule.text)(error.message)
            if cache is not None and rows is None:
                keep_mask(cache, key, hits, columns.n_items)
        if rule.logic == "or":
            any_or = hits if any_or is None else any_or | hits
        else:
            mask &= hits
    return mask if any_or is None else mask & any_or


def _word(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return value if isinstance(value, str) else _compact(value)


def describe(rule: ListFilter) -> str:
    """A short phrase for explanations: ``price at least 50``, ``brand is one of Acme, Zeta``."""
    name, op, value = rule.property_name, rule.op, rule.value
    if op in ("empty", "notempty"):
        return f"{name} is {'missing' if op == 'empty' else 'set'}"
    if op == "ftsearch":
        return f"{name} matches '{value}'"
    if op in ("in", "notin"):
        return f"{name} is {'one' if op == 'in' else 'none'} of {', '.join(_word(v) for v in value)}"
    return f"{name} {'contains' if rule.array_only else _PHRASES.get(op, op)} {_word(value)}"
