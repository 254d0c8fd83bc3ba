"""The local AWS endpoint: DynamoDB and S3 on the local disk, reached over HTTP or inside this process.

Other processes (``reco --local``, boto3 anywhere) reach it at ``AWS_ENDPOINT_URL`` over HTTP. The
runner's own boto3 clients skip the socket: a botocore ``before-send`` hook hands each signed request
to the same ``LocalAws.handle`` the HTTP server calls, so both paths answer byte for byte alike.
"""

from __future__ import annotations

import fcntl
import io
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse

from local.dynamodb.service import TARGET_PREFIX, LocalDynamoDB
from local.s3 import LocalS3

CREDENTIAL_SERVICE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
SWEEP_SECONDS = 3600.0
Answer = tuple[int, dict[str, str], bytes]


class LocalAws:
    """DynamoDB (one SQLite file) and S3 (a folder) under ``data_dir``; a temporary folder when None."""

    def __init__(self, data_dir: Path | None = None) -> None:
        self.ephemeral = data_dir is None
        self.data_dir = Path(tempfile.mkdtemp(prefix="reco-aws-")) if data_dir is None else data_dir
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock = _lock_folder(self.data_dir)
        self.dynamodb = LocalDynamoDB(self.data_dir / "dynamodb.sqlite3")
        self.s3 = LocalS3(self.data_dir / "s3")
        self._server: ThreadingHTTPServer | None = None
        self._stopped = threading.Event()
        self._sweeper: threading.Thread | None = None

    # ---------------------------------------------------------------- requests
    def handle(self, method: str, url: str, headers: dict[str, str], body: bytes) -> Answer:
        target = headers.get("x-amz-target", "")
        if target.startswith(TARGET_PREFIX):
            status, answer = self.dynamodb.handle(target, body)
            return status, {"Content-Type": "application/x-amz-json-1.0"}, answer
        service = CREDENTIAL_SERVICE.search(headers.get("authorization", ""))
        if service is None or service.group(1) == "s3":
            return self.s3.handle(method, url, headers, _decode_aws_chunked(headers, body))
        message = f"the local AWS serves DynamoDB and S3, not {service.group(1)}"
        return (
            400,
            {"Content-Type": "application/json"},
            f'{{"__type": "UnknownService", "message": "{message}"}}'.encode(),
        )

    # ---------------------------------------------------------------- in this process
    def install(self, session: Any = None) -> None:
        """Answer every DynamoDB and S3 call of boto3's default session (or ``session``) here."""
        target = session or _default_session()
        target.events.register("before-send", self._answer_in_process, unique_id="reco-local-aws")

    def uninstall(self, session: Any = None) -> None:
        target = session or _default_session()
        target.events.unregister("before-send", unique_id="reco-local-aws")

    def _answer_in_process(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        headers = {name.lower(): _text(value) for name, value in request.headers.items()}
        body = request.body
        if hasattr(body, "read"):
            data = body.read()
            body.seek(0)  # botocore may send it again on a retry
        else:
            data = body or b""
        if isinstance(data, str):
            data = data.encode()
        status, answer_headers, answer = self.handle(request.method, request.url, headers, data)
        return AWSResponse(request.url, status, answer_headers, _RawBody(answer))

    # ---------------------------------------------------------------- over HTTP
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve HTTP in a background thread; returns the endpoint URL."""
        local_aws = self

        class Handler(_RequestHandler):
            aws = local_aws

        self._server = _Server((host, port), Handler)
        threading.Thread(target=self._server.serve_forever, name="local-aws-http", daemon=True).start()
        return f"http://{host}:{self._server.server_address[1]}"

    def sweep_expired_items(self, every_seconds: float = SWEEP_SECONDS) -> None:
        """Delete expired items now and then every ``every_seconds`` (DynamoDB's TTL, locally)."""

        def sweep() -> None:
            while True:
                self.dynamodb.delete_expired()
                if self._stopped.wait(every_seconds):
                    return

        self._sweeper = threading.Thread(target=sweep, name="local-aws-ttl", daemon=True)
        self._sweeper.start()

    def close(self) -> None:
        self._stopped.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._sweeper is not None:
            self._sweeper.join(timeout=5)
        self.dynamodb.close()
        self._lock.close()
        if self.ephemeral:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def _lock_folder(folder: Path) -> IO[str]:
    """Hold ``folder`` for this process: two runners writing one store would each think they own it."""
    lock = (folder / "lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise SystemExit(
            f"{folder} is in use by another runner: stop it, or give this one its own RECO_DATA_DIR"
        ) from None
    return lock


def _default_session() -> Any:
    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    return boto3.DEFAULT_SESSION


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


class _RawBody(io.BytesIO):
    """What botocore reads an answer from (``stream()`` for content, ``read()`` for S3 bodies)."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        chunk = self.read()
        while chunk:
            yield chunk
            chunk = self.read()


def _decode_aws_chunked(headers: dict[str, str], body: bytes) -> bytes:
    """A streamed upload (``aws-chunked``: hex size, CRLF, data, CRLF, …, then trailers) as its plain bytes."""
    if not headers.get("x-amz-content-sha256", "").startswith("STREAMING-") and "aws-chunked" not in headers.get(
        "content-encoding", ""
    ):
        return body
    data, position = bytearray(), 0
    while position < len(body):
        line_end = body.index(b"\r\n", position)
        size = int(body[position:line_end].split(b";")[0], 16)
        if size == 0:
            break
        data += body[line_end + 2 : line_end + 2 + size]
        position = line_end + 2 + size + 2
    return bytes(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: boto3 reuses its connections
    disable_nagle_algorithm = True  # else each answer waits ~40 ms for the client's delayed ACK
    aws: LocalAws

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        url = f"http://{self.headers.get('Host', 'localhost')}{self.path}"
        status, answer_headers, answer = self.aws.handle(self.command, url, headers, body)
        self.send_response(status)
        for name, value in answer_headers.items():
            if name.lower() != "content-length":
                self.send_header(name, value)
        length_header = answer_headers.get("Content-Length") if self.command == "HEAD" else None
        self.send_header("Content-Length", length_header or str(len(answer)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _answer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: one line per AWS call would drown the API's own log."""
