"""The full-text index: tokenizing, AND matching, and its place in the artifact."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest

from reco.errors import WrongOpUse
from reco.models.artifact import ModelArtifact
from reco.models.text_index import TextIndex, build_text_index, tokenize
from reco.scenarios.filters import filter_mask
from tests.unit.test_models_recipes import two_clusters

IDS = ["p0", "p1", "p2", "p3", "p4"]
PROPS: dict[str, dict[str, Any]] = {
    "p0": {"title": "Red running SHOE", "tags": ["Sale", "new arrival"], "price": 3, "meta/size": "L"},
    "p1": {"title": "Blue shoe, red laces", "tags": "sale", "mixed": "a"},
    "p2": {"title": "Café crème", "tags": [], "mixed": 2},
    "p3": {"title": None, "tags": ("red",), "only_empty": []},
    # p4 has no properties at all
}


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Red running SHOE", ["red", "running", "shoe"]),
        ("Café au LAIT, crème-brûlée!", ["café", "au", "lait", "crème", "brûlée"]),
        ("cafe\u0301", ["café"]),  # decomposed accent → composed by NFKC
        ("\uff21\uff22\uff23 \ufb01ne", ["abc", "fine"]),  # full-width letters and ligatures
        ("snake_case 42 x2", ["snake_case", "42", "x2"]),
        ("Ёж и ДОМ", ["ёж", "и", "дом"]),
        ("red red", ["red", "red"]),
        ("", []),
        ("!!! ... --", []),
    ],
)
def test_tokenize(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens


def test_build_text_index_layout() -> None:
    arrays = build_text_index(IDS, PROPS)
    assert sorted(arrays) == sorted(
        f"{key}/{part}"
        for key in ("meta%2Fsize", "only_empty", "tags", "title")
        for part in ("tokens", "indptr", "rows")
    )  # numbers and mixed kinds have no index
    assert arrays["title/tokens"].tolist() == ["blue", "café", "crème", "laces", "red", "running", "shoe"]
    assert arrays["title/tokens"].dtype.kind == "U"
    indptr, rows = arrays["title/indptr"], arrays["title/rows"]
    assert indptr.dtype == np.int64 and rows.dtype == np.int32
    postings = {t: rows[indptr[i] : indptr[i + 1]].tolist() for i, t in enumerate(arrays["title/tokens"].tolist())}
    assert postings == {
        "blue": [1],
        "café": [2],
        "crème": [2],
        "laces": [1],
        "red": [0, 1],
        "running": [0],
        "shoe": [0, 1],
    }
    assert arrays["tags/tokens"].tolist() == ["arrival", "new", "red", "sale"]
    assert arrays["only_empty/tokens"].size == 0 and arrays["only_empty/indptr"].tolist() == [0]


def test_match_is_an_and_of_case_insensitive_tokens() -> None:
    index = TextIndex(build_text_index(IDS, PROPS), len(IDS))

    def hits(name: str, query: str) -> list[str]:
        mask = index.match(name, query)
        assert mask.dtype == np.bool_ and mask.shape == (len(IDS),)
        return [IDS[r] for r in np.flatnonzero(mask)]

    assert index.names() == ["meta/size", "only_empty", "tags", "title"]
    assert index.has("meta/size") and not index.has("price") and not index.has("mixed")
    assert hits("title", "red") == ["p0", "p1"]
    assert hits("title", "SHOE red") == ["p0", "p1"]
    assert hits("title", "red running") == ["p0"]
    assert hits("title", "red, blue!") == ["p1"]
    assert hits("title", "red nope") == []
    assert hits("title", "cafe") == []  # accents are kept
    assert hits("title", "CAFÉ") == ["p2"]
    assert hits("title", "") == [] and hits("title", "?!") == []
    assert hits("tags", "sale") == ["p0", "p1"]
    assert hits("tags", "sale arrival") == ["p0"]  # tokens may come from different elements
    assert hits("meta/size", "l") == ["p0"]
    assert hits("only_empty", "x") == []
    with pytest.raises(KeyError):
        index.match("price", "3")


def test_round_trip_through_the_artifact() -> None:
    data = two_clusters()
    properties = {
        "a0": {"title": "Red shoe", "brand": "Acme"},
        "a1": {"title": "red hat", "tags": ["red", "wool"]},
        "c0": {"title": "blue shoe", "price": 2.5},
    }
    artifact = ModelArtifact.train("popularity", None, data, properties)
    expected = build_text_index(data.item_ids, properties)
    assert sorted(artifact.text_index) == sorted(expected)
    blob = artifact.to_bytes()
    with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
        assert {"fts/title/tokens", "fts/title/indptr", "fts/title/rows", "fts/tags/rows"} <= set(npz.files)
        assert all(npz[k].dtype != object for k in npz.files)
    loaded = ModelArtifact.from_bytes(blob)
    assert sorted(loaded.text_index) == sorted(expected)
    for key, value in expected.items():
        np.testing.assert_array_equal(loaded.text_index[key], value)
        assert loaded.text_index[key].dtype == value.dtype
    rows = {str(item): i for i, item in enumerate(data.item_ids)}
    assert np.flatnonzero(loaded.texts.match("title", "SHOE")).tolist() == sorted([rows["a0"], rows["c0"]])
    assert np.flatnonzero(loaded.texts.match("title", "red shoe")).tolist() == [rows["a0"]]
    mask = filter_mask(loaded.columns, loaded.texts, "tags", "ftsearch", "wool")
    assert np.flatnonzero(mask).tolist() == [rows["a1"]]
    assert loaded.texts.names() == ["brand", "tags", "title"]


def test_artifacts_without_fts_load_with_an_empty_index() -> None:
    data = two_clusters()
    blob = ModelArtifact.train("popularity", None, data, {"a0": {"title": "red shoe"}}).to_bytes()
    with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
        old = {k: npz[k] for k in npz.files if not k.startswith("fts/")}
    assert len(old) < len(np.load(io.BytesIO(blob)).files)
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **old)
    loaded = ModelArtifact.from_bytes(buffer.getvalue())
    assert loaded.text_index == {} and loaded.texts.names() == [] and not loaded.texts.has("title")
    assert loaded.columns.names() == ["title"]
    with pytest.raises(WrongOpUse, match="retrain"):
        filter_mask(loaded.columns, loaded.texts, "title", "ftsearch", "red")
    assert filter_mask(loaded.columns, loaded.texts, "title", "eq", "red shoe").sum() == 1
