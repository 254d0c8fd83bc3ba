"""The limits every JSON input shares: nesting depth, free-form size, number range.

One place, so that a field added later is covered without a thought:

- every request body and every JSON value in a query string is refused past
  :data:`MAX_JSON_DEPTH` levels before anything parses it recursively;
- every stored free-form object (scenario and context metadata, model params and attributes,
  item and user properties, event context, chat events) is a :data:`FreeForm` value: at most
  :data:`MAX_FREE_FORM_DEPTH` levels, :data:`MAX_FREE_FORM_BYTES` of JSON, numbers that DynamoDB
  can hold; so nothing is stored that a later read cannot decode;
- every integer and number field of a request model declares its range (a test walks the
  OpenAPI document to hold that).
"""

from __future__ import annotations

import json
import math
import re
from typing import Annotated, Any

from pydantic import AfterValidator, Field, JsonValue

MAX_JSON_DEPTH = 32  # DynamoDB's own nesting limit for a stored item
MAX_FREE_FORM_DEPTH = 16
MAX_FREE_FORM_BYTES = 32 * 1024
# DynamoDB numbers: 38 significant digits, magnitude below 1e126 (and above 1e-130).
MAX_NUMBER_MAGNITUDE = 1e125
MAX_INTEGER_DIGITS = 38

_OPENERS = (b"[", b"{")
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(range(256)).translate(None, b"[]{}")


class TooDeep(ValueError):
    def __init__(self, depth: int, limit: int, where: str) -> None:
        super().__init__(f"{where} is nested {depth} levels deep; at most {limit} levels are accepted")
        self.depth = depth


def json_depth(text: bytes) -> int:
    """How deep the arrays and objects of JSON ``text`` nest (0 for a scalar), without parsing it.

    Brackets inside strings do not count: strings are cut out first.
    """
    # Here, not at the top: every function's middleware imports this module, and the catalog and
    # events functions need numpy for nothing else (about 65 ms of their cold start).
    import numpy as np

    brackets = np.frombuffer(_STRING.sub(b"", text).translate(None, _NOT_BRACKETS), dtype=np.uint8)
    if brackets.size == 0:
        return 0
    steps = np.where((brackets == ord("[")) | (brackets == ord("{")), 1, -1).astype(np.int32)
    return int(np.cumsum(steps).max(initial=0))


def check_json_depth(text: bytes, where: str, limit: int = MAX_JSON_DEPTH) -> None:
    if sum(text.count(opener) for opener in _OPENERS) <= limit:
        return  # the common case, at C speed: a text with this few brackets cannot nest deeper
    depth = json_depth(text)
    if depth > limit:
        raise TooDeep(depth, limit, where)


def loads_bounded(text: str, where: str) -> Any:
    """``json.loads`` for text from a request (a query parameter): depth-checked first."""
    check_json_depth(text.encode("utf-8", "surrogatepass"), where)
    return json.loads(text)


def check_free_form(value: Any, max_depth: int = MAX_FREE_FORM_DEPTH, max_bytes: int = MAX_FREE_FORM_BYTES) -> Any:
    """``value`` if it is a JSON object that can be stored and read back, else a ``ValueError``
    that names the limit (pydantic turns it into a 422 at the field)."""
    stack: list[tuple[Any, int, str]] = [(value, 0, "")]
    while stack:  # iterative: the input's depth must not become the interpreter's
        node, depth, path = stack.pop()
        if isinstance(node, dict | list):
            if depth + 1 > max_depth:
                raise ValueError(f"nested more than {max_depth} levels deep (at '{path or '.'}'); flatten it")
            children = node.items() if isinstance(node, dict) else enumerate(node)
            stack.extend((child, depth + 1, f"{path}.{key}" if path else str(key)) for key, child in children)
        elif isinstance(node, bool) or node is None or isinstance(node, str):
            continue
        elif isinstance(node, int):
            if len(str(abs(node))) > MAX_INTEGER_DIGITS:
                raise ValueError(f"'{path}': integers have at most {MAX_INTEGER_DIGITS} digits")
        elif isinstance(node, float) and (not math.isfinite(node) or abs(node) > MAX_NUMBER_MAGNITUDE):
            raise ValueError(f"'{path}': numbers must be finite and below {MAX_NUMBER_MAGNITUDE:.0e} in magnitude")
    size = len(json.dumps(value, ensure_ascii=False).encode())
    if size > max_bytes:
        raise ValueError(f"is {size} bytes of JSON; at most {max_bytes} are accepted")
    return value


NUMBER_SCHEMA: dict[str, Any] = {
    "type": "number",
    "minimum": -MAX_NUMBER_MAGNITUDE,
    "maximum": MAX_NUMBER_MAGNITUDE,
}
Number = Annotated[float, Field(ge=-MAX_NUMBER_MAGNITUDE, le=MAX_NUMBER_MAGNITUDE, allow_inf_nan=False)]
"""A finite number in DynamoDB's range, for fields without a narrower one of their own."""

FreeForm = Annotated[dict[str, JsonValue], AfterValidator(check_free_form)]
"""A stored free-form JSON object, bounded as :func:`check_free_form` says."""

FreeFormList = Annotated[list[JsonValue], AfterValidator(check_free_form)]
