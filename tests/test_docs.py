"""``/docs`` works offline, and the served OpenAPI document declares the bearer token its routes need."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from local.template import routes


def test_docs_page_loads_swagger_ui_from_the_runner_itself(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "http://" not in page.text and "https://" not in page.text and "//cdn" not in page.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sorted(assets) == [
        "/docs/assets/favicon-32x32.png",
        "/docs/assets/swagger-ui-bundle.js",
        "/docs/assets/swagger-ui.css",
    ]
    for asset in assets:  # no token needed, like the page itself
        answer = client.get(asset)
        assert answer.status_code == 200, asset
        assert len(answer.content) > 500, asset
    script = client.get("/docs/assets/swagger-ui-bundle.js")
    assert "javascript" in script.headers["content-type"] and "SwaggerUIBundle" in script.text
    assert "url: '/openapi.json'" in page.text
    assert client.get("/docs/assets/nothing-here.js").status_code == 404


def test_openapi_declares_the_bearer_token_on_every_route_that_needs_one(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    schemes = document.get("components", {}).get("securitySchemes", {})
    assert {name: (s["type"], s["scheme"], s["bearerFormat"]) for name, s in schemes.items()} == {
        "bearerAuth": ("http", "bearer", "JWT")
    }
    operations = {
        (method.upper(), path): operation
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    }
    assert set(operations) == {(route.method, route.path) for route in routes()}
    for key, operation in operations.items():
        assert operation.get("security") == [{"bearerAuth": []}], key

    # ... and each of them does need one: the gateway answers 401 without it.
    for method, path in operations:
        concrete = re.sub(r"\{[^/]+\}", "x", path)
        assert client.request(method, concrete).status_code == 401, (method, path)
