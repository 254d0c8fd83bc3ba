"""Answers as JSON, with stored items spliced in as they are stored (no decode and encode per item)."""

from __future__ import annotations

import json
from typing import Any


class StoredJSON(str):
    """JSON text that goes into an answer verbatim."""


def dumps(value: Any) -> str:
    if isinstance(value, StoredJSON):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(key)}:{dumps(element)}" for key, element in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dumps(element) for element in value) + "]"
    return json.dumps(value, ensure_ascii=False)
