"""Final ordering of a scenario's eligible items: top-k, post-filters and diversity rules.

Every request path here is bounded by a *pool*: the top-P eligible rows by raw score, found in O(n)
by :func:`reco.models.topk.top_k`. Python only loops over the k output positions, never over the
catalog (up to a million rows).

Diversity is a greedy re-ranking: position by position, the remaining item with the best
``score - unit * Σ weight * malus`` wins, where a rule's malus counts earlier picks sharing the
item's property value. Greedy over a pool would normally be an approximation; here it is exact.
No row outside the pool can beat a pick whose penalised score reaches the best raw score left
outside (the (P+1)-th) minus the least penalty any row can currently have (0 until every value of a
string/bool property has been picked; numbers always count 0). When that check fails, the pool
grows 4x and the greedy restarts, so the answer always equals a brute-force greedy over every
eligible row. Without the least-penalty term, a pool would grow to the whole catalog as soon as
every value repeats.
Exactness is what makes pagination safe: the ranking for ``k=K1`` is a prefix of ``k=K2``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from reco.errors import ItemPropertyNotFound
from reco.models.columns import ItemColumns, column_key
from reco.models.interactions import F32, I64, Bools, segment_positions
from reco.models.topk import top_k

F64 = npt.NDArray[np.float64]
Accept = Callable[[I64], Bools]


@dataclass(frozen=True)
class DiversityRule:
    """Pushes down items repeating a property value of the items ranked above them.

    ``weight`` is the penalty per repeat in standard deviations of the eligible scores, so a rule
    means the same whatever the recipe's score scale. ``activation_period`` limits repeats to the
    previous N picks (a sliding window, e.g. "no two of the same brand within 3 slots");
    ``max_activation_count`` caps how many repeats are counted; ``default_malus`` is the penalty,
    in repeats, of items without a value (0: they are never pushed down).
    """

    property_name: str
    weight: float = 1.0
    activation_period: int | None = None
    max_activation_count: int | None = None
    default_malus: float = 0.0

    def __post_init__(self) -> None:
        # Non-negative penalties are what the pool's exactness proof rests on.
        if not (math.isfinite(self.weight) and self.weight > 0):
            raise ValueError(f"diversity weight must be a positive number, not {self.weight!r}")
        if self.activation_period is not None and self.activation_period < 1:
            raise ValueError("diversity activation_period must be at least 1")
        if self.max_activation_count is not None and self.max_activation_count < 1:
            raise ValueError("diversity max_activation_count must be at least 1")
        if not (math.isfinite(self.default_malus) and self.default_malus >= 0):
            raise ValueError("diversity default_malus must be a non-negative number")


def ranked_rows(
    scores: F32,
    eligible: Bools,
    k: int,
    *,
    columns: ItemColumns | None = None,
    rules: Sequence[DiversityRule] = (),
    accept: Accept | None = None,
    unit: float | None = None,
) -> I64:
    """Up to ``k`` rows, best first, among ``eligible`` rows with a finite score.

    ``accept`` is a post-filter too costly to run over the catalog: it only sees pool rows (each
    row at most once) and the answer equals folding it into ``eligible``. ``unit`` is the size of
    one diversity repeat in score units; by default the std of the eligible scores (1.0 when that
    is 0). The default is taken *before* ``accept``, which never sees the whole catalog, so
    folding ``accept`` into ``eligible`` gives the same answer under diversity only with the same
    explicit ``unit``. Raises :class:`ItemPropertyNotFound` for a rule on an unknown property.
    """
    values = np.asarray(scores, dtype=np.float32).reshape(-1)
    allowed = np.asarray(eligible, dtype=bool).reshape(-1)
    if allowed.shape != values.shape:
        raise ValueError(f"eligible has {allowed.size} rows for {values.size} scores")
    allowed = allowed & np.isfinite(values)
    if columns is not None and columns.n_items != values.size:
        raise ValueError(f"columns describe {columns.n_items} items for {values.size} scores")
    for rule in rules:
        _require_property(columns, rule.property_name)
    pool = _Pool(values, allowed, accept)
    if k <= 0 or pool.n_eligible == 0:
        return np.empty(0, dtype=np.int64)
    if not rules:
        if accept is None:
            return top_k(values, k, ~allowed)[0]
        return _accepted_top(pool, k)
    if unit is None:
        spread = float(np.std(values[allowed].astype(np.float64)))
        unit = spread if spread > 0 and math.isfinite(spread) else 1.0
    elif not (math.isfinite(unit) and unit > 0):
        raise ValueError(f"diversity unit must be a positive number, not {unit!r}")
    assert columns is not None  # every rule's property was found in it
    return _diverse(pool, k, columns, rules, unit)


def _require_property(columns: ItemColumns | None, name: str) -> None:
    if columns is None or column_key(name) not in columns.columns:
        raise ItemPropertyNotFound(
            f"item property {name!r} is unknown to the serving model's items",
            data={"property": name},
        )


class _Pool:
    """The eligible rows best-first (score, then row), materialised as a growing top-P prefix.

    ``top_k`` orders ties by row also at the cut-off, so the top P is a prefix of the top 4P, and
    rows already judged by ``accept`` keep their verdict when the pool grows.
    """

    def __init__(self, scores: F32, allowed: Bools, accept: Accept | None) -> None:
        self.scores, self.excluded, self.accept = scores, ~allowed, accept
        self.n_eligible = int(np.count_nonzero(allowed))
        self.usable = np.empty(0, dtype=bool)

    def take(self, size: int) -> tuple[I64, F64, Bools, float]:
        """Rows, scores (float64) and usability of the top ``size``, plus the best score left out."""
        size = min(size, self.n_eligible)
        rows, kept = top_k(self.scores, size + 1, self.excluded)
        outside = float(kept[size]) if len(rows) > size else -math.inf
        rows, kept = rows[:size], kept[:size]
        if self.accept is None:
            self.usable = np.ones(size, dtype=bool)
        elif len(self.usable) < size:
            fresh = rows[len(self.usable) :]
            verdict = np.asarray(self.accept(fresh), dtype=bool).reshape(-1)
            if verdict.shape != fresh.shape:
                raise ValueError(f"accept returned {verdict.size} flags for {fresh.size} rows")
            self.usable = np.concatenate([self.usable, verdict])
        return rows, kept.astype(np.float64), self.usable[:size], outside

    def sizes(self, k: int) -> list[int]:
        """Pool sizes to try: roomy enough for diversity to skip items, then 4x up to everything."""
        size, out = min(max(4 * k, k + 64), self.n_eligible), []
        while True:
            out.append(size)
            if size >= self.n_eligible:
                return out
            size = min(4 * size, self.n_eligible)


def _accepted_top(pool: _Pool, k: int) -> I64:
    accepted = np.empty(0, dtype=np.int64)
    for size in pool.sizes(k):
        rows, _, usable, _ = pool.take(size)
        accepted = rows[usable]
        if len(accepted) >= k:
            break
    return accepted[:k]


def _diverse(pool: _Pool, k: int, columns: ItemColumns, rules: Sequence[DiversityRule], unit: float) -> I64:
    domains = [_domain(columns, rule.property_name) for rule in rules]
    for size in pool.sizes(k):
        rows, kept, usable, outside = pool.take(size)
        trackers = [
            _Repeats(rule, _pool_codes(columns, rule.property_name, rows), *domain)
            for rule, domain in zip(rules, domains, strict=True)
        ]
        picks = _greedy(rows, kept, usable, outside, k, trackers, unit)
        if picks is not None:
            return picks
    raise AssertionError("the whole eligible set is always a conclusive pool")  # pragma: no cover


def _greedy(
    rows: I64, kept: F64, usable: Bools, outside: float, k: int, trackers: Sequence[_Repeats], unit: float
) -> I64 | None:
    """The greedy picks over one pool, or None when a pick could be beaten from outside it.

    A row outside the pool scores at most ``outside`` and is penalised at least by every rule's
    smallest possible malus (once all of a genre's values repeat, nobody escapes the penalty), so
    a pick reaching that bound beats it. The bound is computed with the same float operations as
    the penalised scores, so rounding (monotone) cannot break the proof. The pool is ordered by
    score then row: ``argmax`` (first maximum) breaks penalised ties by score, then row, and a tie
    with the bound is won too, as pool rows score at least ``outside`` and hold the lowest rows
    among ties at the cut-off.
    """
    available = usable.copy()
    picks: list[int] = []
    while len(picks) < k and available.any():
        penalty, floor = np.zeros(len(rows), dtype=np.float64), 0.0
        for tracker in trackers:
            penalty = penalty + tracker.rule.weight * tracker.malus()
            floor = floor + tracker.rule.weight * tracker.least_malus()
        penalised = np.where(available, kept - unit * penalty, -math.inf)
        best = int(np.argmax(penalised))
        if penalised[best] < outside - unit * floor:
            return None
        picks.append(best)
        available[best] = False
        for tracker in trackers:
            tracker.record(best)
    if len(picks) < k and outside > -math.inf:
        return None  # the pool ran dry before k picks, but eligible rows remain outside it
    return rows[np.array(picks, dtype=np.int64)]


def _domain(columns: ItemColumns, name: str) -> tuple[int | None, bool]:
    """How many values the property can take (None: unknown, for numbers) and whether any item lacks one.

    Both bound the malus of rows never loaded into a pool; one O(n) vectorised pass per request.
    """
    key = column_key(name)
    column, kind = columns.columns[key], columns.kind(name)
    if kind == "number":
        return None, True
    if kind == "bool":
        return 2, bool(np.any(column < 0))
    size = len(columns.columns[f"{key}/vocab"])
    if kind == "string":
        return size, bool(np.any(column < 0))
    return size, bool(np.any(np.diff(columns.columns[f"{key}/indptr"]) == 0))


def _pool_codes(columns: ItemColumns, name: str, rows: I64) -> npt.NDArray[np.int64]:
    """A (pool, max values) matrix of value codes, -1 padded: one gather per greedy step.

    Strings and booleans keep their column codes (the domain bound needs them); numbers get
    pool-local codes, as their domain is unknown anyway.
    """
    key = column_key(name)
    column = columns.columns[key]
    kind = columns.kind(name)
    if kind == "number":
        numbers = column[rows].astype(np.float64)
        present = ~np.isnan(numbers)
        distinct = np.unique(numbers[present])
        codes = np.where(present, np.searchsorted(distinct, np.where(present, numbers, 0.0)), -1)
        return codes.astype(np.int64).reshape(-1, 1)
    if kind != "strings":
        return column[rows].astype(np.int64).reshape(-1, 1)
    indptr = columns.columns[f"{key}/indptr"]
    starts, lengths = indptr[rows], indptr[rows + 1] - indptr[rows]
    matrix = np.full((len(rows), max(int(lengths.max(initial=0)), 1)), -1, dtype=np.int64)
    owners = np.repeat(np.arange(len(rows)), lengths)
    positions = segment_positions(starts, lengths)
    matrix[owners, positions - starts[owners]] = column[positions]
    return matrix


class _Repeats:
    """One rule's repeat counts per value, kept current as picks enter and leave its window."""

    def __init__(self, rule: DiversityRule, codes: npt.NDArray[np.int64], domain: int | None, missing: bool) -> None:
        self.rule, self.known, self.missing = rule, domain is not None, missing
        self.size = domain if domain is not None else int(codes.max(initial=-1)) + 1
        # Padding maps to slot ``size``, which always counts 0 repeats.
        self.codes = np.where(codes >= 0, codes, self.size)
        self.has_value = (codes >= 0).any(axis=1)
        self.counts = np.zeros(self.size + 1, dtype=np.int64)
        self.seen = 0  # values with a count above 0: below ``size``, some value is still fresh
        self.history: list[npt.NDArray[np.int64]] = []

    def malus(self) -> F64:
        repeats = self.counts[self.codes].max(axis=1)
        if self.rule.max_activation_count is not None:
            repeats = np.minimum(repeats, self.rule.max_activation_count)
        return np.where(self.has_value, repeats, self.rule.default_malus).astype(np.float64)

    def least_malus(self) -> float:
        """A lower bound on the malus of any row, including rows outside the pool."""
        if not self.known or self.seen < self.size:
            least = 0.0
        elif self.size == 0:
            least = math.inf  # no values at all: every item is missing one
        else:
            least = float(self.counts[:-1].min())
            if self.rule.max_activation_count is not None:
                least = min(least, float(self.rule.max_activation_count))
        return min(least, self.rule.default_malus) if self.missing else least

    def record(self, index: int) -> None:
        picked = self.codes[index]
        values = np.unique(picked[picked < self.size])  # a value counts once per pick
        self.seen += int(np.count_nonzero(self.counts[values] == 0))
        self.counts[values] += 1
        self.history.append(values)
        period = self.rule.activation_period
        if period is not None and len(self.history) > period:
            gone = self.history[-period - 1]
            self.counts[gone] -= 1
            self.seen -= int(np.count_nonzero(self.counts[gone] == 0))
