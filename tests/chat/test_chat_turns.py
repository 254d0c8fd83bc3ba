"""POST /v1/chat over the demo tenant: the reference's example, conversations across calls, personalisation,
the chat_to_items default scenario and the decision each turn logs."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from local.tokens import issue_token
from reco.stores.catalog import catalog_store
from reco.stores.conversations import conversation_store
from reco.stores.decisions import decision_store

TENANT = "demo"
# chat-api.txt's example request, as written there.
EXAMPLE = {
    "message": "Which desk would you recommend for heavy tools?",
    "conversation_id": "c8a7d9f6-e4b1-42d3-8c2e-5a8d4f31b96f",
    "session_id": "2f396d29-fb98-44cf-996c-e8c66fc02fbe",
    "user_id": "u8a7d9f6",
    "events": [
        {
            "timestamp": "2024-06-14T10:00:00Z",
            "type": "browse",
            "item_id": "ST678VG",
            "description": "Viewed workshop desk details page",
        },
        {
            "timestamp": "2024-06-14T10:03:00Z",
            "type": "click",
            "item_id": "ST678VG",
            "description": "Clicked on product image",
        },
    ],
}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def client(demo_client: TestClient) -> TestClient:
    """The demo tenant (tests/chat/conftest.py), loaded once for the chat tests."""
    return demo_client


def headers(*roles: str, request_id: str | None = None) -> dict[str, str]:
    token = issue_token(TENANT, list(roles) or ["frontend"])
    return {"Authorization": f"Bearer {token}", "X-Request-Id": request_id or f"t-{uuid.uuid4().hex}"}


def chat(client: TestClient, message: str, conversation_id: str | None = None, **body: Any) -> dict[str, Any]:
    payload = {"message": message, **body, **({"conversation_id": conversation_id} if conversation_id else {})}
    response = client.post("/v1/chat", json=payload, headers=headers())
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def categories(answer: dict[str, Any]) -> list[str]:
    found = catalog_store().get_items(TENANT, [item["item_id"] for item in answer["items"]])
    return [str(found[item["item_id"]].properties["category"]) for item in answer["items"]]


# The reference's example


def test_the_example_request_as_written_starts_a_conversation_under_its_id(client: TestClient) -> None:
    # Its conversation_id is one this server has never seen: ids the caller chooses are normal.
    response = client.post("/v1/chat", json=EXAMPLE, headers=headers(request_id="example-new-id"))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["conversation_id"] == EXAMPLE["conversation_id"]
    assert categories(answer) == ["desks"] * 4
    again = client.post("/v1/chat", json={**EXAMPLE, "message": "a cheaper one"}, headers=headers())
    assert again.status_code == 200 and again.json()["conversation_id"] == EXAMPLE["conversation_id"]
    stored = conversation_store().get(TENANT, str(EXAMPLE["conversation_id"]))
    assert stored is not None and [t.message for t in stored.turns] == [EXAMPLE["message"], "a cheaper one"]
    assert (stored.user_id, stored.session_id, stored.subject) == (
        EXAMPLE["user_id"],
        EXAMPLE["session_id"],
        "local-user",
    )


def test_the_example_request_starts_a_conversation_about_desks(client: TestClient) -> None:
    body = {k: v for k, v in EXAMPLE.items() if k != "conversation_id"}
    response = client.post("/v1/chat", json=body, headers=headers())
    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer) == {"conversation_id", "message", "items"}
    assert UUID.match(answer["conversation_id"])
    assert len(answer["items"]) == 4  # the default limit
    assert categories(answer) == ["desks"] * 4  # desks, though "heavy" also matches heavy-duty skillets
    for item in answer["items"]:
        assert set(item) == {"item_id", "title", "status", "description", "price"}
        assert re.fullmatch(r"\d+\.\d{2}", item["price"]) and item["status"] in ("active", "out_of_stock")
        assert isinstance(item["title"], str) and isinstance(item["description"], str)
    assert answer["items"][0]["title"] in answer["message"]
    stored = conversation_store().get(TENANT, answer["conversation_id"])
    assert stored is not None
    assert (stored.user_id, stored.session_id) == (EXAMPLE["user_id"], EXAMPLE["session_id"])
    assert stored.turns[0].constraints["include"] == {"category": ["desks"]}


@pytest.mark.parametrize("limit", [1, 7, 20])
def test_limit_bounds_the_items(client: TestClient, limit: int) -> None:
    answer = chat(client, "books", limit=limit)
    assert len(answer["items"]) == limit and categories(answer) == ["books"] * limit


# Conversations across calls


def test_constraints_carry_over_and_start_over_resets(client: TestClient) -> None:
    first = chat(client, "books")
    conversation_id = first["conversation_id"]
    for message in ("under $20", "for kids", "not picture books"):
        assert chat(client, message, conversation_id)["conversation_id"] == conversation_id
    stored = conversation_store().get(TENANT, conversation_id)
    assert stored is not None and [t.number for t in stored.turns] == [1, 2, 3, 4]
    constraints = [t.constraints for t in stored.turns]
    assert [c["include"] for c in constraints] == [
        {"category": ["books"]},
        {"category": ["books"]},
        {"category": ["books"], "audience": ["kids"]},
        {"category": ["books"], "audience": ["kids"]},
    ]
    assert [c["max_price"] for c in constraints] == [None, 20.0, 20.0, 20.0]
    assert constraints[3]["exclude_words"] == ["picture"] and constraints[3]["recipient"] == "kid"
    assert [t.message for t in stored.turns] == ["books", "under $20", "for kids", "not picture books"]
    shown = [item for turn in stored.turns for item in turn.items]
    assert len(shown) == len(set(shown))

    reset = chat(client, "start over", conversation_id)
    assert reset["items"] == [] and reset["message"].endswith("?")
    fresh = chat(client, "lamps", conversation_id)
    assert categories(fresh) == ["lamps"] * 4
    stored = conversation_store().get(TENANT, conversation_id)
    assert stored is not None and [t.number for t in stored.turns] == [1, 2, 3, 4, 5, 6]
    assert stored.turns[5].constraints["include"] == {"category": ["lamps"]}
    assert stored.turns[5].constraints["max_price"] is None and stored.turns[5].constraints["exclude_words"] == []


def test_a_second_conversation_is_independent(client: TestClient) -> None:
    one = chat(client, "kitchen things")
    two = chat(client, "kitchen things")
    assert two["conversation_id"] != one["conversation_id"]
    assert two["items"] == one["items"]  # what one conversation showed does not hide it from another
    chat(client, "under $50", two["conversation_id"])
    more = chat(client, "something else", one["conversation_id"])
    first, second = (conversation_store().get(TENANT, c) for c in (one["conversation_id"], two["conversation_id"]))
    assert first is not None and second is not None
    assert [t.message for t in first.turns] == ["kitchen things", "something else"]
    assert first.turns[1].constraints["max_price"] is None  # the other conversation's "under $50" stays there
    assert second.turns[1].constraints["max_price"] == 50.0
    assert not {i["item_id"] for i in more["items"]} & {i["item_id"] for i in one["items"]}


# Personalisation


def test_shoppers_with_other_tastes_get_other_orders(client: TestClient) -> None:
    """ "a gift" ties on relevance: the shopper's history orders the gifts (user-002 likes toys most)."""
    anonymous = chat(client, "a gift", limit=8)
    toys_fan = chat(client, "a gift", user_id="user-002", limit=8)
    books_fan = chat(client, "a gift", user_id="user-007", limit=8)
    orders = [[i["item_id"] for i in answer["items"]] for answer in (anonymous, toys_fan, books_fan)]
    assert len({tuple(order) for order in orders}) == 3
    assert categories(toys_fan).count("toys") > categories(anonymous).count("toys")
    assert categories(books_fan).count("books") > categories(toys_fan).count("books")


