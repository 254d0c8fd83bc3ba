"""Cold starts: every function's first answer from a fresh interpreter, beside Powertools' hello world.

Each run spawns a new Python (bench/cold_start_runner.py's source with ``python -S -c``) that imports one
handler module and serves one event, as a new Lambda container does; the parent takes ``perf_counter``
right before spawning and again when the child's result line arrives (its teardown is not counted). The
child reports its own split on the same clock: interpreter start, handler module imported (Lambda's init
phase) and the handler call (the first request). Rows:

- ``python -c pass``: the interpreter alone, to its exit;
- ``hello world``: bench/hello_world.py, Powertools' own example handler, on a GET event in our samples' envelope;
- ``stack floor``: bench/stack_floor.py, reco's libraries (FastAPI, Mangum, numpy, boto3, Powertools) and one
  DynamoDB read, none of reco's code: what the architecture costs before reco adds anything;
- every HTTP function of template.yaml with one events/ sample, re-aimed where the sample names data the demo
  tenant lacks, so that model routes load the demo's trained model;
- ``ranking, 100k items``: POST /v1/recommend for a tenant whose current model version is a 100,000-item,
  64-factor ALS artifact with catalog columns and text indexes, published as a training run publishes;
- ``ranking, 100k items, SnapStart hooks``: the same with reco.snapstart's before_snapshot and after_restore
  run between the import and the request: the first request of a container restored from a snapshot (the
  restore itself is Lambda's and not reproduced);
- ``ranking, no .pyc``: the ranking function with no bytecode anywhere, as a layer
  without bytecode (the built layer ships unchecked-hash .pyc)
  (``pip --no-compile``, reco's sources) and as Lambda's read-only /opt keeps it: every import compiles;
- ``train``: events/invoke/train-model.json (model home-als retrained on 60 events), after the other rows.

Setup, once: a moto server in its own process; every table and the bucket of template.yaml (local.aws); the
demo tenant loaded and its model trained as ``make run`` does (local.demo), a lists context and a scenario;
then EventsTable emptied (:func:`empty_events_table`: moto scans the whole table per Query); the 100k model.
Children get Lambda's environment (:func:`lambda_environment`; the same for the hello world) and Lambda's
import path: the function's folder, layers/core and the layer's third-party packages, installed from
layers/core/requirements.txt at the venv's versions into ``.local/cold-start/`` once (the venv's
site-packages if pip cannot, said in the output).

Targets, printed beside each row: a function's total ≤ 3 x the hello world's, and the 100k model's first
request ≤ 0.6 s. ``--profile`` adds ``-X importtime`` of ranking and of the slowest function, and a cProfile
of the first request of both 100k rows and of the slowest function. BENCH_COLD_RUNS (or ``--runs``) sets the
runs per row, default 5; each row has one more run first, discarded, that writes .pyc files (where allowed)
and fills the page cache.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.runner import wait_or_kill
from local.aws import LOCAL_REGION, free_port, local_resource_names, use_fake_credentials
from local.template import LOCAL_OVERRIDES, ROOT, function_environment, functions, load_template

RUNS = int(os.environ.get("BENCH_COLD_RUNS", "5"))
HELLO_FACTOR = 3.0  # a function's total against the hello world's
LARGE_FIRST_REQUEST_TARGET = 0.6  # seconds: the 100k model's first request
LARGE_ITEMS, LARGE_USERS, LARGE_HISTORY, LARGE_FACTORS = 100_000, 10_000, 20, 64
LARGE_TENANT, LARGE_MODEL = "bench-100k", "als-100k"
TRAIN_TENANT = json.loads((ROOT / "events" / "invoke" / "train-model.json").read_text())["tenant"]
SEED = 20261208
EVENTS = ROOT / "events"
RUNNER = Path(__file__).with_name("cold_start_runner.py")
HELLO_WORLD = Path(__file__).with_name("hello_world.py")
STACK_FLOOR = Path(__file__).with_name("stack_floor.py")
CACHE = ROOT / ".local" / "cold-start"
CHILD_TIMEOUT = 120.0
# A sampled trace header, as API Gateway passes to a function with active tracing (Tracing: Active): the
# first request of a new container falls in X-Ray's per-second reservoir, so it is usually sampled.
TRACE_HEADER = "Root=1-67a1b2c3-4d5e6f708192a3b4c5d6e7f8;Parent=1a2b3c4d5e6f7081;Sampled=1"
FLOOR_LABEL, HELLO_LABEL, LARGE_LABEL = "python -c pass", "hello world (Powertools)", "ranking, 100k items"
STACK_LABEL = "stack floor (FastAPI, numpy, boto3, Powertools)"
SNAPSTART_LABEL = "ranking, 100k items, SnapStart hooks"
# reco's SnapStart hooks (reco.snapstart), run between the import and the first request by the SnapStart row.
SNAPSTART_HOOKS = "reco.snapstart:before_snapshot,after_restore"
FUNCTION_ORDER = ("ranking", "recommendation", "lists", "customer", "chat", "catalog", "events", "models", "scenarios")


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Sample:
    """One cold start, in seconds from the parent's spawn: ``total`` is when the answer reached the parent."""

    total: float
    python: float | None = None  # interpreter start: spawn → the runner's first line
    init: float | None = None  # spawn → handler module imported
    request: float | None = None  # the handler call
    status: Any = None

    @classmethod
    def from_child(cls, result: dict[str, Any], arrived: float) -> Sample:
        spawned = result["spawned"]
        return cls(
            total=arrived - spawned,
            python=result["code_started"] - spawned,
            init=result["imported"] - spawned,
            request=result["answered"] - result["request_started"],
            status=result["status"],
        )


