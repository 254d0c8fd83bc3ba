"""DynamoDB attribute values in their wire form (``{"S": "x"}``, ``{"N": "12"}``, …): checks, order, size.

Values stay in the JSON shape the API sends and returns, so stored items are spliced into responses
without converting them twice. Numbers are compared as Decimals and stored normalised, as DynamoDB
returns them (``"1.50"`` reads back as ``"1.5"``).
"""

from __future__ import annotations

import base64
import binascii
import re
from decimal import Context, Decimal, Inexact, InvalidOperation, Overflow, Rounded
from typing import Any

from local.dynamodb.errors import ValidationError

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]

SCALAR_TYPES = ("S", "N", "B")
TYPES = frozenset({"S", "N", "B", "SS", "NS", "BS", "M", "L", "BOOL", "NULL"})
MAX_ITEM_BYTES = 400 * 1024
MAX_NESTING = 32
NUMBER_CONTEXT = Context(prec=38, traps=[InvalidOperation, Inexact, Rounded, Overflow])
# Numbers already in canonical form (most): no leading zeros, no trailing fraction zeros, few digits.
CANONICAL_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]{0,29})(?:\.[0-9]{0,7}[1-9])?")
MIN_EXPONENT, MAX_EXPONENT = -130, 125  # DynamoDB's magnitude range: 1E-130 .. 9.99E+125


def type_of(value: AttributeValue) -> str:
    (kind,) = value
    return str(kind)


def number(text: str) -> Decimal:
    """A DynamoDB number (at most 38 significant digits, 1E-130 to 9.99E+125 in magnitude)."""
    try:
        value = Decimal(text)  # exact, whatever the thread's decimal context
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError(f"A value provided cannot be converted into a number: {text!r}") from None
    if not value.is_finite():
        raise ValidationError(f"A value provided cannot be converted into a number: {text!r}")
    if value:
        significant = "".join(map(str, value.as_tuple().digits)).strip("0")
        if len(significant) > 38:
            raise ValidationError("Attempting to store more than 38 significant digits in a Number")
        if not MIN_EXPONENT <= value.adjusted() <= MAX_EXPONENT:
            raise ValidationError(
                "Number overflow. Attempting to store a number with magnitude larger than supported range"
            )
    return value


def add_numbers(left: str, right: str, subtract: bool = False) -> str:
    """``left ± right`` as DynamoDB computes it: exactly, or a ValidationError past 38 digits."""
    a, b = number(left), number(right)
    try:
        total = NUMBER_CONTEXT.subtract(a, b) if subtract else NUMBER_CONTEXT.add(a, b)
    except (Inexact, Rounded, Overflow):
        raise ValidationError(
            "Number overflow. Attempting to store a number with more than 38 significant digits"
        ) from None
    return number_text(number(str(total)))


def number_text(value: Decimal) -> str:
    """The canonical text of a number: no trailing zeros (``1.50`` → ``1.5``), no exponent unless the
    digits written out would pass 38 (``1E+40``, which boto3 and every 38-digit reader can take)."""
    if not value:
        return "0"
    normal = value.normalize(NUMBER_CONTEXT)
    plain = format(normal, "f")
    return plain if len(plain.lstrip("-").replace(".", "")) <= 38 else str(normal)


