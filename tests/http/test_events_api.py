"""POST /v1/events and the per user / per session event lists, through the gateway and the composed app."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

Auth = Callable[..., dict[str, str]]
ROUTES = [
    ("POST", "/v1/events", {"events": [{"user_id": "u", "item_id": "i", "type": "view"}]}),
    ("GET", "/v1/users/u/events", None),
    ("GET", "/v1/sessions/s/events", None),
]


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def post(client: TestClient, auth: Auth, events: list[Any], tenant: str = "acme") -> Any:
    return client.post("/v1/events", json={"events": events}, headers=auth(tenant, "backend"))


def user_events(client: TestClient, auth: Auth, user_id: str, tenant: str = "acme", **params: Any) -> Any:
    return client.get(f"/v1/users/{user_id}/events", params=params, headers=auth(tenant, "backend"))


def test_post_then_read_an_event_with_every_field(client: TestClient, auth: Auth) -> None:
    stamp = ago(minutes=5)
    event = {
        "event_id": "evt-1",
        "user_id": "u1",
        "session_id": "s1",
        "item_id": "EC5792",
        "type": "purchase",
        "timestamp": stamp,
        "value": 49.99,
        "properties": {"quantity": 2, "coupon": "SPRING"},
        "rec_id": "rec_3Mar8Ll7uilqO1rsIICJU67fDgR",
    }
    response = post(client, auth, [event])
    assert response.status_code == 200
    assert response.json() == {"accepted": 1, "duplicates": 0, "rejected": []}
    expected = {**event, "timestamp": stamp}
    assert user_events(client, auth, "u1").json() == {"events": [expected], "next_cursor": None}
    by_session = client.get("/v1/sessions/s1/events", headers=auth()).json()
    assert by_session == {"events": [expected], "next_cursor": None}


def test_read_your_writes_the_newest_event_comes_first(client: TestClient, auth: Auth) -> None:
    post(
        client,
        auth,
        [{"user_id": "u1", "item_id": f"old-{n}", "type": "view", "timestamp": ago(hours=n + 1)} for n in range(3)],
    )
    post(client, auth, [{"user_id": "u1", "item_id": "just-now", "type": "click"}])
    events = user_events(client, auth, "u1").json()["events"]
    assert [e["item_id"] for e in events] == ["just-now", "old-0", "old-1", "old-2"]
    assert events[0]["event_id"].startswith("evt_")  # assigned by the server
    assert events[0]["session_id"] is None and events[0]["value"] is None and events[0]["properties"] == {}


def test_a_retried_batch_is_counted_once(client: TestClient, auth: Auth) -> None:
    batch = [
        {"event_id": f"e{n}", "user_id": "u1", "session_id": "s1", "item_id": f"i{n}", "type": "view"} for n in range(5)
    ]
    assert post(client, auth, batch).json() == {"accepted": 5, "duplicates": 0, "rejected": []}
    assert post(client, auth, batch).json() == {"accepted": 5, "duplicates": 5, "rejected": []}
    # Partly new: the new rows are written, the old ones are not written again.
    more = [*batch[:2], {"event_id": "e9", "user_id": "u1", "item_id": "i9", "type": "view"}]
    assert post(client, auth, more).json() == {"accepted": 3, "duplicates": 2, "rejected": []}
    ids = [e["event_id"] for e in user_events(client, auth, "u1", limit=100).json()["events"]]
    assert sorted(ids) == ["e0", "e1", "e2", "e3", "e4", "e9"]
    session_ids = [e["event_id"] for e in client.get("/v1/sessions/s1/events", headers=auth()).json()["events"]]
    assert sorted(session_ids) == ["e0", "e1", "e2", "e3", "e4"]


def test_a_repeated_event_id_within_a_batch_is_a_duplicate(client: TestClient, auth: Auth) -> None:
    row = {"event_id": "same", "user_id": "u1", "item_id": "i", "type": "view"}
    assert post(client, auth, [row, {**row, "item_id": "other"}]).json() == {
        "accepted": 2,
        "duplicates": 1,
        "rejected": [],
    }
    assert [e["item_id"] for e in user_events(client, auth, "u1").json()["events"]] == ["i"]


def test_bad_rows_are_rejected_one_by_one_and_the_good_rows_are_stored(client: TestClient, auth: Auth) -> None:
    rows = [
        {"user_id": "u1", "item_id": "good-1", "type": "view"},
        {"item_id": "i", "type": "view"},
        {"user_id": "u1", "type": "view"},
        {"user_id": "u1", "item_id": "i", "type": "view", "timestamp": ago(days=-2)},
        {"user_id": "u1", "item_id": "i", "type": "view", "timestamp": "2020-01-01T00:00:00Z"},
        {"user_id": "u1", "item_id": "i", "type": "view", "timestamp": "2026-01-01 10:00"},
        {"user_id": "u1", "item_id": "i", "type": "rating", "value": "five"},
        {"user_id": "u1", "item_id": "i", "type": "view", "colour": "red"},
        None,
        {
            "user_id": "u1",
            "item_id": "good-2",
            "type": "rating",
            "value": 4,
            "timestamp": datetime.now(UTC).timestamp() - 1000,
        },
    ]
    body = post(client, auth, rows).json()
    assert body["accepted"] == 2 and body["duplicates"] == 0
    errors = {r["index"]: r["error"] for r in body["rejected"]}
    assert sorted(errors) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert errors[1] == "row: provide user_id, session_id, or both"
    assert errors[2] == "item_id: Field required"
    assert "is more than 1 day in the future" in errors[3]
    assert "is older than the 730-day event retention" in errors[4]
    assert errors[5] == "timestamp: '2026-01-01 10:00' has no timezone: add Z or an offset such as +02:00"
    assert errors[6] == "value: must be a number"
    assert errors[7].startswith("colour: unknown field; a row has event_id, user_id, session_id, item_id, type")
    assert errors[8] == "row: each row must be a JSON object"
    assert [e["item_id"] for e in user_events(client, auth, "u1").json()["events"]] == ["good-1", "good-2"]


def test_a_batch_over_1000_events_is_422_naming_the_limit(client: TestClient, auth: Auth) -> None:
    response = post(client, auth, [{"user_id": "u", "item_id": "i", "type": "view"}] * 1001)
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "events"] and "at most 1000" in error["msg"]


def test_a_body_over_1_mib_is_413(client: TestClient, auth: Auth) -> None:
    rows = [{"user_id": "u", "item_id": "i", "type": "view", "properties": {"t": "x" * 4000}}] * 300
    response = client.post("/v1/events", content=json.dumps({"events": rows}), headers=auth())
    assert response.status_code == 413


def test_a_batch_spanning_several_transactions_is_stored_whole(client: TestClient, auth: Auth) -> None:
    # 3 writes per event (marker, user copy, session copy): 150 events take 5 transactions.
    # (Kept small: moto copies the whole table for every transaction item, so 1,000 events take minutes.)
    rows = [
        {"event_id": f"e{n}", "user_id": f"u{n % 3}", "session_id": "s", "item_id": "i", "type": "view"}
        for n in range(150)
    ]
    assert post(client, auth, rows).json() == {"accepted": 150, "duplicates": 0, "rejected": []}
    assert len(user_events(client, auth, "u0", limit=100).json()["events"]) == 50
    assert post(client, auth, rows[::-1]).json() == {"accepted": 150, "duplicates": 150, "rejected": []}


def test_45_events_page_newest_first_each_exactly_once(client: TestClient, auth: Auth) -> None:
    rows = [
        {"event_id": f"e{n:02d}", "user_id": "u1", "item_id": "i", "type": "view", "timestamp": ago(minutes=n)}
        for n in range(45)
    ]
    post(client, auth, rows)
    seen: list[str] = []
    sizes: list[int] = []
    cursor = None
    while True:
        body = user_events(client, auth, "u1", **({"cursor": cursor} if cursor else {})).json()
        seen += [e["event_id"] for e in body["events"]]
        sizes.append(len(body["events"]))
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sizes == [20, 20, 5]
    assert seen == [f"e{n:02d}" for n in range(45)]


def test_cursors_belong_to_one_list(client: TestClient, auth: Auth) -> None:
    post(client, auth, [{"user_id": "u1", "session_id": "s1", "item_id": f"i{n}", "type": "view"} for n in range(3)])
    cursor = user_events(client, auth, "u1", limit=1).json()["next_cursor"]
    assert cursor is not None
    for path in ("/v1/users/u2/events", "/v1/sessions/s1/events"):
        response = client.get(path, params={"cursor": cursor}, headers=auth())
        assert response.status_code == 400
        assert response.json()["code"] == "MALFORMED_CURSOR"
    garbled = user_events(client, auth, "u1", cursor=cursor[:-3] + "%%%")
    assert garbled.status_code == 400 and garbled.json()["detail"].startswith("cursor is malformed")


@pytest.mark.parametrize("limit", [0, 101])
def test_limit_is_1_to_100(client: TestClient, auth: Auth, limit: int) -> None:
    assert user_events(client, auth, "u1", limit=limit).status_code == 422


def test_an_unknown_user_has_no_events(client: TestClient, auth: Auth) -> None:
    assert user_events(client, auth, "nobody").json() == {"events": [], "next_cursor": None}


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_no_token_is_401(client: TestClient, method: str, path: str, body: Any) -> None:
    assert client.request(method, path, json=body).status_code == 401


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_a_frontend_token_is_403(client: TestClient, auth: Auth, method: str, path: str, body: Any) -> None:
    response = client.request(method, path, json=body, headers=auth("acme", "frontend"))
    assert response.status_code == 403
    assert "requires one of the roles [backend, manager, root]" in response.json()["detail"]
