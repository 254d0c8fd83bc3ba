"""The local runner with a real data set, measured the way a user's data travels: HTTP and the CLI.

Each figure is printed beside its target (issue: the local runner as a real embedded default):
- start-up of `make run`: fresh with the demo, again with the demo kept, and without the demo;
- `reco --local import-movielens` on ML-100K and on ML-1M (ratings >= 4), and `train` (ALS) on both, as the
  command-line guide (docs/command-line.md) runs them;
- `POST /v1/events`: 16 clients sending 1,000-event batches, 100,000 events, then every batch's
  events counted in the store (exactly once) and a resent batch adding nothing;
- `POST /v1/recommend` and `GET /v1/recommendations` from another client while that ingest runs;
- the runner's resident memory after ML-1M and training, and during a fixed-count load-and-fuzz run.

Lower bounds measured in the same run: the same rows written to a plain SQLite table
(``executemany``, one transaction per batch) and read back — what any store on this disk pays.
MovieLens comes from ../shared/data (never copied); without it those rows are skipped.
"""

from __future__ import annotations

import json
import os
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.fuzz import fuzz_requests
from bench.runner import Runner, bearer, call, running
from local.template import ROOT

DATA = ROOT.parent / "shared" / "data"
ML100K, ML1M = DATA / "ml-100k", DATA / "ml-1m" / "ratings_ge4.csv"
INGEST_EVENTS = int(os.environ.get("BENCH_INGEST_EVENTS", "100000"))
INGEST_BATCH, INGEST_CLIENTS = 1000, 16
FUZZ_REQUESTS = int(os.environ.get("BENCH_FUZZ_REQUESTS", "150000"))  # about 10 minutes here
Row = dict[str, Any]
ROWS: list[Row] = []


def report(measure: str, value: float, unit: str, target: str, met: bool | None, note: str = "") -> None:
    shown = f"{value:,.1f}" if value < 100 else f"{value:,.0f}"
    verdict = "" if met is None else ("met" if met else "MISSED")
    ROWS.append({"measure": measure, "value": f"{shown} {unit}", "target": target, "verdict": verdict, "note": note})
    print(f"  {measure}: {shown} {unit}  (target {target}: {verdict or '-'}) {note}", flush=True)


# ------------------------------------------------------------------------------------------ start-up
def startup(folder: Path) -> None:
    with running(folder / "fresh-demo", demo=True) as runner:
        report(
            "start-up, fresh store, demo loaded and trained",
            runner.ready_seconds,
            "s",
            "<= 10 s",
            runner.ready_seconds <= 10,
        )
    with running(folder / "fresh-demo", demo=True) as runner:
        report("start-up, demo kept from the last run", runner.ready_seconds, "s", "<= 3 s", runner.ready_seconds <= 3)
    with running(folder / "no-demo", demo=False) as runner:
        report("start-up without the demo", runner.ready_seconds, "s", "<= 3 s", runner.ready_seconds <= 3)


# ------------------------------------------------------------------------------------------ imports and training
def imports_and_training(folder: Path) -> None:
    if not ML100K.exists() or not ML1M.exists():
        print(f"  (skipped: MovieLens not found under {DATA})")
        return
    with running(folder / "movielens", demo=False) as runner:
        seconds, _ = runner.cli("--tenant", "films", "import-movielens", str(ML100K))
        report(
            "import-movielens ML-100K (100,000 ratings)",
            seconds,
            "s",
            "<= 60 s",
            seconds <= 60,
            f"{100_000 / seconds:,.0f} events/s",
        )
        seconds, out = runner.cli("--tenant", "films", "train", "films-als", "--recipe", "als")
        report("train ALS on ML-100K, end to end", seconds, "s", "<= 30 s", seconds <= 30, _fit(out))
        seconds, _ = runner.cli("--tenant", "films1m", "import-movielens", str(ML1M.parent))
        report(
            "import-movielens ML-1M: ratings_ge4.csv (575,281 rows) and movies.dat",
            seconds,
            "s",
            "<= 360 s",
            seconds <= 360,
            f"{575_281 / seconds:,.0f} events/s",
        )
        seconds, out = runner.cli("--tenant", "films1m", "train", "films-als", "--recipe", "als")
        report("train ALS on ML-1M >= 4, end to end", seconds, "s", "<= 180 s", seconds <= 180, _fit(out))
        reader = bearer("films1m", "read")
        listed, _ = call(runner.base, "GET", "/v1/recommendations?user_id=1&limit=20", headers=reader)
        ranked, _ = call(
            runner.base,
            "POST",
            "/v1/recommend",
            {"user_id": "1", "model_id": "films-als", "item_ids": [str(i) for i in range(1, 200)], "limit": 10},
            bearer("films1m"),
        )
        rss = runner.rss_mib()
        report(
            "runner memory after ML-1M, training and serving it",
            rss,
            "MiB",
            "<= 2,560 MiB",
            rss <= 2560,
            f"(GET /v1/recommendations {listed}, POST /v1/recommend {ranked})",
        )
        cli_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        report("largest `reco` process of these commands (training ML-1M)", cli_peak, "MiB", "-", None)
    lower_bound(575_281 * 2)


