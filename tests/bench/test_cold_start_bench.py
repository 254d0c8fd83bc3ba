"""bench/cold_start.py: one real cold start (the catalog function against a moto server) and the table's rules."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from bench.cold_start import (
    Case,
    Row,
    Sample,
    evaluate,
    function_events,
    lambda_environment,
    markdown_table,
    spawn,
)
from local.aws import free_port, provision_resources
from local.template import ROOT, functions
from reco.stores.aws import reset_clients


@pytest.fixture
def moto_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto server on a free port, with the template's tables and bucket; this process's boto3 points at it."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    reset_clients()
    try:
        provision_resources()
        yield endpoint
    finally:
        reset_clients()
        server.stop()


def test_a_cold_start_of_the_catalog_function_reports_a_consistent_split(moto_endpoint: str, tmp_path: Path) -> None:
    from reco.ingestion import ingest_items
    from reco.stores.catalog import catalog_store

    assert not ingest_items("demo", [{"id": "sku-0001", "properties": {"price": 9.99}}], catalog_store()).rejected
    spec = next(s for s in functions() if s.code_uri.name == "catalog")
    handler = f"{spec.module}.{spec.attribute}"
    event_path = tmp_path / "catalog.json"
    event_path.write_text(json.dumps(function_events("demo-als")["catalog"][1]))
    (tmp_path / "home").mkdir()
    env = lambda_environment(spec.logical_id, spec.code_uri, handler, 1024, moto_endpoint, tmp_path / "home")
    # The venv's site-packages (site=True): the bench's own layer folder takes a pip install to build.
    case = Case(
        "catalog", "catalog-get-item", handler, spec.code_uri, (spec.code_uri, ROOT / "layers/core"), env, event_path
    )

    sample = spawn(case, site=True)

    assert sample.status == 200
    assert sample.python is not None and sample.init is not None and sample.request is not None
    assert 0 < sample.python < sample.init
    assert sample.request > 0
    assert sample.total >= sample.init + sample.request
    assert sample.total < 60


def test_targets_are_three_hello_worlds_and_the_large_models_first_request() -> None:
    def row(label: str, total: float, request: float, status: object = 200) -> Row:
        return Row(label, "e", [Sample(total=total, python=0.01, init=total - request, request=request, status=status)])

    rows = [
        row("hello", 0.3, 0.01),
        row("fast", 0.89, 0.2),
        row("slow", 0.91, 0.2),
        row("large", 2.0, 0.59),
        row("broken", 0.5, 0.1, status=500),
    ]
    evaluate(rows, "hello", ("large",), ("hello",))
    verdicts = {r.label: r.passed for r in rows}
    assert verdicts == {"hello": None, "fast": True, "slow": False, "large": True, "broken": False}
    assert rows[1].target == "total ≤ 0.90 s (3 x hello)"
    table = markdown_table(rows)
    assert "| fast | e | 0.010 | 0.690 | 0.200 | 0.890 | 0.890-0.890 | total ≤ 0.90 s (3 x hello) | PASS |" in table
    assert "| hello | e |" in table and "| — | |" not in table


def test_a_row_reports_medians_and_the_spread_of_its_runs() -> None:
    samples = [Sample(total=t, init=t / 2, request=0.1, status="ready") for t in (1.0, 3.0, 2.0, 5.0, 4.0)]
    row = Row("train", "invoke", samples)
    assert row.median("total") == 3.0
    assert row.median("init") == 1.5
    assert row.median("python") is None
    assert row.spread() == (1.0, 5.0)


def test_the_floor_row_needs_no_handler(tmp_path: Path) -> None:
    env = lambda_environment("Pass", tmp_path, "", 1024, "http://127.0.0.1:9", tmp_path)
    sample = spawn(Case("python -c pass", "—", "", tmp_path, (), env), site=True)
    assert sample.status == 200 and 0 < sample.total < 30 and sample.init is None
