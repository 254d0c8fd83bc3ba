"""`make run` and `make token` as a user runs them, and the README's curl, verbatim."""

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

import jwt
import pytest

from local.aws import free_port
from local.template import ROOT
from local.tokens import LOCAL_AUDIENCE, LOCAL_ISSUER, ensure_keys


def runtime_env(**extra: str) -> dict[str, str]:
    pythonpath = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["pythonpath"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CONFIG_", "CATALOG_", "EVENTS_"))}
    env.update(PYTHONPATH=":".join(str(ROOT / p) for p in pythonpath), **extra)
    return env


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "local.serve"],
        cwd=ROOT,
        env=runtime_env(PORT=str(port)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
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
        pytest.fail("the local server did not start within 60 s")
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


def test_the_readme_curl_returns_the_documented_mock_response(server: tuple[str, subprocess.Popen[str]]) -> None:
    base, _ = server
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- try-it -->\s*```bash\n(.*?)```", readme, re.S)
    assert block, "README.md has no <!-- try-it --> bash block"
    script = block.group(1).replace("http://127.0.0.1:3000", base)
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=runtime_env(),
    )
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout.strip().splitlines()[-1])
    assert body["rec_id"].startswith("rec_")
    assert body["items"] == [
        {"id": "EC5792", "score": 0.75},
        {"id": "FC7890", "score": 0.5},
        {"id": "QW1234", "score": 0.25},
    ]


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
