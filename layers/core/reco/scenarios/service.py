"""Scenario writes and reads: the rules a flow must keep, and what is worth a warning.

A write is refused when it would make requests fail the same way every time: a loop in the flow
(through aliases, conditions, A/B tests, generic cases and defaults), a replaced A/B test (its
assignments would silently change meaning), a filter that can never mean anything for the property
(``eq`` on a float, ``gt`` on a boolean). What may become right later is only warned about: a
target scenario not created yet, an item property no item has yet. A default is the exception: it
applies to every request of its reco type, so it is only set on a flow whose scenarios all exist.
Deletes are refused while anything routes to the scenario: another scenario, a default, a context.

Every write is checked on a snapshot of the tenant's whole graph and committed against the
snapshot's version; if another writer committed in between, the write is re-checked on a fresh
snapshot (at most :data:`MAX_WRITE_ATTEMPTS` times), so two concurrent writes can never close a loop
together nor lose one another.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, cast, get_args

from reco.errors import Conflict, ScenarioInUse, ScenarioNotFound, WrongDataType, WrongParameter
from reco.scenarios import graph
from reco.scenarios.filter_rules import check_filter
from reco.scenarios.graph import GraphChanged, Node, ScenarioPage, ScenarioRow, ScenarioSnapshot
from reco.scenarios.metadata_filters import matches, parse_metadata_filters
from reco.schemas.scenarios import (
    GENERIC,
    Case,
    DefaultScenario,
    FilterRule,
    RecoType,
    RerankingRule,
    Scenario,
    ScenarioList,
    ScenarioType,
    ScenarioWritten,
    StoredScenario,
    is_user_property_ref,
)

if TYPE_CHECKING:  # the artifact module (numpy, recipes) is not loaded by the scenarios function
    from reco.models.columns import Kind

MAX_WRITE_ATTEMPTS = 5
DEFAULT_LIST_AMT = 64
MAX_LIST_AMT = 512
FILTERED_READ = 256  # rows read per page when most of them may be filtered out
MAX_CURSOR_CHARS = 4096
RECO_TYPES = frozenset(get_args(RecoType))
SCENARIO_TYPES = frozenset(get_args(ScenarioType))


class ScenarioRepository(Protocol):
    """Where scenarios live (the DynamoDB store; an in-memory fake in tests)."""

    def get(self, tenant: str, reco_type: str, name: str) -> Scenario | None: ...

    def default_name(self, tenant: str, reco_type: str) -> str | None: ...

    def snapshot(self, tenant: str) -> ScenarioSnapshot: ...

    def page(self, tenant: str, reco_type: str | None, after: str | None, limit: int) -> ScenarioPage: ...

    def commit(
        self,
        tenant: str,
        expected_version: int,
        *,
        put: tuple[str, str, Scenario] | None = None,
        delete: tuple[str, str] | None = None,
        set_default: tuple[str, str] | None = None,
        unset_default: str | None = None,
    ) -> None:
        """Apply one change if the graph is still at ``expected_version``, else raise GraphChanged."""
        ...


class ScenarioReferences(Protocol):
    """What names scenarios outside the graph (the /v1/contexts contexts)."""

    def users_of(self, tenant: str, reco_type: str, name: str) -> list[str]:
        """Who uses the scenario, each as a short description ("context 101"); empty if nobody."""
        ...


class KnownProperty(Protocol):
    @property
    def kind(self) -> Kind | None: ...


class PropertyKinds(Protocol):
    """The item properties the catalog has seen, with what filters may assume of their values."""

    def property_kinds(self, tenant: str) -> Mapping[str, KnownProperty]: ...


@dataclass(frozen=True)
class _Change:
    """One checked write, and the warnings the check produced."""

    put: tuple[str, str, Scenario] | None = None
    delete: tuple[str, str] | None = None
    set_default: tuple[str, str] | None = None
    unset_default: str | None = None
    warnings: list[str] = field(default_factory=list)


def _write(tenant: str, repo: ScenarioRepository, plan: Callable[[ScenarioSnapshot], _Change | None]) -> list[str]:
    """Check ``plan`` on a fresh snapshot and commit it at that version, retrying if the graph moved."""
    for _ in range(MAX_WRITE_ATTEMPTS):
        snapshot = repo.snapshot(tenant)
        change = plan(snapshot)
        if change is None:
            return []
        try:
            repo.commit(
                tenant,
                snapshot.version,
                put=change.put,
                delete=change.delete,
                set_default=change.set_default,
                unset_default=change.unset_default,
            )
        except GraphChanged:
            continue
        return change.warnings
    raise Conflict("scenarios were changed concurrently; retry")


def _check_reco_type(reco_type: str) -> None:
    if reco_type not in RECO_TYPES:
        raise WrongParameter(
            f"unknown reco_type '{reco_type}': use one of {', '.join(sorted(RECO_TYPES))}",
            data={"reco_type": reco_type},
        )


def _not_found(reco_type: str, name: str) -> ScenarioNotFound:
    return ScenarioNotFound(f"scenario '{name}' ({reco_type}) not found", data={"reco_type": reco_type, "name": name})


def _loop(what: str, cycle: Sequence[Node]) -> WrongDataType:
    return WrongDataType(
        f"{what} would create a loop: {graph.describe_path(cycle)}; requests would never reach a case",
        data={"loop": [graph.describe(node) for node in cycle]},
    )


def _unique(messages: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(messages))


# ---------------------------------------------------------------------- checks that need no graph


def _check_routing(reco_type: str, scenario: Scenario) -> None:
    """Only generic cases route to another reco type, and they must say which."""
    case = scenario.case
    if case is None:
        return
    if reco_type == GENERIC and case.reco_type is None:
        raise WrongDataType(
            "a generic_input_to_items case routes the request to another reco type: set case.reco_type "
            "(and case.scenario, or leave it out to use that reco type's default)"
        )
    if reco_type != GENERIC and (case.reco_type is not None or case.scenario is not None):
        raise WrongDataType(
            "only generic_input_to_items cases route to another reco type: remove case.reco_type and case.scenario"
        )


def _case_properties(case: Case) -> tuple[list[FilterRule], list[str]]:
    """Every filter of the case, and the other item-property names it relies on."""
    filters: list[FilterRule] = [*(case.filters or [])]
    reranking: list[RerankingRule] = [*(case.reranking or [])]
    for step in case.case_sequence.sequence if case.case_sequence else []:
        filters += step.filters or []
        reranking += step.reranking or []
    if case.retrieval is not None:
        filters += case.retrieval.filters or []
        reranking += case.retrieval.reranking or []
    names = [rule.property_name for rule in reranking]
    for rule in reranking:
        filters += (rule.options.filters or []) if rule.options else []
    names += [exclusion.property_name for exclusion in case.exclude_props_of_items_with_interaction_types or []]
    return filters, names


def _property_warnings(tenant: str, scenario: Scenario, properties: PropertyKinds) -> list[str]:
    """Refuse filters that cannot fit their property; warn about properties no item has yet."""
    filters, names = _case_properties(scenario.case) if scenario.case else ([], [])
    condition = scenario.condition
    if condition is not None and condition.if_.property_name is not None:
        names.append(condition.if_.property_name)
    if not filters and not names:
        return []  # no catalog read for aliases, A/B tests and plain cases
    known = properties.property_kinds(tenant)
    for rule in filters:
        if is_user_property_ref(rule.value):
            continue  # the value is the requesting user's: its type is only known at request time
        found = known.get(rule.property_name)
        check_filter(rule.property_name, rule.op, rule.value, found.kind if found else None)
    return _unique(
        f"unknown item property '{name}': no catalog item has it yet"
        for name in [*(rule.property_name for rule in filters), *names]
        if name not in known
    )


def _reference_warnings(snapshot: ScenarioSnapshot, node: Node, targets: Iterable[Node]) -> list[str]:
    return [
        f"scenario '{target.name}' ({target.reco_type}) does not exist yet: requests through '{node.name}' "
        "fail with SCENARIO_NOT_FOUND until it is created"
        for target in targets
        if target.kind == "scenario" and (target.reco_type, target.name) not in snapshot.scenarios
    ]


# ---------------------------------------------------------------------- scenarios


def put_scenario(
    tenant: str, reco_type: str, name: str, scenario: Scenario, repo: ScenarioRepository, properties: PropertyKinds
) -> ScenarioWritten:
    """Create or replace a scenario (never an existing A/B test); warnings say what will not work yet."""
    _check_reco_type(reco_type)
    _check_routing(reco_type, scenario)
    property_warnings = _property_warnings(tenant, scenario, properties)
    node, targets = graph.scenario_node(reco_type, name), graph.scenario_edges(reco_type, scenario)

    def plan(snapshot: ScenarioSnapshot) -> _Change:
        existing = snapshot.scenarios.get((reco_type, name))
        if existing is not None and existing.scenario_type == "ab_test":
            raise WrongDataType(
                f"scenario '{name}' ({reco_type}) is an ab_test: ab_test scenarios cannot be replaced: "
                "create a new one and point the flow at it",
                data={"reco_type": reco_type, "name": name},
            )
        edges = snapshot.edges()
        edges[node] = targets
        cycle = graph.cycle_through(edges, node)
        if cycle is not None:
            raise _loop(f"scenario '{name}' ({reco_type})", cycle)
        warnings = [*property_warnings, *_reference_warnings(snapshot, node, targets)]
        warnings += [
            f"the default of {default.reco_type} leads to missing {graph.describe_all(missing)}: its requests run "
            "without the default (with a warning) until they exist"
            for default, missing in graph.defaults_reaching_missing(snapshot, edges, node).items()
        ]
        return _Change(put=(reco_type, name, scenario), warnings=warnings)

    return ScenarioWritten(warnings=_unique(_write(tenant, repo, plan)))


def get_scenario(tenant: str, reco_type: str, name: str, repo: ScenarioRepository) -> StoredScenario:
    _check_reco_type(reco_type)
    scenario = repo.get(tenant, reco_type, name)
    if scenario is None:
        raise _not_found(reco_type, name)
    return StoredScenario(name=name, reco_type=cast(RecoType, reco_type), scenario=scenario.document())


def delete_scenario(
    tenant: str, reco_type: str, name: str, repo: ScenarioRepository, references: ScenarioReferences
) -> None:
    """Delete a scenario nothing routes to (no scenario, default or context): its users would lose it.

    Contexts are outside the versioned graph: one saved during this delete may still name the scenario
    (its lists then run without it, with a warning).
    """
    _check_reco_type(reco_type)
    node = graph.scenario_node(reco_type, name)

    def plan(snapshot: ScenarioSnapshot) -> _Change:
        if (reco_type, name) not in snapshot.scenarios and (reco_type, name) not in snapshot.unreadable:
            raise _not_found(reco_type, name)
        users = [graph.describe(user) for user in graph.referrers(snapshot.edges(), node)]
        users += references.users_of(tenant, reco_type, name)
        if users:
            raise ScenarioInUse(
                f"scenario '{name}' ({reco_type}) is used by {', '.join(users)}: point them at another scenario first",
                data={"reco_type": reco_type, "name": name, "used_by": users},
            )
        return _Change(delete=(reco_type, name))

    _write(tenant, repo, plan)


def _encode_cursor(tenant: str, reco_type: str | None, position: str) -> str:
    raw = json.dumps([tenant, reco_type, position], separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, tenant: str, reco_type: str | None) -> str:
    """The position a cursor resumes at, if this tenant's list with this reco_type filter issued it."""
    try:
        if len(cursor) > MAX_CURSOR_CHARS:
            raise ValueError("too long")
        issued_to, issued_for, position = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(position, str) or not position:
            raise ValueError("no position")
        position.encode("utf-8")  # a lone surrogate is no key
    except (ValueError, TypeError, binascii.Error, RecursionError):
        raise WrongParameter("cursor is malformed: pass the next_cursor of the previous page unchanged") from None
    if issued_to != tenant or issued_for != reco_type:
        raise WrongParameter("cursor was issued for another list: pass the next_cursor that this list returned")
    return position


