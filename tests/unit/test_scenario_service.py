"""Scenario rules (loops, immutable A/B tests, routing, filters, references) on an in-memory repository."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from reco.errors import (
    Conflict,
    ScenarioInUse,
    ScenarioNotFound,
    WrongDataType,
    WrongOpUse,
    WrongParameter,
)
from reco.scenarios import service
from reco.scenarios.graph import GraphChanged, ScenarioPage, ScenarioRow, ScenarioSnapshot
from reco.schemas.scenarios import Scenario
from reco.stores.catalog import PropertyKind

T, P, G = "acme", "profile_to_items", "generic_input_to_items"


class FakeRepository:
    """The store's contract in memory: one versioned graph per tenant, commits refused at a stale version."""

    def __init__(self) -> None:
        self.versions: dict[str, int] = {}
        self.scenarios: dict[tuple[str, str, str], Scenario] = {}  # (tenant, reco_type, name)
        self.defaults: dict[tuple[str, str], str] = {}  # (tenant, reco_type)
        self.before_commit: Callable[[], object] | None = None  # another writer, just before ours
        self.snapshots = 0
        self.commits = 0

    def get(self, tenant: str, reco_type: str, name: str) -> Scenario | None:
        return self.scenarios.get((tenant, reco_type, name))

    def default_name(self, tenant: str, reco_type: str) -> str | None:
        return self.defaults.get((tenant, reco_type))

    def snapshot(self, tenant: str) -> ScenarioSnapshot:
        self.snapshots += 1
        return ScenarioSnapshot(
            self.versions.get(tenant, 0),
            {(rt, name): s for (t, rt, name), s in self.scenarios.items() if t == tenant},
            {rt: name for (t, rt), name in self.defaults.items() if t == tenant},
        )

    def page(self, tenant: str, reco_type: str | None, after: str | None, limit: int) -> ScenarioPage:
        rows = sorted(
            (
                ScenarioRow(f"{rt}#{name}", rt, name, s)
                for (t, rt, name), s in self.scenarios.items()
                if t == tenant and reco_type in (None, rt)
            ),
            key=lambda row: row.position,
        )
        rows = [row for row in rows if after is None or row.position > after][:limit]
        return ScenarioPage(rows, rows[-1].position if len(rows) == limit else None)

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
        if self.before_commit is not None:
            interfere, self.before_commit = self.before_commit, None
            interfere()
        if self.versions.get(tenant, 0) != expected_version:
            raise GraphChanged("moved")
        self.commits += 1
        self.versions[tenant] = expected_version + 1
        if put is not None:
            self.scenarios[(tenant, put[0], put[1])] = copy.deepcopy(put[2])
        if delete is not None:
            del self.scenarios[(tenant, *delete)]
        if set_default is not None:
            self.defaults[(tenant, set_default[0])] = set_default[1]
        if unset_default is not None:
            del self.defaults[(tenant, unset_default)]


class FakeContexts:
    """Contexts as the scenario service sees them: who names which scenario."""

    def __init__(self, **users: tuple[str, str]) -> None:
        self.users = users  # "context 3" → (reco_type, name)

    def users_of(self, tenant: str, reco_type: str, name: str) -> list[str]:
        return [user for user, named in self.users.items() if named == (reco_type, name)]


NO_CONTEXTS = FakeContexts()


class FakeCatalog:
    def __init__(self, **kinds: PropertyKind) -> None:
        self.kinds = kinds
        self.reads = 0

    def property_kinds(self, tenant: str) -> dict[str, PropertyKind]:
        self.reads += 1
        return self.kinds


CATALOG = FakeCatalog(
    year=PropertyKind("number"),
    price=PropertyKind("number", is_float=True),
    in_stock=PropertyKind("bool"),
    genres=PropertyKind("strings"),
    category=PropertyKind("string"),
)


def alias(target: str) -> Scenario:
    return Scenario.model_validate({"scenario_type": "alias", "alias": {"scenario_name": target}})


def condition(then: str, else_: str) -> Scenario:
    test = {"condition_type": "user_function", "if": {"function_name": "n_ratings", "op": "gte", "value": 3}}
    return Scenario.model_validate({"scenario_type": "condition", "condition": {**test, "then": then, "else": else_}})


