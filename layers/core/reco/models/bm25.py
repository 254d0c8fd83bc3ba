"""BM25F relevance of items to free text, precomputed at training time and shipped in the artifact.

A chat message ("a wooden desk for heavy tools under $300") is ranked against the items' text
properties with BM25 over a few weighted fields (:data:`BM25_FIELDS`). Everything that does not
depend on the query is folded in at training time, so serving is a gather and a ``bincount``:

- ``vocab``: the distinct tokens, sorted (unicode), one ``searchsorted`` per query token;
- ``indptr``: int64, token t's postings are ``[indptr[t]:indptr[t + 1]]``;
- ``rows``: int32 item rows, sorted within each token, one per (token, item) pair;
- ``weights``: float32, the BM25 term weight of the token in that item::

      idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))
      idf(t) = log(1 + (n_docs - df + 0.5) / (df + 0.5))     (Robertson-Sparck-Jones, never negative)

- ``params``: a 0-d unicode JSON holding ``k1``, ``b``, ``fields`` (the fields actually indexed,
  with their weights), ``n_docs`` and ``avgdl``.

BM25F-style fields: an item's ``tf`` of a token is the weighted sum of the token's counts in each
field, and its length ``dl`` the weighted sum of the fields' token counts (duplicates count). As in
Lucene, the collection is the items with at least one indexed token: ``n_docs`` counts them and
``avgdl`` averages over them, so items known only from events (no properties) do not shorten the
average length. ``df`` is the number of items holding the token in any field.

A field is indexed when it is in the field weights and all its non-null values are strings or
arrays of strings (the rule of :mod:`reco.models.text_index`: a field holding any number, boolean
or object is left out entirely); other text properties are not indexed, which keeps the artifact
small. The tokenizer is :func:`reco.models.text_index.tokenize`, the one ``ftsearch`` uses.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from reco.models.interactions import F32, I64, Bools, Strs, as_str_array
from reco.models.text_index import tokenize
from reco.models.topk import top_k

BM25_FIELDS: dict[str, float] = {
    "title": 3.0,
    "name": 3.0,
    "category": 2.0,
    "categories": 2.0,
    "tags": 1.5,
    "brand": 1.5,
    "color": 1.0,
    "description": 1.0,
}


def _is_text(value: Any) -> bool:
    if isinstance(value, str):
        return True
    return isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)


def _params_array(params: Mapping[str, Any]) -> npt.NDArray[np.str_]:
    return np.array(json.dumps(dict(params), sort_keys=True), dtype=np.str_)


def build_bm25_index(
    item_ids: Sequence[str] | Strs,
    properties: Mapping[str, Mapping[str, Any]],
    fields: Mapping[str, float] = BM25_FIELDS,
    k1: float = 1.2,
    b: float = 0.75,
) -> dict[str, npt.NDArray[Any]]:
    """The BM25F index of ``fields`` over the items, aligned with ``item_ids`` (training time).

    Loops over the catalog once. Returns the flat arrays described in the module docstring; an
    empty catalog, or one without indexed text, gives empty (but loadable) arrays.
    """
    if not (math.isfinite(k1) and k1 >= 0):
        raise ValueError(f"k1 must be a finite number >= 0, got {k1!r}")
    if not (math.isfinite(b) and 0 <= b <= 1):
        raise ValueError(f"b must be in [0, 1], got {b!r}")
    for name, weight in fields.items():
        if not (math.isfinite(weight) and weight > 0):
            raise ValueError(f"field weight of {name!r} must be a finite number > 0, got {weight!r}")
    ids = as_str_array(item_ids)
    # field -> [(row, tokens)], the fields' tokens before knowing whether the field is all text
    found: dict[str, list[tuple[int, list[str]]]] = defaultdict(list)
    rejected: set[str] = set()
    for row, item_id in enumerate(ids.tolist()):
        item = properties.get(item_id) or {}
        for name in fields:
            value = item.get(name)
            if value is None or name in rejected:
                continue
            if not _is_text(value):
                rejected.add(name)
                found.pop(name, None)
                continue
            texts = [value] if isinstance(value, str) else value
            found[name].append((row, [token for text in texts for token in tokenize(text)]))

    tf: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    lengths = np.zeros(len(ids), dtype=np.float64)
    for name, items in found.items():
        weight = float(fields[name])
        for row, tokens in items:
            counts = tf[row]
            for token in tokens:
                counts[token] += weight
            lengths[row] += weight * len(tokens)
    indexed = {name: float(fields[name]) for name in sorted(found)}
    docs = lengths > 0
    n_docs = int(docs.sum())
    avgdl = float(lengths[docs].mean()) if n_docs else 0.0
    params = {"k1": float(k1), "b": float(b), "fields": indexed, "n_docs": n_docs, "avgdl": avgdl}

    item_rows = sorted(tf)
    pair_tokens = [token for row in item_rows for token in tf[row]]
    if not pair_tokens:
        return {
            "vocab": np.array([], dtype=np.str_),
            "indptr": np.zeros(1, dtype=np.int64),
            "rows": np.array([], dtype=np.int32),
            "weights": np.array([], dtype=np.float32),
            "params": _params_array(params),
        }
    pair_rows = np.array([row for row in item_rows for _ in tf[row]], dtype=np.int64)
    pair_tf = np.array([f for row in item_rows for f in tf[row].values()], dtype=np.float64)
    vocab, codes = np.unique(np.array(pair_tokens, dtype=np.str_), return_inverse=True)
    codes = codes.reshape(-1)
    order = np.lexsort((pair_rows, codes))  # by token, then row
    codes, pair_rows, pair_tf = codes[order], pair_rows[order], pair_tf[order]
    df = np.bincount(codes, minlength=len(vocab)).astype(np.float64)
    idf = np.log1p((n_docs - df + 0.5) / (df + 0.5))
    norm = k1 * (1.0 - b + b * lengths[pair_rows] / avgdl)
    weights = idf[codes] * pair_tf * (k1 + 1.0) / (pair_tf + norm)
    return {
        "vocab": vocab.astype(np.str_),
        "indptr": np.concatenate([[0], np.cumsum(df.astype(np.int64))]).astype(np.int64),
        "rows": pair_rows.astype(np.int32),
        "weights": weights.astype(np.float32),
        "params": _params_array(params),
    }


def query_tokens(query: str | Sequence[str]) -> list[str]:
    """The distinct tokens of a query, sorted: a string is tokenized; a sequence's strings each are."""
    texts = [query] if isinstance(query, str) else list(query)
    return sorted({token for text in texts for token in tokenize(text)})


