"""``make run``: every route on http://127.0.0.1:3000, in front of an in-memory AWS.

Environment: PORT (default 3000), RECO_THROTTLING=off to disable the throttle (benchmarks).
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    # AWS first: the function modules read their settings from the environment on import.
    from local.aws import provision_resources, start_moto_server
    from local.template import function_environment

    moto_server = start_moto_server()
    try:
        os.environ.update(function_environment(provision_resources()))
        os.environ.setdefault("POWERTOOLS_DEV", "false")

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
        moto_server.stop()
        print("reco stopped", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
