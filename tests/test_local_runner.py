"""`make run` and `make token` as a user runs them, and the curl of the README and the guides in docs/, verbatim."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest

from local.aws import free_port
from local.template import ROOT
from local.tokens import LOCAL_AUDIENCE, LOCAL_ISSUER, ensure_keys

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]  # where the documented commands live


def runtime_env(**extra: str) -> dict[str, str]:
    pythonpath = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["pythonpath"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CONFIG_", "CATALOG_", "EVENTS_"))}
    env.update(PYTHONPATH=":".join(str(ROOT / p) for p in pythonpath), **extra)
    return env


@pytest.fixture(scope="module")
def runner_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The runner's working folder: its .local/ (store, endpoint file) is its own, not the checkout's."""
    return tmp_path_factory.mktemp("runner")


@pytest.fixture(scope="module")
def server(runner_dir: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "local.serve"],
        cwd=runner_dir,
        env=runtime_env(PORT=str(port)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180  # the demo tenant is loaded and trained before serving
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/openapi.json", timeout=1):
                break
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None:
                pytest.fail(f"make run exited: {process.stderr.read() if process.stderr else ''}")
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("the local server did not start within 180 s")
    yield base, process
    if process.poll() is None:
        process.kill()


def make_token(*args: str) -> list[str]:
    result = subprocess.run(
        ["make", "-s", "token", *args], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    return result.stdout.strip().splitlines()


def test_make_token_prints_a_valid_bearer_token_on_its_last_line() -> None:
    token = make_token("ROLES=manager,frontend", "TENANT=shop-7")[-1]
    jwks = ensure_keys()[1]
    key = jwt.PyJWKSet.from_dict(jwks).keys[0].key
    claims = jwt.decode(token, key, algorithms=["RS256"], audience=LOCAL_AUDIENCE, issuer=LOCAL_ISSUER)
    assert claims["tenant"] == "shop-7"
    assert claims["roles"] == ["manager", "frontend"]
    assert claims["exp"] - claims["iat"] == 3600


def readme_block(marker: str) -> tuple[str, dict[str, object]]:
    """The bash block after ``<!-- marker -->`` (in the README or a guide in docs/) and its documented JSON answer."""
    pattern = rf"<!-- {marker} -->\s*```bash\n(.*?)```\s*```json\n(.*?)```"
    found = [m for doc in DOCUMENTS if (m := re.search(pattern, doc.read_text(), re.S))]
    assert len(found) == 1, f"{len(found)} documents have a <!-- {marker} --> bash block followed by its JSON answer"
    return found[0].group(1), json.loads(found[0].group(2))


def run_readme_block(base: str, marker: str) -> tuple[dict[str, object], dict[str, object]]:
    script, documented = readme_block(marker)
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script.replace("http://127.0.0.1:3000", base)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=runtime_env(),
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1]), documented


def test_the_readme_curl_returns_the_documented_mock_response(server: tuple[str, subprocess.Popen[str]]) -> None:
    body, documented = run_readme_block(server[0], "try-it")
    assert str(body["rec_id"]).startswith("rec_")
    assert (
        body["items"]
        == documented["items"]
        == [
            {"id": "EC5792", "score": 0.75},
            {"id": "FC7890", "score": 0.5},
            {"id": "QW1234", "score": 0.25},
        ]
    )


def test_the_readme_curl_ranks_with_the_trained_demo_model(server: tuple[str, subprocess.Popen[str]]) -> None:
    body, documented = run_readme_block(server[0], "try-it-model")
    items, expected = body["items"], documented["items"]
    assert isinstance(items, list) and isinstance(expected, list)
    assert [i["id"] for i in items] == [i["id"] for i in expected]
    assert [i["score"] for i in items] == pytest.approx([i["score"] for i in expected], abs=1e-3)
    assert "sku-0101" not in [i["id"] for i in items]  # stock 0: demoted below every other candidate
    assert "fallback" not in body


def test_reco_local_evaluates_the_demo_model(server: tuple[str, subprocess.Popen[str]], runner_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "reco", "--local", "evaluate", "demo-als", "--k", "10"],
        cwd=runner_dir,
        capture_output=True,
        text=True,
        timeout=120,
        env=runtime_env(),
    )
    assert result.returncode == 0, result.stderr
    header, als = result.stdout.splitlines()[-2:]
    assert header.split()[:5] == ["recipe", "recall@10", "ndcg@10", "mrr@10", "coverage@10"]
    assert als.split()[0] == "als" and float(als.split()[1]) > 0.1


