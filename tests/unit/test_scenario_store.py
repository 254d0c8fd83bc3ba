"""The scenario store on an in-memory DynamoDB (moto), and the item property kinds the catalog records.

Moto is slow with transactions, so each test packs several checks around a few commits.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from reco.errors import WrongDataType, WrongOpUse, WrongParameter
from reco.records import IngestResult, Item, User
from reco.scenarios.graph import GraphChanged, ScenarioSnapshot
from reco.scenarios.service import list_scenarios, put_scenario
from reco.schemas.scenarios import Scenario
from reco.stores.catalog import CatalogStore, PropertyKind, catalog_store, property_kind, stored_kind
from reco.stores.scenarios import ScenarioStore, scenario_store

P, G = "profile_to_items", "generic_input_to_items"
pytestmark = pytest.mark.store_contract  # against moto and the local store

NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
# The reference's request and response examples (scenarios-api.txt), by the names they are stored under.
REFERENCE = {
    (P, "case"): {
        "scenario_type": "case",
        "case": {
            "amt": 10,
            "filters": [
                {"property_name": "tags", "op": "eq", "value": "pi"},
                {"property_name": "price", "op": "gt", "value": 3.14},
            ],
            "reranking": [{"property_name": "director", "op": "diversity", "weight": 0.8}],
            "exclude_rated_items": False,
            "exclude_items_with_interaction_types": ["purchase", "add_to_cart"],
            "algorithms": "algo101|algo102",
            "candidates_preselection": {"method": "knn", "params": {"algorithms": ["algo103"]}},
        },
    },
    (P, "my_scenar101"): {
        "scenario_type": "case",
        "case": {
            "amt": 6,
            "filters": [{"property_name": "year", "op": "eq", "value": 1988}],
            "reranking": [{"property_name": "genres", "op": "diversity", "weight": 0.25}],
            "exclude_rated_items": False,
            "algorithms": "algo105|algo106",
            "candidates_preselection": {"method": "knn", "params": {"algorithms": ["algo103"]}},
        },
    },
    (P, "nested"): {
        "scenario_type": "case",
        "case": {
            "filters": [
                {
                    "property_name": "category",
                    "op": "eq",
                    "value": {"type": "user_property", "value": "selected_category"},
                }
            ]
        },
    },
    (P, "user_function"): {
        "scenario_type": "condition",
        "condition": {
            "condition_type": "user_function",
            "if": {"function_name": "n_ratings", "op": "gte", "value": 21},
            "then": "scenario1",
            "else": "scenario2",
        },
    },
    (P, "item_property"): {
        "scenario_type": "condition",
        "condition": {
            "condition_type": "item_property",
            "if": {"property_name": "prop_int", "op": "lt", "value": 21},
            "then": "scenario1",
            "else": "scenario2",
        },
    },
    (P, "runtime_param"): {
        "scenario_type": "condition",
        "condition": {
            "condition_type": "runtime_param",
            "if": {"param_name": "user_id", "op": "notempty"},
            "then": "scenario1",
            "else": "scenario2",
        },
        "metadata": {"configs": {"level": 5, "ratio": 0.1}, "mode": "read"},
    },
    (P, "ab"): {
        "scenario_type": "ab_test",
        "ab_test": {"id": "ab-test-id12345", "scenario_a": "scenar1", "scenario_b": "scenar2"},
    },
    (P, "alias"): {"scenario_type": "alias", "alias": {"scenario_name": "my_favorite_scenario"}},
    (G, "generic_home_page"): {"scenario_type": "case", "case": {"reco_type": P, "scenario": "home_page"}},
}


def store() -> ScenarioStore:
    return ScenarioStore(boto3.resource("dynamodb").Table("ConfigTable"), clock=lambda: NOW)


def rows(table: str, pk: str) -> list[dict[str, Any]]:
    return [row for row in boto3.resource("dynamodb").Table(table).scan()["Items"] if row["pk"] == pk]


def test_reference_documents_round_trip_and_page_in_key_order(aws: dict[str, str]) -> None:
    scenarios = store()
    for version, ((reco_type, name), document) in enumerate(REFERENCE.items()):
        scenarios.commit("acme", version, put=(reco_type, name, Scenario.model_validate(document)))
    for (reco_type, name), document in REFERENCE.items():
        stored = scenarios.get("acme", reco_type, name)
        assert stored is not None and stored.document() == document
        assert json.loads(json.dumps(stored.document())) == document  # 3.14, 0.8, nesting: exactly as sent
    snapshot = scenarios.snapshot("acme")
    assert snapshot.version == len(REFERENCE) and snapshot.defaults == {}
    assert {key: s.document() for key, s in snapshot.scenarios.items()} == REFERENCE
    assert scenarios.get("other", P, "case") is None and scenarios.snapshot("other").scenarios == {}

    (row,) = [row for row in rows("ConfigTable", "acme#scenario") if row["sk"] == "profile_to_items#ab"]
    assert row == {
        "pk": "acme#scenario",
        "sk": "profile_to_items#ab",
        "reco_type": P,
        "name": "ab",
        "scenario_type": "ab_test",
        "document": json.dumps(REFERENCE[(P, "ab")], separators=(",", ":")),
        "updated_at": "2026-05-01T12:00:00.000Z",
    }
    (head,) = rows("ConfigTable", "acme#scenario-graph")
    assert (head["sk"], head["version"]) == ("head", len(REFERENCE))

    first = scenarios.page("acme", None, None, 3)
    assert [r.name for r in first.rows] == ["generic_home_page", "ab", "alias"] and first.after is not None
    rest = scenarios.page("acme", None, first.after, 100)
    assert [r.name for r in rest.rows] == [
        "case",
        "item_property",
        "my_scenar101",
        "nested",
        "runtime_param",
        "user_function",
    ]
    assert rest.after is None
    only_p = scenarios.page("acme", P, None, 100)
    assert len(only_p.rows) == 8 and {r.reco_type for r in only_p.rows} == {P}
    with pytest.raises(WrongParameter):
        scenarios.page("acme", P, first.rows[0].position, 3)  # a generic position in the profile list

    listing = list_scenarios("acme", scenarios, amt=2, reco_type=P, metadata_filters=["configs.level:eq:5"])
    assert [s.name for s in listing.scenarios] == ["runtime_param"] and not listing.has_next
    page_one = list_scenarios("acme", scenarios, amt=4)
    page_two = list_scenarios("acme", scenarios, amt=4, cursor=page_one.next_cursor)
    page_three = list_scenarios("acme", scenarios, amt=4, cursor=page_two.next_cursor)
    assert [len(p.scenarios) for p in (page_one, page_two, page_three)] == [4, 4, 1]
    assert [p.has_next for p in (page_one, page_two, page_three)] == [True, True, False]


def test_defaults_deletes_and_a_lost_race(aws: dict[str, str]) -> None:
    scenarios = store()
    home = Scenario.model_validate({"scenario_type": "case", "case": {"amt": 10}})
    scenarios.commit("acme", 0, put=(P, "home", home))
    with pytest.raises(GraphChanged):
        scenarios.commit("acme", 0, put=(P, "other", home))  # checked against a graph that is gone
    scenarios.commit("acme", 1, set_default=(P, "home"))
    with pytest.raises(GraphChanged):
        scenarios.commit("acme", 1, unset_default=P)  # the second writer at version 1 loses
    assert scenarios.default_name("acme", P) == "home" and scenarios.default_name("acme", G) is None
    snapshot = scenarios.snapshot("acme")
    assert (snapshot.version, snapshot.defaults, list(snapshot.scenarios)) == (2, {P: "home"}, [(P, "home")])
    assert scenarios.get("acme", P, "other") is None  # the lost write left nothing behind
    scenarios.commit("acme", 2, unset_default=P, delete=(P, "home"))
    assert scenarios.snapshot("acme") == ScenarioSnapshot(3, {}, {})
    assert rows("ConfigTable", "acme#scenario") == [] and rows("ConfigTable", "acme#scenario-default") == []


def test_scenario_writes_see_the_catalog_property_kinds(aws: dict[str, str]) -> None:
    catalog = catalog_store()
    catalog.put_items("acme", [Item("i1", {"price": 9.99, "year": 1988, "on_sale": True})])
    scenario = Scenario.model_validate(
        {"scenario_type": "case", "case": {"filters": [{"property_name": "year", "op": "eq", "value": 1988}]}}
    )
    assert put_scenario("acme", P, "s", scenario, scenario_store(), catalog).warnings == []
    decimal = Scenario.model_validate(  # eq on decimal numbers compares exactly, as `in` does
        {"scenario_type": "case", "case": {"filters": [{"property_name": "price", "op": "eq", "value": 9.99}]}}
    )
    assert put_scenario("acme", P, "s", decimal, scenario_store(), catalog).warnings == []
    unknown = Scenario.model_validate(
        {"scenario_type": "case", "case": {"reranking": [{"property_name": "test", "op": "diversity"}]}}
    )
    warnings = put_scenario("acme", P, "s2", unknown, scenario_store(), catalog).warnings
    assert warnings == ["unknown item property 'test': no catalog item has it yet"]
    refused: list[tuple[dict[str, Any], type[Exception]]] = [
        ({"property_name": "on_sale", "op": "lt", "value": 1}, WrongOpUse),
        ({"property_name": "year", "op": "eq", "value": "1988"}, WrongDataType),
    ]
    for rule, error in refused:
        with pytest.raises(error):
            filtered = Scenario.model_validate({"scenario_type": "case", "case": {"filters": [rule]}})
            put_scenario("acme", P, "s3", filtered, scenario_store(), catalog)
    assert scenario_store().get("acme", P, "s3") is None


# ---------------------------------------------------------------------- item property kinds


def test_put_items_records_each_property_kind_once(aws: dict[str, str]) -> None:
    table = boto3.resource("dynamodb").Table("CatalogTable")
    catalog = CatalogStore(table, clock=lambda: NOW)
    writes: list[int] = []
    table.meta.client.meta.events.register(
        "before-parameter-build.dynamodb.BatchWriteItem",
        lambda params, **_: writes.append(len(params["RequestItems"]["CatalogTable"])),
    )
    items = [
        Item("a", {"price": 12, "title": "A", "tags": ["x"], "on_sale": True, "mixed": 1}),
        Item("b", {"price": 9.5, "title": "B", "tags": [], "mixed": "one"}),
        Item("c", {"price": 12.0, "color": "red"}),
    ]
    assert catalog.put_items("acme", items) == IngestResult(accepted=3)
    assert writes == [3, 8]  # the items, then one batch of kind rows
    assert {row["sk"] for row in rows("CatalogTable", "acme#item-property")} == {
        *("color#string", "mixed#int", "mixed#string", "on_sale#bool"),
        *("price#float", "price#int", "tags#strings", "title#string"),
    }
    assert catalog.property_kinds("acme") == {
        "price": PropertyKind("number", is_float=True),
        "title": PropertyKind("string"),
        "tags": PropertyKind("strings"),
        "on_sale": PropertyKind("bool"),
        "mixed": PropertyKind(None),
        "color": PropertyKind("string"),
    }
    catalog.put_items("acme", [Item("d", {"price": 3, "title": "D", "size": 40})])
    assert writes[2:] == [1, 1]  # only the new (size, int) row
    assert catalog.property_kinds("acme")["size"] == PropertyKind("number")
    assert catalog.property_kinds("other") == {}
    assert catalog.put_users("acme", [User("u", {"age": 3})]).accepted == 1
    assert "age" not in catalog.property_kinds("acme")
    assert [i.id for i in catalog.iter_items("acme")] == ["a", "b", "c", "d"]  # kind rows are not items


def test_a_kind_row_that_cannot_be_written_never_fails_the_item_write() -> None:
    table = boto3.resource("dynamodb", region_name="us-east-1").Table("CatalogTable")
    catalog = CatalogStore(table, sleep=lambda _: None, clock=lambda: NOW)
    with Stubber(table.meta.client) as stub:
        stub.add_response("batch_write_item", {})
        stub.add_client_error("batch_write_item", "ProvisionedThroughputExceededException", http_status_code=400)
        assert catalog.put_items("t", [Item("a", {"p": 1})]) == IngestResult(accepted=1)
        stub.add_response("batch_write_item", {})
        stub.add_response("batch_write_item", {})  # not remembered as written: tried again with the next batch
        assert catalog.put_items("t", [Item("b", {"p": 2})]) == IngestResult(accepted=1)
        stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (True, "bool"),
        (3, "int"),
        (3.0, "int"),
        (3.5, "float"),
        ("x", "string"),
        (["x"], "strings"),
        ({"a": 1}, "object"),
    ],
)
def test_stored_kinds(value: Any, kind: str) -> None:
    assert stored_kind(value) == kind


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ({"int"}, PropertyKind("number")),
        ({"int", "float"}, PropertyKind("number", is_float=True)),
        ({"bool"}, PropertyKind("bool")),
        ({"string", "strings"}, PropertyKind("strings")),
        ({"bool", "int"}, PropertyKind(None)),
        ({"object"}, PropertyKind(None)),
    ],
)
def test_property_kinds_in_the_filter_vocabulary(stored: set[str], expected: PropertyKind) -> None:
    assert property_kind(stored) == expected
