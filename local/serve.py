"""``make run``: every route on http://127.0.0.1:3000, in front of a local AWS that keeps its data.

Environment: PORT (default 3000); RECO_DATA_DIR (default .local/aws) where DynamoDB and S3 keep
their data between runs; RECO_EPHEMERAL=1 for a throwaway store; RECO_THROTTLING=off to disable
the throttles, the route's and each tenant's share of it (benchmarks); RECO_DEMO=off to start
without the demo tenant.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import time
import traceback
from pathlib import Path

ENDPOINT_FILE = Path(".local/aws-endpoint.json")
DEFAULT_DATA_DIR = Path(".local/aws")
ENDPOINT_KEYS = (
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_REGION",
)
# Requests each function runs at once (RECO_FUNCTION_CONCURRENCY); measured in bench/storage.py.
FUNCTION_CONCURRENCY = 2
# Requests still running this long after Ctrl-C are cut off: a stop never waits on a long import.
GRACEFUL_STOP_SECONDS = 3


def enabled(name: str, default: str) -> bool:
    return os.environ.get(name, default).lower() not in {"0", "off", "false", "no", ""}


def data_dir() -> Path | None:
    """Where the local AWS keeps its data; None for a throwaway store (RECO_EPHEMERAL=1)."""
    if enabled("RECO_EPHEMERAL", "off"):
        return None
    return Path(os.environ.get("RECO_DATA_DIR") or DEFAULT_DATA_DIR)


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def write_endpoint_file() -> None:
    """Tell `reco --local` where this run's local AWS is, the names of its tables, and who serves it."""
    from local.aws import local_resource_names
    from local.template import function_environment

    environment = {key: os.environ[key] for key in ENDPOINT_KEYS}
    environment.update(function_environment(local_resource_names()))
    ENDPOINT_FILE.parent.mkdir(exist_ok=True)
    ENDPOINT_FILE.write_text(json.dumps({"pid": os.getpid(), "environment": environment}, indent=2))


def remove_endpoint_file() -> None:
    """Remove the endpoint file if it is this run's (a second runner may have written its own)."""
    try:
        if json.loads(ENDPOINT_FILE.read_text()).get("pid") == os.getpid():
            ENDPOINT_FILE.unlink()
    except (OSError, ValueError):
        pass


def main() -> None:
    started = time.perf_counter()
    # AWS first: the function modules read their settings from the environment on import.
    from local.aws import provision_resources, start_local_aws
    from local.template import function_environment

    port = int(os.environ.get("PORT", "3000"))
    if not port_is_free(port):
        raise SystemExit(f"port {port} is in use (another `make run`?): stop it, or start this one with PORT=<port>")
    store = data_dir()
    local_aws = start_local_aws(store)
    try:
        os.environ.update(function_environment(provision_resources()))
        os.environ.setdefault("POWERTOOLS_DEV", "false")
        write_endpoint_file()
        if enabled("RECO_DEMO", "on"):
            from local.demo import ensure_demo

            print(ensure_demo(), file=sys.stderr, flush=True)

        import uvicorn

        from local.composed import gateway_app, template_tenant_share
        from reco.api.app import tune_gc_for_requests

        concurrency = int(os.environ.get("RECO_FUNCTION_CONCURRENCY", str(FUNCTION_CONCURRENCY)))
        app = gateway_app(function_concurrency=concurrency)
        settings = app.settings
        tune_gc_for_requests()
        share = template_tenant_share()
        throttle = (
            f"burst {settings.throttle_burst}, {settings.throttle_rate:g} req/s per route"
            + (f"; each tenant {share.describe()} of it" if share else "")
            if app.settings.throttling
            else "off"
        )
        kept = "a throwaway store (RECO_EPHEMERAL=1)" if store is None else f"data kept in {store}/"
        print(
            f"reco is serving on http://127.0.0.1:{port}  (ready in {time.perf_counter() - started:.1f} s)\n"
            f"  local AWS:  {os.environ['AWS_ENDPOINT_URL']}, {kept}\n"
            f"  throttling: {throttle}\n"
            f"  token:      make token ROLES=backend TENANT=demo   (last line is the bearer token)\n"
            f"  API docs:   http://127.0.0.1:{port}/docs   ·   Ctrl-C stops",
            file=sys.stderr,
            flush=True,
        )
        uvicorn.run(
            app,
            host="127.0.0.1",
            port=port,
            access_log=False,
            log_level="warning",
            timeout_graceful_shutdown=GRACEFUL_STOP_SECONDS,
        )
    finally:
        remove_endpoint_file()
        local_aws.close()
        print("reco stopped", file=sys.stderr, flush=True)


def stop_on_sigterm() -> None:
    """SIGTERM stops the runner as Ctrl-C does: requests finish (3 s at most), the store closes, the
    endpoint file goes (the default action would end the process at once, leaving both behind)."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def run() -> int:
    """``main`` with an exit code; the process then ends without waiting for request threads still busy
    after the graceful stop (the store has committed every write it acknowledged)."""
    stop_on_sigterm()
    try:
        main()
    except SystemExit as stop:
        if isinstance(stop.code, int):
            return stop.code
        print(f"make run: {stop.code}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM, after the clean stop in main's finally
        return 0
    except Exception:
        traceback.print_exc()
        return 1
    return 0


if __name__ == "__main__":
    code = run()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
