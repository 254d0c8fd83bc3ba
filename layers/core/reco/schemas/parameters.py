"""The documented form of the path and query parameters that a route reads itself.

Context ids (``101`` or the legacy ``ctx_101``), request ids and the filter mini-languages of the
query strings are parsed by their own readers, which answer a 400 that names the parameter and the
expected form. The OpenAPI document states that form as a ``pattern`` (:func:`documented`, which
changes the document only: the reader stays the one check, so its message stays). Each pattern is
held by tests (tests/test_parameter_forms.py) to one of two promises:

- exact (``EXACT``): the reader accepts a value if and only if it matches;
- necessary: every value the reader accepts matches, so a value outside the pattern is always a
  4xx; a value inside it can still be refused for what the pattern does not say (a filter value of
  the wrong type for its operator, a time window longer than the route allows), which the
  parameter's description says in words.

Patterns are ECMA-262 and Python ``re`` at once: ``[0-9]`` rather than ``\\d``, case-insensitive
words spelled as ``[eE][qQ]`` (no inline flags), ``[\\s\\S]`` for any character.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import WithJsonSchema


def documented(pattern: str, max_length: int, **schema: Any) -> WithJsonSchema:
    """The JSON schema of a string parameter whose route checks ``pattern`` itself."""
    return WithJsonSchema({"type": "string", "pattern": pattern, "maxLength": max_length, **schema})


def any_case(words: Iterable[str]) -> str:
    """``(?:[eE][qQ]|[lL][tT])``: one of ``words`` in any letter case."""
    spelled = ("".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in word) for word in words)
    return "(?:" + "|".join(sorted(spelled, key=len, reverse=True)) + ")"


# ``101`` or ``ctx_101`` (reco.schemas.lists.context_number): exact.
CONTEXT_ID_FORM = r"^(?:ctx_)?[0-9]{1,18}$"
CONTEXT_ID_MAX_LENGTH = 22

# A request id taken from the query string (reco.api.middleware.is_valid_request_id; empty: none,
# the route makes one): exact.
REQUEST_ID_FORM = r"^[A-Za-z0-9._:=+-]{0,128}$"

# ``property:op[:value]`` of GET /recommendation/.../items/ (reco.scenarios.url_forms): necessary.
# The property is everything before the first ':' (at most 128 characters), the op one of the
# scenario filter ops (any case); empty / notempty need no value, in / notin a JSON list, the others
# a value (JSON when it parses, else the text).
_URL_FILTER_VALUE_OPS = ("eq", "neq", "lt", "lte", "gt", "gte", "ftsearch")
URL_FILTER_FORM = (
    r"^[^:]{1,128}:(?:"
    + any_case(("empty", "notempty"))
    + r"(?::[\s\S]*)?|"
    + any_case(("in", "notin"))
    + r":[ \t\n\r]*\[[\s\S]*\][ \t\n\r]*|"
    + any_case(_URL_FILTER_VALUE_OPS)
    + r":[\s\S]*)$"
)
URL_FILTER_MAX_LENGTH = 2048

# ``property:diversity[:weight]`` (reco.scenarios.url_forms): necessary (the weight is a JSON
# number, more than 0 and at most 100).
_JSON_NUMBER = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
URL_RERANKING_FORM = r"^[^:]{1,128}:" + any_case(("diversity",)) + r"(?::[ \t\n\r]*" + _JSON_NUMBER + r"[ \t\n\r]*)?$"
URL_RERANKING_MAX_LENGTH = 256

# ``keys.nested:op:value`` of GET /scenarios/ (reco.scenarios.metadata_filters): exact, but for
# a value nested more than 32 levels deep. Keys are non-empty; ``\\x`` escapes any character.
_METADATA_KEY = r"(?:[^\\.:]|\\[\s\S])+"
METADATA_FILTER_FORM = (
    rf"^{_METADATA_KEY}(?:\.{_METADATA_KEY})*:" + any_case(("eq", "lt", "gt", "lte", "gte")) + r":[\s\S]*$"
)
METADATA_FILTER_MAX_LENGTH = 1024

# The ``filter`` shorthand of GET /v1/recommendations (reco.lists.filters): necessary. An optional
# AND: / OR: prefix (always read as the prefix), a property name of at most 64 of [A-Za-z0-9_.-],
# an operator, and a non-empty value where a backslash escapes only | or \\; a|b lists only after
# : = or !=, with no empty alternative. Values are typed against the catalog when evaluated.
_LOGIC = any_case(("and", "or")) + ":"
_ALTERNATIVE = r"(?:[^\\|]|\\[|\\])+"
_NAME_OP_VALUE = (
    r"[A-Za-z0-9_.-]{1,64}(?:(?:!=|:|=)" + _ALTERNATIVE + r"(?:\|" + _ALTERNATIVE + r")*"
    r"|(?:>=|<=|>|<|~)" + _ALTERNATIVE + ")"
)
SHORTHAND_FILTER_FORM = rf"^(?:{_LOGIC}{_NAME_OP_VALUE}|(?!{_LOGIC}){_NAME_OP_VALUE})$"
SHORTHAND_FILTER_MAX_LENGTH = 512

# An ISO-8601 instant with a time zone (reco.customer.logs): necessary (a date first, a zone last).
INSTANT_FORM = r"^[0-9]{4}[\s\S]*(?:Z|[+-][0-9]{2}(?::?[0-9]{2}(?::?[0-9]{2}(?:[.,][0-9]+)?)?)?)$"
