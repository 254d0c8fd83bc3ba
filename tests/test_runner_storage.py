"""`make run` holding a user's data: kept across restarts, acknowledged writes surviving SIGKILL,
concurrent writes and reads answered without a 5xx, and a stop that does not wait for busy requests.

Each test starts the runner as a process in its own folder (its .local/ is the store), over HTTP.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from bench.runner import Runner, bearer, call, running, runtime_env
from local.template import ROOT

ACME = bearer("acme")


def batch(prefix: str, count: int, user: str, **fields: Any) -> list[dict[str, Any]]:
    return [
        {"event_id": f"{prefix}-{n}", "user_id": user, "item_id": f"i{n % 40}", "type": "view", **fields}
        for n in range(count)
    ]


def user_event_ids(base: str, user: str, tenant_headers: dict[str, str] = ACME) -> list[str]:
    """Every stored event id of ``user``, through the API's pages."""
    ids: list[str] = []
    cursor = ""
    while True:
        status, page = call(base, "GET", f"/v1/users/{user}/events?limit=100{cursor}", headers=tenant_headers)
        assert status == 200, page
        ids += [event["event_id"] for event in page["events"]]
        if not page.get("next_cursor"):
            return ids
        cursor = f"&cursor={page['next_cursor']}"


def test_data_survives_a_restart_and_the_demo_is_trained_once(tmp_path: Path) -> None:
    with running(tmp_path, demo=True) as runner:
        status, answer = call(runner.base, "POST", "/v1/events", {"events": batch("kept", 3, "u1")}, ACME)
        assert (status, answer["accepted"]) == (200, 3)
        assert (
            call(runner.base, "PUT", "/v1/items", {"items": [{"id": "i1", "properties": {"colour": "red"}}]}, ACME)[0]
            == 200
        )
    with running(tmp_path, demo=True) as runner:
        assert sorted(user_event_ids(runner.base, "u1")) == ["kept-0", "kept-1", "kept-2"]
        status, item = call(runner.base, "GET", "/v1/items/i1", headers=ACME)
        assert (status, item["properties"]) == (200, {"colour": "red"})
        status, model = call(runner.base, "GET", "/v1/models/demo-als", headers=bearer("demo"))
        assert status == 200 and model["current_version"] == 1 and len(model["versions"]) == 1  # not retrained
        assert "kept from an earlier run" in runner.log.read_text()
        status, ranked = call(
            runner.base,
            "POST",
            "/v1/recommend",
            {"user_id": "user-007", "model_id": "demo-als", "item_ids": ["sku-0012", "sku-0047"], "limit": 2},
            bearer("demo"),
        )
        assert status == 200 and [item["id"] for item in ranked["items"]] == ["sku-0047", "sku-0012"]


def test_an_ephemeral_store_starts_empty_every_time(tmp_path: Path) -> None:
    with running(tmp_path, demo=False, RECO_EPHEMERAL="1") as runner:
        assert call(runner.base, "POST", "/v1/events", {"events": batch("gone", 2, "u1")}, ACME)[0] == 200
        assert len(user_event_ids(runner.base, "u1")) == 2
    with running(tmp_path, demo=False, RECO_EPHEMERAL="1") as runner:
        assert user_event_ids(runner.base, "u1") == []
    assert not (tmp_path / ".local" / "aws").exists()


