"""Grouped lists: a ranked list folded into groups by one item property (a context's ``group_by``).

Groups are ordered by their best item; each keeps its items in list order. Everything is one pass
of ``np.unique`` over the ranked rows' keys: no loop over items.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from reco.errors import WrongParameter
from reco.models.artifact import ModelArtifact
from reco.models.columns import column_key
from reco.models.interactions import I64


@dataclass(frozen=True)
class Group:
    value: Any  # the property's value; None for items without it
    rows: I64  # the group's rows, in list order


def _keys(artifact: ModelArtifact, name: str, rows: I64) -> tuple[np.ndarray, Any]:
    """A sortable key per row (NaN / -1 for missing) and a function from key to value."""
    columns = artifact.columns
    if name not in columns.names():
        raise WrongParameter(
            f"group_by '{name}' is not a property of the serving model's items: fix the context or retrain",
            data={"parameter": "group_by"},
        )
    kind, key = columns.kind(name), column_key(name)
    column = columns.columns[key]
    if kind == "number":
        values = column[rows].astype(np.float64)
        return values, lambda k: None if np.isnan(k) else (int(k) if float(k).is_integer() else float(k))
    if kind == "bool":
        return column[rows].astype(np.int64), lambda k: None if k < 0 else bool(k)
    vocab = columns.columns[f"{key}/vocab"]
    if kind == "string":
        codes = column[rows].astype(np.int64)
    else:  # an array property groups by its first element
        indptr = columns.columns[f"{key}/indptr"]
        starts, stops = indptr[rows], indptr[rows + 1]
        codes = np.where(stops > starts, column[np.minimum(starts, max(len(column) - 1, 0))], -1).astype(np.int64)
    return codes, lambda k: None if k < 0 else str(vocab[int(k)])


def group_rows(artifact: ModelArtifact, name: str, rows: I64) -> list[Group]:
    """``rows`` (a ranked list) grouped by property ``name``, groups ordered by their first row."""
    if len(rows) == 0:
        return []
    keys, value_of = _keys(artifact, name, rows)
    if keys.dtype == np.float64:
        keys = np.where(np.isnan(keys), np.inf, keys)  # one group for every missing value
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    by_group = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[by_group], np.arange(len(first) + 1))
    groups = []
    for g in order.tolist():
        members = by_group[bounds[g] : bounds[g + 1]]
        key = keys[members[0]]
        groups.append(Group(value_of(np.nan if key == np.inf else key), rows[members]))
    return groups


def group_id(value: Any) -> str:
    """``grp_<value>``: the id of a group in responses, accepted back as ``starting_after``."""
    return f"grp_{value}"


def group_offset_after(groups: Sequence[Group], row: int | None, after: str) -> int | None:
    """The position after the group holding ``row`` (an item of the list) or whose id is ``after``; None if none."""
    for position, group in enumerate(groups):
        if row is not None and row >= 0 and bool(np.any(group.rows == row)):
            return position + 1
    for position, group in enumerate(groups):
        if group_id(group.value) == after:
            return position + 1
    return None