def ok_status(status: Any) -> bool:
    return status == "ready" or (isinstance(status, int) and 200 <= status < 300)


@dataclass
class Row:
    label: str
    event: str
    samples: list[Sample] = field(default_factory=list)
    target: str = ""  # filled by evaluate(): "≤ 1.23 s total" …
    passed: bool | None = None

    def median(self, name: str) -> float | None:
        values = [getattr(s, name) for s in self.samples if getattr(s, name) is not None]
        return statistics.median(values) if values else None

    def spread(self, name: str = "total") -> tuple[float, float] | None:
        values = [getattr(s, name) for s in self.samples if getattr(s, name) is not None]
        return (min(values), max(values)) if values else None


def evaluate(rows: list[Row], hello: str, large: tuple[str, ...], exempt: tuple[str, ...]) -> None:
    """Targets: each function's median total ≤ HELLO_FACTOR x the hello world's; the large model's median
    first request ≤ LARGE_FIRST_REQUEST_TARGET (the rows in ``large``). Rows in ``exempt`` (the yardsticks) get none."""
    by_label = {row.label: row for row in rows}
    hello_total = by_label[hello].median("total")
    for row in rows:
        if row.label in exempt or not row.samples:
            continue
        if row.label in large:
            first = row.median("request")
            row.target = f"first request ≤ {LARGE_FIRST_REQUEST_TARGET:.2f} s"
            row.passed = first is not None and first <= LARGE_FIRST_REQUEST_TARGET
        elif hello_total is not None:
            limit = HELLO_FACTOR * hello_total
            total = row.median("total")
            row.target = f"total ≤ {limit:.2f} s ({HELLO_FACTOR:g} x hello)"
            row.passed = total is not None and total <= limit
        if any(not ok_status(s.status) for s in row.samples):
            row.passed = False
            row.target += " (a run did not answer 2xx)"


def seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def markdown_table(rows: list[Row]) -> str:
    lines = [
        "| row | event | python start s | init s | first request s | total s | total min-max s | target | |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for row in rows:
        spread = row.spread()
        low_high = "—" if spread is None else f"{spread[0]:.3f}-{spread[1]:.3f}"
        verdict = "" if row.passed is None else ("PASS" if row.passed else "FAIL")
        cells = [
            row.label,
            row.event,
            seconds(row.median("python")),
            seconds(row.median("init")),
            seconds(row.median("request")),
            seconds(row.median("total")),
            low_high,
            row.target or "—",
            verdict,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# --------------------------------------------------------------------------- events


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


def derived_event(
    name: str,
    *,
    path: str | None = None,
    path_parameters: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    body: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    tenant: str | None = None,
) -> dict[str, Any]:
    """An events/ sample aimed at other data: its path, query, body (a function of the sample's) or tenant."""
    event = load_event(name)
    if path is not None:
        event["rawPath"] = event["requestContext"]["http"]["path"] = path
    if path_parameters is not None:
        event["pathParameters"] = path_parameters
    if query is not None:
        event["queryStringParameters"] = query
        event["rawQueryString"] = urlencode(query, safe=":")
    if body is not None:
        event["body"] = json.dumps(body(json.loads(event["body"])))
    if tenant is not None:
        event["requestContext"]["authorizer"]["jwt"]["claims"]["tenant"] = tenant
    return event


def ranking_body(body: dict[str, Any], ids: dict[str, str], user_id: str, model_id: str) -> dict[str, Any]:
    """The sample's request with its candidates, user and model renamed (same shape: 3 candidates, a repeat)."""
    items = [{**item, "id": ids[item["id"]]} for item in body["items"]]
    return {**body, "items": items, "user_id": user_id, "model_id": model_id}


def customer_body(body: dict[str, Any]) -> dict[str, Any]:
    sequence = dict(body["sequence_data"])
    sequence["customer_preferences"] = {**sequence["customer_preferences"], "categories": ["headphones", "books"]}
    sequence["browsing_history"] = ["sku-0001", "sku-0002"]
    sequence["purchase_history"] = ["sku-0003"]
    return {**body, "sequence_data": sequence}


def function_events(demo_model: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """``{family: (what the row says, event)}``: one sample per function, re-aimed at the demo tenant's data
    (items sku-0001…, users user-001…, model ``demo_model``) where the sample names data it lacks."""
    ids = {"EC5792": "sku-0001", "FC7890": "sku-0002"}
    ranking = derived_event(
        "ranking-recommend.json", body=lambda b: ranking_body(b, ids, "user-001", demo_model), tenant="demo"
    )
    return {
        "ranking": ("ranking-recommend (demo model)", ranking),
        "recommendation": (
            "recommendation-profile-to-items (user-001)",
            derived_event(
                "recommendation-profile-to-items.json",
                path="/recommendation/users/user-001/items/",
                path_parameters={"user_id": "user-001"},
                query={"amt": "5", "reranking": "category:diversity:0.5"},
            ),
        ),
        "lists": (
            "lists-recommendations (user-001, context 101)",
            derived_event(
                "lists-recommendations.json",
                query={"user_id": "user-001", "context_id": "101", "limit": "5", "filter": "category:desks"},
            ),
        ),
        "customer": ("customer-recommend (demo skus)", derived_event("customer-recommend.json", body=customer_body)),
        "chat": ("chat", load_event("chat.json")),
        "catalog": (
            "catalog-get-item (sku-0001)",
            derived_event("catalog-get-item.json", path="/v1/items/sku-0001", path_parameters={"item_id": "sku-0001"}),
        ),
        "events": ("events-post-events", load_event("events-post-events.json")),
        "models": (
            f"models-get-model ({demo_model})",
            derived_event(
                "models-get-model.json", path=f"/v1/models/{demo_model}", path_parameters={"model_id": demo_model}
            ),
        ),
        # POST /scenarios/preview/ is the recommendation function's: the scenarios function keeps scenarios.
        "scenarios": ("scenarios-get-scenario (home_page)", load_event("scenarios-get-scenario.json")),
    }


def large_ranking_event() -> dict[str, Any]:
    ids = {"EC5792": "item-0000042", "FC7890": "item-0031337"}
    return derived_event(
        "ranking-recommend.json",
        body=lambda b: ranking_body(b, ids, "user-00042", LARGE_MODEL),
        tenant=LARGE_TENANT,
    )


def hello_event() -> dict[str, Any]:
    """GET /hello in the catalog sample's envelope (same headers, authorizer and request context)."""
    event = derived_event("catalog-get-item.json", path="/hello", path_parameters={})
    event["routeKey"] = event["requestContext"]["routeKey"] = "GET /hello"
    event.pop("pathParameters", None)
    return event


# --------------------------------------------------------------------------- children


def lambda_environment(
    function_name: str, task_root: Path, handler: str, memory_mb: int, endpoint: str, home: Path
) -> dict[str, str]:
    """What a Lambda container's process sees, as far as the code reads it, for every row alike.

    - the Globals environment of template.yaml as deployed: function_environment() resolves the !Refs, and the
      two values the local runner overrides (LOCAL_OVERRIDES) go back to the template's: the per-tenant counter
      is a DynamoDB write on every request in Lambda;
    - Lambda's own variables; LAMBDA_TASK_ROOT among them turns Powertools' Tracer on (it is off when that
      is unset), as Tracing: Active runs it: aws_xray_sdk imported, botocore patched, a sampled trace
      header (TRACE_HEADER), segments sent over UDP to a daemon address nobody listens on;
    - fake credentials and the moto endpoint; an empty HOME, so boto3 finds no ~/.aws files (Lambda has none).
    """
    template_globals = load_template()["Globals"]["Function"]["Environment"]["Variables"]
    env = function_environment(local_resource_names())
    for key in LOCAL_OVERRIDES:
        value = template_globals[key]
        if isinstance(value, dict) and "Ref" in value:
            value = load_template()["Parameters"][value["Ref"]].get("Default")
        env[key] = str(value)
    xray_port = free_port()
    env.update(
        PATH=os.environ.get("PATH", "/usr/bin:/bin"),
        LANG="C.UTF-8",
        TZ=":UTC",
        HOME=str(home),
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 - moto's dummy credentials
        AWS_SESSION_TOKEN="testing",  # noqa: S106
        AWS_REGION=LOCAL_REGION,
        AWS_DEFAULT_REGION=LOCAL_REGION,
        AWS_ENDPOINT_URL=endpoint,
        AWS_EXECUTION_ENV="AWS_Lambda_python3.12",
        AWS_LAMBDA_FUNCTION_NAME=function_name,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE=str(memory_mb),
        AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
        AWS_LAMBDA_INITIALIZATION_TYPE="on-demand",
        AWS_LAMBDA_LOG_GROUP_NAME=f"/aws/lambda/{function_name}",
        AWS_LAMBDA_LOG_STREAM_NAME="2026/12/08/[$LATEST]0123456789abcdef0123456789abcdef",
        LAMBDA_TASK_ROOT=str(task_root),
        LAMBDA_RUNTIME_DIR=str(task_root),
        _HANDLER=handler,
        _X_AMZN_TRACE_ID=TRACE_HEADER,
        AWS_XRAY_CONTEXT_MISSING="LOG_ERROR",
        AWS_XRAY_DAEMON_ADDRESS=f"127.0.0.1:{xray_port}",
        _AWS_XRAY_DAEMON_ADDRESS="127.0.0.1",
        _AWS_XRAY_DAEMON_PORT=str(xray_port),
    )
    env.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Reco")
    return env


@dataclass(frozen=True)
class Case:
    """One row's child: the handler, its folder (LAMBDA_TASK_ROOT, cwd), the import path and the environment."""

    label: str
    event_label: str
    handler: str  # module.attribute; "" for `python -c pass`
    task_root: Path
    python_path: tuple[Path, ...]
    env: dict[str, str]
    event_path: Path | None = None
    before: Callable[[], None] | None = None  # run in the parent before each spawn (not timed)


def python_command(site: bool) -> list[str]:
    """The child's interpreter: without site-packages (``-S``) when the layer's packages are on PYTHONPATH."""
    return [sys.executable] if site else [sys.executable, "-S"]


def spawn(
    case: Case,
    site: bool,
    extra_args: tuple[str, ...] = (),
    extra_env: dict[str, str] | None = None,
    output: Path | None = None,
) -> Sample:
    """One cold start of ``case``: spawn, wait for the result line (or, for ``pass``, the exit). The child's
    stdout and stderr (its logs) go to ``output``, or to a temporary file shown if the child fails."""
    env = {**case.env, "PYTHONPATH": os.pathsep.join(str(p) for p in case.python_path), **(extra_env or {})}
    if case.before is not None:
        case.before()
    if not case.handler:
        spawned = time.perf_counter()
        subprocess.run([*python_command(site), *extra_args, "-c", "pass"], env=env, cwd=case.task_root, check=True)
        return Sample(total=time.perf_counter() - spawned, status=200)
    read_end, write_end = os.pipe()
    env.update(COLD_START_HANDLER=case.handler, COLD_START_EVENT=str(case.event_path))
    env["COLD_START_RESULT_FD"] = str(write_end)
    command = [*python_command(site), *extra_args, "-c", RUNNER.read_text()]
    with open(output, "w+b") if output else tempfile.TemporaryFile() as log:
        spawned = time.perf_counter()
        env["COLD_START_SPAWNED_AT"] = repr(spawned)
        child = subprocess.Popen(command, env=env, cwd=case.task_root, stdout=log, stderr=log, pass_fds=(write_end,))
        os.close(write_end)
        line = read_line(read_end, CHILD_TIMEOUT)
        arrived = time.perf_counter()
        os.close(read_end)
        wait_or_kill(child, CHILD_TIMEOUT)
        if not line:
            log.seek(0)
            tail = log.read().decode(errors="replace")[-3000:]
            raise RuntimeError(f"{case.label}: the child gave no result (exit {child.returncode}):\n{tail}")
    return Sample.from_child(json.loads(line), arrived)


def read_line(fd: int, timeout: float) -> str:
    """Bytes from ``fd`` up to the first newline, or to EOF (the child died), or until ``timeout``."""
    import select

    data = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in data:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        data += chunk
    return data.decode().split("\n", 1)[0] if b"\n" in data else ""


# --------------------------------------------------------------------------- the layer's packages


def layer_packages() -> tuple[Path | None, str]:
    """A folder with layers/core/requirements.txt installed by pip (--target) at the venv's versions, as the layer
    ships them; kept while those versions stay the venv's. (None, why) when pip cannot build it."""
    requirements = ROOT / "layers" / "core" / "requirements.txt"
    key = hashlib.sha256((requirements.read_text() + sys.version).encode()).hexdigest()[:12]
    target = CACHE / f"layer-{key}"
    if (target / ".complete").exists() and versions_match(target):
        return target, f"layer packages: {target.relative_to(ROOT)} (cached)"
    freeze = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    partial = CACHE / f"layer-{key}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    constraints = partial / ".constraints.txt"
    constraints.write_text("".join(f"{line}\n" for line in freeze.splitlines() if "==" in line and " @ " not in line))
    started = time.perf_counter()
    print("installing the layer's packages for the children (once) ...", file=sys.stderr, flush=True)
    done = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--only-binary=:all:"),
            *("--target", str(partial), "-r", str(requirements), "-c", str(constraints)),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        reason = (done.stderr.strip().splitlines() or ["pip failed"])[-1]
        return None, f"layer packages: pip could not build them ({reason}); children use the venv's site-packages"
    (partial / ".complete").write_text(f"built in {time.perf_counter() - started:.0f} s\n")
    for old in (target, target.with_name(target.name + "-sources")):
        shutil.rmtree(old, ignore_errors=True)
    partial.rename(target)
    return target, f"layer packages: {target.relative_to(ROOT)} (built in {time.perf_counter() - started:.0f} s)"


def versions_match(folder: Path) -> bool:
    """Whether every distribution pip installed in ``folder`` is at the version the venv has."""
    from importlib import metadata

    for dist in metadata.distributions(path=[str(folder)]):
        try:
            if metadata.version(dist.metadata["Name"]) != dist.version:
                return False
        except metadata.PackageNotFoundError:
            return False
    return True


def sources_only(packages: Path) -> Path:
    """``packages`` without a single .pyc (hard links to the same sources), as layers/core/Makefile ships the
    layer (pip --no-compile) and as Lambda's read-only /opt keeps it: every import compiles its module."""
    target = packages.with_name(packages.name + "-sources")
    if not (target / ".complete").exists():
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(packages, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"), copy_function=os.link)
        (target / ".complete").write_text("sources only\n")
    return target


# --------------------------------------------------------------------------- AWS and data


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """``python -m moto.server`` on a free loopback port, in its own process; yields its endpoint URL."""
    port = free_port()
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log
        )
        try:
            wait_for_port(port, server)
            yield f"http://127.0.0.1:{port}"
        finally:
            server.terminate()
            wait_or_kill(server, 10)


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto server exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"moto server did not listen on {port} within {timeout:.0f} s")


def use_endpoint(endpoint: str) -> None:
    """This process (the seeding side) on the moto server, with the functions' table and bucket names."""
    use_fake_credentials(endpoint)
    os.environ.update(function_environment(local_resource_names()))
    from reco.stores.aws import reset_clients

    reset_clients()


def seed_demo() -> str:
    """The demo tenant as `make run` loads it (local.demo: catalog, users, events, model trained and
    published), the lists context and the scenario the lists and scenarios samples read."""
    from local.demo import seed_demo as load_and_train
    from reco.lists.contexts import ContextServices, put_context
    from reco.scenarios.service import put_scenario
    from reco.schemas.lists import ContextBody
    from reco.schemas.scenarios import Scenario
    from reco.stores.catalog import catalog_store
    from reco.stores.contexts import context_store
    from reco.stores.scenarios import scenario_store

    summary = load_and_train()
    body = ContextBody.model_validate(
        {"name": "Home page", "filters": ["on_sale:false"], "excluded_viewed_items": True}
    )
    put_context("demo", "101", body, ContextServices(context_store(), scenario_store()), datetime.now(UTC))
    scenario = Scenario.model_validate({"scenario_type": "case", "case": {"amt": 10}})
    put_scenario("demo", "profile_to_items", "home_page", scenario, scenario_store(), catalog_store())
    return summary


def empty_events_table() -> str:
    """Drop and re-create EventsTable (from the template), then store the few events the train row trains on.

    moto answers a Query by walking every item of the table, and copies the whole table before each
    TransactWriteItems: at the demo's ~15k event rows, 0.25-0.45 s per history read and seconds per
    POST /v1/events, where DynamoDB takes milliseconds whatever the table's size. The demo model is
    trained by then; the rows read and write histories on a near-empty table, which costs what
    DynamoDB's calls would, not moto's scans.
    """
    import boto3

    from local.aws import provision_resources
    from reco.ingestion import ingest_events
    from reco.stores.events import event_store

    name = local_resource_names()["EventsTable"]
    dynamodb = boto3.client("dynamodb")
    dynamodb.delete_table(TableName=name)
    dynamodb.get_waiter("table_not_exists").wait(TableName=name)
    provision_resources()
    now = datetime.now(UTC).replace(microsecond=0)
    events = [
        {
            "event_id": f"train-{user}-{n}",
            "user_id": f"user-{user:03d}",
            "item_id": f"sku-{1 + (user * 7 + n * 3) % 400:04d}",
            "type": "purchase" if n % 4 == 0 else "view",
            "timestamp": (now - timedelta(hours=user * 10 + n)).isoformat().replace("+00:00", "Z"),
        }
        for user in range(1, 7)
        for n in range(10)
    ]
    result = ingest_events(TRAIN_TENANT, events, event_store(), bulk=True)
    return f"EventsTable emptied after training; {len(events) - len(result.rejected)} events for the train row"


def large_artifact() -> tuple[Any, dict[str, float]]:
    """A 100,000-item ALS artifact from the product's own builders: Interactions from synthetic events (every
    item has one, each of LARGE_USERS users LARGE_HISTORY more, Zipf popularity), random 64-factor float32
    vectors in place of a fit, catalog columns and text indexes of titles, categories, brands, prices, stock
    and sale flags. Returns the artifact and its megabytes per section."""
    import numpy as np

    from reco.event_weights import USER_PREFIX
    from reco.models.als import ALS
    from reco.models.artifact import ModelArtifact
    from reco.models.bm25 import build_bm25_index
    from reco.models.columns import build_item_columns
    from reco.models.interactions import Interactions
    from reco.models.text_index import build_text_index
    from reco.schemas.models import DEFAULT_EVENT_WEIGHTS

    rng = np.random.default_rng(SEED)
    item_ids = np.char.mod("item-%07d", np.arange(LARGE_ITEMS)).astype(np.str_)
    user_ids = np.char.mod(f"{USER_PREFIX}user-%05d", np.arange(LARGE_USERS)).astype(np.str_)
    popularity = rng.zipf(1.3, LARGE_ITEMS).astype(np.float64)
    popularity /= popularity.sum()
    users = np.concatenate(
        [rng.integers(0, LARGE_USERS, LARGE_ITEMS), np.repeat(np.arange(LARGE_USERS), LARGE_HISTORY)]
    )
    items = np.concatenate([np.arange(LARGE_ITEMS), rng.choice(LARGE_ITEMS, LARGE_USERS * LARGE_HISTORY, p=popularity)])
    now = time.time()
    timestamps = now - rng.uniform(0, 60 * 86_400, len(users))
    interactions = Interactions.from_events(
        user_ids[users], item_ids[items], np.ones(len(users), np.float32), timestamps
    )
    csr = interactions.csr()
    params = {**ALS.DEFAULT_PARAMS, "factors": LARGE_FACTORS}
    model = ALS.from_arrays(
        {
            "n_items": np.array(interactions.n_items),
            "n_users": np.array(interactions.n_users),
            "user_items/indptr": csr.indptr,
            "user_items/indices": csr.indices,
            "user_items/data": csr.data,
            "user_factors": rng.standard_normal((interactions.n_users, LARGE_FACTORS), dtype=np.float32) * 0.1,
            "item_factors": rng.standard_normal((interactions.n_items, LARGE_FACTORS), dtype=np.float32) * 0.1,
        },
        params,
    )
    categories = ("desks", "chairs", "lamps", "backpacks", "headphones", "kitchen", "toys", "shoes", "jackets", "books")
    words = ("oak", "walnut", "steel", "linen", "wool", "compact", "classic", "wireless", "foldable", "ergonomic")
    brands = [f"brand-{b:03d}" for b in range(200)]
    picks = rng.integers(0, len(words), (LARGE_ITEMS, 2))
    category = rng.integers(0, len(categories), LARGE_ITEMS)
    brand = rng.integers(0, len(brands), LARGE_ITEMS)
    price = np.round(rng.uniform(5.0, 500.0, LARGE_ITEMS), 2)
    stock = rng.integers(0, 200, LARGE_ITEMS)
    on_sale = rng.random(LARGE_ITEMS) < 0.2
    properties = {
        item_id: {
            "title": f"{brands[brand[i]]} {words[picks[i, 0]]} {words[picks[i, 1]]} {categories[category[i]]} {i}",
            "category": categories[category[i]],
            "brand": brands[brand[i]],
            "price": float(price[i]),
            "stock": int(stock[i]),
            "on_sale": bool(on_sale[i]),
        }
        for i, item_id in enumerate(item_ids.tolist())
    }
    artifact = ModelArtifact.build(
        "als",
        params,
        model,
        interactions,
        item_columns=build_item_columns(interactions.item_ids, properties),
        text_index=build_text_index(interactions.item_ids, properties),
        bm25_index=build_bm25_index(interactions.item_ids, properties),
        metadata={
            "data_until": float(timestamps.max()),
            "event_weights": dict(DEFAULT_EVENT_WEIGHTS),
            "model_id": LARGE_MODEL,
            "job_id": "bench-100k",
        },
    )
    sections = {
        "ids": artifact.item_ids.nbytes + artifact.user_ids.nbytes,
        "scores": artifact.popularity.nbytes + artifact.trending.nbytes,
        "model": sum(a.nbytes for a in model.to_arrays().values()),
        "col": sum(a.nbytes for a in artifact.item_columns.values()),
        "fts": sum(a.nbytes for a in artifact.text_index.values()),
        "bm25": sum(a.nbytes for a in artifact.bm25_index.values()),
    }
    return artifact, {name: size / 1e6 for name, size in sections.items()}


def publish_large_model() -> str:
    """Write the 100k artifact to S3 and make it LARGE_MODEL's current version, as a training run publishes."""
    from local.demo import DEMO_ATTRIBUTES
    from reco.registry import ModelRecord, ModelVersion, artifact_key
    from reco.schemas.models import DEFAULT_EVENT_WEIGHTS
    from reco.stores.artifacts import artifact_storage
    from reco.stores.models import model_registry

    started = time.perf_counter()
    artifact, sections = large_artifact()
    data = artifact.to_bytes()
    registry = model_registry()
    record = ModelRecord(
        LARGE_MODEL,
        "als",
        params=artifact.params,
        event_weights=dict(DEFAULT_EVENT_WEIGHTS),
        attributes=DEMO_ATTRIBUTES,
    )
    registry.define(LARGE_TENANT, record)
    job_id = "bench-100k"
    registry.start_training(LARGE_TENANT, LARGE_MODEL, job_id, stale_after_seconds=0)
    number = registry.next_version(LARGE_TENANT, LARGE_MODEL)
    key = artifact_key(LARGE_TENANT, LARGE_MODEL, number)
    artifact_storage().put(key, data)
    trained_at = datetime.now(UTC).isoformat(timespec="milliseconds")
    version = ModelVersion(number, key, trained_at, {"n_items": LARGE_ITEMS}, "als", artifact.params, None)
    registry.publish(LARGE_TENANT, LARGE_MODEL, job_id, version)
    parts = ", ".join(f"{name} {size:.1f}" for name, size in sections.items())
    return (
        f"tenant '{LARGE_TENANT}': model '{LARGE_MODEL}' v{number}, {LARGE_ITEMS:,} items x {LARGE_FACTORS} factors, "
        f"{len(artifact.user_ids):,} users; artifact {len(data) / 1e6:.1f} MB (MB: {parts}); "
        f"built and published in {time.perf_counter() - started:.1f} s"
    )


def prepare_training() -> None:
    """The state events/invoke/train-model.json expects: model home-als defined in the demo tenant and
    marked as training under the payload's job id (what POST /v1/models/home-als/train does first)."""
    from reco.registry import ModelRecord
    from reco.schemas.models import DEFAULT_EVENT_WEIGHTS
    from reco.stores.models import model_registry

    payload = json.loads((EVENTS / "invoke" / "train-model.json").read_text())
    registry = model_registry()
    registry.define(
        payload["tenant"], ModelRecord(payload["model_id"], "als", event_weights=dict(DEFAULT_EVENT_WEIGHTS))
    )
    registry.start_training(payload["tenant"], payload["model_id"], payload["job_id"], stale_after_seconds=0)


# --------------------------------------------------------------------------- rows


def build_cases(workdir: Path, endpoint: str, packages: Path | None) -> tuple[list[Case], list[Case]]:
    """(the cases run in rounds, the cases run after them); events written under ``workdir``."""
    home = workdir / "home"
    home.mkdir()
    layer = ROOT / "layers" / "core"
    deps = (packages,) if packages is not None else ()

    def event_file(name: str, event: dict[str, Any]) -> Path:
        path = workdir / "events" / f"{name}.json"
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(event))
        return path

    specs = {spec.code_uri.name: spec for spec in functions()}
    events = function_events("demo-als")
    cases: list[Case] = [
        Case(FLOOR_LABEL, "—", "", workdir, (), lambda_environment("Pass", workdir, "", 1024, endpoint, home))
    ]

    def yardstick(label: str, event_label: str, source: Path, function_name: str, event: Path) -> Case:
        """A handler file of bench/ in a task root of its own, served the hello event in Lambda's environment."""
        root = workdir / source.stem
        root.mkdir()
        shutil.copy(source, root / source.name)
        handler = f"{source.stem}.lambda_handler"
        env = lambda_environment(function_name, root, handler, 1024, endpoint, home)
        return Case(label, event_label, handler, root, (root, *deps), env, event)

    hello = event_file("hello", hello_event())
    cases.append(yardstick(HELLO_LABEL, "GET /hello", HELLO_WORLD, "HelloWorldFunction", hello))
    cases.append(yardstick(STACK_LABEL, "GET /hello, one GetItem", STACK_FLOOR, "StackFloorFunction", hello))
    for family in FUNCTION_ORDER:
        spec = specs[family]
        event_label, event = events[family]
        handler = f"{spec.module}.{spec.attribute}"
        env = lambda_environment(spec.logical_id, spec.code_uri, handler, 1024, endpoint, home)
        path = (spec.code_uri, layer, *deps)
        cases.append(Case(family, event_label, handler, spec.code_uri, path, env, event_file(family, event)))
    ranking = specs["ranking"]
    ranking_handler = f"{ranking.module}.{ranking.attribute}"
    cases.append(
        Case(
            LARGE_LABEL,
            f"ranking-recommend ({LARGE_TENANT}/{LARGE_MODEL})",
            ranking_handler,
            ranking.code_uri,
            (ranking.code_uri, layer, *deps),
            lambda_environment(ranking.logical_id, ranking.code_uri, ranking_handler, 1024, endpoint, home),
            event_file("ranking-100k", large_ranking_event()),
        )
    )
    # The same request after reco's SnapStart hooks: before_snapshot (warm botocore's service models), then
    # after_restore (drop clients and sessions), as the first request of a container restored from a snapshot.
    snapstart_env = lambda_environment(ranking.logical_id, ranking.code_uri, ranking_handler, 1024, endpoint, home)
    snapstart_env["COLD_START_RESTORE_HOOKS"] = SNAPSTART_HOOKS
    cases.append(
        Case(
            SNAPSTART_LABEL,
            f"ranking-recommend ({LARGE_TENANT}/{LARGE_MODEL})",
            ranking_handler,
            ranking.code_uri,
            (ranking.code_uri, layer, *deps),
            snapstart_env,
            workdir / "events" / "ranking-100k.json",
        )
    )
    # The layer as layers/core/Makefile builds it (pip --no-compile, reco's sources): no .pyc for the project's
    # code nor for the third-party packages, and none written (Lambda's /var/task and /opt are read-only).
    source_root, source_layer = workdir / "ranking-src", workdir / "layer-src"
    shutil.copytree(ranking.code_uri, source_root, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(layer / "reco", source_layer / "reco", ignore=shutil.ignore_patterns("__pycache__"))
    source_deps = (sources_only(packages),) if packages is not None else ()
    no_pyc_env = lambda_environment(ranking.logical_id, source_root, ranking_handler, 1024, endpoint, home)
    no_pyc_env["PYTHONDONTWRITEBYTECODE"] = "1"
    no_pyc = Case(
        "ranking, no .pyc" if packages is not None else "ranking, no .pyc for reco",
        events["ranking"][0],
        ranking_handler,
        source_root,
        (source_root, source_layer, *source_deps),
        no_pyc_env,
        event_file("ranking-no-pyc", events["ranking"][1]),
    )
    cases.append(no_pyc)
    train = specs["train"]
    train_handler = f"{train.module}.{train.attribute}"
    train_memory = int(load_template()["Parameters"]["TrainingMemorySize"]["Default"])
    later = [
        Case(
            "train",
            "invoke/train-model (demo, home-als)",
            train_handler,
            train.code_uri,
            (train.code_uri, layer, *deps),
            lambda_environment(train.logical_id, train.code_uri, train_handler, train_memory, endpoint, home),
            EVENTS / "invoke" / "train-model.json",
            before=prepare_training,
        )
    ]
    return cases, later


def measure(cases: list[Case], later: list[Case], site: bool, runs: int) -> list[Row]:
    """A discarded warm-up run per case, then ``runs`` rounds over ``cases`` (interleaved, so that a busy
    moment of the shared machine spreads over every row), then ``later``'s runs (the train run publishes
    a model version of the demo tenant, which the other rows must not see)."""
    rows = {case.label: Row(case.label, case.event_label) for case in [*cases, *later]}
    for case in cases:
        spawn(case, site)
    for _ in range(runs):
        for case in cases:
            rows[case.label].samples.append(spawn(case, site))
    for case in later:
        spawn(case, site)
        for _ in range(runs):
            rows[case.label].samples.append(spawn(case, site))
    return list(rows.values())


# --------------------------------------------------------------------------- profiles


def import_profile(case: Case, site: bool, top: int = 12) -> str:
    """``-X importtime`` of one cold start of ``case``: own import time summed per top-level package, for the
    handler module's import (init) and for the imports its first request made; the slowest modules."""
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "importtime.log"
        spawn(case, site, extra_args=("-X", "importtime"), output=log)
        entries = parse_importtime(log.read_text(errors="replace"))
    module = case.handler.rsplit(".", 1)[0]
    end = next((i for i, e in enumerate(entries) if e[2] == module and e[3] == 0), len(entries) - 1)
    init, request = entries[: end + 1], entries[end + 1 :]
    lines = [
        f"`-X importtime` of {case.label}: {entries[end][1] / 1e3:.0f} ms importing {module} (cumulative); "
        f"{sum(e[0] for e in request) / 1e3:.0f} ms of imports during the first request",
        "",
        "| package | own import ms, init | own import ms, first request |",
        "| --- | ---: | ---: |",
    ]
    by_package = {name: (own_ms(init, name), own_ms(request, name)) for name in {e[2].split(".")[0] for e in entries}}
    for name, (at_init, at_request) in sorted(by_package.items(), key=lambda kv: -sum(kv[1]))[:top]:
        lines.append(f"| {name} | {at_init:.1f} | {at_request:.1f} |")
    lines += ["", "| module | own ms | cumulative ms |", "| --- | ---: | ---: |"]
    for own, cumulative, name, _ in sorted(entries, key=lambda e: -e[0])[:top]:
        lines.append(f"| {name} | {own / 1e3:.1f} | {cumulative / 1e3:.1f} |")
    return "\n".join(lines)


def own_ms(entries: list[tuple[int, int, str, int]], package: str) -> float:
    return sum(own for own, _, name, _ in entries if name.split(".")[0] == package) / 1e3


def parse_importtime(text: str) -> list[tuple[int, int, str, int]]:
    """``(self µs, cumulative µs, module, depth)`` per line of ``-X importtime`` output."""
    entries = []
    for line in text.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|", 2)
        depth = (len(name) - len(name.lstrip(" ")) - 1) // 2
        entries.append((int(own), int(cumulative), name.strip(), depth))
    return entries


# Library functions worth a line in a request profile beside the project's own: client construction, AWS
# calls and the socket reads under them, checksums over the artifact's bytes, and np.load's array reads.
PROFILE_LIBRARY_FUNCTIONS = ("create_client", "_make_api_call", "recv_into", "crc32", "read_array", "raw_decode")


def request_profile(case: Case, site: bool, top: int = 30) -> str:
    """A cProfile of the first request of one cold start of ``case``: the project's functions and
    PROFILE_LIBRARY_FUNCTIONS by cumulative time."""
    with tempfile.NamedTemporaryFile(suffix=".prof") as stats_file:
        sample = spawn(case, site, extra_env={"COLD_START_PROFILE": stats_file.name})
        stats: dict[Any, Any] = pstats.Stats(stats_file.name).stats  # type: ignore[attr-defined]
    entries = []
    for (file, line, name), (_, calls, own, cumulative, _) in stats.items():
        project = f"{os.sep}reco{os.sep}" in file or str(ROOT / "functions") in file
        if project or name in PROFILE_LIBRARY_FUNCTIONS or name.endswith(PROFILE_LIBRARY_FUNCTIONS):
            entries.append((cumulative, own, calls, f"{short_path(file)}:{line}({name})"))
    lines = [
        f"cProfile of {case.label}'s first request: {sample.request or 0:.3f} s under the profiler",
        "",
        "| function | calls | cumulative s | own s |",
        "| --- | ---: | ---: | ---: |",
    ]
    for cumulative, own, calls, where in sorted(entries, reverse=True)[:top]:
        lines.append(f"| {where} | {calls} | {cumulative:.3f} | {own:.3f} |")
    return "\n".join(lines)


def short_path(file: str) -> str:
    """A profile's file name from the package down (``reco/stores/aws.py``, ``botocore/client.py``)."""
    parts = Path(file).parts
    for anchor in ("reco", "functions", "botocore", "boto3", "numpy", "urllib3", "aws_xray_sdk", "json", "socket.py"):
        if anchor in parts:
            return "/".join(parts[parts.index(anchor) :])
    return file if file.startswith("~") else "/".join(parts[-2:])


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--profile", action="store_true", help="add -X importtime and a cProfile of the 100k request")
    parser.add_argument("--runs", type=int, default=RUNS, help="runs per row (default BENCH_COLD_RUNS or 5)")
    args = parser.parse_args()
    started = time.perf_counter()
    packages, packages_note = layer_packages()
    site = packages is None
    with moto_server() as endpoint, tempfile.TemporaryDirectory(prefix="reco-cold-start-") as tmp:
        use_endpoint(endpoint)
        from local.aws import provision_resources

        provision_resources()
        notes = [packages_note, seed_demo(), empty_events_table(), publish_large_model()]
        setup_seconds = time.perf_counter() - started
        cases, later = build_cases(Path(tmp), endpoint, packages)
        rows = measure(cases, later, site, args.runs)
        evaluate(rows, HELLO_LABEL, (LARGE_LABEL, SNAPSTART_LABEL), (FLOOR_LABEL, HELLO_LABEL, STACK_LABEL))
        profiles: list[str] = []
        if args.profile:
            by_label = {case.label: case for case in [*cases, *later]}
            slowest = max((r for r in rows if r.label in FUNCTION_ORDER), key=lambda r: r.median("total") or 0.0)
            for label in dict.fromkeys(("ranking", slowest.label)):
                profiles.append(import_profile(by_label[label], site))
            for label in dict.fromkeys((LARGE_LABEL, SNAPSTART_LABEL, slowest.label)):
                profiles.append(request_profile(by_label[label], site))
    python = f"Python {sys.version.split()[0]}" + (" -S" if not site else "")
    print(f"Cold starts, {args.runs} runs per row after a warm-up run; {python}; {os.cpu_count()} cores", end="")
    print(f", load average {os.getloadavg()[0]:.2f} at the end")
    print("\n".join(notes))
    print(f"setup {setup_seconds:.0f} s; medians, in seconds from the parent's spawn\n")
    print(markdown_table(rows))
    hello = next(r for r in rows if r.label == HELLO_LABEL)
    large_row = next(r for r in rows if r.label == LARGE_LABEL)
    print(
        f"\nhello world: init {seconds(hello.median('init'))} s, first request {seconds(hello.median('request'))} s,"
        f" total {seconds(hello.median('total'))} s → function target ≤ {HELLO_FACTOR:g} x = "
        f"{HELLO_FACTOR * (hello.median('total') or 0):.3f} s"
    )
    print(
        f"ranking, 100k items: first request {seconds(large_row.median('request'))} s "
        f"(target ≤ {LARGE_FIRST_REQUEST_TARGET} s), init {seconds(large_row.median('init'))} s, "
        f"total {seconds(large_row.median('total'))} s"
    )
    failed = [r.label for r in rows if r.passed is False]
    print(f"{len(failed)} row(s) FAIL: {', '.join(failed)}" if failed else "every row PASS")
    for profile in profiles:
        print("\n" + profile)
    print(f"\nbench total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
