"""The trained-model artifact: one uncompressed ``.npz`` holding everything serving needs.

Uncompressed because a Lambda cold start pays for the load, not for S3 bytes. Loaded with
``allow_pickle=False``: an artifact is data, never code. Strings are numpy unicode arrays; params
and metadata are JSON in 0-d unicode arrays. Keys are namespaced: ``ids/…``, ``scores/…``,
``model/…`` (the recipe's own arrays), ``col/…`` (item property columns for filters), ``seg/…``
(user segments for cold start, see :mod:`reco.models.segments`), ``fts/…``
(the full-text index of text properties, see :mod:`reco.models.text_index`) and ``bm25/…`` (the
BM25 relevance index, see :mod:`reco.models.bm25`); artifacts written before ``fts/`` or ``bm25/``
existed load with an empty one.

Item columns (:func:`build_item_columns`) are a flat ``dict[str, np.ndarray]``; for a property
``name`` (with ``%`` and ``/`` percent-encoded in the key):

- numbers: ``name`` → float64, NaN where missing;
- booleans: ``name`` → int8, 1/0, -1 where missing;
- strings: ``name`` → int32 codes into ``name/vocab`` (sorted unicode), -1 where missing;
- arrays of strings: ``name`` → int32 codes, item r's in ``name[name/indptr[r]:name/indptr[r + 1]]``.
"""

from __future__ import annotations

import io
import json
from collections import OrderedDict, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from reco.models.base import Recommender
from reco.models.bm25 import BM25Index, build_bm25_index
from reco.models.interactions import F32, I64, Bools, Interactions, Strs, as_str_array, lookup
from reco.models.popularity import Popularity, Trending
from reco.models.recipes import RECIPES, fit_recipe, resolve_params
from reco.models.text_index import TextIndex, build_text_index
from reco.models.text_index import column_key as column_key  # lives below artifact now; re-exported
from reco.models.text_index import column_name as column_name

FORMAT_VERSION = 1
Kind = Literal["number", "bool", "string", "strings"]


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


