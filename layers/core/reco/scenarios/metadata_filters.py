"""``metadata_filters`` of ``GET /scenarios/``: the URL-compatible ``keys.nested:op:value`` form.

Keys are split on unescaped ``.`` (nested levels of the metadata object); ``\\.`` is a literal dot,
``\\\\`` a literal backslash and any other ``\\x`` is ``x`` (so ``\\:`` puts a colon in a key). The op
is case-insensitive; the value is everything after the second colon, read as JSON when it parses
(``5``, ``2.5``, ``true``, ``"x"``, ``null``) and as a plain string otherwise, so ``mode:eq:read``
needs no quotes. Filters are AND-combined by the caller.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from reco.errors import WrongParameter
from reco.scenarios.filter_rules import is_finite_number
from reco.schemas.bounds import TooDeep, check_json_depth

MetadataOp = Literal["eq", "lt", "gt", "lte", "gte"]
METADATA_OPS: Final[tuple[MetadataOp, ...]] = ("eq", "lt", "gt", "lte", "gte")
EXPECTED_FORM: Final = (
    "expected keys:op:value, e.g. configs.level:eq:5 (keys separated by '.', '\\.' for a dot in a key; "
    "op one of eq, lt, gt, lte, gte; value JSON or plain text)"
)


@dataclass(frozen=True)
class MetadataFilter:
    keys: tuple[str, ...]
    op: MetadataOp
    value: Any


def _invalid(text: str, reason: str) -> WrongParameter:
    return WrongParameter(
        f"metadata filter '{text}' is not valid: {reason}; {EXPECTED_FORM}", data={"metadata_filter": text}
    )


def _split_keys(text: str) -> tuple[list[str], str]:
    """The unescaped keys before the first unescaped ':', and the rest of the text after it."""
    keys: list[str] = []
    current: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\":
            if index + 1 == len(text):
                raise _invalid(text, "it ends with a lone '\\'")
            current.append(text[index + 1])
            index += 2
            continue
        if char == ":":
            keys.append("".join(current))
            return keys, text[index + 1 :]
        if char == ".":
            keys.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    raise _invalid(text, "no ':' after the keys")


def _reject_constant(_: str) -> Any:
    raise ValueError("NaN and Infinity are not JSON values")


def _value(raw: str) -> Any:
    try:
        check_json_depth(raw.encode("utf-8", "surrogatepass"), "a metadata filter value")
    except TooDeep as error:
        raise WrongParameter(f"{error}") from None
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except ValueError:
        return raw


def parse_metadata_filter(text: str) -> MetadataFilter:
    keys, rest = _split_keys(text)
    if any(key == "" for key in keys):
        raise _invalid(text, "a key is empty")
    op, colon, raw_value = rest.partition(":")
    if not colon:
        raise _invalid(text, "no ':' between the op and the value")
    op = op.lower()
    if op not in METADATA_OPS:
        raise _invalid(text, f"unknown op '{op}'")
    return MetadataFilter(tuple(keys), op, _value(raw_value))


def parse_metadata_filters(texts: Iterable[str]) -> list[MetadataFilter]:
    return [parse_metadata_filter(text) for text in texts]


def json_equal(left: Any, right: Any) -> bool:
    """Equality of JSON values: 1 == 1.0, but true is not 1 (Python's bool is an int)."""
    if is_finite_number(left) and is_finite_number(right):
        return bool(left == right)
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(json_equal(left[key], right[key]) for key in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(json_equal(a, b) for a, b in zip(left, right, strict=True))
    return bool(left == right)


def _compare(op: MetadataOp, found: Any, wanted: Any) -> bool:
    if op == "eq":
        return json_equal(found, wanted)
    both_numbers = is_finite_number(found) and is_finite_number(wanted)
    comparable = both_numbers or (isinstance(found, str) and isinstance(wanted, str))
    if not comparable:
        return False
    if op == "lt":
        return bool(found < wanted)
    if op == "lte":
        return bool(found <= wanted)
    if op == "gt":
        return bool(found > wanted)
    return bool(found >= wanted)


_MISSING: Final = object()


def _lookup(metadata: Mapping[str, Any], keys: Sequence[str]) -> Any:
    current: Any = metadata
    for key in keys:
        if not isinstance(current, Mapping) or key not in current:
            return _MISSING
        current = current[key]
    return current


def matches(metadata: Mapping[str, Any] | None, filters: Iterable[MetadataFilter]) -> bool:
    """Whether ``metadata`` satisfies every filter; a missing key satisfies none."""
    for rule in filters:
        found = _lookup(metadata or {}, rule.keys)
        if found is _MISSING or not _compare(rule.op, found, rule.value):
            return False
    return True
