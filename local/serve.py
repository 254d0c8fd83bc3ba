"""``make run``: every route on http://127.0.0.1:3000, in front of an in-memory AWS.

Environment: PORT (default 3000), RECO_THROTTLING=off to disable the throttle (benchmarks),
RECO_DEMO=off to start without the demo tenant.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ENDPOINT_FILE = Path(".local/aws-endpoint.json")
ENDPOINT_KEYS = (
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_REGION",
)


def write_endpoint_file() -> None:
    """Tell `reco --local` where this run's in-memory AWS is, and the names of its tables."""
    from local.aws import local_resource_names
    from local.template import function_environment

    settings = {key: os.environ[key] for key in ENDPOINT_KEYS}
    settings.update(function_environment(local_resource_names()))
    ENDPOINT_FILE.parent.mkdir(exist_ok=True)
    ENDPOINT_FILE.write_text(json.dumps(settings, indent=2))


def main() -> None:
    # AWS first: the function modules read their settings from the environment on import.
    from local.aws import provision_resources, start_moto_server
    from local.template import function_environment

    moto_server = start_moto_server()
    try:
        os.environ.update(function_environment(provision_resources()))
        os.environ.setdefault("POWERTOOLS_DEV", "false")
        write_endpoint_file()
        if os.environ.get("RECO_DEMO", "on").lower() not in {"0", "off", "false", "no"}:
            from local.demo import seed_demo

            print("loading the demo tenant and training its model ...", file=sys.stderr, flush=True)
            print(seed_demo(), file=sys.stderr, flush=True)

        import uvicorn

        from local.composed import gateway_app, gateway_settings
        from reco.api.app import tune_gc_for_requests

        port = int(os.environ.get("PORT", "3000"))
        app = gateway_app()
        settings = gateway_settings()
        tune_gc_for_requests()
        throttle = (
            f"burst {settings.throttle_burst}, {settings.throttle_rate:g} req/s per route"
            if app.settings.throttling
            else "off"
        )
        print(
            f"reco is serving on http://127.0.0.1:{port}  (in-memory AWS at {os.environ['AWS_ENDPOINT_URL']})\n"
            f"  throttling: {throttle}\n"
            f"  token:      make token ROLES=backend TENANT=demo   (last line is the bearer token)\n"
            f"  API docs:   http://127.0.0.1:{port}/docs   ·   Ctrl-C stops",
            file=sys.stderr,
            flush=True,
        )
        uvicorn.run(app, host="127.0.0.1", port=port, access_log=False, log_level="warning")
    finally:
        ENDPOINT_FILE.unlink(missing_ok=True)
        moto_server.stop()
        print("reco stopped", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