def test_acknowledged_events_survive_sigkill_mid_ingest_and_a_resend_completes_the_rest(tmp_path: Path) -> None:
    runner = Runner(tmp_path, demo=False)
    acknowledged: list[int] = []
    sent: list[int] = []
    lock = threading.Lock()

    def client(worker: int) -> None:
        for n in range(worker, 10_000, 4):
            with lock:
                sent.append(n)
            try:
                status, _ = call(
                    runner.base, "POST", "/v1/events", {"events": batch(f"k{n}", 200, f"user-{n}")}, ACME, timeout=30
                )
            except OSError:
                return  # the runner is gone: this batch was not acknowledged
            if status == 200:
                with lock:
                    acknowledged.append(n)

    threads = [threading.Thread(target=client, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    while len(acknowledged) < 12:
        time.sleep(0.05)
    runner.process.send_signal(signal.SIGKILL)
    for thread in threads:
        thread.join()
    runner.stop()
    assert len(sent) > len(acknowledged)  # batches were in flight when it died

    with running(tmp_path, demo=False) as restarted:
        for n in acknowledged:
            assert sorted(user_event_ids(restarted.base, f"user-{n}")) == sorted(f"k{n}-{i}" for i in range(200))
        for n in sorted(set(sent) - set(acknowledged)):  # resent: whatever part was stored is not doubled
            status, answer = call(
                restarted.base, "POST", "/v1/events", {"events": batch(f"k{n}", 200, f"user-{n}")}, ACME
            )
            assert (status, answer["accepted"], answer["rejected"]) == (200, 200, [])
            assert sorted(user_event_ids(restarted.base, f"user-{n}")) == sorted(f"k{n}-{i}" for i in range(200))


def test_concurrent_writes_and_reads_answer_without_5xx_and_store_exactly_the_accepted_events(tmp_path: Path) -> None:
    with running(tmp_path, demo=True) as runner:
        statuses: list[int] = []
        stop = threading.Event()
        demo_backend, demo_read = bearer("demo"), bearer("demo", "read")

        def writer(worker: int) -> int:
            """Batches that overlap the other writers' (the same event ids): each id is stored once."""
            new = 0
            for round_ in range(6):
                events = batch(f"w{worker}-r{round_}", 60, f"writer-{worker % 3}") + batch(
                    f"shared-r{round_}", 40, "shared"
                )
                status, answer = call(runner.base, "POST", "/v1/events", {"events": events}, ACME, timeout=60)
                statuses.append(status)
                assert status == 200, answer
                new += answer["accepted"] - answer["duplicates"]
                items = [{"id": f"i{n}", "properties": {"round": round_, "worker": worker}} for n in range(20)]
                statuses.append(call(runner.base, "PUT", "/v1/items", {"items": items}, ACME)[0])
            return new

        def reader() -> None:
            body = {"user_id": "user-007", "model_id": "demo-als", "item_ids": ["sku-0012", "sku-0047"], "limit": 2}
            while not stop.is_set():
                statuses.append(call(runner.base, "POST", "/v1/recommend", body, demo_backend)[0])
                statuses.append(
                    call(runner.base, "GET", "/v1/recommendations?user_id=user-007&limit=5", headers=demo_read)[0]
                )
                statuses.append(call(runner.base, "GET", "/v1/users/shared/events?limit=10", headers=ACME)[0])

        readers = [threading.Thread(target=reader) for _ in range(3)]
        for thread in readers:
            thread.start()
        with ThreadPoolExecutor(6) as pool:
            new_events = sum(pool.map(writer, range(6)))
        stop.set()
        for thread in readers:
            thread.join()

        assert statuses and all(200 <= status < 500 for status in statuses), sorted(set(statuses))
        stored = user_event_ids(runner.base, "shared") + [
            event_id for user in range(3) for event_id in user_event_ids(runner.base, f"writer-{user}")
        ]
        expected = {f"w{w}-r{r}-{n}" for w in range(6) for r in range(6) for n in range(60)}
        expected |= {f"shared-r{r}-{n}" for r in range(6) for n in range(40)}
        assert len(stored) == len(set(stored)) == len(expected) == new_events
        assert set(stored) == expected


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_busy_runner_stops_at_once_and_removes_its_endpoint_file(tmp_path: Path, stop: signal.Signals) -> None:
    runner = Runner(tmp_path, demo=False)
    endpoint = tmp_path / ".local" / "aws-endpoint.json"
    assert json.loads(endpoint.read_text())["pid"] == runner.process.pid

    def flood(worker: int) -> None:
        for n in range(50):
            try:
                call(
                    runner.base,
                    "POST",
                    "/v1/events",
                    {"events": batch(f"f{worker}-{n}", 1000, f"u{worker}")},
                    ACME,
                    timeout=60,
                )
            except OSError:
                return

    threads = [threading.Thread(target=flood, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    started = time.monotonic()
    assert runner.stop(stop) == 0
    assert time.monotonic() - started < 10
    assert "reco stopped" in runner.log.read_text()
    assert not endpoint.exists()
    for thread in threads:
        thread.join()


# ------------------------------------------------------------------------------------------ the CLI's errors
def reco(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reco", *args],
        cwd=folder,
        env=runtime_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and '{"level"' not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_the_cli_says_in_one_line_when_no_runner_is_there_or_its_endpoint_file_is_stale(tmp_path: Path) -> None:
    assert "start `make run`" in one_line(reco(tmp_path, "--local", "train", "m"))
    endpoint = tmp_path / ".local" / "aws-endpoint.json"
    endpoint.parent.mkdir()
    dead = subprocess.Popen(["true"])  # a process that has ended: nothing answers to its pid
    dead.wait()
    endpoint.write_text(json.dumps({"pid": dead.pid, "environment": {"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}}))
    assert f"runner that wrote it (pid {dead.pid}) is gone" in one_line(reco(tmp_path, "--local", "train", "m"))
    endpoint.write_text("{not json")
    assert "not a runner's endpoint file" in one_line(reco(tmp_path, "--local", "train", "m"))


def test_the_cli_without_a_region_or_stack_says_what_to_set(tmp_path: Path) -> None:
    line = one_line(
        reco(
            tmp_path,
            "train",
            "m",
            AWS_CONFIG_FILE=str(tmp_path / "none"),
            AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        )
    )
    assert "no AWS region is set" in line and "--local" in line


def test_a_failed_training_is_one_line_with_its_reason(tmp_path: Path) -> None:
    with running(tmp_path, demo=False) as runner:
        result = reco(tmp_path, "--local", "--tenant", "empty", "train", "m", "--recipe", "als")
    assert runner.process.returncode == 0
    assert result.returncode == 1
    assert '{"level"' not in result.stdout + result.stderr and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "reco train: training failed: no event of this tenant carries weight under the model's event_weights"
    ]


def test_an_import_that_would_fall_outside_the_retention_is_refused_up_front(tmp_path: Path) -> None:
    ratings = tmp_path / "old.csv"
    recent = int(time.time()) - 10 * 86_400
    ratings.write_text(f"user_id,item_id,rating,timestamp\n1,10,5,946684800\n2,11,4,{recent}\n")
    with running(tmp_path, demo=False):
        result = reco(tmp_path, "--local", "--tenant", "t", "import-csv", str(ratings), "--keep-timestamps")
        line = one_line(result)
        assert "1 of 2 rows are older than the 730-day event retention" in line and "nothing was imported" in line
        shifted = reco(tmp_path, "--local", "--tenant", "t", "import-csv", str(ratings))
    assert shifted.returncode == 0, shifted.stderr
    assert "compressed" in shifted.stdout and "events: 2 accepted, 0 rejected" in shifted.stdout


# ------------------------------------------------------------------- the documented commands, verbatim
ML100K = ROOT.parent / "shared" / "data" / "ml-100k"


def json_documents(text: str) -> list[Any]:
    """The JSON documents written one after the other in ``text``."""
    decoder, documents, position = json.JSONDecoder(), [], 0
    while position < len(text):
        document, position = decoder.raw_decode(text, position)
        documents.append(document)
    return documents


def readme_bash(marker: str) -> str:
    """The bash block after ``<!-- marker -->``, in the README or a guide in docs/ (the command line's)."""
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    found = [
        m for doc in documents if (m := re.search(rf"<!-- {marker} -->\s*```bash\n(.*?)```", doc.read_text(), re.S))
    ]
    assert len(found) == 1, f"{len(found)} documents have a <!-- {marker} --> bash block"
    return found[0].group(1)


@pytest.mark.skipif(
    not ML100K.exists(), reason="MovieLens 100K is not in ../shared/data (its terms forbid a copy here)"
)
def test_the_readme_command_line_imports_trains_and_serves_movielens_100k() -> None:
    endpoint = ROOT / ".local" / "aws-endpoint.json"
    if endpoint.exists() and Path(f"/proc/{json.loads(endpoint.read_text()).get('pid', 0)}").exists():
        pytest.skip("a `make run` of this checkout is running: its endpoint file must not be replaced")
    with running(ROOT, demo=False, RECO_EPHEMERAL="1") as runner:
        script = readme_bash("cli-ml100k").replace("http://127.0.0.1:3000", runner.base)
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=ROOT,
            env=runtime_env(),
            capture_output=True,
            text=True,
            timeout=600,
        )
    assert result.returncode == 0, result.stderr
    assert "events: 100,000 accepted, 0 rejected" in result.stdout
    assert "films-als: version 1 published" in result.stdout
    listed, ranked = json_documents(result.stdout.strip().splitlines()[-1])  # curl adds no newline
    movies = [entry["item"]["name"] for entry in listed["data"]]
    assert len(movies) == 3 and all(re.search(r"\(\d{4}\)$", name) for name in movies), movies
    assert listed["cold_start_fallback_used"] is False
    assert len(ranked["items"]) == 3 and {i["id"] for i in ranked["items"]} <= {"1", "50", "100", "181", "258"}


def test_reads_run_concurrently_enough_to_meet_the_throttle(tmp_path: Path) -> None:
    """The throttle (burst 100, 50 requests/s per route) is reached by reads alone: requests run side by side."""
    with running(tmp_path, demo=False, throttling=True) as runner:
        assert call(runner.base, "POST", "/v1/events", {"events": batch("t", 5, "u1")}, ACME)[0] == 200
        with ThreadPoolExecutor(16) as pool:
            statuses = list(
                pool.map(lambda _: call(runner.base, "GET", "/v1/users/u1/events?limit=5", headers=ACME)[0], range(400))
            )
    assert set(statuses) == {200, 429}
    assert statuses.count(200) >= 100  # the burst, then the refill