def ab(a: str, b: str) -> Scenario:
    return Scenario.model_validate(
        {"scenario_type": "ab_test", "ab_test": {"id": "t1", "scenario_a": a, "scenario_b": b}}
    )


def rule(property_name: str, op: str, value: Any = None) -> dict[str, Any]:
    return {"property_name": property_name, "op": op} | ({} if value is None else {"value": value})


def case(**fields: Any) -> Scenario:
    return Scenario.model_validate({"scenario_type": "case", "case": fields})


def put(repo: FakeRepository, name: str, scenario: Scenario, reco_type: str = P) -> list[str]:
    return service.put_scenario(T, reco_type, name, scenario, repo, CATALOG).warnings


@pytest.fixture
def repo() -> FakeRepository:
    return FakeRepository()


# ---------------------------------------------------------------------- writes and reads


def test_a_scenario_reads_back_as_sent(repo: FakeRepository) -> None:
    body: dict[str, Any] = {
        "scenario_type": "case",
        "metadata": {"team": "web", "level": 2},
        "case": {"amt": 6, "filters": [rule("year", "EQ", 1988)], "algorithms": "a|b"},
    }
    assert put(repo, "s1", Scenario.model_validate(body)) == []
    stored = service.get_scenario(T, P, "s1", repo)
    assert (stored.name, stored.reco_type, stored.warnings) == ("s1", P, None)
    assert stored.scenario == {**body, "case": {**body["case"], "filters": [rule("year", "eq", 1988)]}}
    with pytest.raises(ScenarioNotFound, match=r"scenario 's2' \(profile_to_items\) not found"):
        service.get_scenario(T, P, "s2", repo)
    with pytest.raises(ScenarioNotFound):
        service.get_scenario("other-tenant", P, "s1", repo)


def test_references_to_missing_scenarios_are_accepted_with_a_warning(repo: FakeRepository) -> None:
    missing = "scenario '{}' (profile_to_items) does not exist yet: requests through '{}' fail with SCENARIO_NOT_FOUND"
    assert put(repo, "x", ab("scenar1", "scenar2")) == [
        f"{missing.format('scenar1', 'x')} until it is created",
        f"{missing.format('scenar2', 'x')} until it is created",
    ]
    assert put(repo, "g", case(reco_type=P, scenario="home"), reco_type=G) == [
        f"{missing.format('home', 'g')} until it is created"
    ]
    put(repo, "scenar1", case())
    assert put(repo, "y", alias("scenar1")) == []


def test_an_ab_test_cannot_be_replaced_but_can_be_created_and_deleted(repo: FakeRepository) -> None:
    put(repo, "exp", ab("a", "b"))
    with pytest.raises(WrongDataType, match="ab_test scenarios cannot be replaced: create a new one"):
        put(repo, "exp", case(amt=3))
    assert repo.get(T, P, "exp") == ab("a", "b")
    put(repo, "c", case())
    put(repo, "c", ab("a", "b"))  # a case may become an A/B test
    service.delete_scenario(T, P, "exp", repo, NO_CONTEXTS)
    assert repo.get(T, P, "exp") is None


@pytest.mark.parametrize(
    ("setup", "closing", "loop"),
    [
        ([], ("a", alias("a")), "a -> a"),
        ([("a", alias("b"))], ("b", alias("a")), "b -> a -> b"),
        ([("a", alias("b")), ("b", condition("c", "z"))], ("c", ab("y", "a")), "c -> a -> b -> c"),
        ([("a", ab("b", "q"))], ("b", condition("q", "a")), "b -> a -> b"),
    ],
)
def test_a_write_that_closes_a_loop_is_refused(
    repo: FakeRepository, setup: list[tuple[str, Scenario]], closing: tuple[str, Scenario], loop: str
) -> None:
    for name, scenario in setup:
        put(repo, name, scenario)
    before = dict(repo.scenarios)
    with pytest.raises(WrongDataType, match="would create a loop") as refused:
        put(repo, *closing)
    assert f"loop: {loop};" in refused.value.message
    assert repo.scenarios == before