def test_request_events_fold_into_the_ranking(client: TestClient) -> None:
    anonymous = chat(client, "a gift", limit=8)
    books = ("sku-0365", "sku-0349", "sku-0265", "sku-0242")
    events = [{"timestamp": "2026-10-31T10:00:00+00:00", "type": "purchase", "item_id": i} for i in books]
    informed = chat(client, "a gift", events=events, limit=8)
    assert categories(informed).count("books") > categories(anonymous).count("books")


# The tenant's chat_to_items default scenario


def test_the_default_chat_scenario_filters_every_turn(client: TestClient) -> None:
    manager = headers("manager")
    scenario = {
        "scenario_type": "case",
        "case": {"filters": [{"property_name": "color", "op": "eq", "value": "black"}]},
    }
    assert client.put("/scenarios/chat_to_items/black-only/", json=scenario, headers=manager).status_code == 200
    patched = client.patch("/scenarios-default/chat_to_items/", json={"name": "black-only"}, headers=manager)
    assert patched.status_code == 204, patched.text
    try:
        for message in ("a gift", "jackets", "something for my dad"):
            answer = chat(client, message, limit=6)
            assert answer["items"], message
            found = catalog_store().get_items(TENANT, [i["item_id"] for i in answer["items"]])
            assert {found[i["item_id"]].properties["color"] for i in answer["items"]} == {"black"}, message
        request_id = "chat-scenario-1"
        response = client.post("/v1/chat", json={"message": "books"}, headers=headers(request_id=request_id))
        decision = decision_store().get(TENANT, request_id)
        assert decision is not None and response.status_code == 200
        assert "black-only" in str(decision["context"]["evaluated_scenarios"])
    finally:
        assert client.delete("/scenarios-default/chat_to_items/", headers=manager).status_code == 204
    unfiltered = chat(client, "jackets", limit=8)
    found = catalog_store().get_items(TENANT, [i["item_id"] for i in unfiltered["items"]])
    assert {found[i["item_id"]].properties["color"] for i in unfiltered["items"]} != {"black"}


# Decisions


def test_each_turn_is_logged_as_a_decision_under_its_request_id(client: TestClient) -> None:
    conversation_id: str | None = None
    for number, message in enumerate(("headphones", "wireless ones", "hi"), start=1):
        request_id = f"chat-decision-{number}"
        body = {"message": message, "user_id": "user-006"}
        if conversation_id is not None:
            body["conversation_id"] = conversation_id
        response = client.post("/v1/chat", json=body, headers=headers(request_id=request_id))
        assert response.status_code == 200 and response.headers["x-request-id"] == request_id
        answer = response.json()
        conversation_id = answer["conversation_id"]
        decision = decision_store().get(TENANT, request_id)
        assert decision is not None
        assert decision["endpoint"] == "chat"
        assert decision["items"] == [item["item_id"] for item in answer["items"]]
        assert len(decision["scores"]) == len(decision["items"])
        assert decision["user_id"] == "user-006" and decision["model_id"] == "demo-als"
        assert decision["context"]["conversation_id"] == conversation_id
        assert decision["context"]["turn"] == number
    assert decision["items"] == []  # "hi": a question, and an empty decision
