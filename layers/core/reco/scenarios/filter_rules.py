"""Whether a scenario filter rule can mean anything: its op, and its value against the property's kind.

Checked when a scenario is saved (the scenarios function, which loads no numpy) and again when a rule
reaches the items (:func:`reco.scenarios.filters.filter_mask`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Final

from reco.errors import WrongDataType, WrongOpUse

if TYPE_CHECKING:
    from reco.models.columns import Kind

FILTER_OPS: Final = ("eq", "lt", "lte", "gt", "gte", "in", "empty", "notempty", "neq", "notin", "ftsearch")
MAX_IN_VALUES: Final = 1000

_ORDER_OPS: Final = ("lt", "lte", "gt", "gte")
_TYPE_NAMES: Final[dict[Kind | None, str]] = {
    "number": "a number",
    "bool": "a boolean (true/false)",
    "string": "a string",
    "strings": "a string",
    None: "a string, number or boolean",
}


def rule_label(property_name: str, op: str) -> str:
    return f"filter on item property {property_name!r} with op {op!r}"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


def is_finite_number(value: Any) -> bool:
    """A finite JSON number (bool is not one; an integer too large for a float is not usable)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _scalar_fits(value: Any, kind: Kind | None) -> bool:
    """A JSON scalar of the column's type (bool is not a number; NaN is no value at all)."""
    if isinstance(value, bool):
        return kind in (None, "bool")
    if isinstance(value, int | float):
        return is_finite_number(value) and kind in (None, "number")
    if isinstance(value, str):
        return kind in (None, "string", "strings")
    return False


def _check_op_fits(property_name: str, op: str, kind: Kind) -> None:
    where = rule_label(property_name, op)
    if op in _ORDER_OPS and kind == "bool":
        raise WrongOpUse(
            f"{where}: {property_name!r} is a boolean and has no order; use eq or neq with true/false",
            data={"property": property_name, "op": op},
        )
    if op == "ftsearch" and kind in ("number", "bool"):
        raise WrongOpUse(
            f"{where}: full-text search needs a text property, {property_name!r} is a {kind}; "
            "use eq/in (or lt/lte/gt/gte for numbers)",
            data={"property": property_name, "op": op},
        )


def _check_value(property_name: str, op: str, value: Any, kind: Kind | None) -> None:
    where, data = rule_label(property_name, op), {"property": property_name, "op": op}
    if op in _ORDER_OPS:
        fits = is_finite_number(value) if kind == "number" else isinstance(value, str)
        if kind is None:
            fits = is_finite_number(value) or isinstance(value, str)
        if not fits:
            wanted = {"number": "a number", None: "a number or a string"}.get(kind, "a string")
            raise WrongDataType(
                f"{where} needs {wanted} to compare with (strings compare lexicographically, "
                f"e.g. ISO dates), got {_shown(value)}",
                data=data,
            )
    elif op in ("eq", "neq"):
        if not _scalar_fits(value, kind):
            raise WrongDataType(f"{where} needs {_TYPE_NAMES[kind]} as value, got {_shown(value)}", data=data)
    elif op in ("in", "notin"):
        if not isinstance(value, list | tuple) or not 0 < len(value) <= MAX_IN_VALUES:
            raise WrongDataType(
                f"{where} needs a non-empty list of at most {MAX_IN_VALUES} values, got {_shown(value)}",
                data=data,
            )
        wrong = [v for v in value if not _scalar_fits(v, kind)]
        if wrong:
            raise WrongDataType(
                f"{where}: every value in the list must be {_TYPE_NAMES[kind]}, got {_shown(wrong[0])}",
                data=data,
            )
    elif op == "ftsearch" and (not isinstance(value, str) or not value.strip()):
        raise WrongDataType(f"{where} needs a non-empty search string, got {_shown(value)}", data=data)


def check_filter(property_name: str, op: str, value: Any, kind: Kind | None) -> None:
    """Rejects a rule that cannot mean anything before it reaches the items (when saved, or served).

    ``kind=None`` (the property's kind is not known yet, e.g. no model trained) checks only what the
    value's shape says on its own. ``empty``/``notempty`` ignore the value.
    """
    if op not in FILTER_OPS:
        raise WrongOpUse(
            f"{rule_label(property_name, op)}: unknown op; use one of {', '.join(FILTER_OPS)}",
            data={"property": property_name, "op": op},
        )
    if kind is not None:
        _check_op_fits(property_name, op, kind)
    _check_value(property_name, op, value, kind)
