"""Item property columns: what filters and attribute rules read, aligned with the artifact's item ids.

Item columns (:func:`build_item_columns`) are a flat ``dict[str, np.ndarray]``; for a property
``name`` (with ``%`` and ``/`` percent-encoded in the key):

- numbers: ``name`` → float64, NaN where missing;
- booleans: ``name`` → int8, 1/0, -1 where missing;
- strings: ``name`` → int32 codes into ``name/vocab`` (sorted unicode), -1 where missing;
- arrays of strings: ``name`` → int32 codes, item r's in ``name[name/indptr[r]:name/indptr[r + 1]]``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from reco.models.interactions import Bools, Strs, as_str_array, lookup

Kind = Literal["number", "bool", "string", "strings"]


def column_key(name: str) -> str:
    """A property name made safe as a key prefix (``/`` separates a column's parts) and as the name of
    an entry of the artifact's zip file, which ends at a NUL: two names could collide there."""
    return name.replace("%", "%25").replace("/", "%2F").replace("\x00", "%00")


def column_name(key: str) -> str:
    return key.replace("%00", "\x00").replace("%2F", "/").replace("%25", "%")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_string_list(value: Any) -> bool:
    return isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)


def build_item_columns(
    item_ids: Sequence[str] | Strs, properties: Mapping[str, Mapping[str, Any]]
) -> dict[str, npt.NDArray[Any]]:
    """Filterable property columns aligned with ``item_ids`` (training time; loops over the catalog).

    A property's kind is decided by all its non-null values: all booleans, all numbers, all
    strings, or arrays of strings (a plain string counting as a one-element array). Properties
    mixing kinds, or holding objects, are left out: they cannot be filtered on.
    """
    ids = as_str_array(item_ids)
    collected: dict[str, list[tuple[int, Any]]] = defaultdict(list)
    for row, item_id in enumerate(ids.tolist()):
        for name, value in (properties.get(item_id) or {}).items():
            if value is not None:
                collected[name].append((row, value))
    columns: dict[str, npt.NDArray[Any]] = {}
    n = len(ids)
    for name, pairs in sorted(collected.items()):
        key, rows = column_key(name), np.array([r for r, _ in pairs], dtype=np.int64)
        values = [v for _, v in pairs]
        if all(isinstance(v, bool) for v in values):
            flags = np.full(n, -1, dtype=np.int8)
            flags[rows] = np.array(values, dtype=np.int8)
            columns[key] = flags
        elif all(_is_number(v) for v in values):
            # float64: a float32 19.99 is 19.9899998 (a `gte 19.99` filter would miss it), and
            # epoch seconds would round to 128 s.
            numbers = np.full(n, np.nan, dtype=np.float64)
            numbers[rows] = np.array(values, dtype=np.float64)
            columns[key] = numbers
        elif all(isinstance(v, str) for v in values):
            vocab, codes = np.unique(np.array(values, dtype=np.str_), return_inverse=True)
            column = np.full(n, -1, dtype=np.int32)
            column[rows] = codes.reshape(-1)
            columns[key], columns[f"{key}/vocab"] = column, vocab.astype(np.str_)
        elif all(isinstance(v, str) or _is_string_list(v) for v in values):
            lists = [[v] if isinstance(v, str) else list(v) for v in values]
            lengths = np.zeros(n, dtype=np.int64)
            lengths[rows] = [len(v) for v in lists]
            indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
            flat = np.array([s for v in lists for s in v], dtype=np.str_)
            vocab, codes = np.unique(flat, return_inverse=True)
            columns[key], columns[f"{key}/vocab"] = codes.reshape(-1).astype(np.int32), vocab.astype(np.str_)
            columns[f"{key}/indptr"] = indptr
    return columns


class ItemColumns:
    """Read access to :func:`build_item_columns` output: kinds and boolean item masks for filters."""

    def __init__(self, columns: Mapping[str, npt.NDArray[Any]], n_items: int) -> None:
        self.columns, self.n_items = columns, n_items

    def names(self) -> list[str]:
        return sorted(column_name(k) for k in self.columns if "/" not in k)

    def kind(self, name: str) -> Kind:
        key = column_key(name)
        if key not in self.columns:
            raise KeyError(name)
        if f"{key}/indptr" in self.columns:
            return "strings"
        if f"{key}/vocab" in self.columns:
            return "string"
        return "bool" if self.columns[key].dtype == np.int8 else "number"

    def is_float(self, name: str) -> bool:
        """A number column holding a non-integral value: ``eq`` on it would hinge on float rounding."""
        if self.kind(name) != "number":
            return False
        column = self.columns[column_key(name)]
        values = column[~np.isnan(column)]
        return bool(np.any(values != np.floor(values)))

    def isin(self, name: str, values: Sequence[Any]) -> Bools:
        """Items whose property equals one of ``values`` (for arrays: contains one of them)."""
        key, kind = column_key(name), self.kind(name)
        column = self.columns[key]
        if kind == "bool":
            return np.isin(column, [int(v) for v in values if isinstance(v, bool)])
        if kind == "number":
            return np.isin(column, [float(v) for v in values if _is_number(v)])
        codes = lookup(self.columns[f"{key}/vocab"], [v for v in values if isinstance(v, str)])
        hits = np.isin(column, codes[codes >= 0])
        if kind == "string":
            return hits
        # Hits per item from a running count over the flat elements: no per-element owner array.
        indptr = self.columns[f"{key}/indptr"]
        running = np.concatenate(([0], np.cumsum(hits, dtype=np.int64)))
        return np.asarray(running[indptr[1:]] - running[indptr[:-1]] > 0)

    def between(self, name: str, low: float | None = None, high: float | None = None) -> Bools:
        """Items whose numeric property lies in [low, high] (missing values never match)."""
        column = self.columns[column_key(name)].astype(np.float64)
        mask = ~np.isnan(column)
        if low is not None:
            mask &= column >= low
        if high is not None:
            mask &= column <= high
        return mask
