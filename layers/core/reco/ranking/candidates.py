"""Candidate bookkeeping shared by every ranker: the duplicate-id attribute echo."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

# Response fields an echoed attribute must never overwrite.
RESERVED_FIELDS = frozenset({"id", "score"})
_ABSENT = object()


def _comparable(value: Any) -> Any:
    """JSON equality: 1 and 1.0 are the same number, but true is not the number 1."""
    return (isinstance(value, bool), value)


def duplicate_echo(ids: Sequence[str], attributes: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """For each request row, the attributes to echo so that duplicate ids can be told apart.

    Rows whose id is unique get nothing. In a group of rows sharing an id, each row gets the
    attributes whose values differ across the group (a key missing from some rows differs too).
    """
    groups: dict[str, list[int]] = defaultdict(list)
    for index, item_id in enumerate(ids):
        groups[item_id].append(index)
    echo: list[dict[str, Any]] = [{} for _ in ids]
    for rows in groups.values():
        if len(rows) < 2:
            continue
        keys = set().union(*(attributes[i].keys() for i in rows)) - RESERVED_FIELDS
        for key in sorted(keys):
            values = [_comparable(attributes[i].get(key, _ABSENT)) for i in rows]
            if all(v == values[0] for v in values):
                continue
            for i in rows:
                if key in attributes[i]:
                    echo[i][key] = attributes[i][key]
    return echo
