"""resolve_scenario: a request's scenario flow becomes the one case it runs, plus the trace of how.

A flow is followed step by step: ``alias`` → its target, ``condition`` → ``then`` / ``else``,
``ab_test`` → the variant the requester is assigned to, until a ``case``. The reco type's default
scenario is resolved the same way and merged under the runtime one, and the request's own
``amt`` / ``filters`` / ``reranking`` / ``exclude_rated_items`` go on top (see :func:`merge_cases`).
Generic requests first resolve a ``generic_input_to_items`` flow whose case names the reco type
(and scenario) to run. Pure code: scenarios and request facts come in through two protocols.

A flow the caller names fails with SCENARIO_NOT_FOUND when it reaches a missing scenario. A saved
one (a default, a context's scenario) is skipped instead, with a warning: one bad write must not
fail every request of a reco type.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from reco.errors import ScenarioNotFound, WrongDataType, WrongParameter
from reco.schemas.scenarios import GENERIC, Case, ConditionTest, ItemFilter, RerankingRule, Scenario

DEFAULT_AMT = 10
# Stored flows are acyclic (writes are checked); this bounds preview flows and any stale read.
MAX_FLOW_STEPS = 32


class ScenarioSource(Protocol):
    """A tenant's scenarios as the engine reads them (the store, or preview overrides over it)."""

    def scenario(self, reco_type: str, name: str) -> Scenario | None: ...

    def default_name(self, reco_type: str) -> str | None: ...


class ConditionInputs(Protocol):
    """Request facts conditions test; each is computed only if a condition asks for it."""

    def user_function(self, name: str) -> float: ...

    def item_property(self, name: str) -> Any: ...

    def runtime_param(self, name: str) -> Any: ...

    def assignment_key(self) -> str | None: ...


@dataclass(frozen=True)
class RequestCase:
    """The case parameters a request sets itself."""

    amt: int | None = None
    filters: Sequence[ItemFilter] = ()
    reranking: Sequence[RerankingRule] = ()
    exclude_rated_items: bool | None = None


@dataclass(frozen=True)
class Experiment:
    """An A/B test a request went through, and the variant it was assigned."""

    test_id: str
    scenario_name: str
    variant: str  # "A" or "B"
    assigned_to: str  # the scenario of that variant


@dataclass
class Flow:
    """One resolved flow: its trace entries (reference shape) and the case it ended on."""

    trace: list[dict[str, Any]] = field(default_factory=list)
    case: Case | None = None
    experiments: list[Experiment] = field(default_factory=list)


@dataclass(frozen=True)
class Resolution:
    reco_type: str
    case: Case
    evaluated_scenarios: dict[str, Any]
    experiments: tuple[Experiment, ...]
    warnings: tuple[str, ...] = ()  # saved flows skipped because they reach a missing scenario


def ab_variant(test_id: str, key: str | None) -> str:
    """ "A" or "B", stable for a (test, user) pair and independent across tests; "A" without a key."""
    if key is None:
        return "A"
    digest = hashlib.sha256(f"{test_id}\x1f{key}".encode()).digest()
    return "AB"[int.from_bytes(digest[:8], "big") & 1]


