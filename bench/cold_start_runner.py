"""The child side of bench/cold_start.py: one fresh interpreter, one handler import, one event, one answer.

bench.cold_start runs this file's source with ``python -c`` (so the repository is not on ``sys.path``; the
``PYTHONPATH`` it sets is Lambda's: the function's folder and the layer), and passes everything in the
environment:

- ``COLD_START_SPAWNED_AT``: the parent's ``time.perf_counter()`` taken right before it spawned this process
  (CLOCK_MONOTONIC on Linux: one clock for every process, so the two can be subtracted);
- ``COLD_START_HANDLER``: ``module.attribute``, as in the template's ``Handler``;
- ``COLD_START_EVENT``: the path of the JSON event to serve;
- ``COLD_START_RESULT_FD``: the file descriptor to write the one result line to (stdout carries the
  function's own logs and metrics, as in Lambda);
- ``COLD_START_PROFILE`` (optional): a path to write a cProfile of the request to;
- ``COLD_START_RESTORE_HOOKS`` (optional): ``module:before,after``, functions called after the import and
  before the request, as Lambda calls SnapStart's hooks around a snapshot (the restore itself, a copy of
  the process's memory, is not reproduced).

The result line is JSON: ``spawned`` (the parent's timestamp), ``code_started`` (this file's first line),
``imported`` (the handler module imported: the end of Lambda's init phase), ``hooks_done`` (after the
restore hooks, if any), ``request_started`` and
``answered`` (around the handler call), all perf_counter seconds, and ``status`` (the response's
``statusCode``, or a train run's ``status``). The process then exits without teardown.
"""

import time

CODE_STARTED = time.perf_counter()

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import uuid  # noqa: E402


class LambdaContext:
    """The attributes Lambda's context object has and Powertools and Mangum read."""

    def __init__(self) -> None:
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "ColdStartBench")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024"))
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self._deadline = time.monotonic() + 15.0

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def serve(handler: object, event: dict, profile_path: str | None) -> tuple[dict, float, float]:
    """Call the handler once; returns the response and the perf_counter seconds around the call."""
    context = LambdaContext()
    if profile_path:
        import cProfile

        profiler = cProfile.Profile()
        started = time.perf_counter()
        response = profiler.runcall(handler, event, context)  # type: ignore[arg-type]
        answered = time.perf_counter()
        profiler.dump_stats(profile_path)
        return response, started, answered
    started = time.perf_counter()
    response = handler(event, context)  # type: ignore[operator]
    return response, started, time.perf_counter()


def main() -> None:
    module_name, attribute = os.environ["COLD_START_HANDLER"].rsplit(".", 1)
    __import__(module_name)  # not importlib.import_module: -X importtime only times the import statement's path
    handler = getattr(sys.modules[module_name], attribute)
    imported = time.perf_counter()
    if os.environ.get("COLD_START_RESTORE_HOOKS"):
        hooks_module, names = os.environ["COLD_START_RESTORE_HOOKS"].split(":")
        __import__(hooks_module)
        for name in names.split(","):
            getattr(sys.modules[hooks_module], name)()
    hooks_done = time.perf_counter()
    with open(os.environ["COLD_START_EVENT"], encoding="utf-8") as file:
        event = json.load(file)
    response, request_started, answered = serve(handler, event, os.environ.get("COLD_START_PROFILE"))
    status = response.get("statusCode", response.get("status")) if isinstance(response, dict) else None
    result = {
        "spawned": float(os.environ["COLD_START_SPAWNED_AT"]),
        "code_started": CODE_STARTED,
        "imported": imported,
        "hooks_done": hooks_done,
        "request_started": request_started,
        "answered": answered,
        "status": status,
        "body": response.get("body", "")[:300] if isinstance(response, dict) and status != 200 else "",
    }
    os.write(int(os.environ["COLD_START_RESULT_FD"]), (json.dumps(result) + "\n").encode())
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # the answer is out: teardown (atexit, module finalisers) is not part of a cold start


if __name__ == "__main__":
    main()
