"""A full-text inverted index over the items' text properties, shipped inside the artifact.

Serving answers ``ftsearch`` filters from plain numpy arrays, without a search engine: per text
property ``name`` (its key made safe by :func:`column_key`), three flat arrays hold a token →
item rows inverted index in CSR form:

- ``key/tokens``: the distinct tokens, sorted (unicode), so a query token is one ``searchsorted``;
- ``key/indptr``: int64, token t's rows are ``rows[indptr[t]:indptr[t + 1]]``;
- ``key/rows``: int32 item rows, sorted within each token.

A text property is one whose non-null values are all strings or arrays of strings, which is the
same set of properties :func:`reco.models.artifact.build_item_columns` turns into ``string`` or
``strings`` columns. Tokens are NFKC-normalised, lower-cased runs of Unicode word characters;
accents are kept (``café`` and ``cafe`` are different tokens), so matching stays predictable.

This module sits below ``artifact`` (which imports it), so the column key helpers live here.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from reco.models.columns import column_key, column_name
from reco.models.interactions import Bools, Strs, as_str_array

_WORD = re.compile(r"\w+")


def tokenize(text: str) -> list[str]:
    """Lower-cased words of ``text``, in order (duplicates kept); the same rule for items and queries.

    NFKC first, so full-width letters, ligatures and composed/decomposed accents meet in one form.
    """
    return _WORD.findall(unicodedata.normalize("NFKC", text).lower())


def _is_text(value: Any) -> bool:
    if isinstance(value, str):
        return True
    return isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)


def build_text_index(
    item_ids: Sequence[str] | Strs, properties: Mapping[str, Mapping[str, Any]]
) -> dict[str, npt.NDArray[Any]]:
    """The inverted index of every text property, aligned with ``item_ids`` (training time).

    Loops over the catalog, once. A property with any non-text value (number, boolean, object) is
    left out, exactly as its column would be; one whose values yield no token still gets an (empty)
    index, so ``ftsearch`` on it matches nothing rather than asking for a retrain.
    """
    ids = as_str_array(item_ids)
    postings: dict[str, set[tuple[str, int]]] = defaultdict(set)
    rejected: set[str] = set()
    for row, item_id in enumerate(ids.tolist()):
        for name, value in (properties.get(item_id) or {}).items():
            if value is None or name in rejected:
                continue
            if not _is_text(value):
                rejected.add(name)
                postings.pop(name, None)
                continue
            texts = [value] if isinstance(value, str) else value
            postings[name].update((token, row) for text in texts for token in tokenize(text))
    arrays: dict[str, npt.NDArray[Any]] = {}
    for name, pairs in sorted(postings.items()):
        ordered = sorted(pairs)
        vocab, counts = np.unique(np.array([t for t, _ in ordered], dtype=np.str_), return_counts=True)
        key = column_key(name)
        arrays[f"{key}/tokens"] = vocab.astype(np.str_)
        arrays[f"{key}/indptr"] = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        arrays[f"{key}/rows"] = np.array([r for _, r in ordered], dtype=np.int32)
    return arrays


class TextIndex:
    """Read access to :func:`build_text_index` output: AND full-text matching as item masks."""

    def __init__(self, arrays: Mapping[str, npt.NDArray[Any]], n_items: int) -> None:
        self.arrays, self.n_items = arrays, n_items

    def names(self) -> list[str]:
        return sorted(column_name(k.removesuffix("/tokens")) for k in self.arrays if k.endswith("/tokens"))

    def has(self, name: str) -> bool:
        return f"{column_key(name)}/tokens" in self.arrays

    def match(self, name: str, query: str) -> Bools:
        """Items whose property holds every token of ``query`` (in any of its strings, any order).

        A query without tokens matches nothing: an empty search should not select the catalog.
        Raises ``KeyError`` for a property without an index.
        """
        key = column_key(name)
        if f"{key}/tokens" not in self.arrays:
            raise KeyError(name)
        wanted = sorted(set(tokenize(query)))
        if not wanted:
            return np.zeros(self.n_items, dtype=np.bool_)
        vocab, indptr, rows = (self.arrays[f"{key}/{part}"] for part in ("tokens", "indptr", "rows"))
        mask = np.ones(self.n_items, dtype=np.bool_)
        for token in wanted:
            at = int(np.searchsorted(vocab, token))
            if at >= len(vocab) or str(vocab[at]) != token:
                return np.zeros(self.n_items, dtype=np.bool_)
            hits = np.zeros(self.n_items, dtype=np.bool_)
            hits[rows[indptr[at] : indptr[at + 1]]] = True
            mask &= hits
        return mask
