"""The scenario graph: which scenario (or reco type default) a request can be routed to from which.

Requests follow a flow from node to node until a ``case``; a cycle would make them loop forever, so
every write is checked against the whole stored graph before it is committed. Nodes are
``("scenario", reco_type, name)`` and ``("default", reco_type, "")``: a generic case naming only a
reco type is routed to that reco type's default, and a default node leads to its scenario.

The stored graph is versioned as a whole (:class:`ScenarioSnapshot`); a write commits against the
version it was checked on, and :class:`GraphChanged` says another writer got there first. These
records live here, not in the service, so the store can import them without the filter engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from reco.schemas.scenarios import Scenario

NodeKind = Literal["scenario", "default"]


class Node(NamedTuple):
    """A place a request can be routed to; a plain tuple, so it sorts and compares as one."""

    kind: NodeKind
    reco_type: str
    name: str


Edges = Mapping[Node, Sequence[Node]]


def scenario_node(reco_type: str, name: str) -> Node:
    return Node("scenario", reco_type, name)


def default_node(reco_type: str) -> Node:
    return Node("default", reco_type, "")


def scenario_edges(reco_type: str, scenario: Scenario) -> list[Node]:
    """Where ``scenario`` (of ``reco_type``) can route a request, in the order it names them."""
    targets = [
        default_node(target_type) if name is None else scenario_node(target_type, name)
        for target_type, name in scenario.targets(reco_type)
    ]
    return list(dict.fromkeys(targets))


@dataclass(frozen=True)
class ScenarioSnapshot:
    """A tenant's whole scenario graph as read at ``version`` (0: nothing was ever written)."""

    version: int
    scenarios: dict[tuple[str, str], Scenario] = field(default_factory=dict)  # (reco_type, name) → scenario
    defaults: dict[str, str] = field(default_factory=dict)  # reco_type → scenario name
    unreadable: frozenset[tuple[str, str]] = frozenset()  # stored rows that cannot be decoded (skipped)

    def edges(self) -> dict[Node, list[Node]]:
        graph: dict[Node, list[Node]] = {
            scenario_node(reco_type, name): scenario_edges(reco_type, scenario)
            for (reco_type, name), scenario in self.scenarios.items()
        }
        for reco_type, name in self.defaults.items():
            graph[default_node(reco_type)] = [scenario_node(reco_type, name)]
        return graph


@dataclass(frozen=True)
class ScenarioRow:
    """One stored scenario in a listing; ``position`` is opaque: where the listing resumes after it."""

    position: str
    reco_type: str
    name: str
    scenario: Scenario


@dataclass(frozen=True)
class ScenarioPage:
    """Rows in listing order, and the position to read on from (None: nothing after them)."""

    rows: list[ScenarioRow]
    after: str | None


class GraphChanged(Exception):
    """The stored graph moved past the version a write was checked against: re-read, re-check, retry."""


def find_cycle(edges: Edges, roots: Iterable[Node] | None = None) -> list[Node] | None:
    """One cycle reachable from ``roots`` (default: every node), as its nodes with the first repeated last.

    Iterative depth-first search (white / on the path / done), so long alias chains cannot hit
    Python's recursion limit. Nodes without an entry in ``edges`` have no way out.
    """
    done: set[Node] = set()
    for root in edges if roots is None else roots:
        if root in done:
            continue
        path: list[Node] = [root]
        on_path: dict[Node, int] = {root: 0}  # node → its index in path
        pending: list[Iterator[Node]] = [iter(edges.get(root, ()))]
        while pending:
            target = next(pending[-1], None)
            if target is None:
                node = path.pop()
                del on_path[node]
                done.add(node)
                pending.pop()
            elif target in on_path:
                return [*path[on_path[target] :], target]
            elif target not in done:
                on_path[target] = len(path)
                path.append(target)
                pending.append(iter(edges.get(target, ())))
    return None


def cycle_through(edges: Edges, node: Node) -> list[Node] | None:
    """A cycle that passes through ``node``, starting and ending at it (the loop a write would close)."""
    cycle = find_cycle(edges, [node])
    if cycle is None or node not in cycle:
        return None
    start = cycle.index(node)
    return [*cycle[start:-1], *cycle[:start], node]


def reachable(edges: Edges, root: Node) -> list[Node]:
    """Every node a request entering at ``root`` can be routed to, ``root`` first (every branch counts)."""
    seen: dict[Node, None] = {root: None}
    pending = [root]
    while pending:
        for target in edges.get(pending.pop(), ()):
            if target not in seen:
                seen[target] = None
                pending.append(target)
    return list(seen)


def missing_scenarios(snapshot: ScenarioSnapshot, edges: Edges, root: Node) -> list[Node]:
    """The scenarios reachable from ``root`` that ``snapshot`` does not hold, sorted.

    A default node without a default is not missing: that reco type just runs without one.
    """
    return sorted(
        node
        for node in reachable(edges, root)
        if node.kind == "scenario" and (node.reco_type, node.name) not in snapshot.scenarios
    )


def defaults_reaching_missing(snapshot: ScenarioSnapshot, edges: Edges, written: Node) -> dict[Node, list[Node]]:
    """Defaults whose flow passes ``written`` and reaches scenarios ``snapshot`` lacks (``written`` is being stored)."""
    found = {}
    for default in sorted(node for node in edges if node.kind == "default"):
        if written in reachable(edges, default):
            missing = [node for node in missing_scenarios(snapshot, edges, default) if node != written]
            if missing:
                found[default] = missing
    return found


def referrers(edges: Edges, node: Node) -> list[Node]:
    """The nodes that route to ``node`` (other than itself), sorted."""
    return sorted(source for source, targets in edges.items() if source != node and node in targets)


def describe(node: Node, *, qualified: bool = True) -> str:
    if node.kind == "default":
        return f"default of {node.reco_type}"
    return f"'{node.name}' ({node.reco_type})" if qualified else node.name


def describe_all(nodes: Iterable[Node]) -> str:
    return ", ".join(describe(node) for node in nodes)


def describe_path(nodes: Sequence[Node]) -> str:
    """``a -> b -> a``; scenario names carry their reco type only when the path spans several."""
    qualified = len({node.reco_type for node in nodes}) > 1
    return " -> ".join(describe(node, qualified=qualified) for node in nodes)
