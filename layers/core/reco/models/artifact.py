"""The trained-model artifact: one uncompressed ``.npz`` holding everything serving needs.

Uncompressed because a Lambda cold start pays for the load, not for S3 bytes. Loaded with
``allow_pickle=False``: an artifact is data, never code. Strings are numpy unicode arrays; params
and metadata are JSON in 0-d unicode arrays. Keys are namespaced: ``ids/…``, ``scores/…``,
``model/…`` (the recipe's own arrays), ``col/…`` (item property columns for filters), ``seg/…``
(user segments for cold start, see :mod:`reco.models.segments`), ``fts/…``
(the full-text index of text properties, see :mod:`reco.models.text_index`) and ``bm25/…`` (the
BM25 relevance index, see :mod:`reco.models.bm25`); artifacts written before ``fts/`` or ``bm25/``
existed load with an empty one.

Item property columns: :mod:`reco.models.columns`.
"""

from __future__ import annotations

import io
import json
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from reco.models.base import Recommender
from reco.models.columns import ItemColumns, build_item_columns
from reco.models.interactions import F32, I64, Interactions, Strs, as_str_array, lookup
from reco.models.popularity import Popularity, Trending
from reco.models.recipes import RECIPES, fit_recipe, resolve_params

if TYPE_CHECKING:
    from reco.models.bm25 import BM25Index
    from reco.models.text_index import TextIndex

FORMAT_VERSION = 1


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
        # The text indexes' code loads where it is used (training, chat, text filters), not in every function.
        from reco.models.bm25 import build_bm25_index
        from reco.models.text_index import build_text_index

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
        from reco.models.text_index import TextIndex

        return TextIndex(self.text_index, len(self.item_ids))

    @property
    def bm25(self) -> BM25Index:
        from reco.models.bm25 import BM25Index

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
