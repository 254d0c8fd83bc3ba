from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest

from reco.models.artifact import ModelArtifact
from reco.models.columns import ItemColumns, build_item_columns
from reco.models.recipes import RECIPES
from tests.unit.test_models_recipes import PERSONAL, two_clusters

PROPERTIES: dict[str, dict[str, Any]] = {
    "a0": {"price": 9.5, "in_stock": True, "brand": "acme", "tags": ["red", "sale"], "odd": 1},
    "a1": {"price": 3, "in_stock": False, "brand": "zeta", "tags": "blue", "odd": "x"},
    "b0": {"price": None, "brand": "acme", "tags": [], "meta/size": "L", "nested": {"a": 1}},
    "c0": {"tags": ["sale"], "meta/size": "S"},
}


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_bytes_round_trip_gives_identical_arrays_and_scores(recipe: str) -> None:
    data = two_clusters()
    artifact = ModelArtifact.train(recipe, PERSONAL.get(recipe), data, PROPERTIES, {"metrics": {"recall@20": 0.2}})
    blob = artifact.to_bytes()
    loaded = ModelArtifact.from_bytes(blob)
    assert loaded.recipe == recipe
    assert loaded.params == artifact.params
    assert loaded.metadata == artifact.metadata
    assert loaded.metadata["n_events"] == data.n_events and loaded.metadata["metrics"] == {"recall@20": 0.2}
    assert "trained_at" in loaded.metadata and loaded.metadata["format_version"] == 1
    np.testing.assert_array_equal(loaded.item_ids, data.item_ids)
    np.testing.assert_array_equal(loaded.user_ids, data.user_ids)
    assert loaded.item_ids.dtype.kind == "U"
    np.testing.assert_array_equal(loaded.popularity, artifact.popularity)
    np.testing.assert_array_equal(loaded.trending, artifact.trending)
    assert loaded.popularity.dtype == np.float32
    original, restored = artifact.model.to_arrays(), loaded.model.to_arrays()
    assert sorted(original) == sorted(restored)
    for key, value in original.items():
        np.testing.assert_array_equal(restored[key], value)
        assert restored[key].dtype == value.dtype
    users = np.arange(data.n_users)
    np.testing.assert_array_equal(loaded.model.score_users(users), artifact.model.score_users(users))
    np.testing.assert_array_equal(
        loaded.model.score_history([0, 3], [1, 1]), artifact.model.score_history([0, 3], [1, 1])
    )
    assert sorted(loaded.item_columns) == sorted(artifact.item_columns)


def test_the_npz_holds_no_pickles_and_namespaced_keys() -> None:
    blob = ModelArtifact.train("als", PERSONAL["als"], two_clusters(), PROPERTIES).to_bytes()
    with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
        keys = set(npz.files)
        assert all(npz[k].dtype != object for k in keys)
    assert {"recipe", "params", "metadata", "ids/items", "ids/users", "scores/popularity", "scores/trending"} <= keys
    assert {"model/user_factors", "model/item_factors", "model/user_items/indptr", "col/price"} <= keys
    assert "col/meta%2Fsize/vocab" in keys


def test_lookups() -> None:
    artifact = ModelArtifact.train("popularity", None, two_clusters())
    assert artifact.item_rows(["a1", "zzz", "c0"]).tolist() == [1, -1, 10]
    assert artifact.user_row("ua0") == 0
    assert artifact.user_row("stranger") is None


def test_item_columns_for_every_kind_round_trip() -> None:
    data = two_clusters()
    blob = ModelArtifact.train("popularity", None, data, PROPERTIES).to_bytes()
    columns = ModelArtifact.from_bytes(blob).item_columns
    expected = build_item_columns(data.item_ids, PROPERTIES)
    assert sorted(columns) == sorted(expected)
    for key, value in expected.items():
        np.testing.assert_array_equal(columns[key], value)
        assert columns[key].dtype == value.dtype
    rows = {str(item): i for i, item in enumerate(data.item_ids)}
    price = columns["price"]
    assert price.dtype == np.float64 and price[rows["a0"]] == 9.5 and price[rows["a1"]] == 3.0
    assert np.isnan(price[rows["b0"]]) and np.isnan(price[rows["c0"]])
    stock = columns["in_stock"]
    assert stock.dtype == np.int8 and [stock[rows[i]] for i in ("a0", "a1", "b0")] == [1, 0, -1]
    assert columns["brand/vocab"].tolist() == ["acme", "zeta"]
    assert [columns["brand"][rows[i]] for i in ("a0", "a1", "b0", "c0")] == [0, 1, 0, -1]
    assert columns["tags/vocab"].tolist() == ["blue", "red", "sale"]
    indptr, codes = columns["tags/indptr"], columns["tags"]
    assert codes[indptr[rows["a0"]] : indptr[rows["a0"] + 1]].tolist() == [1, 2]
    assert codes[indptr[rows["a1"]] : indptr[rows["a1"] + 1]].tolist() == [0]  # a plain string is a 1-list
    assert indptr[rows["b0"] + 1] == indptr[rows["b0"]]
    assert "odd" not in columns and "nested" not in columns  # mixed kinds / objects are not filterable

    view = ItemColumns(columns, data.n_items)
    assert view.names() == ["brand", "in_stock", "meta/size", "price", "tags"]
    assert [view.kind(n) for n in ("brand", "in_stock", "price", "tags")] == ["string", "bool", "number", "strings"]
    assert np.flatnonzero(view.isin("brand", ["acme", "nope"])).tolist() == [rows["a0"], rows["b0"]]
    assert np.flatnonzero(view.isin("tags", ["sale"])).tolist() == [rows["a0"], rows["c0"]]
    assert np.flatnonzero(view.isin("in_stock", [False])).tolist() == [rows["a1"]]
    assert np.flatnonzero(view.isin("meta/size", ["S"])).tolist() == [rows["c0"]]
    assert np.flatnonzero(view.between("price", low=5)).tolist() == [rows["a0"]]
    assert np.flatnonzero(view.isin("price", [3])).tolist() == [rows["a1"]]
    with pytest.raises(KeyError):
        view.kind("missing")
