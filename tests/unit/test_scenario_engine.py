"""The scenario engine, pure: A/B assignment, condition ops, merge rules, traces, generic routing, flow resolution."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reco.errors import ScenarioNotFound, WrongDataType, WrongParameter
from reco.scenarios.engine import (
    Experiment,
    RequestCase,
    Resolution,
    ab_variant,
    condition_holds,
    merge_cases,
    resolve_scenario,
)
from reco.schemas.scenarios import Case, ConditionTest, ItemFilter, RerankingRule, Scenario

P2I, I2I, GENERIC = "profile_to_items", "item_to_items", "generic_input_to_items"


@dataclass
class Source:
    """An in-memory ScenarioSource: {(reco_type, name): document}, {reco_type: default name}."""

    documents: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)

    def scenario(self, reco_type: str, name: str) -> Scenario | None:
        document = self.documents.get((reco_type, name))
        return None if document is None else Scenario.model_validate(document)

    def default_name(self, reco_type: str) -> str | None:
        return self.defaults.get(reco_type)


@dataclass
class Inputs:
    functions: dict[str, float] = field(default_factory=dict)
    item: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    key: str | None = None

    def user_function(self, name: str) -> float:
        return self.functions.get(name, 0.0)

    def item_property(self, name: str) -> Any:
        return self.item.get(name)

    def runtime_param(self, name: str) -> Any:
        return self.params.get(name)

    def assignment_key(self) -> str | None:
        return self.key


def case(**fields: Any) -> dict[str, Any]:
    return {"scenario_type": "case", "case": fields}


def alias(target: str) -> dict[str, Any]:
    return {"scenario_type": "alias", "alias": {"scenario_name": target}}


def condition(kind: str, test: dict[str, Any], then: str, otherwise: str) -> dict[str, Any]:
    return {
        "scenario_type": "condition",
        "condition": {"condition_type": kind, "if": test, "then": then, "else": otherwise},
    }


def ab(test_id: str, a: str, b: str) -> dict[str, Any]:
    return {"scenario_type": "ab_test", "ab_test": {"id": test_id, "scenario_a": a, "scenario_b": b}}


def flt(name: str, op: str, value: Any) -> ItemFilter:
    return ItemFilter(property_name=name, op=op, value=value)


# ---------------------------------------------------------------------------------------------- A/B tests


def test_ab_assignment_is_stable_per_user_and_balanced() -> None:
    users = [f"user-{k}" for k in range(10_000)]
    variants = [ab_variant("exp-1", user) for user in users]
    assert set(variants) == {"A", "B"}
    assert variants == [ab_variant("exp-1", user) for user in users]  # stable
    assert 0.48 <= variants.count("B") / len(users) <= 0.52
    assert ab_variant("exp-1", None) == "A"  # nobody to assign: variant A


def test_ab_assignments_of_two_tests_are_independent() -> None:
    users = [f"u{k}" for k in range(10_000)]
    pairs = Counter((ab_variant("checkout", u), ab_variant("homepage", u)) for u in users)
    assert set(pairs) == {("A", "A"), ("A", "B"), ("B", "A"), ("B", "B")}
    assert all(2_300 <= count <= 2_700 for count in pairs.values()), pairs


# ---------------------------------------------------------------------------------------------- conditions

# "op value actual expected", JSON values: type mismatches are false (never errors); a list-valued
# actual (an array item property) holds when any element does; strings compare lexicographically.
CONDITIONS = """
gt 3 5 true; gt 3 3 false; gte 3 3.0 true; lt 3 2.5 true; lte 3 3 true; lte 3 4 false; gt "b" "c" true
lt "2024-01-01" "2023-12-31" true; gt 3 "5" false; gt "3" 5 false; gte 0 true false; gt 1 {"a":2} false
lt 1 null false; eq 1 1.0 true; eq "rock" "rock" true; eq "rock" "Rock" false; eq 1 true false; eq true true true
eq "1" 1 false; eq 1 null false; in ["rock","jazz"] "jazz" true; in ["rock","jazz"] "pop" false; in [1,2] 2.0 true
in [1,2] true false; in "rock" "rock" false; notempty null 0 true; notempty null false true; notempty null "x" true
notempty null [0] true; notempty null null false; notempty null "" false; notempty null [] false; notempty null {} false
eq "live" ["vinyl","live"] true; eq "new" ["vinyl","live"] false; in ["new","live"] ["vinyl","live"] true
gt 2000 [1990,2010] true; gt 2000 [1990,1999] false; lt 5 [] false; gt 1 ["2",null,{"x":1}] false
"""


@pytest.mark.parametrize("row", [r.strip() for r in CONDITIONS.replace("\n", ";").split(";") if r.strip()])
def test_condition_ops(row: str) -> None:
    op, value, actual, expected = row.split(" ")
    test = ConditionTest(op=op, value=json.loads(value))
    assert condition_holds(test, json.loads(actual)) is json.loads(expected)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner, max_size=2),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(op=st.sampled_from(["gt", "lt", "eq", "in", "gte", "lte", "notempty"]), value=JSON, actual=JSON)
def test_condition_holds_never_raises(op: str, value: Any, actual: Any) -> None:
    assert condition_holds(ConditionTest(op=op, value=value), actual) in (True, False)


def test_user_function_condition_reads_counts() -> None:
    source = Source(
        {(P2I, "c"): condition("user_function", {"function_name": "n_ratings", "op": "gte", "value": 21}, "y", "n")}
    )
    source.documents.update({(P2I, "y"): case(amt=1), (P2I, "n"): case(amt=2)})
    for count, amt in ((21.0, 1), (20.0, 2), (0.0, 2)):
        resolution = resolve_scenario(P2I, "c", source, Inputs(functions={"n_ratings": count}))
        assert resolution.case.amt == amt


# ---------------------------------------------------------------------------------------------- merge rules


@pytest.mark.parametrize(
    ("default", "runtime", "request_amt", "expected"),
    [(3, 5, 7, 7), (3, 5, None, 5), (3, None, None, 3), (None, None, None, None), (3, 5, 0, 0), (3, 0, None, 0)],
)
def test_amt_precedence_is_request_then_runtime_then_default(
    default: int | None, runtime: int | None, request_amt: int | None, expected: int | None
) -> None:
    merged = merge_cases(Case(amt=default), Case(amt=runtime), RequestCase(amt=request_amt))
    assert merged.amt == expected


def test_merge_concatenates_filters_and_unions_exclusions() -> None:
    default = Case(
        filters=[flt("year", "gte", 2000)],
        exclude_items_with_interaction_types=["purchase"],
        exclude_props_of_items_with_interaction_types=[{"property_name": "genre", "interaction_types": ["purchase"]}],
        exclude_rated_items=True,
        algorithms="old",
        cache_control={"max_age": 60},
    )
    runtime = Case(
        filters=[flt("genre", "eq", "rock")],
        exclude_items_with_interaction_types=["add_to_cart", "purchase"],
        exclude_props_of_items_with_interaction_types=[{"property_name": "artist", "interaction_types": ["view"]}],
        algorithms="new",
    )
    merged = merge_cases(default, runtime, RequestCase(filters=[flt("price", "lt", 9.5)]))
    assert [(f.property_name, f.op, f.value) for f in merged.filters or []] == [
        ("year", "gte", 2000),
        ("genre", "eq", "rock"),
        ("price", "lt", 9.5),
    ]
    assert merged.exclude_items_with_interaction_types == ["purchase", "add_to_cart"]
    assert [p.property_name for p in merged.exclude_props_of_items_with_interaction_types or []] == ["genre", "artist"]
    assert merged.algorithms == "new" and merged.cache_control is not None and merged.cache_control.max_age == 60
    assert merged.exclude_rated_items is True
    assert merge_cases(default, runtime, RequestCase(exclude_rated_items=False)).exclude_rated_items is False
    assert merge_cases(None, None, RequestCase()).model_dump(exclude_defaults=True) == {
        "filters": [],
        "reranking": [],
        "exclude_items_with_interaction_types": [],
        "exclude_props_of_items_with_interaction_types": [],
    }


def test_merge_replaces_reranking_on_the_same_property() -> None:
    def rule(name: str, weight: float) -> RerankingRule:
        return RerankingRule(property_name=name, op="diversity", weight=weight)

    default = Case(reranking=[rule("genre", 0.1), rule("artist", 0.2)])
    runtime = Case(reranking=[rule("genre", 0.5)])
    merged = merge_cases(default, runtime, RequestCase())
    assert sorted((r.property_name, r.weight) for r in merged.reranking or []) == [("artist", 0.2), ("genre", 0.5)]
    merged = merge_cases(default, runtime, RequestCase(reranking=[rule("artist", 2.0)]))
    assert sorted((r.property_name, r.weight) for r in merged.reranking or []) == [("artist", 2.0), ("genre", 0.5)]


# ---------------------------------------------------------------------------------------------- traces and routing


def test_trace_of_alias_condition_and_ab_test() -> None:
    source = Source(
        {
            (P2I, "entry"): alias("cond"),
            (P2I, "cond"): condition(
                "runtime_param", {"param_name": "x", "op": "eq", "value": 1}, "split", "leaf_else"
            ),
            (P2I, "split"): ab("t-1", "leaf_a", "leaf_b"),
            (P2I, "leaf_a"): case(amt=1),
            (P2I, "leaf_b"): case(amt=2),
            (P2I, "leaf_else"): case(amt=3),
        }
    )
    for key in ("alice", "bob", "carol", "dave"):
        variant = ab_variant("t-1", key)
        leaf = f"leaf_{variant.lower()}"
        resolution = resolve_scenario(P2I, "entry", source, Inputs(params={"x": 1}, key=key))
        assert resolution.evaluated_scenarios == {
            "reco_type": P2I,
            "runtime": [
                {"scenario_type": "alias", "scenario_name": "entry", "to": "alias"},
                {"scenario_type": "condition", "scenario_name": "cond", "to": "then"},
                {"scenario_type": "ab_test", "scenario_name": "split", "to": f"scenario_{variant.lower()}"},
                {"scenario_type": "case", "scenario_name": leaf, "case": {"amt": 1 if variant == "A" else 2}},
            ],
        }
        assert resolution.experiments == (Experiment("t-1", "split", variant, leaf),)
    otherwise = resolve_scenario(P2I, "entry", source, Inputs(params={"x": 2}))
    assert [s.get("to") for s in otherwise.evaluated_scenarios["runtime"]] == ["alias", "else", None]
    assert otherwise.case.amt == 3 and otherwise.experiments == ()


def test_default_scenario_is_merged_once_and_can_be_skipped() -> None:
    source = Source({(P2I, "d"): case(amt=4, filters=[{"property_name": "y", "op": "gte", "value": 1}])}, {P2I: "d"})
    source.documents[(P2I, "r")] = case(amt=2)
    both = resolve_scenario(P2I, "r", source, Inputs())
    assert list(both.evaluated_scenarios) == ["reco_type", "runtime", "default"]
    assert both.case.amt == 2 and len(both.case.filters or []) == 1
    itself = resolve_scenario(P2I, "d", source, Inputs())
    assert list(itself.evaluated_scenarios) == ["reco_type", "runtime"] and len(itself.case.filters or []) == 1
    skipped = resolve_scenario(P2I, "r", source, Inputs(), skip_default=True)
    assert list(skipped.evaluated_scenarios) == ["reco_type", "runtime"] and not skipped.case.filters
    only_default = resolve_scenario(P2I, None, source, Inputs())
    assert list(only_default.evaluated_scenarios) == ["reco_type", "default"] and only_default.case.amt == 4


def test_generic_routing_runtime_then_default() -> None:
    source = Source(
        {
            (GENERIC, "g"): case(reco_type=I2I, scenario="sim"),
            (GENERIC, "gd"): case(reco_type=P2I),
            (I2I, "sim"): case(amt=5),
            (P2I, "pd"): case(amt=7),
        },
        {GENERIC: "gd", P2I: "pd"},
    )
    routed = resolve_scenario(GENERIC, "g", source, Inputs())
    assert routed.reco_type == I2I and routed.case.amt == 5
    assert list(routed.evaluated_scenarios) == ["generic_runtime", "generic_default", "reco_type", "runtime"]
    assert routed.evaluated_scenarios["generic_runtime"][0]["case"] == {"reco_type": I2I, "scenario": "sim"}
    by_default = resolve_scenario(GENERIC, None, source, Inputs())
    assert by_default.reco_type == P2I and by_default.case.amt == 7
    assert list(by_default.evaluated_scenarios) == ["generic_default", "reco_type", "default"]
    with pytest.raises(WrongParameter, match="reco_type"):
        resolve_scenario(GENERIC, None, Source(), Inputs())
    unrouted = Source({(GENERIC, "plain"): case(amt=3)})  # a preview may send one: the schema alone allows it
    with pytest.raises(WrongParameter, match="generic_input_to_items"):
        resolve_scenario(GENERIC, "plain", unrouted, Inputs(), skip_default=True)


def test_missing_scenarios_name_the_path_that_reached_them() -> None:
    source = Source(
        {
            (P2I, "a"): alias("b"),
            (P2I, "b"): condition("runtime_param", {"param_name": "p", "op": "notempty"}, "c", "a"),
        }
    )
    with pytest.raises(ScenarioNotFound) as raised:
        resolve_scenario(P2I, "a", source, Inputs(params={"p": "x"}))
    assert "'c'" in raised.value.message and "a -> b" in raised.value.message
    assert raised.value.data == {"reco_type": P2I, "scenario": "c"}
    with pytest.raises(ScenarioNotFound, match="'nowhere'"):
        resolve_scenario(P2I, "nowhere", source, Inputs())
    with pytest.raises(WrongDataType, match="a -> b -> a"):
        resolve_scenario(P2I, "a", source, Inputs())


def test_a_saved_flow_that_reaches_a_missing_scenario_is_skipped_with_a_warning() -> None:
    source = Source({(P2I, "front"): alias("gone"), (P2I, "ok"): case(amt=4)}, {P2I: "front"})
    skipped = resolve_scenario(P2I, "ok", source, Inputs())
    assert (skipped.case.amt, list(skipped.evaluated_scenarios)) == (4, ["reco_type", "runtime"])
    assert skipped.warnings == (
        "default scenario 'front' of profile_to_items skipped: scenario 'gone' (profile_to_items) not found, "
        "reached through front; requests run without it until it exists",
    )
    assert resolve_scenario(P2I, None, Source(defaults={P2I: "gone"}), Inputs()).case.amt is None
    # A scenario the caller names fails; the same one saved by a context is skipped.
    with pytest.raises(ScenarioNotFound, match="'gone'"):
        resolve_scenario(P2I, "front", source, Inputs(), skip_default=True)
    saved = resolve_scenario(P2I, "front", source, Inputs(), skip_default=True, saved_by="context 3")
    assert saved.warnings[0].startswith("scenario 'front' of context 3 skipped: scenario 'gone'")
    # A generic default routing to a missing scenario: the routed reco type runs without it.
    source.documents[(GENERIC, "g")] = case(reco_type=P2I, scenario="later")
    source.defaults = {GENERIC: "g"}
    routed = resolve_scenario(GENERIC, None, source, Inputs())
    assert routed.reco_type == P2I and "generic_default" in routed.evaluated_scenarios
    assert routed.warnings == (
        f"scenario 'later' of the {GENERIC} default skipped: scenario 'later' (profile_to_items) not found; "
        "requests run without it until it exists",
    )
    # A broken generic default leaves nothing to route by: the error says why.
    source.defaults = {GENERIC: "front_g"}
    with pytest.raises(WrongParameter, match=r"set a default .*\(default scenario 'front_g' of generic"):
        resolve_scenario(GENERIC, None, source, Inputs())


def test_a_long_acyclic_alias_chain_is_not_reported_as_a_loop() -> None:
    source = Source({(P2I, f"s{k}"): alias(f"s{k + 1}") for k in range(40)})
    source.documents[(P2I, "s40")] = case(amt=1)
    try:
        assert resolve_scenario(P2I, "s0", source, Inputs()).case.amt == 1
    except WrongDataType as error:
        assert "loop" not in error.message, error.message


# ---------------------------------------------------------------------------------------------- random flows

NAMES = [f"n{k}" for k in range(10)]  # n8, n9 never exist: targets may be missing


@st.composite
def flows(draw: st.DrawFn) -> tuple[dict[str, dict[str, Any]], str, str | None, bool, str | None]:
    graph: dict[str, dict[str, Any]] = {}
    for k, name in enumerate(NAMES[: draw(st.integers(1, 8))]):
        kind = draw(st.sampled_from(["case", "alias", "condition", "ab_test"]))
        one, two = draw(st.sampled_from(NAMES)), draw(st.sampled_from(NAMES))
        if kind == "case":
            graph[name] = case(amt=k)
        elif kind == "alias":
            graph[name] = alias(one)
        elif kind == "condition":
            graph[name] = condition("runtime_param", {"param_name": "flag", "op": "eq", "value": True}, one, two)
        else:
            graph[name] = ab(f"test-{k}", one, two)
    start, default = draw(st.sampled_from(NAMES)), draw(st.none() | st.sampled_from(NAMES))
    return graph, start, default, draw(st.booleans()), draw(st.none() | st.text(min_size=1, max_size=4))


def follow(graph: dict[str, dict[str, Any]], start: str, flag: bool, key: str | None) -> tuple[str, list[str]]:
    """("case" | "missing" | "loop", the names visited): the flow followed by hand."""
    path = [start]
    while True:
        document = graph.get(path[-1])
        if document is None:
            return "missing", path
        kind = document["scenario_type"]
        if kind == "case":
            return "case", path
        if kind == "alias":
            target = document["alias"]["scenario_name"]
        elif kind == "condition":
            target = document["condition"]["then" if flag else "else"]
        else:
            test = document["ab_test"]
            target = test["scenario_a"] if ab_variant(test["id"], key) == "A" else test["scenario_b"]
        if target in path:
            return "loop", path
        path.append(target)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flows())
def test_random_flows_resolve_or_fail_with_not_found_or_loop(
    flow: tuple[dict[str, dict[str, Any]], str, str | None, bool, str | None],
) -> None:
    graph, start, default, flag, key = flow
    source = Source({(P2I, name): document for name, document in graph.items()}, {P2I: default} if default else {})
    expected, path = follow(graph, start, flag, key)
    default_outcome = None
    if expected == "case" and default is not None and default != start:
        default_outcome, _ = follow(graph, default, flag, key)
        expected = "loop" if default_outcome == "loop" else expected  # a missing one is skipped
    try:
        result: Resolution | Exception = resolve_scenario(P2I, start, source, Inputs(params={"flag": flag}, key=key))
    except (ScenarioNotFound, WrongDataType) as error:
        result = error
    if expected == "case":
        assert isinstance(result, Resolution), result
        assert [step["scenario_name"] for step in result.evaluated_scenarios["runtime"]] == path
        assert result.case.amt == NAMES.index(path[-1])
        assert ("default" in result.evaluated_scenarios) == (default_outcome == "case")
        assert len(result.warnings) == (default_outcome == "missing")
    elif expected == "missing":
        assert isinstance(result, ScenarioNotFound), result
    else:
        assert isinstance(result, WrongDataType) and "loops" in result.message, result
