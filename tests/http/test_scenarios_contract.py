from tests.shop import load_shop, shop_events
import json, time

def test_smoke(client, auth):
    h = auth("acme", "backend")
    load_shop("acme")
    def show(r):
        print(r.status_code, json.dumps(r.json())[:1500], r.headers.get("cache-control"))
    show(client.get("/recommendation/users/u0/items/?amt=64", headers=h))
    show(client.get("/recommendation/users/123456789/items/?amt=64", headers=h))
    show(client.get("/recommendation/users/u0/items/?amt=20&filters=genre:eq:rock&filters=year:gte:2000", headers=h))
    show(client.get("/recommendation/items/i0/items/?amt=64", headers=h))
    show(client.get("/recommendation/items/i0/items/?amt=64&filters=colour:eq:red", headers=h))
    show(client.get("/recommendation/items/i0/items/?amt=64&filters=price:eq:3.5", headers=h))
    show(client.get("/recommendation/items/i0/items/?amt=64&filters=year:gte:abc", headers=h))
    show(client.get("/recommendation/items/i0/items/?amt=65", headers=h))
    show(client.post("/recommendation/sessions/items/", json={"interactions": [{"item_id": "i1", "interaction_type": "view"}], "ratings": [{"item_id": "i1", "rating": 3}]}, headers=h))
    show(client.post("/recommendation/sessions/items/", json={"session_id": "s9"}, headers=h))
    show(client.post("/recommendation/sessions/items/", json={"ratings": [{"item_id": "i1", "rating": 3}]}, headers=h))
    show(client.post("/recommendation/generic/items/", json={"user_id": "u1"}, headers=h))
    print([ (e["item_id"], e["type"]) for e in shop_events() if e["user_id"] == "u0"])
    assert 0