class BM25Index:
    """Read access to :func:`build_bm25_index` output: BM25 scores of every item for a query.

    ``arrays`` may be empty (an artifact written before BM25 existed): the index is then empty and
    every score is 0.
    """

    def __init__(self, arrays: Mapping[str, npt.NDArray[Any]], n_items: int) -> None:
        self.arrays, self.n_items = arrays, n_items
        self._vocab: Strs = arrays.get("vocab", np.array([], dtype=np.str_))
        self._indptr: I64 = arrays.get("indptr", np.zeros(1, dtype=np.int64))
        self._rows: npt.NDArray[np.int32] = arrays.get("rows", np.array([], dtype=np.int32))
        self._weights: F32 = arrays.get("weights", np.array([], dtype=np.float32))

    @property
    def is_empty(self) -> bool:
        return len(self._weights) == 0

    def vocabulary(self) -> Strs:
        return self._vocab

    def params(self) -> dict[str, Any]:
        """``k1``, ``b``, ``fields``, ``n_docs`` and ``avgdl`` of the build ({} for a missing index)."""
        if "params" not in self.arrays:
            return {}
        loaded: dict[str, Any] = json.loads(str(self.arrays["params"]))
        return loaded

    def scores(self, query: str | Sequence[str]) -> F32:
        """BM25 score of every item for ``query``, shape ``(n_items,)``; 0 for items matching nothing.

        The sum, over the query's *distinct* tokens, of each token's weight in the item: a token
        repeated in the query counts once (a chat message repeating a word is not asking for it
        twice as much), and tokens outside the vocabulary contribute 0. Vectorised over postings.
        """
        wanted = query_tokens(query)
        if not wanted or self.is_empty:
            return np.zeros(self.n_items, dtype=np.float32)
        tokens = np.array(wanted, dtype=np.str_)
        at = np.searchsorted(self._vocab, tokens)
        clipped = np.minimum(at, len(self._vocab) - 1)
        at = at[self._vocab[clipped] == tokens]
        starts, lengths = self._indptr[at], self._indptr[at + 1] - self._indptr[at]
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(self.n_items, dtype=np.float32)
        # positions of every posting of the wanted tokens: each run starts[i] .. starts[i] + lengths[i]
        offsets = np.cumsum(lengths) - lengths
        postings = np.repeat(starts - offsets, lengths) + np.arange(total, dtype=np.int64)
        summed = np.bincount(self._rows[postings], weights=self._weights[postings], minlength=self.n_items)
        return summed.astype(np.float32)

    def top(self, query: str | Sequence[str], k: int, mask: Bools | None = None) -> tuple[I64, F32]:
        """The ``k`` best item rows for ``query`` and their scores, best first.

        Only rows with a positive score and, when given, ``mask`` True (True = allowed, like a
        filter mask; note :func:`reco.models.topk.top_k` takes the opposite) are returned, so the
        answer may be shorter than ``k``. Equal scores are ordered by row.
        """
        scores = self.scores(query)
        excluded = scores <= 0
        if mask is not None:
            allowed = np.asarray(mask, dtype=np.bool_).reshape(-1)
            if allowed.shape != scores.shape:
                raise ValueError(f"mask has shape {allowed.shape}, expected {scores.shape}")
            excluded |= ~allowed
        return top_k(scores, k, excluded)
