"""ranked_rows against a brute-force greedy over every eligible row, written from the raw properties.

The brute force never sees the pool or the numpy columns, so agreement shows both that the pool's
early-exit proof holds (including when the best diverse pick lies far outside the first pool) and
that the column decoding matches the property values the catalog was built from.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reco.errors import ItemPropertyNotFound
from reco.models.columns import ItemColumns, build_item_columns
from reco.models.interactions import F32, I64, Bools
from reco.models.topk import top_k
from reco.scenarios.ranking import DiversityRule, ranked_rows

Props = list[dict[str, Any]]
PROPERTIES = ("genre", "tags", "price", "promo")


def columns_of(props: Props) -> ItemColumns:
    ids = [f"i{r:06d}" for r in range(len(props))]  # sorted, so rows match positions
    return ItemColumns(build_item_columns(ids, dict(zip(ids, props, strict=True))), len(props))


def value_set(item: Mapping[str, Any], name: str) -> frozenset[Any] | None:
    value = item.get(name)
    if value is None:
        return None
    values = frozenset(value) if isinstance(value, list) else frozenset([value])
    return values or None


def default_unit(scores: F32, eligible: Bools) -> float:
    kept = scores[eligible & np.isfinite(scores)].astype(np.float64)
    spread = float(np.std(kept)) if kept.size else 0.0
    return spread if spread > 0 else 1.0


def penalised(
    row: int, picks: Sequence[int], scores: F32, props: Props, rules: Sequence[DiversityRule], unit: float
) -> float:
    penalty = 0.0
    for rule in rules:
        mine = value_set(props[row], rule.property_name)
        if mine is None:
            malus = rule.default_malus
        else:
            period = rule.activation_period
            window = list(picks) if period is None else list(picks)[-period:]
            earlier = [value_set(props[p], rule.property_name) or frozenset() for p in window]
            count = max(sum(v in other for other in earlier) for v in mine)
            if rule.max_activation_count is not None:
                count = min(count, rule.max_activation_count)
            malus = float(count)
        penalty += rule.weight * malus
    return float(scores[row]) - unit * penalty


def brute_force(
    scores: F32, usable: Bools, k: int, props: Props, rules: Sequence[DiversityRule], unit: float
) -> list[int]:
    remaining = {r for r in range(len(scores)) if usable[r] and np.isfinite(scores[r])}
    picks: list[int] = []
    while remaining and len(picks) < k:

        def key(r: int) -> tuple[float, float, int]:
            return penalised(r, picks, scores, props, rules, unit), float(scores[r]), -r

        best = max(remaining, key=key)
        picks.append(best)
        remaining.discard(best)
    return picks


def random_catalog(seed: int, n: int) -> tuple[F32, Bools, Props]:
    rng = np.random.default_rng(seed)
    scores = np.round(rng.normal(size=n), 1).astype(np.float32)  # rounded: plenty of ties
    scores[rng.random(n) < 0.03] = np.nan
    scores[rng.random(n) < 0.02] = np.inf
    eligible = rng.random(n) < 0.85
    props: Props = []
    for _ in range(n):
        item: dict[str, Any] = {}
        if rng.random() < 0.85:
            item["genre"] = f"g{rng.integers(6)}"
        if rng.random() < 0.85:
            item["tags"] = [f"t{t}" for t in rng.choice(6, size=int(rng.integers(0, 4)), replace=False)]
        if rng.random() < 0.85:
            item["price"] = [1, 2.5, 3.0, 10][int(rng.integers(4))]
        if rng.random() < 0.8:
            item["promo"] = bool(rng.integers(2))
        props.append(item)
    return scores, eligible, props


def random_rules(rng: np.random.Generator) -> list[DiversityRule]:
    names = rng.choice(PROPERTIES, size=int(rng.integers(1, 4)), replace=False)
    return [
        DiversityRule(
            str(name),
            weight=float(rng.choice([0.05, 0.3, 1.0, 3.0, 50.0])),
            activation_period=None if rng.random() < 0.4 else int(rng.integers(1, 6)),
            max_activation_count=None if rng.random() < 0.5 else int(rng.integers(1, 4)),
            default_malus=0.0 if rng.random() < 0.5 else float(rng.choice([0.5, 1.0, 2.0])),
        )
        for name in names
    ]


@pytest.mark.parametrize("seed", range(40))
def test_diversity_equals_a_brute_force_greedy_over_every_eligible_row(seed: int) -> None:
    rng = np.random.default_rng(1000 + seed)
    scores, eligible, props = random_catalog(seed, int(rng.integers(80, 400)))
    rules, k = random_rules(rng), int(rng.integers(1, 30))
    got = ranked_rows(scores, eligible, k, columns=columns_of(props), rules=rules)
    want = brute_force(scores, eligible, k, props, rules, default_unit(scores, eligible))
    assert got.dtype == np.int64
    assert got.tolist() == want
    assert len(want) == min(k, int(np.count_nonzero(eligible & np.isfinite(scores))))


@pytest.mark.parametrize("kind", ["genre", "tags"])
def test_the_best_diverse_pick_is_found_far_outside_the_first_pool(kind: str) -> None:
    # 1,000 strong items share a value; one weak item (in the middle rows) has another.
    n, lone = 1001, 500
    scores = np.arange(n, 0, -1).astype(np.float32) + 10
    scores[lone] = 0.0
    props: Props = [{"genre": "a", "tags": ["x", "y"]} for _ in range(n)]
    props[lone] = {"genre": "b", "tags": ["z"]}
    rules = [DiversityRule(kind, weight=10.0)]
    eligible = np.ones(n, dtype=bool)
    seen: list[int] = []

    def accept(rows: I64) -> Bools:
        seen.extend(rows.tolist())
        return np.ones(len(rows), dtype=bool)

    got = ranked_rows(scores, eligible, 5, columns=columns_of(props), rules=rules, accept=accept)
    assert got.tolist() == [0, lone, 1, 2, 3]
    assert got.tolist() == brute_force(scores, eligible, 5, props, rules, default_unit(scores, eligible))
    assert len(seen) == len(set(seen)) == n  # the pool had to grow to everything; each row judged once


def test_the_outside_bound_respects_caps_across_rules() -> None:
    # Pool rows (0..68 for k=5) share genre "a" and tag "x"; row 69, just outside, has a fresh
    # tag. The genre malus is capped at 1, so the fresh tag wins as soon as the x repeats cost
    # more than the score gap: a bound using the uncapped genre count would miss it.
    scores = np.concatenate([100 - 0.001 * np.arange(69), [97.5], 50 - 0.001 * np.arange(130)]).astype(np.float32)
    props: Props = [{"genre": "a", "tags": ["x"]} for _ in range(200)]
    props[69] = {"genre": "a", "tags": ["y"]}
    rules = [DiversityRule("genre", weight=10.0, max_activation_count=1), DiversityRule("tags", weight=1.0)]
    eligible = np.ones(200, dtype=bool)
    got = ranked_rows(scores, eligible, 5, columns=columns_of(props), rules=rules, unit=1.0)
    assert got.tolist() == [0, 1, 2, 69, 3]
    assert got.tolist() == brute_force(scores, eligible, 5, props, rules, 1.0)


def test_each_pick_maximises_the_penalised_score_among_the_remaining_items() -> None:
    scores, eligible, props = random_catalog(7, 2000)
    rules = [DiversityRule("genre", weight=0.8, activation_period=4), DiversityRule("tags", 0.5, None, 2, 1.0)]
    unit = default_unit(scores, eligible)
    got = ranked_rows(scores, eligible, 25, columns=columns_of(props), rules=rules).tolist()
    remaining = set(np.flatnonzero(eligible & np.isfinite(scores)).tolist())
    assert len(got) == 25
    for position, pick in enumerate(got):
        assert pick in remaining
        best = penalised(pick, got[:position], scores, props, rules, unit)
        for other in remaining - {pick}:
            theirs = penalised(other, got[:position], scores, props, rules, unit)
            assert (best, float(scores[pick]), -pick) > (theirs, float(scores[other]), -other)
        remaining.discard(pick)


@pytest.mark.parametrize("seed", range(8))
def test_smaller_pages_are_prefixes_of_larger_ones(seed: int) -> None:
    rng = np.random.default_rng(seed)
    scores, eligible, props = random_catalog(seed, 3000)
    columns = columns_of(props)
    every_third = (np.arange(len(scores)) % 3) != 0
    for rules in ([], random_rules(rng)):
        for accept in (None, lambda rows: every_third[rows]):
            pages = [
                ranked_rows(scores, eligible, k, columns=columns, rules=rules, accept=accept)
                for k in (1, 3, 10, 40, 150)
            ]
            for short, long in itertools.pairwise(pages):
                assert long[: len(short)].tolist() == short.tolist()
            assert len(pages[-1]) == 150


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("keep", [0.5, 0.01])
def test_accept_equals_folding_it_into_eligible(seed: int, keep: float) -> None:
    rng = np.random.default_rng(seed)
    scores, eligible, props = random_catalog(seed, 5000)
    columns = columns_of(props)
    verdicts = rng.random(len(scores)) < keep  # 1% forces the pool to grow several times
    seen: list[int] = []

    def accept(rows: I64) -> Bools:
        seen.extend(rows.tolist())
        return verdicts[rows]

    for rules in ([], random_rules(rng)):
        unit = default_unit(scores, eligible)  # the same unit: folding would otherwise change the std
        got = ranked_rows(scores, eligible, 20, columns=columns, rules=rules, accept=accept)
        folded = ranked_rows(scores, eligible & verdicts, 20, columns=columns, rules=rules, unit=unit)
        assert got.tolist() == folded.tolist()
        assert verdicts[got].all() and len(got) == 20
        assert len(seen) == len(set(seen))  # accept sees each row once
        seen.clear()


def test_accept_only_sees_a_small_pool_when_the_top_is_accepted() -> None:
    scores, eligible, props = random_catalog(3, 20_000)
    seen: list[int] = []

    def accept(rows: I64) -> Bools:
        seen.extend(rows.tolist())
        return np.ones(len(rows), dtype=bool)

    got = ranked_rows(
        scores, eligible, 10, columns=columns_of(props), rules=[DiversityRule("genre", 0.1)], accept=accept
    )
    assert len(got) == 10
    assert len(seen) == 74  # max(4k, k + 64)


@pytest.mark.parametrize("weight", [0.1, 1.0, 10.0])
def test_the_first_pool_suffices_when_every_value_repeats(weight: float) -> None:
    # Once all 50 genres are picked, every row is penalised; the bound knows outside rows are too.
    rng = np.random.default_rng(0)
    n = 100_000
    scores = rng.random(n).astype(np.float32)
    codes = rng.integers(0, 50, n).astype(np.int32)
    columns = ItemColumns({"genre": codes, "genre/vocab": np.array([f"g{i:02d}" for i in range(50)])}, n)
    seen: list[int] = []

    def accept(rows: I64) -> Bools:
        seen.extend(rows.tolist())
        return np.ones(len(rows), dtype=bool)

    rules = [DiversityRule("genre", weight)]
    got = ranked_rows(scores, np.ones(n, dtype=bool), 64, columns=columns, rules=rules, accept=accept)
    assert len(seen) == 256  # max(4k, k + 64): no growth
    assert len(set(codes[got[:50]].tolist())) == 50


def test_a_heavy_rule_puts_every_distinct_value_first() -> None:
    rng = np.random.default_rng(5)
    n = 500
    scores = rng.normal(size=n).astype(np.float32)
    props: Props = [{"genre": f"g{int(rng.zipf(1.5)) % 6}"} for _ in range(n)]  # very skewed
    columns, eligible = columns_of(props), np.ones(n, dtype=bool)
    got = ranked_rows(scores, eligible, 12, columns=columns, rules=[DiversityRule("genre", weight=100.0)]).tolist()
    genres = [props[r]["genre"] for r in got]
    assert len(set(genres[:6])) == 6
    assert len(set(genres[6:])) == 6  # second round: each value repeated once before any twice
    windowed = ranked_rows(scores, eligible, 60, columns=columns, rules=[DiversityRule("genre", 100.0, 2)]).tolist()
    for i in range(len(windowed) - 2):
        assert len({props[r]["genre"] for r in windowed[i : i + 3]}) == 3


def test_without_rules_it_is_the_plain_top_k() -> None:
    scores, eligible, _ = random_catalog(11, 10_000)
    got = ranked_rows(scores, eligible, 50)
    usable = eligible & np.isfinite(scores)
    assert got.tolist() == top_k(scores, 50, ~usable)[0].tolist()
    assert got.tolist() == sorted(np.flatnonzero(usable).tolist(), key=lambda r: (-scores[r], r))[:50]
    assert ranked_rows(scores, eligible, 0).tolist() == []
    assert ranked_rows(scores, np.zeros(len(scores), dtype=bool), 5).tolist() == []


def test_penalties_are_measured_in_standard_deviations_of_the_scores() -> None:
    scores = np.array([1.0, 0.8, 0.0], dtype=np.float32)  # std 0.432: a, a, b
    columns, eligible = columns_of([{"genre": "a"}, {"genre": "a"}, {"genre": "b"}]), np.ones(3, dtype=bool)

    def order(weight: float, unit: float | None = None) -> list[int]:
        rules = [DiversityRule("genre", weight)]
        return [int(r) for r in ranked_rows(scores, eligible, 3, columns=columns, rules=rules, unit=unit)]

    assert order(1.8) == [0, 1, 2]  # 0.8 - 1.8 * 0.432 > 0
    assert order(1.9) == [0, 2, 1]  # 0.8 - 1.9 * 0.432 < 0
    assert order(1.0, unit=0.5) == [0, 1, 2]
    assert order(1.0, unit=1.0) == [0, 2, 1]
    doubled = ranked_rows(scores * 2, eligible, 3, columns=columns, rules=[DiversityRule("genre", 1.9)])
    assert doubled.tolist() == order(1.9)


def test_a_rule_on_an_unknown_property_is_a_client_error() -> None:
    scores, eligible, props = random_catalog(1, 50)
    with pytest.raises(ItemPropertyNotFound, match="'colour' is unknown to the serving model's items"):
        ranked_rows(scores, eligible, 5, columns=columns_of(props), rules=[DiversityRule("colour")])
    with pytest.raises(ItemPropertyNotFound) as caught:
        ranked_rows(scores, eligible, 5, rules=[DiversityRule("genre")])
    assert caught.value.data == {"property": "genre"}


@pytest.mark.parametrize(
    "bad",
    [{"weight": 0.0}, {"weight": -1.0}, {"activation_period": 0}, {"max_activation_count": 0}, {"default_malus": -0.5}],
)
def test_rules_that_could_reward_repeats_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="diversity"):
        DiversityRule("genre", **bad)


@pytest.mark.parametrize("unit", [0.0, -1.0, float("nan")])
def test_a_unit_that_could_reward_repeats_is_refused(unit: float) -> None:
    scores, eligible, props = random_catalog(1, 50)
    with pytest.raises(ValueError, match="diversity unit"):
        ranked_rows(scores, eligible, 5, columns=columns_of(props), rules=[DiversityRule("genre")], unit=unit)


items = st.fixed_dictionaries(
    {},
    optional={
        "genre": st.sampled_from(["a", "b", "c"]),
        "tags": st.lists(st.sampled_from(["x", "y", "z", "w"]), max_size=3),
        "price": st.sampled_from([0, 1, 1.5, -2.0]),
        "promo": st.booleans(),
    },
)
rules_strategy = st.lists(
    st.builds(
        DiversityRule,
        st.sampled_from(PROPERTIES),
        weight=st.sampled_from([0.01, 0.5, 1.0, 4.0, 1e6]),
        activation_period=st.none() | st.integers(1, 4),
        max_activation_count=st.none() | st.integers(1, 3),
        default_malus=st.sampled_from([0.0, 0.5, 1.0, 3.0]),
    ),
    max_size=3,
)


@settings(max_examples=300, deadline=None)
@given(
    catalog=st.lists(
        st.tuples(
            items, st.sampled_from([0.0, 0.5, 1.0, 2.0, -1.0, float("nan"), float("inf")]), st.booleans(), st.booleans()
        ),
        max_size=120,
    ),
    rules=rules_strategy,
    k=st.integers(0, 10),
    use_accept=st.booleans(),
)
def test_small_catalogs_match_the_brute_force(
    catalog: list[tuple[dict[str, Any], float, bool, bool]], rules: list[DiversityRule], k: int, use_accept: bool
) -> None:
    props = [item for item, _, _, _ in catalog]
    scores = np.array([s for _, s, _, _ in catalog], dtype=np.float32)
    eligible = np.array([e for _, _, e, _ in catalog], dtype=bool)
    verdicts = np.array([a for _, _, _, a in catalog], dtype=bool) if use_accept else np.ones(len(catalog), dtype=bool)
    columns = columns_of(props)
    known = [rule for rule in rules if rule.property_name in columns.names()]
    if len(known) < len(rules):
        with pytest.raises(ItemPropertyNotFound):
            ranked_rows(scores, eligible, k, columns=columns, rules=rules)
    accept = (lambda rows: verdicts[rows]) if use_accept else None
    got = ranked_rows(scores, eligible, k, columns=columns, rules=known, accept=accept)
    # The default unit is the std of the eligible scores before the post-filter.
    want = brute_force(scores, eligible & verdicts, k, props, known, default_unit(scores, eligible))
    assert got.tolist() == want
