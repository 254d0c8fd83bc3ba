"""The request logs: a sequence row before generation, a decision row after, read back by GET /api/recommend/logs."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reco.customer.logs import RequestLog
from reco.records import iso_millis
from reco.settings import get_settings
from reco.stores.aws import dynamodb_table, tenant_key
from reco.stores.decisions import decision_store
from reco.stores.request_logs import MAX_DATA_BYTES, RequestLogStore, request_log_store
from tests.customer.catalog import load_customer_shop

Auth = Callable[..., dict[str, str]]
LOGS = "/api/recommend/logs"
EXTRA = {
    "session": {"device": "mobile", "depth": 3, "ratio": 1.5, "flags": [True, False, None]},
    "locale": "fr-FR ☕",
    "big": 12345678901234567890,
}
SEQUENCE = {
    "customer_preferences": {"categories": ["books"], "price_range": {"min": 0, "max": 300}, "brands": ["acme"]},
    "browsing_history": [102, "product_105"],
    "purchase_history": ["product_109"],
    **EXTRA,
}


def _forged_cursor(start_ms: int, end_ms: int) -> str:
    raw = f'[{start_ms},{end_ms},null,"0001-01-01T00:00:00.500Z#x#sequence"]'.encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read(client: TestClient, auth: Auth, tenant: str = "acme", **params: Any) -> Any:
    response = client.get(LOGS, params=params, headers=auth(tenant, "manager"))
    assert response.status_code == 200, response.text
    return response.json()


def write_rows(tenant: str, moments: list[datetime], kind: str = "sequence") -> list[str]:
    """Rows written straight to the store, at chosen times; their request ids."""
    store = request_log_store()
    request_ids = []
    for n, moment in enumerate(moments):
        request_id = f"r-{kind}-{n:03d}"
        store.write(tenant, RequestLog(kind, request_id, moment, {"n": n}))  # type: ignore[arg-type]
        request_ids.append(request_id)
    return request_ids


def test_one_request_logs_its_sequence_and_its_decision(client: TestClient, auth: Auth) -> None:
    load_customer_shop("acme")
    body = {"sequence_data": SEQUENCE, "task": "product_recommendation", "template": "personalized", "limit": 4}
    headers = {**auth("acme", "frontend", subject="shopper-7"), "X-Request-Id": "req-round-trip-1"}
    served = client.post("/api/recommend/recommend", json=body, headers=headers)
    assert served.status_code == 200 and served.headers["x-request-id"] == "req-round-trip-1"
    rows = read(client, auth)["logs"]
    assert [(r["request_id"], r["type"]) for r in rows] == [
        ("req-round-trip-1", "decision"),
        ("req-round-trip-1", "sequence"),
    ]
    decision, sequence = rows
    assert sequence["data"] == {
        "task": "product_recommendation",
        "template": "personalized",
        "limit": 4,
        "subject": "shopper-7",
        "sequence_data": SEQUENCE,  # verbatim: the integer id, the extra keys, the big integer
    }
    assert decision["data"]["results"] == served.json()["results"]
    assert decision["data"]["model_id"] == "customer-als" and decision["data"]["model_version"] == 1
    assert decision["data"]["template"] == "personalized" and decision["data"]["fallback"] is None
    assert decision["data"]["evaluated_scenarios"] == {"reco_type": "session_to_items"}
    assert sequence["created_at"] < decision["created_at"]
    assert datetime.fromisoformat(decision["created_at"]) > datetime.now(UTC) - timedelta(minutes=1)
    # The decision behind rec_id = the request id, for attributing events that carry it.
    recorded = decision_store().get("acme", "req-round-trip-1")
    assert recorded is not None and recorded["endpoint"] == "customer_recommend"
    assert recorded["items"] == [r["recommendation_id"] for r in served.json()["results"]]
    assert recorded["context"]["template"] == "personalized"


def test_type_filter(client: TestClient, auth: Auth) -> None:
    now = datetime.now(UTC)
    write_rows("acme", [now - timedelta(minutes=5)], "decision")
    write_rows("acme", [now - timedelta(minutes=4), now - timedelta(minutes=3)], "sequence")
    assert [r["type"] for r in read(client, auth)["logs"]] == ["sequence", "sequence", "decision"]
    assert [r["request_id"] for r in read(client, auth, type="decision")["logs"]] == ["r-decision-000"]
    assert {r["type"] for r in read(client, auth, type="sequence")["logs"]} == {"sequence"}
    wrong = client.get(LOGS, params={"type": "both"}, headers=auth("acme", "manager"))
    assert wrong.status_code == 400 and "type: Input should be 'sequence' or 'decision'" in wrong.json()["detail"]


def test_time_range_defaults_to_the_last_24_hours(client: TestClient, auth: Auth) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    ids = write_rows("acme", [now - timedelta(days=3), now - timedelta(hours=30), now - timedelta(hours=2)])
    assert [r["request_id"] for r in read(client, auth)["logs"]] == [ids[2]]
    start, end = iso_millis(now - timedelta(days=3)), iso_millis(now - timedelta(hours=30))
    # from is inclusive, to exclusive (to the millisecond).
    assert [r["request_id"] for r in read(client, auth, **{"from": start, "to": end})["logs"]] == [ids[0]]
    wide = read(client, auth, **{"from": iso_millis(now - timedelta(days=4)), "to": iso_millis(now)})
    assert [r["request_id"] for r in wide["logs"]] == ids[::-1]
    # Only to, with a +00:00 offset: from defaults to 24 hours before it.
    only_to = read(client, auth, to=(now - timedelta(hours=29)).isoformat())
    assert [r["request_id"] for r in only_to["logs"]] == [ids[1]]


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"from": "2026-05-02T00:00:00Z", "to": "2026-05-01T00:00:00Z"}, "must be before to"),
        ({"from": "2026-05-01T00:00:00Z", "to": "2026-05-01T00:00:00Z"}, "must be before to"),
        ({"from": "2026-03-01T00:00:00Z", "to": "2026-04-02T00:00:00Z"}, "more than 31 days apart"),
        ({"from": "yesterday"}, "from must be an ISO-8601 instant"),
        ({"to": "2026-05-01T12:00:00"}, "to must be an ISO-8601 instant with a time zone"),
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor is malformed"),
        ({"cursor": "W10"}, "cursor is malformed"),
        # Instants at the ends of the calendar would overflow date arithmetic: 400, never 500.
        ({"from": "0001-01-01T00:00:00+01:00", "to": "2026-01-02T00:00:00Z"}, "from must lie between"),
        ({"to": "0001-01-01T00:00:00Z"}, "to must lie between"),
        ({"to": "9999-12-31T23:59:59-01:00"}, "to must lie between"),
        ({"from": "0001-01-01T00:00:00Z", "to": "0001-01-02T00:00:00Z"}, "to must lie between"),
        ({"from": "2026-05-01T12:00:00 02:00"}, "%2B"),  # an unencoded '+' arrives as a space
        ({"cursor": _forged_cursor(-62135596799999, -62135510400000)}, "cursor is malformed"),
    ],
)
def test_bad_queries_are_400_naming_the_parameter(
    client: TestClient, auth: Auth, params: dict[str, str], named: str
) -> None:
    response = client.get(LOGS, params=params, headers=auth("acme", "root"))
    assert response.status_code == 400, response.text
    assert named in response.json()["detail"], response.json()


def test_a_window_of_exactly_31_days_is_allowed(client: TestClient, auth: Auth) -> None:
    assert read(client, auth, **{"from": "2026-03-01T00:00:00Z", "to": "2026-04-01T00:00:00+00:00"})["logs"] == []


def test_pages_cover_every_row_once_newest_first_across_days(client: TestClient, auth: Auth) -> None:
    now = datetime.now(UTC)
    moments = [now - timedelta(hours=7 * n + 1) for n in range(23)]  # ~7 days, several per day partition
    moments.append(moments[5])  # two rows in the same millisecond
    ids = write_rows("acme", moments) + write_rows("acme", moments[:6], "decision")
    window = {"from": iso_millis(now - timedelta(days=8)), "to": iso_millis(now)}
    for limit, kind in ((7, None), (1, None), (4, "decision"), (200, None)):
        seen: list[tuple[str, str, str]] = []
        cursor = None
        pages = 0
        while True:
            params = {
                **window,
                "limit": limit,
                **({"type": kind} if kind else {}),
                **({"cursor": cursor} if cursor else {}),
            }
            page = read(client, auth, **params)
            assert len(page["logs"]) <= limit
            seen.extend((r["created_at"], r["request_id"], r["type"]) for r in page["logs"])
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
        expected_count = 6 if kind == "decision" else len(ids)
        assert len(seen) == len(set(seen)) == expected_count, (limit, kind)
        assert seen == sorted(seen, key=lambda s: f"{s[0]}#{s[1]}#{s[2]}", reverse=True)
        assert pages == -(-expected_count // limit)  # no empty last page


def test_a_cursor_keeps_its_window_and_refuses_another(client: TestClient, auth: Auth) -> None:
    now = datetime.now(UTC)
    write_rows("acme", [now - timedelta(minutes=m) for m in (1, 2, 3)])
    first = read(client, auth, limit=2)
    assert first["next_cursor"]
    rest = read(client, auth, limit=2, cursor=first["next_cursor"])  # no from / to: the cursor's window
    assert [r["request_id"] for r in rest["logs"]] == ["r-sequence-002"] and rest["next_cursor"] is None
    # from / to sent again, as precisely as the first time (microseconds), are the cursor's own.
    window = {"from": (now - timedelta(hours=1, microseconds=5)).isoformat(), "to": now.isoformat()}
    assert read(client, auth, limit=2, **window)["next_cursor"]
    same = read(client, auth, limit=2, cursor=read(client, auth, limit=2, **window)["next_cursor"], **window)
    assert [r["request_id"] for r in same["logs"]] == ["r-sequence-002"]
    other = client.get(
        LOGS,
        params={"cursor": first["next_cursor"], "from": iso_millis(now - timedelta(hours=2))},
        headers=auth("acme", "manager"),
    )
    assert other.status_code == 400 and "cursor was issued for another query" in other.json()["detail"]
    other_type = client.get(
        LOGS, params={"cursor": first["next_cursor"], "type": "decision"}, headers=auth("acme", "root")
    )
    assert other_type.status_code == 400 and other_type.json()["data"] == {"parameter": "cursor"}


def test_expired_rows_are_hidden(client: TestClient, auth: Auth) -> None:
    table = dynamodb_table(get_settings().decisions_table)
    moment = datetime.now(UTC) - timedelta(hours=1)
    expired = RequestLogStore(table, ttl_days=0)  # expires when it is written: moto keeps it anyway
    expired.write("acme", RequestLog("sequence", "r-expired", moment, {"old": True}))
    write_rows("acme", [moment + timedelta(minutes=1)])
    key = {
        "pk": tenant_key("acme", "request-log", moment.strftime("%Y-%m-%d")),
        "sk": f"{iso_millis(moment)}#r-expired#sequence",
    }
    assert "Item" in table.get_item(Key=key)  # still stored
    assert [r["request_id"] for r in read(client, auth)["logs"]] == ["r-sequence-000"]


def test_large_sequence_data_round_trips_compressed(client: TestClient, auth: Auth) -> None:
    load_customer_shop("acme")
    notes = "the customer scrolled past the garden section again. " * 12_000  # ~650 kB of JSON text
    assert len(notes) > MAX_DATA_BYTES
    body = {"sequence_data": {"notes": notes}, "task": "product_recommendation", "template": "trending"}
    assert client.post("/api/recommend/recommend", json=body, headers=auth("acme")).status_code == 200
    sequence = read(client, auth, type="sequence")["logs"][0]
    assert sequence["data"]["sequence_data"] == {"notes": notes}


def test_tenants_read_only_their_own_logs(client: TestClient, auth: Auth) -> None:
    write_rows("tenant-a", [datetime.now(UTC) - timedelta(minutes=1)])
    assert [r["request_id"] for r in read(client, auth, "tenant-a")["logs"]] == ["r-sequence-000"]
    assert read(client, auth, "tenant-b")["logs"] == []


def test_sequence_data_too_large_to_log_even_compressed_is_413(client: TestClient, auth: Auth) -> None:
    noise = base64.b64encode(os.urandom(450_000)).decode()  # 600 kB that zlib cannot shrink below the limit
    body = {"sequence_data": {"noise": noise}, "task": "product_recommendation", "template": "trending"}
    response = client.post("/api/recommend/recommend", json=body, headers=auth("acme"))
    assert response.status_code == 413 and "cannot be logged" in response.json()["detail"]
    assert read(client, auth)["logs"] == []


def test_the_decision_row_says_when_trending_stood_in(client: TestClient, auth: Auth) -> None:
    load_customer_shop("acme")
    body = {"sequence_data": {"browsing_history": ["unknown-1"]}, "task": "product_recommendation"}
    response = client.post("/api/recommend/recommend", json={**body, "template": "personalized"}, headers=auth("acme"))
    assert response.status_code == 200
    decision = read(client, auth, type="decision")["logs"][0]["data"]
    assert decision["fallback"] == "trending" and decision["warnings"] == [
        "session with no recent events: trending items shown"
    ]
