"""Tenant isolation cases for the model registry and training routes."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from reco.services.launcher import training_launcher

Auth = Callable[..., dict[str, str]]


def _define(client: TestClient, auth: Auth, tenant: str, model_id: str, recipe: str) -> None:
    response = client.put(f"/v1/models/{model_id}", json={"recipe": recipe}, headers=auth(tenant, "manager"))
    assert response.status_code == 200, response.text


def put_model_isolation(client: TestClient, auth: Auth) -> None:
    """B defining A's model id creates B's own model; A's stays as it was."""
    _define(client, auth, "tenant-a", "iso-model", "als")
    _define(client, auth, "tenant-b", "iso-model", "ease")
    a = client.get("/v1/models/iso-model", headers=auth("tenant-a", "manager")).json()
    b = client.get("/v1/models/iso-model", headers=auth("tenant-b", "manager")).json()
    assert (a["recipe"], b["recipe"]) == ("als", "ease")


def get_model_isolation(client: TestClient, auth: Auth) -> None:
    _define(client, auth, "tenant-a", "only-a", "als")
    response = client.get("/v1/models/only-a", headers=auth("tenant-b", "backend"))
    assert response.status_code == 404
    assert response.json()["detail"] == "model not found: 'only-a'"


def list_models_isolation(client: TestClient, auth: Auth) -> None:
    _define(client, auth, "tenant-a", "listed-a", "als")
    _define(client, auth, "tenant-b", "listed-b", "als")
    names_b = [m["model_id"] for m in client.get("/v1/models", headers=auth("tenant-b", "backend")).json()["models"]]
    assert "listed-b" in names_b
    assert "listed-a" not in names_b


def train_model_isolation(client: TestClient, auth: Auth) -> None:
    """B cannot train A's model, and A's events do not count as B's: 404 / 409, never a run."""
    _define(client, auth, "tenant-a", "train-a", "popularity")
    event = {"event_id": "iso-e1", "user_id": "u1", "item_id": "i1", "type": "view"}
    assert client.post("/v1/events", json={"events": [event]}, headers=auth("tenant-a", "backend")).status_code == 200
    assert client.post("/v1/models/train-a/train", headers=auth("tenant-b", "backend")).status_code == 404
    _define(client, auth, "models-b", "train-b", "popularity")
    no_events = client.post("/v1/models/train-b/train", headers=auth("models-b", "backend"))
    assert no_events.status_code == 409
    assert no_events.json()["code"] == "NO_TRAINING_DATA"
    training_launcher().wait()  # type: ignore[attr-defined]
    assert client.get("/v1/models/train-a", headers=auth("tenant-a", "backend")).json()["status"] == "untrained"


MODEL_CASES: dict[tuple[str, str], Callable[[TestClient, Auth], None]] = {
    ("PUT", "/v1/models/{model_id}"): put_model_isolation,
    ("GET", "/v1/models/{model_id}"): get_model_isolation,
    ("GET", "/v1/models"): list_models_isolation,
    ("POST", "/v1/models/{model_id}/train"): train_model_isolation,
}