def test_the_readme_scenario_walkthrough_changes_a_live_recommendation(
    server: tuple[str, subprocess.Popen[str]],
) -> None:
    """Before, create, preview, set as default, after: each README block's answer, in order."""
    answers = {}
    for marker in ("scenario-before", "scenario-create", "scenario-preview", "scenario-default", "scenario-after"):
        body, documented = run_readme_block(server[0], marker)
        for key in ("items_id", "evaluated_scenarios", "warnings", "status"):
            assert body.get(key) == documented.get(key), (marker, key)
        answers[marker] = body
    before, after = answers["scenario-before"]["items_id"], answers["scenario-after"]["items_id"]
    assert before != after
    assert "sku-0242" in before and "sku-0242" not in after  # user-007 bought it: excluded by the default
    assert answers["scenario-preview"]["items_id"] == after  # the preview showed what the default now does


def test_the_readme_list_and_customer_examples_answer_as_documented(
    server: tuple[str, subprocess.Popen[str]],
) -> None:
    """Runs after the scenario walkthrough (whose default scenario the documented lists went through)."""
    answers = {}
    for marker in ("lists-context", "lists-single", "lists-pages", "lists-auto", "lists-item"):
        body, documented = run_readme_block(server[0], marker)
        answers[marker] = (body, documented)
    context, documented = answers["lists-context"]
    assert {k: context[k] for k in ("name", "filters", "excluded_viewed_items")} == {
        k: documented[k] for k in ("name", "filters", "excluded_viewed_items")
    }
    single, documented = answers["lists-single"]
    assert isinstance(single, dict) and isinstance(documented, dict)
    assert [(d["item_id"], d["summary"]) for d in single["data"]] == [
        (d["item_id"], d["summary"]) for d in documented["data"]
    ]
    assert [d["score"] for d in single["data"]] == pytest.approx([d["score"] for d in documented["data"]], abs=1e-3)
    assert all(d["price"] <= 100 for d in single["data"])
    for key in ("request_id", "excluded_viewed_items", "user_segments", "scenario", "pipeline_id"):
        assert single[key] == documented[key], key
    for marker in ("lists-pages", "lists-auto", "lists-item"):
        assert answers[marker][0] == answers[marker][1], marker
    pages = answers["lists-pages"][0]
    assert isinstance(pages, dict) and not set(pages["page_1"]) & set(pages["page_2"])

    recommended, documented = run_readme_block(server[0], "customer-recommend")
    assert isinstance(recommended, dict) and isinstance(documented, dict)
    results, expected = recommended["results"], documented["results"]
    assert [r["recommendation_id"] for r in results] == [r["recommendation_id"] for r in expected]
    assert [r["score"] for r in results] == pytest.approx([r["score"] for r in expected], abs=1e-3)
    logs, _ = run_readme_block(server[0], "customer-logs")
    assert isinstance(logs, dict)
    kinds = [(entry["request_id"], entry["type"]) for entry in logs["logs"]]
    assert kinds == [
        ("2b7e51c4-0000-4000-8000-000000000001", "decision"),
        ("2b7e51c4-0000-4000-8000-000000000001", "sequence"),
    ]
    assert logs["logs"][1]["data"]["sequence_data"]["channel"] == "newsletter"  # kept as sent


def test_the_readme_two_turn_chat_answers_as_documented(server: tuple[str, subprocess.Popen[str]]) -> None:
    first, documented_first = run_readme_block(server[0], "chat-first")
    second, documented_second = run_readme_block(server[0], "chat-second")
    assert isinstance(first, dict) and isinstance(second, dict)
    assert isinstance(documented_first, dict) and isinstance(documented_second, dict)
    assert [i["item_id"] for i in first["items"]] == [i["item_id"] for i in documented_first["items"]]
    assert [i["item_id"] for i in second["items"]] == [i["item_id"] for i in documented_second["items"]]
    assert first["message"] == documented_first["message"] and second["message"] == documented_second["message"]
    assert second["conversation_id"] == first["conversation_id"]
    assert not {i["item_id"] for i in first["items"]} & {i["item_id"] for i in second["items"]}
    assert all(float(i["price"]) < 50 for i in second["items"])


def test_the_runner_answers_like_api_gateway(server: tuple[str, subprocess.Popen[str]]) -> None:
    base, _ = server
    request = urllib.request.Request(
        f"{base}/v1/recommend", data=b"{}", method="POST", headers={"content-type": "application/json"}
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 401
    assert json.loads(caught.value.read()) == {"message": "Unauthorized"}


def test_ctrl_c_stops_cleanly_with_json_logs(server: tuple[str, subprocess.Popen[str]]) -> None:
    _, process = server
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "reco stopped" in stderr
    assert "http://127.0.0.1:" in stderr and "make token" in stderr
    access = [json.loads(line) for line in stdout.splitlines() if line.startswith('{"level"')]
    assert any(line["message"] == "request" and line["status"] == 200 for line in access)