def _fit(out: str) -> str:
    for line in out.splitlines():
        if line.startswith("fit_seconds"):
            return f"(fit {float(line.split()[1]):.1f} s of it)"
    return ""


def lower_bound(rows: int) -> None:
    """Plain SQLite: the same number of ~300-byte rows written 25 per transaction, then read back in key order."""
    with tempfile.TemporaryDirectory() as folder:
        connection = sqlite3.connect(Path(folder) / "floor.db", isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("CREATE TABLE t (hk, rk, doc, UNIQUE (hk, rk))")
        doc = "x" * 300
        started = time.perf_counter()
        for start in range(0, rows, 25):
            connection.execute("BEGIN")
            connection.executemany(
                "INSERT OR REPLACE INTO t VALUES (?, ?, ?)",
                ((f"u{n % 6040}", f"{n:012d}", doc) for n in range(start, start + 25)),
            )
            connection.execute("COMMIT")
        written = time.perf_counter() - started
        started = time.perf_counter()
        count = sum(1 for _ in connection.execute("SELECT doc FROM t ORDER BY hk, rk"))
        read = time.perf_counter() - started
    report(
        f"lower bound: plain SQLite writes of {rows:,} rows", written, "s", "-", None, f"{rows / written:,.0f} rows/s"
    )
    report(f"lower bound: plain SQLite read of {count:,} rows", read, "s", "-", None)


# ------------------------------------------------------------------------------------------ ingest and reads under it
def ingest_with_reads(folder: Path) -> None:
    _ingest_with_reads(folder / "ingest", "")
    # The same run with no per-function limit: what the limit is for.
    _ingest_with_reads(folder / "ingest-unlimited", " (no per-function limit)", RECO_FUNCTION_CONCURRENCY="0")


def _ingest_with_reads(folder: Path, label: str, **env: str) -> None:
    with running(folder, demo=True, **env) as runner:
        headers = bearer("ingest")
        batches = [
            [
                {
                    "event_id": f"b{b}-{i}",
                    "user_id": f"u{(b * INGEST_BATCH + i) % 7919}",
                    "item_id": f"i{(b * 31 + i) % 2000}",
                    "type": "view",
                }
                for i in range(INGEST_BATCH)
            ]
            for b in range(INGEST_EVENTS // INGEST_BATCH)
        ]
        statuses: list[int] = []
        reads: list[float] = []
        read_statuses: list[int] = []
        done = threading.Event()
        reader = threading.Thread(target=_read_loop, args=(runner.base, reads, read_statuses, done))

        def send(batch: list[Row]) -> int:
            status, _ = call(runner.base, "POST", "/v1/events", {"events": batch}, headers, timeout=600)
            return status

        rss_before = runner.rss_mib()
        reader.start()
        started = time.perf_counter()
        with ThreadPoolExecutor(INGEST_CLIENTS) as pool:
            statuses = list(pool.map(send, batches))
        wall = time.perf_counter() - started
        done.set()
        reader.join()
        server_errors = sum(status >= 500 for status in statuses)
        report(
            f"POST /v1/events, {INGEST_CLIENTS} clients x {INGEST_BATCH:,}-event batches, "
            f"{INGEST_EVENTS:,} events{label}",
            INGEST_EVENTS / wall,
            "events/s",
            "(for comparison)" if label else ">= 1,000 events/s, 0 x 5xx",
            None if label else INGEST_EVENTS / wall >= 1000 and server_errors == 0,
            f"({wall:.0f} s; answers {sorted(set(statuses))}, {server_errors} x 5xx)",
        )
        for name, samples in (("POST /v1/recommend", reads[0::2]), ("GET /v1/recommendations", reads[1::2])):
            p99 = _percentile(samples, 99)
            report(
                f"{name} during that ingest, p99 ({len(samples)} requests){label}",
                p99,
                "ms",
                "(for comparison)" if label else "<= 500 ms",
                None if label else p99 <= 500,
                f"(median {statistics.median(samples):.0f} ms; answers {sorted(set(read_statuses))})",
            )
        if label:
            return
        resent = [
            call(runner.base, "POST", "/v1/events", {"events": batches[n]}, headers)[1] for n in (0, len(batches) // 2)
        ]
        stored = _stored_event_ids(runner, "ingest")
        expected = {event["event_id"] for batch in batches for event in batch}
        exact = stored == expected
        report(
            "events stored exactly once (counted in the store), then 2 batches resent",
            len(stored),
            "events",
            f"= {len(expected):,}; resent batches add 0",
            exact and all(r.get("duplicates") == INGEST_BATCH for r in resent),
            f"(resent: {[r.get('duplicates') for r in resent]} duplicates)",
        )
        report("runner memory growth over the ingest", runner.rss_mib() - rss_before, "MiB", "-", None)


def _read_loop(base: str, latencies: list[float], statuses: list[int], done: threading.Event) -> None:
    backend, reader = bearer("demo"), bearer("demo", "read")
    body = {
        "user_id": "user-007",
        "limit": 3,
        "model_id": "demo-als",
        "item_ids": ["sku-0012", "sku-0047", "sku-0101", "sku-0230"],
    }
    while not done.is_set():
        for method, path, payload, headers in (
            ("POST", "/v1/recommend", body, backend),
            ("GET", "/v1/recommendations?user_id=user-007&limit=10", None, reader),
        ):
            started = time.perf_counter()
            status, _ = call(base, method, path, payload, headers)
            latencies.append((time.perf_counter() - started) * 1000)
            statuses.append(status)
        time.sleep(0.02)


def _percentile(samples: list[float], percent: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * percent / 100))] if ordered else float("nan")


def _stored_event_ids(runner: Runner, tenant: str) -> set[str]:
    """Every stored event of ``tenant``, read through EventStore (the training path) from the runner's store."""
    endpoint = json.loads((runner.folder / ".local" / "aws-endpoint.json").read_text())["environment"]
    os.environ.update(endpoint)
    from reco.settings import get_settings
    from reco.stores.aws import reset_clients
    from reco.stores.events import event_store

    get_settings.cache_clear()
    reset_clients()
    seen: list[str] = [event.event_id for event in event_store().iter_events(tenant)]
    assert len(seen) == len(set(seen)), "an event was stored twice"
    return set(seen)


# ------------------------------------------------------------------------------------------ load and fuzz
def load_and_fuzz(folder: Path) -> None:
    with running(folder / "fuzz", demo=True, throttling=False) as runner:
        samples: list[tuple[int, float]] = [(0, runner.rss_mib())]
        statuses: dict[int, int] = {}
        started = time.perf_counter()
        requests = fuzz_requests(FUZZ_REQUESTS, random.Random(12))

        unavailable: dict[str, int] = {}

        def send(request: tuple[str, str, Any, dict[str, str]]) -> tuple[int, str]:
            method, path, body, headers = request
            status, answer = call(runner.base, method, path, body, headers, timeout=120)
            code = ""
            if isinstance(answer, dict):  # the API's two error shapes: {"code"} and {"error_data": {"name"}}
                code = answer.get("code") or (answer.get("error_data") or {}).get("name") or ""
            return status, str(code)

        with ThreadPoolExecutor(4) as pool:
            for n, (status, code) in enumerate(pool.map(send, requests), start=1):
                statuses[status] = statuses.get(status, 0) + 1
                if status >= 500:
                    unavailable[f"{status} {code}"] = unavailable.get(f"{status} {code}", 0) + 1
                if n % (FUZZ_REQUESTS // 10) == 0:
                    samples.append((n, runner.rss_mib()))
        wall = time.perf_counter() - started
        store = sum(path.stat().st_size for path in (runner.folder / ".local" / "aws").rglob("*") if path.is_file())
        growth = samples[-1][1] - samples[1][1]
        report(
            f"load-and-fuzz, {FUZZ_REQUESTS:,} requests on every route ({wall / 60:.1f} min)",
            growth,
            "MiB",
            "no growth beyond the data stored",
            None,
            f"(RSS by request count: {', '.join(f'{n:,}: {rss:,.0f}' for n, rss in samples)} MiB; store "
            f"{store / 2**20:,.0f} MiB on disk; answers {dict(sorted(statuses.items()))})",
        )
        faults = statuses.get(500, 0)
        report(
            "500 answers (faults) during load-and-fuzz",
            faults,
            "answers",
            "0",
            faults == 0,
            f"(every 5xx by code: {unavailable or 'none'}; 503 DATABASE_NOT_READY / MODEL_NOT_READY are the "
            "documented answers for a tenant or model with nothing trained yet)",
        )


SECTIONS: dict[str, Callable[[Path], None]] = {
    "start-up": startup,
    "imports and training": imports_and_training,
    "ingest and reads under it": ingest_with_reads,
    "load and fuzz": load_and_fuzz,
}


def main() -> None:
    chosen = sys.argv[1:] or list(SECTIONS)
    with tempfile.TemporaryDirectory(prefix="reco-bench-") as folder:
        for name in chosen:
            print(f"{name}:", flush=True)
            (Path(folder) / name.replace(" ", "-")).mkdir()
            SECTIONS[name](Path(folder) / name.replace(" ", "-"))
    print("\n| measure | value | target | verdict | note |\n| --- | ---: | --- | --- | --- |")
    for row in ROWS:
        print(f"| {row['measure']} | {row['value']} | {row['target']} | {row['verdict']} | {row['note']} |")


if __name__ == "__main__":
    main()
