"""Session recipes end to end: defined and trained over HTTP, served for a session by every route that takes one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reco.ingestion import ingest_events, ingest_items
from reco.services.launcher import training_launcher
from reco.stores.catalog import catalog_store
from reco.stores.events import event_store

Auth = Callable[..., dict[str, str]]
N_ITEMS, PATH = 30, 6
START = datetime.now(UTC) - timedelta(days=3)


def item(n: int) -> str:
    return f"sku-{n:02d}"


def shop_sessions(n_sessions: int = 120) -> list[dict[str, Any]]:
    """Anonymous sessions walking a chain of items: whoever looks at sku-k looks at sku-(k+1) next."""
    events = []
    for s in range(n_sessions):
        first = (s * 7) % (N_ITEMS - PATH)
        for step in range(PATH):
            at = START + timedelta(minutes=10 * s, seconds=20 * step)
            events.append(
                {
                    "event_id": f"e-{s}-{step}",
                    "session_id": f"visit-{s}",
                    "item_id": item(first + step),
                    "type": "view",
                    "timestamp": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
            )
    return events


@pytest.fixture
def sessions_shop(client: TestClient) -> Iterator[TestClient]:
    items = [{"id": item(n), "properties": {"title": f"Item {n}", "stock": 5}} for n in range(N_ITEMS)]
    assert not ingest_items("acme", items, catalog_store()).rejected
    assert not ingest_events("acme", shop_sessions(), event_store(), bulk=True).rejected
    yield client


def train(client: TestClient, auth: Auth, model_id: str, recipe: str) -> dict[str, Any]:
    manager = auth("acme", "manager")
    defined = client.put(
        f"/v1/models/{model_id}", json={"recipe": recipe, "event_weights": {"view": 1}}, headers=manager
    )
    assert defined.status_code == 200, defined.text
    assert defined.json()["params"] == client.get(f"/v1/models/{model_id}", headers=manager).json()["params"]
    accepted = client.post(f"/v1/models/{model_id}/train", headers=manager)
    assert accepted.status_code == 202, accepted.text
    training_launcher().wait()  # type: ignore[attr-defined]
    view = client.get(f"/v1/models/{model_id}", headers=manager).json()
    assert view["status"] == "ready", view
    return dict(view)


def click(client: TestClient, auth: Auth, session: str, *items: str) -> None:
    now = datetime.now(UTC)
    body = [
        {
            "session_id": session,
            "item_id": i,
            "type": "view",
            "timestamp": (now - timedelta(seconds=10 * (len(items) - k))).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        for k, i in enumerate(items)
    ]
    response = client.post("/v1/events", json={"events": body}, headers=auth())
    assert response.status_code in (200, 202), response.text


@pytest.mark.parametrize("recipe", ["sequential_rules", "session_knn"])
def test_a_session_recipe_serves_the_next_item_of_a_live_session(
    sessions_shop: TestClient, auth: Auth, recipe: str
) -> None:
    view = train(sessions_shop, auth, "next", recipe)
    assert view["recipe"] == recipe and view["versions"][0]["metrics"]["n_users"] == 120
    click(sessions_shop, auth, "live-1", item(3), item(4))  # a session the model has never seen

    candidates = [item(n) for n in range(N_ITEMS)]
    ranked = sessions_shop.post(
        "/v1/recommend", json={"model_id": "next", "session_id": "live-1", "item_ids": candidates}, headers=auth()
    )
    assert ranked.status_code == 200, ranked.text
    body = ranked.json()
    assert "fallback" not in body
    top = [entry["id"] for entry in body["items"]]
    assert item(5) in top[:2]  # what follows sku-04 on the chain

    listed = sessions_shop.post(
        "/recommendation/sessions/items/", json={"session_id": "live-1", "amt": 3}, headers=auth()
    )
    assert listed.status_code == 200, listed.text
    assert item(5) in listed.json()["items_id"]
    assert listed.json()["evaluated_scenarios"]["reco_type"] == "session_to_items"

    # The body's interactions are a session too, read in their order: the newest decides.
    sent = [{"item_id": item(10), "interaction_type": "view"}, {"item_id": item(11), "interaction_type": "view"}]
    by_body = sessions_shop.post(
        "/recommendation/sessions/items/", json={"interactions": sent, "amt": 3}, headers=auth()
    )
    assert by_body.status_code == 200, by_body.text
    assert item(12) in by_body.json()["items_id"]

    page = sessions_shop.get("/v1/recommendations", params={"session_id": "live-1", "limit": 3}, headers=auth())
    assert page.status_code == 200, page.text
    assert item(5) in [entry["item_id"] for entry in page.json()["recommendations"]]


def test_the_order_of_a_session_changes_what_sequential_rules_serve(sessions_shop: TestClient, auth: Auth) -> None:
    train(sessions_shop, auth, "next", "sequential_rules")
    click(sessions_shop, auth, "forward", item(8), item(9))
    click(sessions_shop, auth, "backward", item(9), item(8))
    candidates = [item(n) for n in range(N_ITEMS)]

    def first(session: str) -> str:
        body = {"model_id": "next", "session_id": session, "item_ids": candidates}
        response = sessions_shop.post("/v1/recommend", json=body, headers=auth())
        assert response.status_code == 200, response.text
        return str(response.json()["items"][0]["id"])

    assert first("forward") == item(10)
    assert first("backward") == item(
        9
    )  # after sku-08 comes sku-09 (already seen; /v1/recommend ranks what it is given)