def list_scenarios(
    tenant: str,
    repo: ScenarioRepository,
    *,
    amt: int = DEFAULT_LIST_AMT,
    cursor: str | None = None,
    reco_type: str | None = None,
    scenario_type: str | None = None,
    metadata_filters: Sequence[str] = (),
) -> ScenarioList:
    """A page of scenarios in (reco_type, name) order: ``amt`` (1-512, default 64) of those that match.

    ``scenario_type`` and the AND-combined ``metadata_filters`` are applied while reading, so a page
    is full unless the list ends; ``has_next`` is exact because one more match is looked for. The
    cursor only resumes the list with the same tenant and ``reco_type`` filter.
    """
    if not 1 <= amt <= MAX_LIST_AMT:
        raise WrongParameter(f"amt must be between 1 and {MAX_LIST_AMT}, got {amt}", data={"amt": amt})
    if reco_type is not None:
        _check_reco_type(reco_type)
    if scenario_type is not None and scenario_type not in SCENARIO_TYPES:
        raise WrongParameter(
            f"unknown scenario_type '{scenario_type}': use one of {', '.join(sorted(SCENARIO_TYPES))}",
            data={"scenario_type": scenario_type},
        )
    rules = parse_metadata_filters(metadata_filters)
    after = _decode_cursor(cursor, tenant, reco_type) if cursor else None
    filtered = scenario_type is not None or bool(rules)
    found: list[ScenarioRow] = []
    while len(found) <= amt:
        page = repo.page(tenant, reco_type, after, max(amt + 1, FILTERED_READ) if filtered else amt + 1 - len(found))
        for row in page.rows:
            if (scenario_type is None or row.scenario.scenario_type == scenario_type) and matches(
                row.scenario.metadata, rules
            ):
                found.append(row)
                if len(found) > amt:
                    break
        if page.after is None:
            break
        after = page.after
    has_next = len(found) > amt
    shown = found[:amt]
    return ScenarioList(
        has_next=has_next,
        next_cursor=_encode_cursor(tenant, reco_type, shown[-1].position) if has_next else None,
        scenarios=[
            StoredScenario(name=row.name, reco_type=cast(RecoType, row.reco_type), scenario=row.scenario.document())
            for row in shown
        ],
    )


