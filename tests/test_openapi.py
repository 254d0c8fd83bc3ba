from __future__ import annotations

import json

from fastapi.testclient import TestClient

from local.openapi import openapi_document
from local.template import ROOT


def test_committed_openapi_matches_the_app(client: TestClient) -> None:
    committed = json.loads((ROOT / "docs/openapi.json").read_text())
    served = client.get("/openapi.json").json()
    assert served == committed, "docs/openapi.json is stale: run `make openapi`"
    assert json.loads(openapi_document()) == committed
