"""The documented form of the parameters that routes read themselves (reco.schemas.parameters).

Each pattern is what the served OpenAPI document says, and each is held to its promise against
the reader the route really uses: exact (accepted if and only if it matches) or necessary (every
accepted value matches, so a value outside it is a 4xx). Over HTTP, a value outside the pattern is a
4xx and, for the exact ones, a value inside it is not refused for that parameter.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reco.api.middleware import is_valid_request_id
from reco.customer.logs import _instant
from reco.errors import RecoError
from reco.lists.filters import parse_filter
from reco.scenarios.metadata_filters import parse_metadata_filter
from reco.scenarios.url_forms import parse_url_filter, parse_url_reranking
from reco.schemas.lists import context_number
from reco.schemas.parameters import (
    CONTEXT_ID_FORM,
    INSTANT_FORM,
    METADATA_FILTER_FORM,
    REQUEST_ID_FORM,
    SHORTHAND_FILTER_FORM,
    URL_FILTER_FORM,
    URL_RERANKING_FORM,
)
from tests.shop import load_shop

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))


def accepts(reader: Callable[[str], Any]) -> Callable[[str], bool]:
    def accepted(text: str) -> bool:
        try:
            reader(text)
        except RecoError:
            return False
        return True

    return accepted


def near(form: str, alphabet: str, max_size: int = 24) -> st.SearchStrategy[str]:
    """Values of the form, and text over the characters its grammar turns on (mostly not of it)."""
    return st.one_of(st.from_regex(form), st.text(alphabet=alphabet, max_size=max_size), st.text(max_size=8))


def request_id_accepted(text: str) -> bool:
    return text == "" or is_valid_request_id(text)  # empty: none (the route makes one)


# (form, reader's verdict, values to try): exact forms, matched if and only if accepted.
EXACT = {
    "context id": (CONTEXT_ID_FORM, accepts(context_number), near(CONTEXT_ID_FORM, "ctx_0123456789 \n")),
    "request id": (REQUEST_ID_FORM, request_id_accepted, near(REQUEST_ID_FORM, "aZ09._:=+-!/ \n")),
    "metadata filter": (
        METADATA_FILTER_FORM,
        accepts(parse_metadata_filter),
        near(METADATA_FILTER_FORM, 'ab.:\\eqlgtEQ5"[]{} \n'),
    ),
}
# Necessary forms: whatever the reader accepts matches.
NECESSARY = {
    "URL filter": (
        URL_FILTER_FORM,
        accepts(parse_url_filter),
        near(URL_FILTER_FORM, 'ab:eqinotmpyfrshNEQ[]"1, \n'),
    ),
    "URL reranking": (
        URL_RERANKING_FORM,
        accepts(parse_url_reranking),
        near(URL_RERANKING_FORM, "ab:diversityDIV0.5e-1 \n"),
    ),
    "shorthand filter": (
        SHORTHAND_FILTER_FORM,
        accepts(parse_filter),
        near(SHORTHAND_FILTER_FORM, "aAnNdDoOrR:=!<>~|\\x1. \n"),
    ),
    "instant": (
        INSTANT_FORM,
        accepts(lambda text: _instant("from", text)),
        near(INSTANT_FORM, "0123456789-:T.Z+ W"),
    ),
}


def matches(form: str, text: str) -> bool:
    """Whether ``text`` matches ``form`` as the document's readers (ECMA-262 validators) read it."""
    return bool(jsonschema_rs.validator_for({"type": "string", "pattern": form}).is_valid(text))


def python_matches(form: str, text: str) -> bool:
    """The same in Python's ``re``, whose ``$`` also matches before a final newline: ``\\Z`` does not."""
    assert form.endswith("$") and form.count("$") == 1
    return re.search(form[:-1] + r"\Z", text) is not None


@pytest.mark.parametrize("name", sorted(EXACT))
def test_an_exact_form_matches_what_its_reader_accepts(name: str) -> None:
    form, accepted, values = EXACT[name]

    @FUZZ
    @given(values)
    def agree(text: str) -> None:
        assert matches(form, text) == accepted(text), text

    agree()


@pytest.mark.parametrize("name", sorted(NECESSARY))
def test_a_necessary_form_matches_everything_its_reader_accepts(name: str) -> None:
    form, accepted, values = NECESSARY[name]

    @FUZZ
    @given(values)
    def necessary(text: str) -> None:
        if accepted(text):
            assert matches(form, text), text

    necessary()


@pytest.mark.parametrize("name", sorted({**EXACT, **NECESSARY}))
def test_the_document_reads_each_form_as_python_does(name: str) -> None:
    """ECMA-262 (validators, generators) and Python read each form alike: one pattern serves both."""
    form, _, values = {**EXACT, **NECESSARY}[name]

    @FUZZ
    @given(values)
    def agree(text: str) -> None:
        assert matches(form, text) == python_matches(form, text), text

    agree()