# ---------------------------------------------------------------------- defaults


def get_default(tenant: str, reco_type: str, repo: ScenarioRepository) -> DefaultScenario:
    _check_reco_type(reco_type)
    name = repo.default_name(tenant, reco_type)
    if name is None:
        raise ScenarioNotFound(f"no default scenario for reco type '{reco_type}'", data={"reco_type": reco_type})
    return DefaultScenario(name=name)


def set_default(tenant: str, reco_type: str, name: str, repo: ScenarioRepository) -> DefaultScenario:
    """Make an existing scenario the reco type's default (a no-op if it already is).

    Refused if the flow can reach a scenario that does not exist: every request would hit it.
    """
    _check_reco_type(reco_type)
    node = graph.default_node(reco_type)

    def plan(snapshot: ScenarioSnapshot) -> _Change | None:
        if (reco_type, name) not in snapshot.scenarios:
            raise _not_found(reco_type, name)
        edges = snapshot.edges()
        edges[node] = [graph.scenario_node(reco_type, name)]
        cycle = graph.cycle_through(edges, node)
        if cycle is not None:
            raise _loop(f"default scenario '{name}' of {reco_type}", cycle)
        missing = graph.missing_scenarios(snapshot, edges, node)
        if missing:
            raise WrongDataType(
                f"default scenario '{name}' of {reco_type} leads to missing {graph.describe_all(missing)}: "
                "create them (or point the flow elsewhere) first, since a default applies to every request",
                data={"reco_type": reco_type, "scenario": name, "missing": [graph.describe(m) for m in missing]},
            )
        return None if snapshot.defaults.get(reco_type) == name else _Change(set_default=(reco_type, name))

    _write(tenant, repo, plan)
    return DefaultScenario(name=name)


def unset_default(tenant: str, reco_type: str, repo: ScenarioRepository) -> None:
    _check_reco_type(reco_type)

    def plan(snapshot: ScenarioSnapshot) -> _Change:
        if reco_type not in snapshot.defaults:
            raise ScenarioNotFound(f"no default scenario for reco type '{reco_type}'", data={"reco_type": reco_type})
        return _Change(unset_default=reco_type)

    _write(tenant, repo, plan)