@dataclass
class ModelArtifact:
    """A trained recipe plus the id universes and global scores serving falls back on."""

    recipe: str
    params: dict[str, Any]
    item_ids: Strs
    user_ids: Strs
    model: Recommender
    popularity: F32
    trending: F32
    metadata: dict[str, Any] = field(default_factory=dict)
    item_columns: dict[str, npt.NDArray[Any]] = field(default_factory=dict)
    # Whole-catalog filter masks, by the filters' JSON: every request of a scenario asks for the
    # same ones (see reco.recommendations.case). Lives and dies with the loaded artifact.
    filter_masks: OrderedDict[str, npt.NDArray[np.bool_]] = field(
        default_factory=OrderedDict, repr=False, compare=False
    )
    text_index: dict[str, npt.NDArray[Any]] = field(default_factory=dict)
    # Values derived once per loaded artifact by serving code (a chat's catalog vocabulary …).
    derived: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    bm25_index: dict[str, npt.NDArray[Any]] = field(default_factory=dict)
    # Trained users' properties and items, for cold start by user properties (reco.models.segments).
    user_segments: dict[str, npt.NDArray[Any]] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        recipe: str,
        params: Mapping[str, Any],
        model: Recommender,
        interactions: Interactions,
        *,
        item_columns: Mapping[str, npt.NDArray[Any]] | None = None,
        metadata: Mapping[str, Any] | None = None,
        text_index: Mapping[str, npt.NDArray[Any]] | None = None,
        bm25_index: Mapping[str, npt.NDArray[Any]] | None = None,
        user_segments: Mapping[str, npt.NDArray[Any]] | None = None,
    ) -> ModelArtifact:
        """Wraps a model fitted on ``interactions`` with its id universes and fallback scores.

        ``metadata`` is merged over the defaults (format_version, trained_at, n_events, n_users,
        n_items); it must be JSON-able.
        """
        info = {
            "format_version": FORMAT_VERSION,
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "n_events": interactions.n_events,
            "n_users": interactions.n_users,
            "n_items": interactions.n_items,
            **(metadata or {}),
        }
        return cls(
            recipe=recipe,
            params=dict(params),
            item_ids=interactions.item_ids,
            user_ids=interactions.user_ids,
            model=model,
            popularity=Popularity().fit(interactions).scores,
            trending=Trending().fit(interactions).scores,
            metadata=info,
            item_columns=dict(item_columns or {}),
            text_index=dict(text_index or {}),
            bm25_index=dict(bm25_index or {}),
            user_segments=dict(user_segments or {}),
        )

    @classmethod
    def train(
        cls,
        recipe: str,
        params: Mapping[str, Any] | None,
        interactions: Interactions,
        item_properties: Mapping[str, Mapping[str, Any]] | None = None,
        metadata: Mapping[str, Any] | None = None,
        user_segments: Mapping[str, npt.NDArray[Any]] | None = None,
    ) -> ModelArtifact:
        """Validates params, fits the recipe, builds columns and text indexes: :meth:`build` in one go."""
        resolved = resolve_params(recipe, params)
        return cls.build(
            recipe,
            resolved,
            fit_recipe(recipe, resolved, interactions),
            interactions,
            item_columns=build_item_columns(interactions.item_ids, item_properties or {}),
            metadata=metadata,
            text_index=build_text_index(interactions.item_ids, item_properties or {}),
            bm25_index=build_bm25_index(interactions.item_ids, item_properties or {}),
            user_segments=user_segments,
        )

    @property
    def columns(self) -> ItemColumns:
        return ItemColumns(self.item_columns, len(self.item_ids))

    @property
    def texts(self) -> TextIndex:
        return TextIndex(self.text_index, len(self.item_ids))

    @property
    def bm25(self) -> BM25Index:
        return BM25Index(self.bm25_index, len(self.item_ids))

    def item_rows(self, ids: Sequence[str] | Strs) -> I64:
        """Rows of item ids (-1 for ids unknown to the model)."""
        return lookup(self.item_ids, ids)

    def user_row(self, user_id: str) -> int | None:
        row = int(lookup(self.user_ids, [user_id])[0])
        return None if row < 0 else row

    def to_bytes(self) -> bytes:
        arrays: dict[str, npt.NDArray[Any]] = {
            "recipe": np.array(self.recipe, dtype=np.str_),
            "params": np.array(json.dumps(self.params, sort_keys=True), dtype=np.str_),
            "metadata": np.array(json.dumps(self.metadata, sort_keys=True), dtype=np.str_),
            "ids/items": as_str_array(self.item_ids),
            "ids/users": as_str_array(self.user_ids),
            "scores/popularity": np.asarray(self.popularity, dtype=np.float32),
            "scores/trending": np.asarray(self.trending, dtype=np.float32),
        }
        arrays.update({f"model/{k}": v for k, v in self.model.to_arrays().items()})
        arrays.update({f"col/{k}": v for k, v in self.item_columns.items()})
        arrays.update({f"fts/{k}": v for k, v in self.text_index.items()})
        arrays.update({f"bm25/{k}": v for k, v in self.bm25_index.items()})
        arrays.update({f"seg/{k}": v for k, v in self.user_segments.items()})
        buffer = io.BytesIO()
        np.savez(buffer, allow_pickle=False, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> ModelArtifact:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        recipe = str(arrays["recipe"])
        if recipe not in RECIPES:
            raise ValueError(f"artifact has unknown recipe {recipe!r}")
        params = json.loads(str(arrays["params"]))
        model_arrays = {k.removeprefix("model/"): v for k, v in arrays.items() if k.startswith("model/")}
        return cls(
            recipe=recipe,
            params=params,
            item_ids=arrays["ids/items"],
            user_ids=arrays["ids/users"],
            model=RECIPES[recipe].from_arrays(model_arrays, params),
            popularity=arrays["scores/popularity"],
            trending=arrays["scores/trending"],
            metadata=json.loads(str(arrays["metadata"])),
            item_columns={k.removeprefix("col/"): v for k, v in arrays.items() if k.startswith("col/")},
            text_index={k.removeprefix("fts/"): v for k, v in arrays.items() if k.startswith("fts/")},
            bm25_index={k.removeprefix("bm25/"): v for k, v in arrays.items() if k.startswith("bm25/")},
            user_segments={k.removeprefix("seg/"): v for k, v in arrays.items() if k.startswith("seg/")},
        )
