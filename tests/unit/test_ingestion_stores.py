"""The catalog and event stores: retries (botocore Stubber), the key layout, the day index, training reads."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from reco.records import Event, IngestResult, Item, Rejection
from reco.stores.catalog import CatalogStore, catalog_store
from reco.stores.events import SHARDS, EventStore, event_store, shard_of

pytestmark = pytest.mark.store_contract  # against moto and the local store

NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
STAMP = "2026-05-01T12:00:00.000Z"


def table(name: str) -> Any:
    """A real boto3 Table; the Stubber answers in place of DynamoDB."""
    return boto3.resource("dynamodb", region_name="us-east-1").Table(name)


def recorded(client: Any, operation: str) -> list[dict[str, Any]]:
    """The parameters of every call of ``operation``, as the store passed them."""
    calls: list[dict[str, Any]] = []
    client.meta.events.register_first(
        f"before-parameter-build.dynamodb.{operation}", lambda params, **_: calls.append(copy.deepcopy(params))
    )
    return calls


def item_row(item_id: str, **properties: Any) -> dict[str, Any]:
    return {"pk": "t#item", "sk": item_id, "properties": properties, "updated_at": STAMP}


def put(row: dict[str, Any]) -> dict[str, Any]:
    return {"PutRequest": {"Item": row}}


def wire_put(item_id: str) -> dict[str, Any]:
    return {"PutRequest": {"Item": {"pk": {"S": "t#item"}, "sk": {"S": item_id}}}}


# ---------------------------------------------------------------------- BatchWriteItem retries


def test_unprocessed_items_are_retried_until_written() -> None:
    catalog = table("CatalogTable")
    sleeps: list[float] = []
    store = CatalogStore(catalog, sleep=sleeps.append, clock=lambda: NOW)
    with Stubber(catalog.meta.client) as stub:
        first = {"RequestItems": {"CatalogTable": [put(item_row("a", p=Decimal("1.5"))), put(item_row("b"))]}}
        stub.add_response("batch_write_item", {"UnprocessedItems": {"CatalogTable": [wire_put("b")]}}, first)
        stub.add_response("batch_write_item", {"UnprocessedItems": {}}, {"RequestItems": {"CatalogTable": ANY}})
        result = store.put_items("t", [Item("a", {"p": 1.5}), Item("b")])
        stub.assert_no_pending_responses()
    assert result == IngestResult(accepted=2)
    assert len(sleeps) == 1 and 0 <= sleeps[0] <= 1.0


def test_the_retry_sends_only_what_was_unprocessed() -> None:
    catalog = table("CatalogTable")
    calls = recorded(catalog.meta.client, "BatchWriteItem")
    store = CatalogStore(catalog, sleep=lambda _: None, clock=lambda: NOW)
    with Stubber(catalog.meta.client) as stub:
        stub.add_response("batch_write_item", {"UnprocessedItems": {"CatalogTable": [wire_put("b")]}})
        stub.add_response("batch_write_item", {})
        store.put_items("t", [Item("a"), Item("b"), Item("c")])
    assert [len(c["RequestItems"]["CatalogTable"]) for c in calls] == [3, 1]
    assert calls[1]["RequestItems"]["CatalogTable"][0]["PutRequest"]["Item"]["sk"] == "b"


def test_items_still_unprocessed_after_every_retry_are_rejected_not_lost() -> None:
    catalog = table("CatalogTable")
    store = CatalogStore(catalog, sleep=lambda _: None, clock=lambda: NOW, max_attempts=3)
    with Stubber(catalog.meta.client) as stub:
        for _ in range(3):
            stub.add_response("batch_write_item", {"UnprocessedItems": {"CatalogTable": [wire_put("b")]}})
        result = store.put_items("t", [Item("a"), Item("b")])
        stub.assert_no_pending_responses()
    assert result == IngestResult(
        accepted=1,
        rejected=[Rejection(1, "not stored: the catalog table is busy (unprocessed items); resend this row")],
    )


def test_a_throttled_batch_is_retried() -> None:
    catalog = table("CatalogTable")
    store = CatalogStore(catalog, sleep=lambda _: None, clock=lambda: NOW)
    with Stubber(catalog.meta.client) as stub:
        stub.add_client_error("batch_write_item", "ProvisionedThroughputExceededException", http_status_code=400)
        stub.add_response("batch_write_item", {})
        assert store.put_items("t", [Item("a")]) == IngestResult(accepted=1)
        stub.assert_no_pending_responses()


def test_a_row_dynamodb_refuses_is_found_and_the_others_are_stored() -> None:
    catalog = table("CatalogTable")
    store = CatalogStore(catalog, sleep=lambda _: None, clock=lambda: NOW)
    with Stubber(catalog.meta.client) as stub:
        stub.add_client_error("batch_write_item", "ValidationException", "Item size has exceeded the maximum")
        stub.add_response("put_item", {})
        stub.add_client_error("put_item", "ValidationException", "Item size has exceeded the maximum")
        result = store.put_items("t", [Item("a"), Item("huge")])
        stub.assert_no_pending_responses()
    assert result == IngestResult(accepted=1, rejected=[Rejection(1, "not stored: Item size has exceeded the maximum")])


def test_unprocessed_keys_of_a_batch_get_are_retried() -> None:
    catalog = table("CatalogTable")
    store = CatalogStore(catalog, sleep=lambda _: None)
    row_a = {"pk": {"S": "t#item"}, "sk": {"S": "a"}, "properties": {"M": {"n": {"N": "5"}}}}
    row_b = {"pk": {"S": "t#item"}, "sk": {"S": "b"}}
    with Stubber(catalog.meta.client) as stub:
        keys_b = {"Keys": [{"pk": {"S": "t#item"}, "sk": {"S": "b"}}]}
        stub.add_response(
            "batch_get_item",
            {"Responses": {"CatalogTable": [row_a]}, "UnprocessedKeys": {"CatalogTable": keys_b}},
            {"RequestItems": {"CatalogTable": {"Keys": [{"pk": "t#item", "sk": "a"}, {"pk": "t#item", "sk": "b"}]}}},
        )
        stub.add_response(
            "batch_get_item",
            {"Responses": {"CatalogTable": [row_b]}},
            {"RequestItems": {"CatalogTable": {"Keys": [{"pk": "t#item", "sk": "b"}]}}},
        )
        found = store.get_items("t", ["a", "b", "a"])
        stub.assert_no_pending_responses()
    assert found == {"a": Item("a", {"n": 5}), "b": Item("b")}


# ---------------------------------------------------------------------- transaction cancellation


def event(event_id: str, user_id: str | None = "u", session_id: str | None = None, **fields: Any) -> Event:
    return Event(event_id, fields.pop("item_id", "i"), "view", fields.pop("timestamp", NOW), user_id, session_id)


def cancelled(*codes: str) -> dict[str, Any]:
    return {"CancellationReasons": [{"Code": code} for code in codes]}


def stubbed_events(max_attempts: int = 5) -> tuple[EventStore, Any, list[float]]:
    events = table("EventsTable")
    sleeps: list[float] = []
    store = EventStore(events, ttl_days=730, sleep=sleeps.append, clock=lambda: NOW, max_attempts=max_attempts)
    return store, events.meta.client, sleeps


def test_a_cancelled_transaction_drops_the_duplicates_and_writes_the_rest() -> None:
    store, client, sleeps = stubbed_events()
    calls = recorded(client, "TransactWriteItems")
    days = recorded(client, "UpdateItem")
    with Stubber(client) as stub:
        stub.add_response("update_item", {})  # the day is in the index before any event is written
        stub.add_client_error(
            "transact_write_items",
            "TransactionCanceledException",
            "Transaction cancelled",
            modeled_fields=cancelled("None", "None", "ConditionalCheckFailed", "None", "None", "None"),
        )
        stub.add_response("transact_write_items", {})
        stub.add_response("update_item", {})  # the day's counter
        result = store.put_events("t", [event("e0"), event("e1"), event("e2")])
        stub.assert_no_pending_responses()
    assert result == IngestResult(accepted=3, duplicates=1)
    assert sleeps == []  # a duplicate is settled at once, not retried
    markers = [[w["Put"]["Item"]["pk"] for w in c["TransactItems"] if w["Put"]["Item"]["sk"] == "-"] for c in calls]
    assert markers == [["t#event#e0", "t#event#e1", "t#event#e2"], ["t#event#e0", "t#event#e2"]]
    assert calls[0]["TransactItems"][0]["Put"]["ConditionExpression"] == "attribute_not_exists(pk)"
    assert [d["ExpressionAttributeValues"][":count"] for d in days] == [0, 2]  # only new events are counted


def test_a_throttled_transaction_is_retried_with_backoff() -> None:
    store, client, sleeps = stubbed_events()
    with Stubber(client) as stub:
        stub.add_response("update_item", {})
        stub.add_client_error(
            "transact_write_items", "TransactionCanceledException", modeled_fields=cancelled("ThrottlingError", "None")
        )
        stub.add_response("transact_write_items", {})
        stub.add_response("update_item", {})
        assert store.put_events("t", [event("e0")]) == IngestResult(accepted=1)
        stub.assert_no_pending_responses()
    assert len(sleeps) == 1


def test_events_still_throttled_after_every_retry_are_rejected_with_a_retryable_error() -> None:
    store, client, _ = stubbed_events(max_attempts=2)
    with Stubber(client) as stub:
        stub.add_response("update_item", {})
        for _ in range(2):
            stub.add_client_error(
                "transact_write_items",
                "TransactionCanceledException",
                modeled_fields=cancelled("TransactionConflict", "None", "None", "None"),
            )
        result = store.put_events("t", [event("e0"), event("e1")])
        stub.assert_no_pending_responses()
    reason = "not stored: the events table is busy (TransactionConflict); resend this row"
    assert result.accepted == 0 and [r.index for r in result.rejected] == [0, 1]
    assert all(r.error.startswith(reason) for r in result.rejected)


def test_a_refused_transaction_is_split_to_find_the_event_dynamodb_refuses() -> None:
    store, client, _ = stubbed_events()
    with Stubber(client) as stub:
        stub.add_response("update_item", {})
        stub.add_client_error("transact_write_items", "ValidationException", "Transaction request cannot include ...")
        stub.add_response("transact_write_items", {})
        stub.add_client_error("transact_write_items", "ValidationException", "Item size has exceeded the maximum")
        stub.add_response("update_item", {})
        result = store.put_events("t", [event("e0"), event("e1")])
        stub.assert_no_pending_responses()
    assert result == IngestResult(accepted=1, rejected=[Rejection(1, "not stored: Item size has exceeded the maximum")])


def test_a_repeated_event_id_in_one_batch_is_written_once() -> None:
    store, client, _ = stubbed_events()
    calls = recorded(client, "TransactWriteItems")
    with Stubber(client) as stub:
        stub.add_response("update_item", {})
        stub.add_response("transact_write_items", {})
        stub.add_response("update_item", {})
        assert store.put_events("t", [event("e0"), event("e0", item_id="other")]) == IngestResult(2, [], 1)
    assert len(calls[0]["TransactItems"]) == 2


def test_transactions_hold_at_most_100_writes_and_whole_events() -> None:
    store, client, _ = stubbed_events()
    calls = recorded(client, "TransactWriteItems")
    batch = [event(f"e{n}", user_id="u", session_id="s") for n in range(70)]  # 3 writes each
    with Stubber(client) as stub:
        stub.add_response("update_item", {})
        for _ in range(3):
            stub.add_response("transact_write_items", {})
        stub.add_response("update_item", {})
        assert store.put_events("t", batch) == IngestResult(accepted=70)
    assert [len(c["TransactItems"]) for c in calls] == [99, 99, 12]


# ---------------------------------------------------------------------- key layout and training reads


def rows(name: str) -> list[dict[str, Any]]:
    return list(boto3.resource("dynamodb").Table(name).scan()["Items"])


def test_event_rows_follow_the_data_model(aws: dict[str, str]) -> None:
    e = Event("e1", "i1", "purchase", NOW, "u1", "s1", 49.99, {"pos": 3}, "rec_1")
    assert event_store().put_events("t", [e]) == IngestResult(accepted=1)
    by_pk = {row["pk"]: row for row in rows("EventsTable")}
    assert set(by_pk) == {"t#user#u1", "t#session#s1", "t#event#e1", "t#days"}
    expires = int((NOW + timedelta(days=730)).timestamp())
    user, session = by_pk["t#user#u1"], by_pk["t#session#s1"]
    assert user["sk"] == session["sk"] == "2026-05-01T12:00:00.000Z#e1"
    assert user["shard_pk"] == f"t#{shard_of('e1')}"
    assert "shard_pk" not in session  # training reads each event once
    assert user["value"] == Decimal("49.99") and user["properties"] == {"pos": Decimal(3)}
    assert user["expires_at"] == expires and user["rec_id"] == "rec_1"
    assert by_pk["t#event#e1"] == {"pk": "t#event#e1", "sk": "-", "expires_at": expires}
    assert by_pk["t#days"]["sk"] == "2026-05-01" and by_pk["t#days"]["events"] == 1


def test_a_session_only_event_carries_the_day_key_on_its_session_copy(aws: dict[str, str]) -> None:
    event_store().put_events("t", [event("e1", user_id=None, session_id="s1")])
    (copy_,) = [row for row in rows("EventsTable") if row["pk"] == "t#session#s1"]
    assert copy_["shard_pk"] == f"t#{shard_of('e1')}"


def test_shards_are_stable_and_spread() -> None:
    assert shard_of("e1") == shard_of("e1")
    assert {shard_of(f"evt-{n}") for n in range(500)} == set(range(SHARDS))


def test_training_reads_every_event_once_in_time_order(aws: dict[str, str]) -> None:
    store = EventStore(boto3.resource("dynamodb").Table("EventsTable"), ttl_days=730, clock=lambda: NOW)
    assert store.has_events("t") is False and store.event_days("t") == []
    written = [
        event(f"e{n}", user_id=f"u{n % 3}", session_id=f"s{n % 4}", timestamp=NOW - timedelta(hours=7 * n))
        for n in range(40)
    ]
    assert store.put_events("t", written) == IngestResult(accepted=40)
    store.put_events("other", [event("e0")])
    read = list(store.iter_events("t"))
    assert sorted(e.event_id for e in read) == sorted(e.event_id for e in written)
    assert [e.timestamp for e in read] == sorted(e.timestamp for e in written)
    assert store.has_events("t") is True
    assert store.event_days("t") == ["2026-04-20", *[f"2026-04-{d}" for d in range(21, 31)], "2026-05-01"]
    recent = [e for e in read if e.timestamp.date() >= date(2026, 4, 30)]
    assert [e.event_id for e in store.iter_events("t", since=date(2026, 4, 30))] == [e.event_id for e in recent]


def test_expired_events_are_never_read(aws: dict[str, str]) -> None:
    dynamo = boto3.resource("dynamodb").Table("EventsTable")
    EventStore(dynamo, ttl_days=2, clock=lambda: NOW).put_events("t", [event("e1", session_id="s")])
    later = EventStore(dynamo, ttl_days=2, clock=lambda: NOW + timedelta(days=4))  # DynamoDB has not deleted them yet
    assert later.recent_page("t", user_id="u").records == [] and later.recent_page("t", session_id="s").records == []
    assert list(later.iter_events("t")) == [] and later.has_events("t") is False
    assert [
        e.event_id for e in EventStore(dynamo, ttl_days=2, clock=lambda: NOW).recent_page("t", user_id="u").records
    ] == ["e1"]


def test_recent_reads_one_partition() -> None:
    store, _, _ = stubbed_events()
    with pytest.raises(ValueError, match="exactly one of user_id or session_id"):
        store.recent_page("t", user_id="u", session_id="s")


# ---------------------------------------------------------------------- catalog reads


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr("reco.stores.catalog.ITER_PAGE_SIZE", 7)
    yield


def test_iter_items_reads_the_whole_catalog_page_by_page(aws: dict[str, str], small_pages: None) -> None:
    items = [Item(f"i{n:02d}", {"n": n}) for n in range(30)]
    assert catalog_store().put_items("t", items).accepted == 30
    catalog_store().put_items("other", [Item("i00", {"n": -1})])
    assert [(i.id, i.properties) for i in catalog_store().iter_items("t")] == [(i.id, i.properties) for i in items]


def test_get_items_finds_existing_ids_in_chunks_of_100(aws: dict[str, str]) -> None:
    catalog_store().put_items("t", [Item(f"i{n}") for n in range(150)])
    found = catalog_store().get_items("t", [f"i{n}" for n in range(0, 160, 2)] + ["i0"])
    assert sorted(found) == sorted(f"i{n}" for n in range(0, 150, 2))
    assert catalog_store().get_items("other", ["i0"]) == {}
