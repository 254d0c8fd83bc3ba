"""`make run` as a user starts it, for the storage benchmarks: a process, its HTTP API, its CLI, its memory."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from local.aws import free_port
from local.template import ROOT
from local.tokens import issue_token

PYTHONPATH = ":".join(
    str(ROOT / part)
    for part in ["layers/core", *(f"functions/{d.name}" for d in sorted((ROOT / "functions").iterdir())), "."]
)


def runtime_env(**extra: str) -> dict[str, str]:
    """The environment `make` gives the runner and the CLI, without any AWS settings of the caller."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RECO_"))}
    env.update(PYTHONPATH=PYTHONPATH, **extra)
    return env


class Runner:
    """A running ``python -m local.serve`` in ``folder`` (its ``.local/`` holds the store)."""

    def __init__(self, folder: Path, *, demo: bool, throttling: bool = False, **env: str) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = runtime_env(
            PORT=str(self.port),
            RECO_DEMO="on" if demo else "off",
            RECO_THROTTLING="on" if throttling else "off",
            POWERTOOLS_LOG_LEVEL="WARNING",
            **env,
        )
        self.log = folder / ".local" / "runner.log"
        self.log.parent.mkdir(exist_ok=True)
        self._log_file = self.log.open("w")
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "local.serve"],
            cwd=folder,
            env=env,
            stdout=self._log_file,  # the functions' JSON log (WARNING and up) and the runner's own lines
            stderr=subprocess.STDOUT,
        )
        self.ready_seconds = self._wait_until_ready()

    def _wait_until_ready(self, timeout: float = 600) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.base}/openapi.json", timeout=2):
                    return time.perf_counter() - self.started
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if self.process.poll() is not None:
                    raise RuntimeError(f"the runner exited: {self.log.read_text()}") from None
                time.sleep(0.05)
        raise RuntimeError("the runner did not answer in time")

    def rss_mib(self) -> float:
        """The runner's resident memory (VmRSS), in MiB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def cli(self, *args: str, timeout: float = 1800) -> tuple[float, str]:
        """``reco --local <args>`` in the runner's folder: (seconds, stdout); raises on a non-zero exit."""
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "reco", "--local", *args],
            cwd=self.folder,
            env=runtime_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(f"reco {' '.join(args)} failed: {result.stderr.strip()}")
        return time.perf_counter() - started, result.stdout

    def stop(self, how: signal.Signals = signal.SIGINT) -> int | None:
        """Ctrl-C (or ``how``), as a user stops it; the exit code (None if it had to be killed)."""
        self._log_file.close()
        if self.process.poll() is None:
            self.process.send_signal(how)
            return wait_or_kill(self.process, 30)
        return self.process.returncode


def wait_or_kill(process: subprocess.Popen[Any], timeout: float) -> int | None:
    """Wait for ``process`` to end, killing it after ``timeout`` seconds: its exit code, None if it was killed."""
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return None


@contextmanager
def stdout_fd_to(target: int) -> Iterator[None]:
    """File descriptor 1 to ``target`` for a while: log handlers hold the original stdout object, so
    replacing ``sys.stdout`` would not silence them."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(target, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


@contextmanager
def running(folder: Path, *, demo: bool, throttling: bool = False, **env: str) -> Iterator[Runner]:
    runner = Runner(folder, demo=demo, throttling=throttling, **env)
    try:
        yield runner
    finally:
        runner.stop()


def bearer(tenant: str, *roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(tenant, list(roles) or ['backend'], ttl_seconds=7200)}"}


def call(
    base: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None, timeout: float = 120
) -> tuple[int, Any]:
    """One HTTP request; (status, parsed JSON or text)."""
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(f"{base}{path}", data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")