def test_a_generic_case_routes_to_another_reco_type_and_must_name_it(repo: FakeRepository) -> None:
    assert put(repo, "g", case(reco_type=P), reco_type=G) == []  # that reco type's default: no scenario to miss
    with pytest.raises(WrongDataType, match=r"set case\.reco_type"):
        put(repo, "g3", case(amt=5), reco_type=G)
    with pytest.raises(WrongDataType, match="only generic_input_to_items cases route to another reco type"):
        put(repo, "p", case(reco_type="item_to_items"))
    with pytest.raises(WrongDataType, match="only generic_input_to_items cases route"):
        put(repo, "p", case(scenario="home"))
    with pytest.raises(WrongParameter, match="unknown reco_type 'profile'"):
        put(repo, "s", case(), reco_type="profile")


# ---------------------------------------------------------------------- filters and item properties


def test_unknown_item_properties_are_warnings(repo: FakeRepository) -> None:
    options = {"filters": [rule("test", "notempty")]}
    scenario = case(
        filters=[rule("test", "eq", 1), rule("year", "gte", 1990)],
        reranking=[{"property_name": "director", "op": "diversity", "options": options}],
        exclude_props_of_items_with_interaction_types=[{"property_name": "brand", "interaction_types": ["purchase"]}],
        case_sequence={"sequence": [{"filters": [rule("color", "eq", "red")]}]},
    )
    assert put(repo, "s", scenario) == [
        f"unknown item property '{name}': no catalog item has it yet" for name in ["test", "color", "director", "brand"]
    ]


