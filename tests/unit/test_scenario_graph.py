"""The scenario graph: edges, cycles, referrers, reach; property-based, that no write sequence can store a loop."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reco.errors import ScenarioInUse, ScenarioNotFound, WrongDataType
from reco.scenarios.graph import (
    Node,
    ScenarioSnapshot,
    cycle_through,
    default_node,
    defaults_reaching_missing,
    describe_path,
    find_cycle,
    missing_scenarios,
    reachable,
    referrers,
    scenario_edges,
    scenario_node,
)
from reco.scenarios.service import delete_scenario, put_scenario, set_default, unset_default
from reco.schemas.scenarios import Scenario
from tests.unit.test_scenario_service import CATALOG, NO_CONTEXTS, FakeRepository, ab, alias, case, condition

P, G = "profile_to_items", "generic_input_to_items"


def s(name: str, reco_type: str = P) -> Node:
    return scenario_node(reco_type, name)


# ---------------------------------------------------------------------- edges


def test_each_scenario_type_leads_where_it_names() -> None:
    assert scenario_edges(P, alias("x")) == [s("x")]
    assert scenario_edges(P, condition("x", "y")) == [s("x"), s("y")]
    assert scenario_edges(P, ab("x", "x")) == [s("x")]  # one edge, however often it is named
    assert scenario_edges(P, case(amt=3)) == []
    assert scenario_edges(G, case(reco_type=P, scenario="home")) == [s("home")]
    assert scenario_edges(G, case(reco_type=P)) == [default_node(P)]
    assert scenario_edges(G, alias("g2")) == [s("g2", G)]


def test_a_snapshot_joins_scenarios_and_defaults() -> None:
    snapshot = ScenarioSnapshot(3, {(P, "a"): alias("b"), (P, "b"): case()}, {P: "a"})
    assert snapshot.edges() == {s("a"): [s("b")], s("b"): [], default_node(P): [s("a")]}
    assert referrers(snapshot.edges(), s("a")) == [default_node(P)]
    assert referrers(snapshot.edges(), s("b")) == [s("a")]
    assert referrers({s("a"): [s("a")]}, s("a")) == []


def test_reach_follows_every_branch_and_names_what_is_missing() -> None:
    snapshot = ScenarioSnapshot(1, {(P, "a"): condition("b", "c"), (P, "b"): case(), (G, "g"): case(reco_type=P)})
    edges = {**snapshot.edges(), default_node(G): [s("g", G)], default_node(P): [s("a")]}
    assert reachable(edges, s("a")) == [s("a"), s("b"), s("c")]
    assert missing_scenarios(snapshot, edges, default_node(P)) == [s("c")]
    assert missing_scenarios(snapshot, edges, default_node(G)) == [s("c")]  # through the default of P
    assert missing_scenarios(snapshot, {s("g", G): [default_node(P)]}, s("g", G)) == []  # no default: not missing
    assert defaults_reaching_missing(snapshot, edges, s("b")) == {default_node(G): [s("c")], default_node(P): [s("c")]}
    assert defaults_reaching_missing(snapshot, edges, s("c")) == {}  # the written node is about to exist


# ---------------------------------------------------------------------- cycles


def test_find_cycle_returns_the_loop_closed_on_its_first_node() -> None:
    assert find_cycle({s("a"): [s("b")], s("b"): [s("c"), s("d")], s("d"): []}) is None
    assert find_cycle({s("a"): [s("a")]}) == [s("a"), s("a")]
    edges = {s("a"): [s("b")], s("b"): [s("x"), s("c")], s("c"): [s("b")]}
    assert find_cycle(edges) == [s("b"), s("c"), s("b")]
    assert find_cycle(edges, roots=[s("c")]) == [s("c"), s("b"), s("c")]
    assert find_cycle(edges, roots=[s("x")]) is None


def test_a_diamond_is_not_a_cycle() -> None:
    edges = {s("top"): [s("l"), s("r")], s("l"): [s("bottom")], s("r"): [s("bottom")], s("bottom"): []}
    assert find_cycle(edges) is None


def test_long_chains_need_no_recursion() -> None:
    chain = {s(f"n{k}"): [s(f"n{k + 1}")] for k in range(50_000)}
    assert find_cycle(chain) is None
    chain[s("n50000")] = [s("n0")]
    cycle = find_cycle(chain)
    assert cycle is not None and len(cycle) == 50_002 and cycle[0] == cycle[-1]


def test_cycle_through_starts_at_the_written_node_and_ignores_other_loops() -> None:
    edges = {s("a"): [s("b")], s("b"): [s("c")], s("c"): [s("a")]}
    assert cycle_through(edges, s("b")) == [s("b"), s("c"), s("a"), s("b")]
    assert cycle_through({s("w"): [s("x")], s("x"): [s("y")], s("y"): [s("x")]}, s("w")) is None


def test_paths_name_reco_types_only_when_they_mix() -> None:
    assert describe_path([s("a"), s("b"), s("a")]) == "a -> b -> a"
    assert describe_path([s("g", G), default_node(P), s("a")]) == (
        "'g' (generic_input_to_items) -> default of profile_to_items -> 'a' (profile_to_items)"
    )


# ---------------------------------------------------------------------- property: no write sequence stores a loop

NAMES = {P: ["a", "b", "c", "d"], G: ["g", "h"]}
Spec = tuple[Any, ...]  # ("alias", t) | ("condition", t, u) | ("ab", t, u) | ("case",) | ("route", name | None)
Oracle = dict[tuple[str, ...], set[tuple[str, ...]]]


def specs(reco_type: str) -> st.SearchStrategy[Spec]:
    names = st.sampled_from(NAMES[reco_type])
    common = st.one_of(
        st.tuples(st.just("alias"), names),
        st.tuples(st.just("condition"), names, names),
        st.tuples(st.just("ab"), names, names),
    )
    if reco_type == G:
        return st.one_of(common, st.tuples(st.just("route"), st.none() | st.sampled_from(NAMES[P])))
    return st.one_of(common, st.just(("case",)))


def build(reco_type: str, spec: Spec) -> Scenario:
    kind = spec[0]
    if kind == "alias":
        return alias(spec[1])
    if kind == "condition":
        return condition(spec[1], spec[2])
    if kind == "ab":
        return ab(spec[1], spec[2])
    if kind == "route":
        return case(reco_type=P) if spec[1] is None else case(reco_type=P, scenario=spec[1])
    return case(amt=4)


def oracle_targets(reco_type: str, spec: Spec) -> set[tuple[str, ...]]:
    """Where a spec leads, written out by hand (not through Scenario.targets nor graph.py)."""
    if spec[0] in ("alias", "condition", "ab"):
        return {("s", reco_type, name) for name in spec[1:]}
    if spec[0] == "route":
        return {("d", P)} if spec[1] is None else {("s", P, spec[1])}
    return set()


def oracle_graph(model: dict[tuple[str, str], Spec], defaults: dict[str, str]) -> Oracle:
    graph: Oracle = {("s", rt, name): oracle_targets(rt, spec) for (rt, name), spec in model.items()}
    graph.update({("d", rt): {("s", rt, name)} for rt, name in defaults.items()})
    return graph


def has_cycle(graph: Oracle) -> bool:
    """Brute force: some node reaches itself."""
    for start in graph:
        seen: set[tuple[str, ...]] = set()
        frontier = set(graph[start])
        while frontier:
            if start in frontier:
                return True
            seen |= frontier
            frontier = {t for node in frontier for t in graph.get(node, set())} - seen
    return False


def reaches_missing(graph: Oracle, start: tuple[str, ...], model: dict[tuple[str, str], Spec]) -> bool:
    """Brute force: a scenario reachable from ``start`` is not stored (a default node without a default is fine)."""
    seen: set[tuple[str, ...]] = set()
    frontier = {start}
    while frontier:
        seen |= frontier
        frontier = {t for node in frontier for t in graph.get(node, set())} - seen
    return any(node[0] == "s" and (node[1], node[2]) not in model for node in seen)


def operations() -> st.SearchStrategy[tuple[Any, ...]]:
    def on(reco_type: str) -> st.SearchStrategy[tuple[Any, ...]]:
        names = st.sampled_from(NAMES[reco_type])
        return st.one_of(
            st.tuples(st.just("put"), st.just(reco_type), names, specs(reco_type)),
            st.tuples(st.just("default"), st.just(reco_type), names),
            st.tuples(st.just("delete"), st.just(reco_type), names),
            st.tuples(st.just("unset"), st.just(reco_type)),
        )

    return st.one_of(on(P), on(P), on(G))


def stored_graph(repo: FakeRepository) -> Oracle:
    """The repository's graph read from the stored documents' fields directly."""
    graph: Oracle = {}
    for (_, rt, name), scenario in repo.scenarios.items():
        document = scenario.document()
        body = document[document["scenario_type"]]
        names = {
            "alias": [body.get("scenario_name")],
            "condition": [body.get("then"), body.get("else")],
            "ab_test": [body.get("scenario_a"), body.get("scenario_b")],
        }.get(document["scenario_type"], [])
        targets: set[tuple[str, ...]] = {("s", rt, str(n)) for n in names}
        if document["scenario_type"] == "case" and "reco_type" in body:
            targets = {("s", body["reco_type"], body["scenario"])} if "scenario" in body else {("d", body["reco_type"])}
        graph[("s", rt, name)] = targets
    graph.update({("d", rt): {("s", rt, name)} for (_, rt), name in repo.defaults.items()})
    return graph


@settings(max_examples=300, deadline=None)
@given(st.lists(operations(), min_size=1, max_size=40))
def test_no_write_sequence_stores_a_loop_and_only_loops_are_refused(steps: list[tuple[Any, ...]]) -> None:
    repo = FakeRepository()
    model: dict[tuple[str, str], Spec] = {}
    defaults: dict[str, str] = {}
    for op, reco_type, *args in steps:
        if op == "put":
            name, spec = args
            after = {**model, (reco_type, name): spec}
            if model.get((reco_type, name), ("",))[0] == "ab":
                with pytest.raises(WrongDataType, match="cannot be replaced"):
                    put_scenario("t", reco_type, name, build(reco_type, spec), repo, CATALOG)
            elif has_cycle(oracle_graph(after, defaults)):
                with pytest.raises(WrongDataType, match="would create a loop"):
                    put_scenario("t", reco_type, name, build(reco_type, spec), repo, CATALOG)
            else:
                put_scenario("t", reco_type, name, build(reco_type, spec), repo, CATALOG)
                model = after
        elif op == "default":
            (name,) = args
            if (reco_type, name) not in model:
                with pytest.raises(ScenarioNotFound):
                    set_default("t", reco_type, name, repo)
            elif has_cycle(oracle_graph(model, {**defaults, reco_type: name})):
                with pytest.raises(WrongDataType, match="would create a loop"):
                    set_default("t", reco_type, name, repo)
            elif reaches_missing(oracle_graph(model, {**defaults, reco_type: name}), ("d", reco_type), model):
                with pytest.raises(WrongDataType, match="leads to missing"):
                    set_default("t", reco_type, name, repo)
            else:
                set_default("t", reco_type, name, repo)
                defaults[reco_type] = name
        elif op == "delete":
            (name,) = args
            node = ("s", reco_type, name)
            used = any(node in targets for source, targets in oracle_graph(model, defaults).items() if source != node)
            if (reco_type, name) not in model:
                with pytest.raises(ScenarioNotFound):
                    delete_scenario("t", reco_type, name, repo, NO_CONTEXTS)
            elif used:
                with pytest.raises(ScenarioInUse):
                    delete_scenario("t", reco_type, name, repo, NO_CONTEXTS)
            else:
                delete_scenario("t", reco_type, name, repo, NO_CONTEXTS)
                del model[(reco_type, name)]
        elif reco_type not in defaults:
            with pytest.raises(ScenarioNotFound):
                unset_default("t", reco_type, repo)
        else:
            unset_default("t", reco_type, repo)
            del defaults[reco_type]
        assert not has_cycle(stored_graph(repo))
        assert stored_graph(repo) == oracle_graph(model, defaults)
