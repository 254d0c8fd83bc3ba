"""BM25F relevance: weights and scores against a brute-force BM25F, ranking, and the artifact."""

from __future__ import annotations

import io
import json
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pytest

from reco.models.artifact import ModelArtifact
from reco.models.bm25 import BM25_FIELDS, BM25Index, build_bm25_index
from reco.models.text_index import tokenize
from tests.unit.test_models_recipes import two_clusters

WORDS = ["red", "Shoe", "desk", "WOODEN", "café", "cafe\u0301", "Crème", "naïve", "ёж", "tool", "x2", "lamp"]
FIELDS = {"title": 3.0, "tags": 1.5, "description": 1.0, "color": 1.0, "brand": 2.0}


class Rng:
    """Seeded choices (numpy's generator: the stdlib one is flagged by the security lint)."""

    def __init__(self, seed: int) -> None:
        self.gen = np.random.default_rng(seed)

    def random(self) -> float:
        return float(self.gen.random())

    def randint(self, low: int, high: int) -> int:
        return int(self.gen.integers(low, high + 1))

    def choice(self, options: Sequence[str]) -> str:
        return options[int(self.gen.integers(len(options)))]


def _text(rng: Rng, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


def random_catalog(seed: int, n: int = 40) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """Items with strings, arrays (some empty), missing and null values, a mixed-kind field, extra text."""
    rng = Rng(seed)
    ids = [f"i{r}" for r in range(n)]
    props: dict[str, dict[str, Any]] = {}
    for item_id in ids:
        if rng.random() < 0.1:
            continue  # no properties at all
        item: dict[str, Any] = {"notes": _text(rng, 1, 4)}  # text, but not a BM25 field
        if rng.random() < 0.8:
            item["title"] = _text(rng, 0, 5)
        if rng.random() < 0.7:
            item["tags"] = [_text(rng, 1, 2) for _ in range(rng.randint(0, 3))]
        item["description"] = _text(rng, 0, 12) if rng.random() < 0.6 else None
        if rng.random() < 0.5:
            item["brand"] = rng.choice(["Acme", "ACME corp", "Zêta"])
        item["color"] = rng.choice(["red", "lamp red"])
        props[item_id] = item
    props.setdefault("i1", {})["color"] = 3  # a number: the whole field is left out
    return ids, props


def brute_force(
    ids: Sequence[str], props: Mapping[str, Mapping[str, Any]], fields: Mapping[str, float], k1: float, b: float
) -> tuple[dict[tuple[str, int], float], dict[str, Any]]:
    """BM25F in pure Python, straight from the definition: {(token, row): weight} and the params."""
    indexed = {}
    for name, weight in fields.items():
        values = [props.get(i, {}).get(name) for i in ids]
        values = [v for v in values if v is not None]
        text = all(isinstance(v, str) or (isinstance(v, list) and all(isinstance(s, str) for s in v)) for v in values)
        if values and text:
            indexed[name] = weight
    tf: list[dict[str, float]] = [defaultdict(float) for _ in ids]
    dl = [0.0] * len(ids)
    for row, item_id in enumerate(ids):
        for name, weight in indexed.items():
            value = props.get(item_id, {}).get(name)
            for text in [value] if isinstance(value, str) else value or []:
                for token in tokenize(text):
                    tf[row][token] += weight
                    dl[row] += weight
    docs = [row for row in range(len(ids)) if dl[row] > 0]
    n_docs = len(docs)
    avgdl = sum(dl) / n_docs if n_docs else 0.0
    df: dict[str, int] = defaultdict(int)
    for counts in tf:
        for token in counts:
            df[token] += 1
    weights = {}
    for row, counts in enumerate(tf):
        for token, f in counts.items():
            idf = math.log(1 + (n_docs - df[token] + 0.5) / (df[token] + 0.5))
            weights[(token, row)] = idf * f * (k1 + 1) / (f + k1 * (1 - b + b * dl[row] / avgdl))
    return weights, {"k1": k1, "b": b, "fields": indexed, "n_docs": n_docs, "avgdl": avgdl}


def postings(arrays: Mapping[str, np.ndarray]) -> dict[tuple[str, int], float]:
    vocab, indptr, rows, weights = (arrays[k] for k in ("vocab", "indptr", "rows", "weights"))
    out = {}
    for t, token in enumerate(vocab.tolist()):
        for p in range(indptr[t], indptr[t + 1]):
            out[(token, int(rows[p]))] = float(weights[p])
    return out


def brute_scores(weights: Mapping[tuple[str, int], float], n: int, query: str) -> np.ndarray:
    scores = np.zeros(n, dtype=np.float64)
    for token in set(tokenize(query)):
        for (t, row), w in weights.items():
            if t == token:
                scores[row] += np.float32(w)
    return scores


@pytest.mark.parametrize(
    ("seed", "k1", "b"), [(0, 1.2, 0.75), (1, 1.2, 0.75), (2, 2.0, 0.0), (3, 0.5, 1.0), (4, 0.0, 0.5)]
)
def test_weights_match_a_brute_force_bm25f(seed: int, k1: float, b: float) -> None:
    ids, props = random_catalog(seed)
    arrays = build_bm25_index(ids, props, FIELDS, k1=k1, b=b)
    expected, params = brute_force(ids, props, FIELDS, k1, b)
    got = postings(arrays)
    assert sorted(got) == sorted(expected)
    for key, weight in expected.items():
        assert got[key] == pytest.approx(weight, rel=1e-6), key
    loaded = json.loads(str(arrays["params"]))
    assert loaded["fields"] == params["fields"] == {"title": 3.0, "tags": 1.5, "description": 1.0, "brand": 2.0}
    assert loaded["n_docs"] == params["n_docs"] and 0 < loaded["n_docs"] < len(ids)
    assert loaded["avgdl"] == pytest.approx(params["avgdl"], rel=1e-12)
    assert (loaded["k1"], loaded["b"]) == (k1, b)
    assert all(w > 0 for w in expected.values())


def test_layout_dtypes_and_sorting() -> None:
    ids, props = random_catalog(7)
    arrays = build_bm25_index(ids, props, FIELDS)
    assert sorted(arrays) == ["indptr", "params", "rows", "vocab", "weights"]
    vocab, indptr, rows = arrays["vocab"], arrays["indptr"], arrays["rows"]
    assert vocab.dtype.kind == "U" and indptr.dtype == np.int64 and rows.dtype == np.int32
    assert arrays["weights"].dtype == np.float32 and arrays["params"].dtype.kind == "U"
    assert arrays["params"].shape == ()
    assert vocab.tolist() == sorted(set(vocab.tolist()))
    assert indptr[0] == 0 and indptr[-1] == len(rows) == len(arrays["weights"]) and np.all(np.diff(indptr) > 0)
    for t in range(len(vocab)):
        run = rows[indptr[t] : indptr[t + 1]]
        assert np.all(np.diff(run) > 0)
    # accents kept, NFKC applied (a decomposed é is the composed one), lower-cased; "notes" and color are out
    assert {"café", "crème", "wooden", "shoe", "naïve", "ёж", "corp", "zêta"} <= set(vocab.tolist())
    assert "Shoe" not in vocab and "cafe\u0301" not in vocab and "cafe" not in vocab
    only_notes = build_bm25_index(["a", "b"], {"a": {"notes": "zebra"}, "b": {"title": "lamp", "color": 2}})
    assert only_notes["vocab"].tolist() == ["lamp"]
    assert json.loads(str(only_notes["params"]))["fields"] == {"title": 3.0}


def test_postings_are_the_distinct_token_item_pairs() -> None:
    ids, props = random_catalog(11, n=200)
    arrays = build_bm25_index(ids, props, FIELDS)
    pairs = set()
    fields = {"title", "tags", "description", "brand"}  # color is mixed, left out
    for row, item_id in enumerate(ids):
        for name, value in props.get(item_id, {}).items():
            if name in fields and value is not None:
                for text in [value] if isinstance(value, str) else value:
                    pairs.update((token, row) for token in tokenize(text))
    assert len(arrays["rows"]) == len(pairs)
    assert len(arrays["vocab"]) == len({t for t, _ in pairs})
    assert arrays["rows"].nbytes + arrays["weights"].nbytes == 8 * len(pairs)


@pytest.mark.parametrize("seed", [0, 5, 9])
def test_scores_match_brute_force_for_random_queries(seed: int) -> None:
    ids, props = random_catalog(seed)
    index = BM25Index(build_bm25_index(ids, props, FIELDS), len(ids))
    expected, _ = brute_force(ids, props, FIELDS, 1.2, 0.75)
    rng = Rng(seed)
    extra = ["unknown", "ZZZ", "désk", "corp", "acme", "!!", "lamp lamp LAMP"]
    for _ in range(30):
        query = " ".join(rng.choice(WORDS + extra) for _ in range(rng.randint(0, 7)))
        scores = index.scores(query)
        assert scores.dtype == np.float32 and scores.shape == (len(ids),)
        np.testing.assert_allclose(scores, brute_scores(expected, len(ids), query), rtol=1e-6, atol=0)
    # repeated tokens count once; unknown tokens add nothing; a sequence pools its strings' tokens
    np.testing.assert_array_equal(index.scores("lamp LAMP lamp"), index.scores("lamp"))
    np.testing.assert_array_equal(index.scores("lamp unknownword qqq"), index.scores("lamp"))
    np.testing.assert_array_equal(index.scores(["Lamp", "red desk", "red"]), index.scores("lamp red desk"))
    np.testing.assert_array_equal(index.scores("cafe\u0301"), index.scores("CAFÉ"))
    assert not np.any(index.scores("unknownword"))


def test_scores_hand_computed() -> None:
    ids = ["a", "b", "c"]
    props = {"a": {"title": "red shoe"}, "b": {"title": "blue shoe", "description": "red red"}, "c": {"title": "hat"}}
    index = BM25Index(build_bm25_index(ids, props, {"title": 2.0, "description": 1.0}, k1=1.0, b=0.5), 3)
    dl = {"a": 4.0, "b": 6.0, "c": 2.0}
    avgdl = 4.0

    def weight(tf: float, df: int, doc: str) -> float:
        idf = math.log(1 + (3 - df + 0.5) / (df + 0.5))
        return idf * tf * 2.0 / (tf + 1.0 * (0.5 + 0.5 * dl[doc] / avgdl))

    np.testing.assert_allclose(index.scores("red"), [weight(2, 2, "a"), weight(2, 2, "b"), 0.0], rtol=1e-6)
    np.testing.assert_allclose(
        index.scores("shoe red"),
        [weight(2, 2, "a") * 2, weight(2, 2, "b") + weight(2, 2, "b"), 0.0],
        rtol=1e-6,
    )
    params = {"k1": 1.0, "b": 0.5, "fields": {"description": 1.0, "title": 2.0}, "n_docs": 3, "avgdl": 4.0}
    assert index.params() == params


def test_a_title_hit_outranks_the_same_word_in_the_description() -> None:
    ids = ["desc", "title", "none"]
    props = {
        "desc": {"title": "office chair", "description": "sturdy oak desk for the study"},
        "title": {"title": "oak desk", "description": "sturdy office furniture for the study"},
        "none": {"title": "lamp", "description": "bright light"},
    }
    index = BM25Index(build_bm25_index(ids, props), 3)
    rows, scores = index.top("desk", 10)
    assert [ids[r] for r in rows] == ["title", "desc"]
    assert scores[0] > scores[1] > 0
    # with equal field weights the two are close; the title weight is what separates them
    flat = BM25Index(build_bm25_index(ids, props, {"title": 1.0, "description": 1.0}), 3).scores("desk")
    title_heavy = index.scores("desk")
    assert title_heavy[1] / title_heavy[0] > flat[1] / flat[0]


def test_top_orders_breaks_ties_by_row_and_applies_the_mask() -> None:
    ids = [f"i{r}" for r in range(6)]
    props = {
        "i0": {"title": "green lamp"},
        "i1": {"title": "red lamp"},
        "i2": {"title": "red red lamp"},
        "i3": {"title": "red lamp"},  # ties with i1
        "i4": {"title": "sofa"},
        "i5": {"title": "red lamp"},
    }
    index = BM25Index(build_bm25_index(ids, props), len(ids))
    scores = index.scores("red")
    rows, got = index.top("red", 10)
    assert rows.dtype == np.int64 and got.dtype == np.float32
    assert rows.tolist() == [2, 1, 3, 5]  # k larger than the matches: only positive scores
    np.testing.assert_array_equal(got, scores[rows])
    assert index.top("red", 2)[0].tolist() == [2, 1]  # the tie at the cut keeps the lowest row
    assert index.top("red", 3)[0].tolist() == [2, 1, 3]
    mask = np.array([True, False, True, True, True, True])
    assert index.top("red", 2, mask)[0].tolist() == [2, 3]
    assert index.top("red lamp", 10, np.array([True, True, False, False, True, False]))[0].tolist() == [1, 0]
    assert index.top("red", 0)[0].tolist() == [] and index.top("sofa nope", 5)[0].tolist() == [4]
    assert index.top("", 5)[0].tolist() == [] and index.top("unknown", 5)[1].tolist() == []
    with pytest.raises(ValueError, match="mask"):
        index.top("red", 2, np.ones(3, dtype=bool))


@pytest.mark.parametrize(
    ("ids", "props"),
    [([], {}), (["a", "b"], {}), (["a", "b"], {"a": {"title": "", "tags": []}, "b": {"price": 3, "notes": "x"}})],
)
def test_empty_catalogs_give_empty_loadable_arrays(ids: list[str], props: dict[str, Any]) -> None:
    arrays = build_bm25_index(ids, props)
    assert arrays["vocab"].dtype.kind == "U" and arrays["vocab"].size == 0
    assert arrays["indptr"].tolist() == [0] and arrays["indptr"].dtype == np.int64
    assert arrays["rows"].dtype == np.int32 and arrays["weights"].dtype == np.float32 and arrays["rows"].size == 0
    assert json.loads(str(arrays["params"]))["n_docs"] == 0
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    with np.load(io.BytesIO(buffer.getvalue()), allow_pickle=False) as npz:
        loaded = {k: npz[k] for k in npz.files}
    index = BM25Index(loaded, len(ids))
    assert index.is_empty and index.vocabulary().size == 0
    assert index.scores("red shoe").tolist() == [0.0] * len(ids)
    assert index.top("red", 3)[0].size == 0


def test_missing_index_and_empty_queries() -> None:
    index = BM25Index({}, 4)
    assert index.is_empty and index.params() == {} and index.vocabulary().size == 0
    assert index.scores("anything").tolist() == [0.0] * 4
    full = BM25Index(build_bm25_index(["a"], {"a": {"title": "red"}}), 1)
    assert not full.is_empty
    for query in ["", "  ?! ...", [], [""]]:
        scores = full.scores(query)
        assert scores.dtype == np.float32 and scores.tolist() == [0.0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"k1": -1.0}, "k1"), ({"k1": math.inf}, "k1"), ({"b": 1.5}, "b must"), ({"fields": {"title": 0.0}}, "title")],
)
def test_invalid_parameters(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_bm25_index(["a"], {"a": {"title": "x"}}, **kwargs)


def test_default_fields() -> None:
    assert BM25_FIELDS["title"] > BM25_FIELDS["category"] > BM25_FIELDS["description"]
    assert {"title", "name", "category", "categories", "tags", "brand", "color", "description"} == set(BM25_FIELDS)


PROPERTIES: dict[str, dict[str, Any]] = {
    "a0": {"title": "Wooden desk", "description": "for heavy tools", "category": "Office", "price": 250},
    "a1": {"title": "Metal desk", "tags": ["heavy duty", "tools"], "notes": "wooden crate"},
    "b0": {"title": "Tool box", "description": "wooden, holds heavy tools"},
    "c0": {"name": "Desk lamp", "categories": ["office", "lighting"]},
}


def test_artifact_round_trip() -> None:
    data = two_clusters()
    artifact = ModelArtifact.train("popularity", None, data, PROPERTIES)
    expected = build_bm25_index(data.item_ids, PROPERTIES)
    assert sorted(artifact.bm25_index) == sorted(expected)
    blob = artifact.to_bytes()
    with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
        keys = set(npz.files)
        assert all(npz[k].dtype != object for k in keys)
    assert {"bm25/vocab", "bm25/indptr", "bm25/rows", "bm25/weights", "bm25/params"} <= keys
    loaded = ModelArtifact.from_bytes(blob)
    assert sorted(loaded.bm25_index) == sorted(expected)
    for key, value in expected.items():
        np.testing.assert_array_equal(loaded.bm25_index[key], value)
        assert loaded.bm25_index[key].dtype == value.dtype
    rows = {str(item): i for i, item in enumerate(data.item_ids)}
    query = "a wooden desk for heavy tools under $300"
    np.testing.assert_array_equal(loaded.bm25.scores(query), artifact.bm25.scores(query))
    top, _ = loaded.bm25.top(query, 10)
    assert [str(data.item_ids[r]) for r in top[[0, 3]]] == ["a0", "c0"]  # every word vs only "desk"
    assert set(top[1:3].tolist()) == {rows["a1"], rows["b0"]} and len(top) == 4
    assert loaded.bm25.scores("crate")[rows["a1"]] == 0  # notes are not indexed
    assert loaded.bm25.scores("lighting")[rows["c0"]] > 0 and loaded.bm25.n_items == data.n_items
    fields = {"category": 2.0, "categories": 2.0, "description": 1.0, "name": 3.0, "tags": 1.5, "title": 3.0}
    assert loaded.bm25.params()["fields"] == fields


def test_build_accepts_an_index_and_defaults_to_none() -> None:
    data = two_clusters()
    artifact = ModelArtifact.train("popularity", None, data, PROPERTIES)
    plain = ModelArtifact.build("popularity", {}, artifact.model, data)
    assert plain.bm25_index == {} and plain.bm25.is_empty
    given = ModelArtifact.build("popularity", {}, artifact.model, data, bm25_index=artifact.bm25_index)
    np.testing.assert_array_equal(given.bm25.scores("desk"), artifact.bm25.scores("desk"))


def test_artifacts_without_bm25_load_with_an_empty_index() -> None:
    data = two_clusters()
    blob = ModelArtifact.train("popularity", None, data, PROPERTIES).to_bytes()
    with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
        old = {k: npz[k] for k in npz.files if not k.startswith("bm25/")}
        assert len(old) < len(npz.files)
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **old)
    loaded = ModelArtifact.from_bytes(buffer.getvalue())
    assert loaded.bm25_index == {} and loaded.bm25.is_empty
    assert loaded.bm25.scores("wooden desk").tolist() == [0.0] * data.n_items
    assert loaded.bm25.top("wooden desk", 5)[0].size == 0
    assert loaded.texts.has("title")  # the rest of the artifact is intact