@pytest.mark.parametrize(
    ("name", "valid", "invalid"),
    [
        ("context id", ["101", "ctx_101", "0"], ["abc", "ctx_", " 101", "101 ", "1" * 19, "ctx-1", "-1"]),
        ("request id", ["", "3f2c8a8e-5d7b-4c55-9c2d-2a0e1c7f9b10", "JKJaXmPLvHcESHA="], ["a b", "x/y", "a" * 129]),
        (
            "metadata filter",
            ["a:eq:1", "configs.level:GTE:5", "a\\.b:eq:x", "a:lt:"],
            ["a", "a:eq", ".a:eq:1", "a:ne:1"],
        ),
        ("URL filter", ["year:gte:1990", "tags:notempty", 'genre:in:["a"]'], ["year", "year:between:1", ":eq:1"]),
        ("URL reranking", ["genre:diversity", "genre:DIVERSITY:0.5"], ["genre", "genre:diversity:x", ":diversity"]),
        ("shorthand filter", ["category:books", "OR:price>=10", "a:x|y"], ["", "and:", "category", "a:x|", "a>x|y"]),
        ("instant", ["2026-05-01T12:00:00Z", "2026-05-01T12:00:00+02:00"], ["yesterday", "2026-05-01T12:00:00"]),
    ],
)
def test_examples_of_each_form(name: str, valid: list[str], invalid: list[str]) -> None:
    form, accepted, _ = {**EXACT, **NECESSARY}[name]
    assert [text for text in valid if not (matches(form, text) and accepted(text))] == []
    assert [text for text in invalid if matches(form, text) or accepted(text)] == []


# --- the served document and the routes ----------------------------------------------------------

# (method, path, parameter, form): each tightened parameter, where the document states its form.
DOCUMENTED = [
    ("get", "/v1/contexts/{context_id}", "context_id", CONTEXT_ID_FORM),
    ("put", "/v1/contexts/{context_id}", "context_id", CONTEXT_ID_FORM),
    ("delete", "/v1/contexts/{context_id}", "context_id", CONTEXT_ID_FORM),
    ("get", "/v1/recommendations", "context_id", CONTEXT_ID_FORM),
    ("get", "/v1/recommendations", "request_id", REQUEST_ID_FORM),
    ("get", "/v1/recommendations", "requestId", REQUEST_ID_FORM),
    ("get", "/v1/recommendations", "filter", SHORTHAND_FILTER_FORM),
    ("get", "/v1/recommendations", "filters", SHORTHAND_FILTER_FORM),
    ("get", "/recommendation/items/{item_id}/items/", "filters", URL_FILTER_FORM),
    ("get", "/recommendation/items/{item_id}/items/", "reranking", URL_RERANKING_FORM),
    ("get", "/recommendation/users/{user_id}/items/", "filters", URL_FILTER_FORM),
    ("get", "/recommendation/users/{user_id}/items/", "reranking", URL_RERANKING_FORM),
    ("get", "/scenarios/", "metadata_filters", METADATA_FILTER_FORM),
    ("get", "/api/recommend/logs", "from", INSTANT_FORM),
    ("get", "/api/recommend/logs", "to", INSTANT_FORM),
]


def _string_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The string schema of a parameter: itself, its non-null alternative, or its items."""
    for option in schema.get("anyOf", [schema]):
        if option.get("type") == "array":
            return dict(option["items"])
        if option.get("type") == "string":
            return option
    raise AssertionError(f"no string in {schema}")


def test_the_document_states_each_form(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    for method, path, name, form in DOCUMENTED:
        (parameter,) = [p for p in document["paths"][path][method]["parameters"] if p["name"] == name]
        schema = _string_schema(parameter["schema"])
        assert (schema["pattern"], schema["type"]) == (form, "string"), (method, path, name)
        assert schema["maxLength"] > 0


def test_a_context_id_outside_the_form_is_a_400_and_inside_it_is_looked_up(client: TestClient, auth: Any) -> None:
    headers = auth("acme", "manager")
    for bad in ("abc", "ctx_", "1.5", "1" * 19):
        for method in ("GET", "DELETE"):
            answer = client.request(method, f"/v1/contexts/{bad}", headers=headers)
            assert (answer.status_code, answer.json()["data"]) == (400, {"parameter": "context_id"}), bad
        answer = client.get("/v1/recommendations", params={"context_id": bad, "user_id": "u1"}, headers=headers)
        assert (answer.status_code, answer.json()["data"]["parameter"]) == (400, "context_id"), bad
    for good in ("101", "ctx_101", "000000000000000007"):
        answer = client.get(f"/v1/contexts/{good}", headers=headers)
        assert (answer.status_code, answer.json()["code"]) == (404, "CONTEXT_NOT_FOUND"), good
    written = client.put("/v1/contexts/ctx_7", json={"name": "Home"}, headers=headers)
    assert (written.status_code, written.json()["id"]) == (200, "7")


def test_query_forms_over_http(client: TestClient, auth: Any) -> None:
    load_shop("acme")
    headers = auth("acme", "root")
    cases = [
        ("/recommendation/users/u1/items/", {"filters": "genre:eq:rock"}, 200),
        ("/recommendation/users/u1/items/", {"filters": "genre"}, 400),
        ("/recommendation/users/u1/items/", {"reranking": "genre:diversity:0.5"}, 200),
        ("/recommendation/items/i1/items/", {"reranking": "genre:diversity:zero"}, 400),
        ("/scenarios/", {"metadata_filters": "team:eq:search"}, 200),
        ("/scenarios/", {"metadata_filters": "team"}, 400),
        ("/v1/recommendations", {"user_id": "u1", "filter": "genre:rock"}, 200),
        ("/v1/recommendations", {"user_id": "u1", "filter": "genre"}, 400),
        ("/v1/recommendations", {"user_id": "u1", "request_id": "req-1"}, 200),
        ("/v1/recommendations", {"user_id": "u1", "request_id": "req 1"}, 400),
        ("/api/recommend/logs", {"from": "yesterday"}, 400),
    ]
    got = [(path, params, client.get(path, params=params, headers=headers).status_code) for path, params, _ in cases]
    assert got == cases
