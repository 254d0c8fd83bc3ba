"""Row validation, per-row rejection, superseded duplicates, event timestamps, and stored number types."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from reco.ingestion import (
    MAX_ROW_BYTES,
    EventClock,
    ingest_events,
    ingest_items,
    ingest_users,
    keep_last_of_each_id,
    validate_rows,
)
from reco.records import Event, IngestResult, Item, Page, Rejection, User
from reco.schemas.catalog import ItemRow, check_number
from reco.schemas.events import EventRow, parse_timestamp
from reco.stores.codec import from_dynamo, to_dynamo

pytestmark = pytest.mark.store_contract  # against moto and the local store

NOW = datetime(2026, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


class FakeCatalog:
    """Stores everything, except the ids it is told to refuse (as a throttled table would)."""

    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        self.refuse = refuse
        self.items: list[Item] = []
        self.users: list[User] = []

    def put_items(self, tenant: str, items: Sequence[Item]) -> IngestResult:
        self.items.extend(items)
        return self._result(items)

    def put_users(self, tenant: str, users: Sequence[User]) -> IngestResult:
        self.users.extend(users)
        return self._result(users)

    def _result(self, records: Sequence[Item] | Sequence[User]) -> IngestResult:
        failed = [Rejection(position, "busy") for position, r in enumerate(records) if r.id in self.refuse]
        return IngestResult(accepted=len(records) - len(failed), rejected=failed)


class FakeEvents:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def put_events(self, tenant: str, events: Sequence[Event]) -> IngestResult:
        self.events.extend(events)
        return IngestResult(accepted=len(events))

    def recent_page(self, tenant: str, **kwargs: Any) -> Page[Event]:
        return Page(self.events)


def item_errors(rows: list[Any]) -> list[tuple[int, str]]:
    _, rejected = validate_rows(rows, ItemRow, lambda row: row)
    return [(r.index, r.error) for r in rejected]


@pytest.mark.parametrize(
    ("row", "error"),
    [
        ({"properties": {}}, "id: Field required"),
        ({"id": ""}, "id: String should have at least 1 character"),
        ({"id": "x" * 257}, "id: String should have at most 256 characters"),
        ({"id": 7}, "id: Input should be a valid string"),
        ({"id": "a", "colour": "red"}, "colour: unknown field; a row has id, properties"),
        (5, "row: each row must be a JSON object"),
        (["a"], "row: each row must be a JSON object"),
        (
            {"id": "a", "properties": {"p": None}},
            "properties.p: attribute values must be a string, a number, a boolean or an array of strings",
        ),
        ({"id": "a", "properties": {"p": [1, 2]}}, "properties.p: attribute values must be a string"),
        ({"id": "a", "properties": {"p": float("nan")}}, "properties.p: attribute numbers must be finite"),
        ({"id": "a", "properties": {"p": 1e200}}, "properties.p: numbers must be 0 or between 1e-130 and 1e126"),
        ({"id": "a", "properties": {"p": 10**39 + 1}}, "properties.p: numbers have at most 38 significant digits"),
        ({"id": "a", "properties": {"": 1}}, "properties..[key]: String should have at least 1 character"),
        (
            {"id": "a", "properties": {f"p{n}": n for n in range(65)}},
            "properties: Dictionary should have at most 64 items after validation",
        ),
        ({"id": "a", "properties": {"p": "x" * 4097}}, "properties.p: attribute strings are at most 4096 characters"),
    ],
)
def test_each_bad_item_row_gets_a_message_naming_the_field_and_the_fix(row: Any, error: str) -> None:
    ((index, message),) = item_errors([{"id": "good"}, row])
    assert index == 1
    assert message.startswith(error), message


def test_several_mistakes_in_one_row_are_all_named() -> None:
    ((_, message),) = item_errors([{"id": "", "properties": {"a": None}, "x": 1}])
    assert message == (
        "id: String should have at least 1 character; "
        "properties.a: attribute values must be a string, a number, a boolean or an array of strings; "
        "x: unknown field; a row has id, properties"
    )


def test_a_row_too_large_to_store_is_rejected_with_its_size() -> None:
    row = {"id": "a", "properties": {f"p{n}": ["x" * 1000] * 100 for n in range(4)}}
    ((_, message),) = item_errors([row])
    assert message.startswith("row: ") and f"a row is at most {MAX_ROW_BYTES:,} bytes" in message


def test_a_very_long_key_is_cut_short_in_the_message() -> None:
    ((_, message),) = item_errors([{"id": "a", "properties": {"k" * 500: 1}}])
    assert message.startswith("properties." + "k" * 64 + ".[key]: String should have at most 128 characters")


def test_numbers_are_checked_for_what_the_database_can_store() -> None:
    assert check_number(10**40) == 10**40  # one significant digit
    assert check_number(0.0) == 0.0 and check_number(-1.5e-100) == -1.5e-100
    for bad in (True, "1", None, 10**38 + 1, 10**126, 1e-131, float("inf")):
        with pytest.raises(ValueError):
            check_number(bad)


def test_the_last_valid_row_of_an_id_wins_and_earlier_ones_are_reported() -> None:
    rows = [(0, Item("a", {"v": 1})), (1, Item("b")), (3, Item("a", {"v": 2})), (4, Item("a", {"v": 3}))]
    kept, superseded = keep_last_of_each_id(rows)
    assert kept == [(1, Item("b")), (4, Item("a", {"v": 3}))]
    assert superseded == [
        Rejection(0, "superseded by row 4: the same id appears later in this batch"),
        Rejection(3, "superseded by row 4: the same id appears later in this batch"),
    ]


def test_ingest_items_stores_good_rows_and_reports_every_other_one_by_index() -> None:
    catalog = FakeCatalog(refuse=frozenset({"busy"}))
    rows = [{"id": "a", "properties": {"v": 1}}, {"id": ""}, {"id": "busy"}, {"id": "a", "properties": {"v": 2}}, 7]
    result = ingest_items("t", rows, catalog)
    assert catalog.items == [Item("busy"), Item("a", {"v": 2})]
    assert result == IngestResult(
        accepted=1,
        rejected=[
            Rejection(0, "superseded by row 3: the same id appears later in this batch"),
            Rejection(1, "id: String should have at least 1 character"),
            Rejection(2, "busy"),  # the store's rejection, mapped back to the request's row index
            Rejection(4, "row: each row must be a JSON object"),
        ],
    )
    assert result.accepted + len(result.rejected) == len(rows)


def test_a_later_invalid_row_does_not_supersede_an_earlier_valid_one() -> None:
    catalog = FakeCatalog()
    result = ingest_users("t", [{"id": "u", "properties": {"a": 1}}, {"id": "u", "properties": {"a": None}}], catalog)
    assert catalog.users == [User("u", {"a": 1})]
    assert [r.index for r in result.rejected] == [1]


# ---------------------------------------------------------------------- event timestamps


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-05-01T12:00:00Z", datetime(2026, 5, 1, 12, tzinfo=UTC)),
        ("2026-05-01T14:00:00.123456+02:00", datetime(2026, 5, 1, 12, 0, 0, 123000, tzinfo=UTC)),
        (1777636800, datetime(2026, 5, 1, 12, tzinfo=UTC)),
        (1777636800.5, datetime(2026, 5, 1, 12, 0, 0, 500000, tzinfo=UTC)),
        (None, None),
    ],
)
def test_timestamps_are_iso_8601_with_a_timezone_or_epoch_seconds(value: Any, expected: datetime | None) -> None:
    assert parse_timestamp(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-05-01T12:00:00", "'2026-05-01T12:00:00' has no timezone: add Z or an offset such as +02:00"),
        ("yesterday", "'yesterday' is not ISO-8601 with a timezone"),
        (1777636800000, "1777636800000 is out of range: epoch timestamps are in seconds, not milliseconds"),
        (True, "must be ISO-8601 with a timezone"),
        ([1], "must be ISO-8601 with a timezone"),
        (float("nan"), "must be ISO-8601 with a timezone"),
    ],
)
def test_bad_timestamps_say_what_is_expected(value: Any, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("+", r"\+")):
        parse_timestamp(value)


def event_row(**fields: Any) -> EventRow:
    return EventRow.model_validate({"user_id": "u", "item_id": "i", "type": "view", **fields})


def test_an_event_defaults_to_now_and_gets_a_server_id() -> None:
    event = EventClock(NOW, 730).event_of(event_row(type="  add_to_cart "))
    assert event.timestamp == datetime(2026, 5, 1, 12, 0, 0, 123000, tzinfo=UTC)  # to the millisecond
    assert event.type == "add_to_cart"
    assert event.event_id.startswith("evt_") and len(event.event_id) == 31


def test_event_timestamps_must_lie_within_retention_and_at_most_a_day_ahead() -> None:
    clock = EventClock(NOW, 30)
    assert clock.event_of(event_row(timestamp=(NOW + timedelta(hours=23)).isoformat())).user_id == "u"
    assert clock.event_of(event_row(timestamp=(NOW - timedelta(days=29)).isoformat())).item_id == "i"
    with pytest.raises(ValueError, match=r"^timestamp: 2026-05-02T13:00:00.123Z is more than 1 day in the future"):
        clock.event_of(event_row(timestamp=(NOW + timedelta(hours=25)).isoformat()))
    with pytest.raises(ValueError, match=r"^timestamp: 2026-03-31T12:00:00.123Z is older than the 30-day event"):
        clock.event_of(event_row(timestamp=(NOW - timedelta(days=31)).isoformat()))


def test_ingest_events_rejects_bad_rows_by_index_and_passes_good_ones_on() -> None:
    store = FakeEvents()
    rows = [
        {"event_id": "e1", "user_id": "u", "session_id": "s", "item_id": "i", "type": "rating", "value": 4},
        {"item_id": "i", "type": "view"},
        {"user_id": "u", "type": "view"},
        {"user_id": "u", "item_id": "i", "type": "   "},
        {"user_id": "u", "item_id": "i", "type": "view", "value": "5"},
        {"user_id": "u", "item_id": "i", "type": "view", "timestamp": "2020-01-01T00:00:00Z"},
        {"user_id": "u", "item_id": "i", "type": "view", "properties": {f"p{n}": n for n in range(33)}},
        {"session_id": "s", "item_id": "i", "type": "click", "rec_id": "rec_1", "properties": {"pos": 2}},
    ]
    result = ingest_events("t", rows, store, now=NOW, retention_days=730)
    assert [(r.index, r.error) for r in result.rejected] == [
        (1, "row: provide user_id, session_id, or both"),
        (2, "item_id: Field required"),
        (3, "type: String should have at least 1 character"),
        (4, "value: must be a number"),
        (
            5,
            "timestamp: 2020-01-01T00:00:00.000Z is older than the 730-day event retention "
            "(oldest accepted: 2024-05-01T12:00:00.123Z)",
        ),
        (6, "properties: Dictionary should have at most 32 items after validation, not more"),
    ]
    assert result.accepted == 2
    first, last = store.events
    assert first == Event("e1", "i", "rating", NOW.replace(microsecond=123000), "u", "s", 4, {}, None)
    assert (last.session_id, last.user_id, last.rec_id, last.properties) == ("s", None, "rec_1", {"pos": 2})


# ---------------------------------------------------------------------- stored number types


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        (True, True),
        (False, False),
        (5, Decimal(5)),
        (-12, Decimal(-12)),
        (49.99, Decimal("49.99")),
        (0.1, Decimal("0.1")),
        (1e-7, Decimal("1E-7")),
        (10**40, Decimal("1E+40")),
        ("shoes", "shoes"),
        ("", ""),
        (["a", "b"], ["a", "b"]),
        ([], []),
    ],
)
def test_property_values_round_trip_through_their_stored_form(value: Any, stored: Any) -> None:
    assert to_dynamo(value) == stored
    assert type(to_dynamo(value)) is type(stored)
    back = from_dynamo(to_dynamo(value))
    assert back == value
    assert type(back) is type(value)  # an int stays an int, a float a float, a bool a bool


def test_an_integral_float_reads_back_as_the_equal_int() -> None:
    assert from_dynamo(Decimal("12")) == 12.0 and type(from_dynamo(Decimal("12"))) is int


def test_values_round_trip_through_dynamodb(aws: dict[str, str]) -> None:
    from reco.stores.catalog import catalog_store

    properties = {"b": True, "n": 5, "f": 49.99, "tiny": 1e-7, "big": 10**40, "s": "x", "l": ["a"], "e": []}
    assert catalog_store().put_items("t", [Item("a", properties)]).accepted == 1
    stored = catalog_store().get_item("t", "a")
    assert stored is not None
    assert stored.properties == properties
    assert {k: type(v) for k, v in stored.properties.items()} == {k: type(v) for k, v in properties.items()}