@pytest.mark.parametrize(
    ("rule", "error"),
    [
        (rule("in_stock", "gt", "a"), WrongOpUse),
        (rule("year", "gte", "1990"), WrongDataType),
        (rule("in_stock", "eq", 1), WrongDataType),
    ],
)
def test_filters_that_cannot_fit_their_property_are_refused(
    repo: FakeRepository, rule: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        put(repo, "s", case(filters=[rule]))
    with pytest.raises(error):  # wherever the filter sits
        put(repo, "s", case(case_sequence={"sequence": [{"amt": 2, "filters": [rule]}]}))
    assert repo.commits == 0


def test_filters_that_fit_or_read_a_user_property_pass(repo: FakeRepository) -> None:
    budget = {"type": "user_property", "value": "budget"}  # its type is only known at request time
    filters = [
        rule("price", "gt", 3.14),
        rule("price", "eq", 3.5),  # decimals compare exactly, as `in` does
        rule("year", "eq", 1988),
        rule("genres", "in", ["Drama"]),
        rule("price", "eq", budget),
    ]
    assert put(repo, "s", case(filters=filters)) == []


def test_the_catalog_is_read_only_for_scenarios_that_name_properties(repo: FakeRepository) -> None:
    catalog = FakeCatalog()
    service.put_scenario(T, P, "a", alias("b"), repo, catalog)
    service.put_scenario(T, P, "c", case(amt=3), repo, catalog)
    assert catalog.reads == 0
    item_condition = {"condition_type": "item_property", "if": {"property_name": "stock", "op": "gt", "value": 0}}
    body = {"scenario_type": "condition", "condition": {**item_condition, "then": "a", "else": "c"}}
    warnings = service.put_scenario(T, P, "d", Scenario.model_validate(body), repo, catalog).warnings
    assert (catalog.reads, warnings) == (1, ["unknown item property 'stock': no catalog item has it yet"])


# ---------------------------------------------------------------------- deletes and defaults


def test_a_referenced_scenario_cannot_be_deleted(repo: FakeRepository) -> None:
    put(repo, "leaf", case())
    put(repo, "a", alias("leaf"))
    put(repo, "g", case(reco_type=P, scenario="leaf"), reco_type=G)
    with pytest.raises(ScenarioInUse, match=r"used by 'g' \(generic_input_to_items\), 'a' \(profile_to_items\)"):
        service.delete_scenario(T, P, "leaf", repo, NO_CONTEXTS)
    service.delete_scenario(T, P, "a", repo, NO_CONTEXTS)
    service.delete_scenario(T, G, "g", repo, NO_CONTEXTS)
    service.set_default(T, P, "leaf", repo)
    with pytest.raises(ScenarioInUse) as in_use:
        service.delete_scenario(T, P, "leaf", repo, NO_CONTEXTS)
    assert in_use.value.data["used_by"] == ["default of profile_to_items"]
    service.unset_default(T, P, repo)
    service.delete_scenario(T, P, "leaf", repo, NO_CONTEXTS)
    with pytest.raises(ScenarioNotFound):
        service.delete_scenario(T, P, "leaf", repo, NO_CONTEXTS)


def test_a_scenario_a_context_names_is_in_use(repo: FakeRepository) -> None:
    put(repo, "leaf", case())
    put(repo, "a", alias("leaf"))
    contexts = FakeContexts(**{"context 3": (P, "leaf"), "context 4": ("item_to_items", "leaf")})
    with pytest.raises(ScenarioInUse, match=r"used by 'a' \(profile_to_items\), context 3: point them") as in_use:
        service.delete_scenario(T, P, "leaf", repo, contexts)
    assert in_use.value.data["used_by"] == ["'a' (profile_to_items)", "context 3"]
    service.delete_scenario(T, P, "a", repo, contexts)
    with pytest.raises(ScenarioInUse, match="used by context 3: "):
        service.delete_scenario(T, P, "leaf", repo, contexts)
    service.delete_scenario(T, P, "leaf", repo, FakeContexts(**{"context 4": ("item_to_items", "leaf")}))
    assert repo.get(T, P, "leaf") is None


def test_a_default_is_only_set_on_a_flow_whose_scenarios_all_exist(repo: FakeRepository) -> None:
    put(repo, "leaf", case())
    put(repo, "gate", condition("leaf", "later"))
    put(repo, "front", alias("gate"))
    with pytest.raises(WrongDataType, match=r"'front' of profile_to_items leads to missing 'later'") as refused:
        service.set_default(T, P, "front", repo)
    assert refused.value.data == {"reco_type": P, "scenario": "front", "missing": ["'later' (profile_to_items)"]}
    assert repo.default_name(T, P) is None
    put(repo, "later", case(amt=2))
    service.set_default(T, P, "front", repo)
    # Re-pointing the flow afterwards is a warning: requests skip the default until the target exists.
    assert put(repo, "later", alias("elsewhere")) == [
        "scenario 'elsewhere' (profile_to_items) does not exist yet: requests through 'later' fail with "
        "SCENARIO_NOT_FOUND until it is created",
        "the default of profile_to_items leads to missing 'elsewhere' (profile_to_items): its requests run "
        "without the default (with a warning) until they exist",
    ]
    with pytest.raises(WrongDataType, match="leads to missing 'elsewhere'"):
        service.set_default(T, P, "front", repo)  # setting it again is checked again
    # A generic default routing to another reco type's missing scenario is refused as well.
    put(repo, "g", case(reco_type=P, scenario="absent"), reco_type=G)
    with pytest.raises(WrongDataType, match=r"leads to missing 'absent' \(profile_to_items\)"):
        service.set_default(T, G, "g", repo)
    put(repo, "g", case(reco_type="item_to_items"), reco_type=G)  # to a default that is not set: fine
    service.set_default(T, G, "g", repo)


def test_defaults_are_set_read_and_unset(repo: FakeRepository) -> None:
    with pytest.raises(ScenarioNotFound, match="no default scenario for reco type 'profile_to_items'"):
        service.get_default(T, P, repo)
    with pytest.raises(ScenarioNotFound, match="'missing'"):
        service.set_default(T, P, "missing", repo)
    with pytest.raises(ScenarioNotFound):
        service.unset_default(T, P, repo)
    put(repo, "home", case(amt=10))
    assert service.set_default(T, P, "home", repo).name == "home"
    commits = repo.commits
    service.set_default(T, P, "home", repo)
    assert repo.commits == commits  # already the default: nothing written
    assert service.get_default(T, P, repo).name == "home"
    with pytest.raises(ScenarioNotFound):
        service.get_default(T, "item_to_items", repo)
    service.unset_default(T, P, repo)
    with pytest.raises(ScenarioNotFound):
        service.get_default(T, P, repo)


# ---------------------------------------------------------------------- concurrent writers


def test_a_write_that_lost_the_race_is_checked_again_on_the_new_graph(repo: FakeRepository) -> None:
    """Each write alone is fine; together they would loop. The second to commit sees the first and is refused."""
    put(repo, "b", case())
    repo.before_commit = lambda: put(repo, "b", alias("a"))
    with pytest.raises(WrongDataType, match="a -> b -> a"):
        put(repo, "a", alias("b"))
    assert repo.get(T, P, "b") == alias("a") and repo.get(T, P, "a") is None


def test_a_write_retries_after_an_unrelated_concurrent_write(repo: FakeRepository) -> None:
    repo.before_commit = lambda: put(repo, "other", case())
    assert put(repo, "a", alias("other")) == []  # the retry sees 'other': no warning any more
    assert repo.get(T, P, "a") == alias("other") and repo.snapshots == 3


def test_a_write_that_keeps_losing_ends_in_a_conflict(repo: FakeRepository, monkeypatch: pytest.MonkeyPatch) -> None:
    def always_moved(*_: Any, **__: Any) -> None:
        raise GraphChanged("moved")

    monkeypatch.setattr(repo, "commit", always_moved)
    with pytest.raises(Conflict, match="scenarios were changed concurrently; retry"):
        put(repo, "a", case())
    assert repo.snapshots == service.MAX_WRITE_ATTEMPTS


# ---------------------------------------------------------------------- listing


def names(listing: Any) -> list[str]:
    return [s.name for s in listing.scenarios]


def test_pages_follow_name_order_and_has_next_is_exact(repo: FakeRepository) -> None:
    for name in ["e", "a", "c", "b", "d"]:
        put(repo, name, case())
    put(repo, "g", case(reco_type=P), reco_type=G)
    first = service.list_scenarios(T, repo, amt=3, reco_type=P)
    assert (names(first), first.has_next) == (["a", "b", "c"], True)
    second = service.list_scenarios(T, repo, amt=2, reco_type=P, cursor=first.next_cursor)
    assert (names(second), second.has_next, second.next_cursor) == (["d", "e"], False, None)
    everything = service.list_scenarios(T, repo)
    assert names(everything) == ["g", "a", "b", "c", "d", "e"] and not everything.has_next
    assert everything.scenarios[0].reco_type == G


def test_filters_apply_while_reading_so_pages_stay_full(repo: FakeRepository, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "FILTERED_READ", 2)  # force several reads per page
    for n in range(10):
        metadata = {"configs": {"level": n % 3}, "mode": "read" if n % 2 else "write"}
        put(repo, f"s{n}", Scenario.model_validate({"scenario_type": "case", "case": {}, "metadata": metadata}))
    put(repo, "x", alias("s1"))
    wanted = ["configs.level:eq:1", "mode:EQ:read"]  # n in (1, 7)
    first = service.list_scenarios(T, repo, amt=1, metadata_filters=wanted)
    assert (names(first), first.has_next) == (["s1"], True)
    second = service.list_scenarios(T, repo, amt=1, metadata_filters=wanted, cursor=first.next_cursor)
    assert (names(second), second.has_next) == (["s7"], False)
    assert names(service.list_scenarios(T, repo, scenario_type="alias")) == ["x"]
    assert names(service.list_scenarios(T, repo, metadata_filters=["configs.level:gte:2"])) == ["s2", "s5", "s8"]


def test_a_cursor_only_resumes_its_own_list(repo: FakeRepository) -> None:
    for name in "abc":
        put(repo, name, case())
    cursor = service.list_scenarios(T, repo, amt=1, reco_type=P).next_cursor
    assert cursor is not None
    with pytest.raises(WrongParameter, match="another list"):
        service.list_scenarios(T, repo, cursor=cursor)
    with pytest.raises(WrongParameter, match="another list"):
        service.list_scenarios("other-tenant", repo, cursor=cursor, reco_type=P)
    with pytest.raises(WrongParameter, match="malformed"):
        service.list_scenarios(T, repo, cursor="not-a-cursor!")


@pytest.mark.parametrize(
    "params", [{"amt": 0}, {"amt": 513}, {"scenario_type": "flow"}, {"metadata_filters": ["x:eq"]}]
)
def test_bad_list_parameters_are_wrong_parameters(repo: FakeRepository, params: dict[str, Any]) -> None:
    with pytest.raises(WrongParameter):
        service.list_scenarios(T, repo, **params)
