"""A tenant's events as dense-indexed numpy arrays, with a CSR view built without scipy.

The Lambda layer ships numpy only, so the sparse matrix every recipe trains on is a tiny CSR of
our own: ``indptr``/``indices``/``data`` with duplicate (row, column) pairs summed. Ids are mapped
to dense rows by sorting them once; lookups are vectorised ``np.searchsorted`` calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Strs = npt.NDArray[np.str_]

# Dense user chunks are built so that rows x columns stays under this many float32 cells (32 MiB).
DENSE_CHUNK_CELLS = 8_000_000
# CSR.pair_gram counts at most this many entry pairs per np.bincount (about 100 MiB of int64 temporaries)
# and lets one count span at most PAIR_GRAM_CELLS cells of the output (an int64 bincount of 64 MiB).
PAIR_GRAM_PAIRS = 1 << 22
PAIR_GRAM_CELLS = 1 << 23
# Square tiles that mirror_upper copies at once: small enough for the transposed reads to stay in cache.
MIRROR_TILE = 256


def as_str_array(ids: Sequence[str] | npt.NDArray[Any]) -> Strs:
    """A numpy unicode array (an empty input still gets a unicode dtype)."""
    array = np.asarray(ids, dtype=np.str_)
    return array.reshape(-1)


def mirror_upper(matrix: npt.NDArray[Any], tile: int = MIRROR_TILE) -> None:
    """Copies the upper triangle of a square matrix onto its lower triangle, in place, tile by tile."""
    n = matrix.shape[0]
    for i in range(0, n, tile):
        diagonal = matrix[i : i + tile, i : i + tile]
        diagonal[...] = np.triu(diagonal) + np.triu(diagonal, 1).T
        for j in range(i + tile, n, tile):
            matrix[j : j + tile, i : i + tile] = matrix[i : i + tile, j : j + tile].T


def lookup(universe: Strs, ids: Sequence[str] | npt.NDArray[Any]) -> I64:
    """Rows of ``ids`` in the sorted ``universe``; -1 for ids it does not hold."""
    query = as_str_array(ids)
    if len(universe) == 0 or len(query) == 0:
        return np.full(len(query), -1, dtype=np.int64)
    rows = np.searchsorted(universe, query).astype(np.int64)
    clipped = np.minimum(rows, len(universe) - 1)
    found = universe[clipped] == query
    return np.where(found, clipped, -1).astype(np.int64)


def segment_positions(starts: npt.ArrayLike, lengths: npt.ArrayLike) -> I64:
    """``starts[k] + 0 … starts[k] + lengths[k] - 1`` for every segment k, concatenated: the flat positions of
    a set of CSR rows (or any runs of a flat array), without a Python loop."""
    first = np.asarray(starts, dtype=np.int64).reshape(-1)
    sizes = np.asarray(lengths, dtype=np.int64).reshape(-1)
    ends = np.cumsum(sizes)
    total = int(ends[-1]) if len(ends) else 0
    return np.repeat(first - (ends - sizes), sizes) + np.arange(total, dtype=np.int64)


@dataclass(frozen=True)
class CSR:
    """A compressed sparse row matrix: row ``r`` holds ``indices[indptr[r]:indptr[r + 1]]``."""

    indptr: I64
    indices: I32
    data: F32
    shape: tuple[int, int]

    @classmethod
    def from_coo(cls, rows: npt.ArrayLike, cols: npt.ArrayLike, data: npt.ArrayLike, shape: tuple[int, int]) -> CSR:
        """Builds the CSR with duplicates summed and columns sorted within each row."""
        r = np.asarray(rows, dtype=np.int64)
        c = np.asarray(cols, dtype=np.int64)
        d = np.asarray(data, dtype=np.float64)
        keys, inverse = np.unique(r * shape[1] + c, return_inverse=True)
        summed = np.bincount(inverse.reshape(-1), weights=d, minlength=len(keys)).astype(np.float32)
        key_rows = keys // max(shape[1], 1)
        indptr = np.zeros(shape[0] + 1, dtype=np.int64)
        np.cumsum(np.bincount(key_rows, minlength=shape[0]), out=indptr[1:])
        return cls(indptr, (keys % max(shape[1], 1)).astype(np.int32), summed, shape)

    @property
    def nnz(self) -> int:
        return int(self.indptr[-1])

    def row_ids(self) -> I64:
        """The row of every stored entry (the COO row array)."""
        return np.repeat(np.arange(self.shape[0], dtype=np.int64), np.diff(self.indptr))

    def row(self, r: int) -> tuple[I32, F32]:
        start, stop = int(self.indptr[r]), int(self.indptr[r + 1])
        return self.indices[start:stop], self.data[start:stop]

    def transpose(self) -> CSR:
        return CSR.from_coo(self.indices, self.row_ids(), self.data, (self.shape[1], self.shape[0]))

    def binarized(self) -> CSR:
        return CSR(self.indptr, self.indices, np.ones_like(self.data), self.shape)

    def take_rows(self, rows: npt.ArrayLike) -> CSR:
        """The sub-matrix of the given rows (in that order)."""
        picked = np.asarray(rows, dtype=np.int64).reshape(-1)
        starts, stops = self.indptr[picked], self.indptr[picked + 1]
        lengths = stops - starts
        indptr = np.zeros(len(picked) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        positions = segment_positions(starts, lengths)
        return CSR(indptr, self.indices[positions], self.data[positions], (len(picked), self.shape[1]))

    def dense_rows(self, start: int, stop: int) -> F32:
        """Rows ``start:stop`` as a dense float32 block."""
        block = np.zeros((stop - start, self.shape[1]), dtype=np.float32)
        lo, hi = int(self.indptr[start]), int(self.indptr[stop])
        local = np.repeat(np.arange(stop - start), np.diff(self.indptr[start : stop + 1]))
        block[local, self.indices[lo:hi]] = self.data[lo:hi]
        return block

    def row_chunks(self, max_cells: int = DENSE_CHUNK_CELLS) -> list[tuple[int, int]]:
        """Row ranges whose dense blocks hold at most ``max_cells`` cells (at least one row each)."""
        step = max(1, max_cells // max(self.shape[1], 1))
        return [(s, min(s + step, self.shape[0])) for s in range(0, self.shape[0], step)]

    def gram(self, col_start: int = 0, col_stop: int | None = None) -> F32:
        """Columns ``col_start:col_stop`` of XᵀX (n_columns x block), summed over dense row chunks.

        Costs O(n_rows x n_columns x block) flops in BLAS and O(n_columns x block) memory, which is
        what bounds EASE and item-kNN to catalogs of a few tens of thousands of items.
        """
        stop = self.shape[1] if col_stop is None else col_stop
        out = np.zeros((self.shape[1], stop - col_start), dtype=np.float32)
        for start, end in self.row_chunks():
            block = self.dense_rows(start, end)
            out += block.T @ block[:, col_start:stop]
        return out

    def pair_count(self) -> int:
        """Pairs (i <= j) of entries that share a row: the work of :meth:`pair_gram`."""
        lengths = np.diff(self.indptr)
        return int((lengths * (lengths + 1) // 2).sum())

    def pair_gram(self) -> F32:
        """XᵀX (n_columns x n_columns) from the pairs of entries that share a row, for sparse rows.

        Costs O(:meth:`pair_count` + n_columns²) instead of :meth:`gram`'s O(n_rows x n_columns²): on
        100 k rows of ~50 entries over 20 k columns, ~5 s instead of tens of minutes. Entries are
        taken in (column, row) order; entry (r, i) pairs with the entries (r, j >= i) of its row (rows
        hold sorted, distinct columns, as :meth:`from_coo` builds them), so every pair is counted once
        into the upper triangle with one ``np.bincount`` per chunk, and the lower triangle is then
        mirrored. Integer data (binary matrices) is summed exactly below 2²⁴ per cell.
        """
        n = self.shape[1]
        out = np.zeros((n, n), dtype=np.float32)
        flat = out.reshape(-1)
        order = np.argsort(self.indices, kind="stable")  # entries by (column, row)
        columns = self.indices[order].astype(np.int64)
        counts = self.indptr[self.row_ids()[order] + 1] - order  # pairs (i, j >= i) of each entry
        ends = np.cumsum(counts)
        column_starts = np.searchsorted(columns, np.arange(n + 1))
        span = max(1, PAIR_GRAM_CELLS // max(n, 1))  # columns whose output rows one bincount covers
        counted = np.all(self.data == 1)
        first, total = 0, len(order)
        while first < total:
            # A chunk: entries first:stop, at most PAIR_GRAM_PAIRS pairs and `span` output rows.
            done = int(ends[first] - counts[first])
            stop = int(np.searchsorted(ends, done + PAIR_GRAM_PAIRS, side="right"))
            stop = max(first + 1, min(stop, int(column_starts[min(columns[first] + span, n)])))
            chunk = counts[first:stop]
            offsets = np.cumsum(chunk) - chunk
            partners = np.repeat(order[first:stop] - offsets, chunk) + np.arange(int(chunk.sum()), dtype=np.int64)
            base = int(columns[first]) * n
            keys = np.repeat(columns[first:stop] * n - base, chunk)
            keys += self.indices[partners]
            if counted:
                summed: npt.NDArray[Any] = np.bincount(keys)
            else:
                products = np.repeat(self.data[order[first:stop]].astype(np.float64), chunk) * self.data[partners]
                summed = np.bincount(keys, weights=products)
            flat[base : base + len(summed)] += summed
            first = stop
        mirror_upper(out)
        return out

    def column_sums(self) -> F64:
        return np.bincount(self.indices, weights=self.data, minlength=self.shape[1]).astype(np.float64)


class Interactions:
    """Events of one tenant: parallel per-event arrays over sorted user and item id universes."""

    def __init__(
        self,
        user_ids: Strs,
        item_ids: Strs,
        users: I32,
        items: I32,
        weights: F32,
        timestamps: F64,
    ) -> None:
        self.user_ids = user_ids
        self.item_ids = item_ids
        self.users = users
        self.items = items
        self.weights = weights
        self.timestamps = timestamps

    @classmethod
    def from_events(
        cls,
        user_ids: Sequence[str] | npt.NDArray[Any],
        item_ids: Sequence[str] | npt.NDArray[Any],
        weights: Sequence[float] | npt.NDArray[Any],
        timestamps: Sequence[float] | npt.NDArray[Any],
        catalog_item_ids: Sequence[str] | npt.NDArray[Any] | None = None,
    ) -> Interactions:
        """Maps string ids to dense rows; catalog items without events still get a row."""
        event_users = as_str_array(user_ids)
        event_items = as_str_array(item_ids)
        w = np.asarray(weights, dtype=np.float32).reshape(-1)
        t = np.asarray(timestamps, dtype=np.float64).reshape(-1)
        if not len(event_users) == len(event_items) == len(w) == len(t):
            raise ValueError("user_ids, item_ids, weights and timestamps must have the same length")
        all_items = (
            event_items if catalog_item_ids is None else np.concatenate([event_items, as_str_array(catalog_item_ids)])
        )
        user_universe, users = np.unique(event_users, return_inverse=True)
        item_universe = np.unique(all_items)
        items = np.searchsorted(item_universe, event_items)
        return cls(
            user_universe.astype(np.str_),
            item_universe.astype(np.str_),
            users.reshape(-1).astype(np.int32),
            items.astype(np.int32),
            w,
            t,
        )

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_events(self) -> int:
        return len(self.users)

    @cached_property
    def _csr(self) -> CSR:
        return CSR.from_coo(self.users, self.items, self.weights, (self.n_users, self.n_items))

    @cached_property
    def _csr_t(self) -> CSR:
        return self._csr.transpose()

    def csr(self) -> CSR:
        """User x item, weights of repeated (user, item) events summed."""
        return self._csr

    def csr_t(self) -> CSR:
        """Item x user: the transpose of :meth:`csr`."""
        return self._csr_t

    def user_index(self, ids: Sequence[str] | npt.NDArray[Any]) -> I64:
        return lookup(self.user_ids, ids)

    def item_index(self, ids: Sequence[str] | npt.NDArray[Any]) -> I64:
        return lookup(self.item_ids, ids)

    def subset(self, mask: npt.ArrayLike) -> Interactions:
        """The events selected by ``mask`` (boolean or positions) over the same id universes."""
        keep = np.asarray(mask)
        return Interactions(
            self.user_ids,
            self.item_ids,
            self.users[keep],
            self.items[keep],
            self.weights[keep],
            self.timestamps[keep],
        )