def condition_holds(test: ConditionTest, actual: Any) -> bool:
    """``actual <op> test.value``; a list ``actual`` (an array property) holds if any element does."""
    if test.op == "notempty":
        return actual not in (None, "", [], {})
    if isinstance(actual, list):
        return any(_compare(test.op, element, test.value) for element in actual)
    return _compare(test.op, actual, test.value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _compare(op: str, actual: Any, expected: Any) -> bool:
    if actual is None:
        return False
    if op == "in":
        return isinstance(expected, list) and any(_equal(actual, e) for e in expected)
    if op == "eq":
        return _equal(actual, expected)
    if not ((_is_number(actual) and _is_number(expected)) or (isinstance(actual, str) and isinstance(expected, str))):
        return False  # lt / lte / gt / gte compare two numbers or two strings, nothing else
    return bool(
        {"gt": actual > expected, "gte": actual >= expected, "lt": actual < expected, "lte": actual <= expected}[op]
    )


def _equal(actual: Any, expected: Any) -> bool:
    if isinstance(actual, bool) or isinstance(expected, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and actual == expected
    return bool(actual == expected)


def evaluate_flow(reco_type: str, name: str, source: ScenarioSource, inputs: ConditionInputs) -> Flow:
    """Follow ``name`` to its case. Missing scenarios raise SCENARIO_NOT_FOUND, loops WRONG_DATA_TYPE."""
    flow, path, current = Flow(), [name], name
    while True:
        scenario = source.scenario(reco_type, current)
        if scenario is None:
            via = f", reached through {' -> '.join(path[:-1])}" if len(path) > 1 else ""
            raise ScenarioNotFound(
                f"scenario '{current}' ({reco_type}) not found{via}",
                data={"reco_type": reco_type, "scenario": current},
            )
        step: dict[str, Any] = {"scenario_type": scenario.scenario_type, "scenario_name": current}
        flow.trace.append(step)
        if scenario.case is not None:
            step["case"] = scenario.case.model_dump(mode="json", by_alias=True, exclude_unset=True)
            flow.case = scenario.case
            return flow
        current, step["to"] = _next_step(current, scenario, inputs, flow)
        if current in path:
            raise WrongDataType(f"scenario flow loops: {' -> '.join([*path, current])}")
        if len(path) >= MAX_FLOW_STEPS:
            raise WrongDataType(
                f"scenario flow is longer than {MAX_FLOW_STEPS} steps (from '{name}'): shorten it with a direct alias"
            )
        path.append(current)


def _next_step(name: str, scenario: Scenario, inputs: ConditionInputs, flow: Flow) -> tuple[str, str]:
    """The next scenario's name and how it was reached (the trace's ``to``)."""
    if scenario.alias is not None:
        return scenario.alias.scenario_name, "alias"
    if scenario.condition is not None:
        condition = scenario.condition
        test = condition.if_
        if condition.condition_type == "user_function":
            actual: Any = inputs.user_function(str(test.function_name))
        elif condition.condition_type == "item_property":
            actual = inputs.item_property(str(test.property_name))
        else:
            actual = inputs.runtime_param(str(test.param_name))
        return (condition.then, "then") if condition_holds(test, actual) else (condition.else_, "else")
    assert scenario.ab_test is not None  # the schema guarantees exactly one body
    test_id = scenario.ab_test.id
    variant = ab_variant(test_id, inputs.assignment_key())
    target = scenario.ab_test.scenario_a if variant == "A" else scenario.ab_test.scenario_b
    flow.experiments.append(Experiment(test_id, name, variant, target))
    return target, f"scenario_{variant.lower()}"


def merge_cases(default: Case | None, runtime: Case | None, request: RequestCase) -> Case:
    """The case a request runs: the default scenario's, under the runtime one's, under the request's.

    - ``amt`` and ``exclude_rated_items``: the most specific one set (request, runtime, default);
    - ``filters``: all of them hold (default, runtime, request);
    - ``reranking``: concatenated; a later rule on the same property replaces an earlier one;
    - ``exclude_items_with_interaction_types`` and ``exclude_props_…``: the union of both scenarios';
    - any other field: the runtime scenario's, else the default's.
    """
    base = default.model_dump(exclude_unset=True) if default is not None else {}
    top = runtime.model_dump(exclude_unset=True) if runtime is not None else {}
    merged: dict[str, Any] = {**base, **top}
    layers = [c for c in (default, runtime) if c is not None]
    filters = [f for c in layers for f in (c.filters or [])] + list(request.filters)
    reranking: dict[str, RerankingRule] = {}
    for rule in [r for c in layers for r in (c.reranking or [])] + list(request.reranking):
        reranking.pop(rule.property_name, None)
        reranking[rule.property_name] = rule
    types = list(dict.fromkeys(t for c in layers for t in (c.exclude_items_with_interaction_types or [])))
    props = [p for c in layers for p in (c.exclude_props_of_items_with_interaction_types or [])]
    scalars = {k: v for k, v in merged.items() if k not in _COMBINED}
    scalars["amt"] = _first(request.amt, runtime and runtime.amt, default and default.amt)
    scalars["exclude_rated_items"] = _first(
        request.exclude_rated_items, runtime and runtime.exclude_rated_items, default and default.exclude_rated_items
    )
    case = Case.model_validate({k: v for k, v in scalars.items() if v is not None})
    # The combined lists may exceed a single case's limits: set after validation, not re-validated.
    return case.model_copy(
        update={
            "filters": filters,
            "reranking": list(reranking.values()),
            "exclude_items_with_interaction_types": types,
            "exclude_props_of_items_with_interaction_types": props,
        }
    )


_COMBINED = {
    "filters",
    "reranking",
    "exclude_items_with_interaction_types",
    "exclude_props_of_items_with_interaction_types",
}


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def resolve_scenario(
    reco_type: str,
    scenario: str | None,
    source: ScenarioSource,
    inputs: ConditionInputs,
    *,
    skip_default: bool = False,
    request: RequestCase | None = None,
    saved_by: str | None = None,
) -> Resolution:
    """Resolve a request's scenario (and its reco type's default) to the case it runs.

    ``evaluated_scenarios`` lists, as the reference's preview example shows, ``generic_runtime`` /
    ``generic_default`` (generic requests), ``reco_type`` (the one that ran), ``runtime`` and
    ``default``; lists that were not evaluated are left out. ``saved_by`` names where ``scenario``
    was saved (``"context 3"``) when the caller did not name it: then it is skipped, like a default,
    if its flow reaches a missing scenario.
    """
    evaluated: dict[str, Any] = {}
    experiments: list[Experiment] = []
    warnings: list[str] = []
    if reco_type == GENERIC:
        reco_type, scenario, routed_by = _route_generic(
            scenario, source, inputs, skip_default, evaluated, experiments, warnings
        )
        saved_by = routed_by or saved_by
    evaluated["reco_type"] = reco_type
    runtime = None
    if scenario is not None:
        runtime = (
            evaluate_flow(reco_type, scenario, source, inputs)
            if saved_by is None
            else _saved_flow(reco_type, scenario, f"scenario '{scenario}' of {saved_by}", source, inputs, warnings)
        )
    default_name = None if skip_default else source.default_name(reco_type)
    default = (
        _saved_flow(
            reco_type, default_name, f"default scenario '{default_name}' of {reco_type}", source, inputs, warnings
        )
        if default_name is not None and default_name != scenario
        else None
    )
    for key, flow in (("runtime", runtime), ("default", default)):
        if flow is not None:
            evaluated[key] = flow.trace
            experiments.extend(flow.experiments)
    case = merge_cases(default.case if default else None, runtime.case if runtime else None, request or RequestCase())
    return Resolution(reco_type, case, evaluated, tuple(experiments), tuple(warnings))


def _saved_flow(
    reco_type: str, name: str, what: str, source: ScenarioSource, inputs: ConditionInputs, warnings: list[str]
) -> Flow | None:
    """A saved flow, or None (and a warning) if it reaches a missing scenario."""
    try:
        return evaluate_flow(reco_type, name, source, inputs)
    except ScenarioNotFound as missing:
        warnings.append(f"{what} skipped: {missing.message}; requests run without it until it exists")
        return None


def _route_generic(
    scenario: str | None,
    source: ScenarioSource,
    inputs: ConditionInputs,
    skip_default: bool,
    evaluated: dict[str, Any],
    experiments: list[Experiment],
    warnings: list[str],
) -> tuple[str, str | None, str | None]:
    """The reco type and scenario a generic request runs (its generic case's, else the default's).

    The third value names the generic default when the scenario came from it (a saved flow).
    """
    flows: list[tuple[Flow, str | None]] = []
    if scenario is not None:
        flow = evaluate_flow(GENERIC, scenario, source, inputs)
        evaluated["generic_runtime"] = flow.trace
        flows.append((flow, None))
    default_name = None if skip_default else source.default_name(GENERIC)
    if default_name is not None and default_name != scenario:
        what = f"default scenario '{default_name}' of {GENERIC}"
        default = _saved_flow(GENERIC, default_name, what, source, inputs, warnings)
        if default is not None:
            evaluated["generic_default"] = default.trace
            flows.append((default, f"the {GENERIC} default"))
    for flow, _ in flows:
        experiments.extend(flow.experiments)
    for flow, routed_by in flows:
        if flow.case is not None and flow.case.reco_type is not None:
            return flow.case.reco_type, flow.case.scenario, routed_by
    skipped = f" ({'; '.join(warnings)})" if warnings else ""
    raise WrongParameter(
        "a generic request needs a generic_input_to_items scenario whose case names the reco_type to run: "
        f"pass `scenario`, or set a default with PATCH /scenarios-default/generic_input_to_items/{skipped}"
    )