def binary(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise ValidationError("Invalid binary value: not base64") from None


def normalise(value: Any, path: str = "", depth: int = 0) -> AttributeValue:
    """A checked copy of a wire value, numbers in canonical text; ValidationError names what is wrong."""
    if not isinstance(value, dict) or len(value) != 1:
        raise ValidationError(
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported "
            f"datatypes{_at(path)}"
        )
    ((kind, inner),) = value.items()
    if kind not in TYPES:
        raise ValidationError(
            f"Supplied AttributeValue is empty, must contain exactly one of the supported datatypes{_at(path)}"
        )
    if depth > MAX_NESTING:
        raise ValidationError(f"Nesting Levels have exceeded supported limits{_at(path)}")
    if kind == "S":
        if not isinstance(inner, str):
            raise ValidationError(f"Invalid S value{_at(path)}")
        return {"S": inner}
    if kind == "N":
        if not isinstance(inner, str):
            raise ValidationError(f"Invalid N value{_at(path)}")
        if CANONICAL_NUMBER.fullmatch(inner) and inner != "-0":
            return {"N": inner}
        return {"N": number_text(number(inner))}
    if kind == "B":
        if not isinstance(inner, str):
            raise ValidationError(f"Invalid B value{_at(path)}")
        binary(inner)
        return {"B": inner}
    if kind == "BOOL":
        if not isinstance(inner, bool):
            raise ValidationError(f"Invalid BOOL value{_at(path)}")
        return {"BOOL": inner}
    if kind == "NULL":
        if inner is not True:
            raise ValidationError(f"Null attribute value types must have the value of true{_at(path)}")
        return {"NULL": True}
    if kind in ("SS", "NS", "BS"):
        return {kind: _set_members(kind, inner, path)}
    if kind == "L":
        if not isinstance(inner, list):
            raise ValidationError(f"Invalid L value{_at(path)}")
        return {"L": [normalise(element, f"{path}[{i}]", depth + 1) for i, element in enumerate(inner)]}
    if not isinstance(inner, dict):
        raise ValidationError(f"Invalid M value{_at(path)}")
    return {"M": {name: normalise(element, f"{path}.{name}", depth + 1) for name, element in inner.items()}}


def _set_members(kind: str, members: Any, path: str) -> list[str]:
    if not isinstance(members, list) or not all(isinstance(member, str) for member in members):
        raise ValidationError(f"Invalid {kind} value{_at(path)}")
    if not members:
        raise ValidationError(f"One or more parameter values were invalid: An string set  may not be empty{_at(path)}")
    if kind == "NS":
        canonical = [number_text(number(member)) for member in members]
    elif kind == "BS":
        canonical = [base64.b64encode(binary(member)).decode() for member in members]
    else:
        canonical = list(members)
    if len(set(canonical)) != len(canonical):
        raise ValidationError(
            f"One or more parameter values were invalid: Input collection {members} contains duplicates."
        )
    return canonical


def _at(path: str) -> str:
    return f" (at {path.lstrip('.')})" if path else ""


def normalise_item(item: Any, what: str = "Item") -> Item:
    if not isinstance(item, dict):
        raise ValidationError(f"{what} must be a map of attribute names to values")
    checked: Item = {}
    for name, value in item.items():
        if not name:
            raise ValidationError("One or more parameter values were invalid: An attribute name cannot be empty")
        checked[name] = normalise(value, name)
    return checked


# ---------------------------------------------------------------------------------------- comparison
def scalar(value: AttributeValue) -> Decimal | str | bytes:
    """The comparable form of an S, N or B value."""
    kind = type_of(value)
    if kind == "N":
        return Decimal(value["N"])
    if kind == "B":
        return binary(value["B"])
    return str(value["S"])


def equal(left: AttributeValue | None, right: AttributeValue | None) -> bool:
    if left is None or right is None:
        return False
    kind = type_of(left)
    if kind != type_of(right):
        return False
    if kind in ("S", "N", "B"):
        return scalar(left) == scalar(right)
    if kind == "NS":
        return {Decimal(n) for n in left["NS"]} == {Decimal(n) for n in right["NS"]}
    if kind in ("SS", "BS"):
        return set(left[kind]) == set(right[kind])
    if kind == "L":
        return len(left["L"]) == len(right["L"]) and all(map(equal, left["L"], right["L"]))
    if kind == "M":
        return left["M"].keys() == right["M"].keys() and all(equal(v, right["M"][k]) for k, v in left["M"].items())
    return bool(left[kind] == right[kind])


def ordered(left: AttributeValue | None, right: AttributeValue | None) -> tuple[Any, Any] | None:
    """Both values in comparable form, or None when ``<`` and friends cannot compare them (false)."""
    if left is None or right is None:
        return None
    kind = type_of(left)
    if kind not in SCALAR_TYPES or kind != type_of(right):
        return None
    return scalar(left), scalar(right)


# ---------------------------------------------------------------------------------------- keys
def key_text(value: AttributeValue) -> str | bytes:
    """A key value as SQLite stores it, so that SQLite's order is DynamoDB's.

    Strings compare as UTF-8 bytes in both (code point order); binary as bytes; numbers get an
    order-preserving text form: sign, biased exponent, digits (complemented when negative).
    """
    kind = type_of(value)
    if kind == "S":
        return str(value["S"])
    if kind == "B":
        return binary(value["B"])
    return sortable_number(Decimal(value["N"]))


def sortable_number(value: Decimal) -> str:
    if not value:
        return "1"
    sign, digits, _ = value.normalize(NUMBER_CONTEXT).as_tuple()
    text = "".join(map(str, digits)).rstrip("0") or "0"
    biased = value.adjusted() + 1 + 200
    if not sign:
        return f"2{biased:03d}{text}"
    return f"0{999 - biased:03d}{''.join(str(9 - int(d)) for d in text)}~"


def successor(prefix: str | bytes) -> str | bytes | None:
    """The smallest value greater than every value that starts with ``prefix`` (None: no bound)."""
    if isinstance(prefix, bytes):
        trimmed = prefix.rstrip(b"\xff")
        return trimmed[:-1] + bytes([trimmed[-1] + 1]) if trimmed else None
    for end in range(len(prefix) - 1, -1, -1):
        code = ord(prefix[end]) + 1
        if code == 0xD800:
            code = 0xE000  # skip the surrogates: they are not characters
        if code <= 0x10FFFF:
            return prefix[:end] + chr(code)
    return None


# ---------------------------------------------------------------------------------------- size
def value_size(value: AttributeValue) -> int:
    """DynamoDB's item-size rules: UTF-8 bytes of strings and names, about 1 byte per 2 digits of numbers."""
    kind = type_of(value)
    inner = value[kind]
    if kind == "S":
        return len(inner.encode("utf-8", "surrogatepass"))
    if kind == "N":
        return len(inner.lstrip("-").replace(".", "")) // 2 + 2
    if kind == "B":
        return len(binary(inner))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(member.encode("utf-8", "surrogatepass")) for member in inner)
    if kind == "NS":
        return sum(len(member) // 2 + 2 for member in inner)
    if kind == "BS":
        return sum(len(binary(member)) for member in inner)
    if kind == "L":
        return 3 + sum(value_size(element) + 1 for element in inner)
    return 3 + sum(
        len(name.encode("utf-8", "surrogatepass")) + value_size(element) + 1 for name, element in inner.items()
    )


def item_size(item: Item) -> int:
    return sum(len(name.encode("utf-8", "surrogatepass")) + value_size(value) for name, value in item.items())
