"""S3 on the local disk: buckets are folders, an object is one file (a JSON line of metadata, then its bytes).

Only what reco and its tools ask of S3: buckets (create, head, delete, list, versioning switched on),
objects (put with user metadata and ``If-None-Match: *``, copy, get with a byte range and ``If-Match``
/ ``If-None-Match``, head, delete) and ListObjectsV2 (prefix, delimiter, pages), in S3's REST dialect.
An object's file is written whole and renamed into place: a reader sees the old object or the new
one, never a mix, and a killed process never leaves half an object.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
VIRTUAL_HOST = re.compile(r"^(.+?)\.s3(?:[.-][a-z0-9-]+)*\.amazonaws\.com$|^(.+?)\.localhost$")
NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
MAX_KEYS = 1000
OBJECT_SUFFIX = ".object"
META_PREFIX = "x-amz-meta-"

Answer = tuple[int, dict[str, str], bytes]


@dataclass(frozen=True)
class S3Error(Exception):
    status: int
    code: str
    message: str


PRECONDITION_FAILED = S3Error(
    412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold"
)


def _xml(root: str, body: str) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="{NAMESPACE}">{body}</{root}>'.encode()


def _error(error: S3Error, resource: str) -> Answer:
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{error.code}</Code>'
        f"<Message>{escape(error.message)}</Message><Resource>{escape(resource)}</Resource></Error>"
    ).encode()
    return error.status, {"Content-Type": "application/xml"}, body


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class LocalS3:
    """Buckets under ``root``; an object is ``<bucket>/<sha256 of key>`` plus ``….json`` with its metadata."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    # ---------------------------------------------------------------- dispatch
    def handle(self, method: str, url: str, headers: dict[str, str], body: bytes) -> Answer:
        parts = urlsplit(url)
        path = unquote(parts.path)
        query = {name: values[0] for name, values in parse_qs(parts.query, keep_blank_values=True).items()}
        virtual_host = VIRTUAL_HOST.match(parts.hostname or "")
        if virtual_host:  # https://<bucket>.s3.<region>.amazonaws.com/<key>
            bucket, key = virtual_host.group(1) or virtual_host.group(2), path.lstrip("/")
        else:  # http://127.0.0.1:<port>/<bucket>/<key>
            bucket, _, key = path.lstrip("/").partition("/")
        try:
            if not bucket:
                if method == "GET":
                    return self._list_buckets()
                raise S3Error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
            if not key:
                return self._bucket_request(method, bucket, query)
            return self._object_request(method, bucket, key, query, headers, body)
        except FileNotFoundError:  # deleted between reading its record and its data
            return _error(S3Error(404, "NoSuchKey", "The specified key does not exist."), path)
        except S3Error as error:
            if method == "HEAD":
                return error.status, {}, b""
            return _error(error, path)
        except Exception as error:  # any other fault is the store's, answered as S3 does
            return _error(S3Error(500, "InternalError", f"Internal error in the local store: {error!r}"), path)

    def _bucket_request(self, method: str, bucket: str, query: dict[str, str]) -> Answer:
        if method == "PUT" and "versioning" in query:
            self._bucket(bucket)
            return 200, {}, b""
        if method == "PUT":
            return self.create_bucket(bucket)
        if method == "HEAD":
            self._bucket(bucket)
            return 200, {}, b""
        if method == "DELETE":
            folder = self._bucket(bucket)
            if any(folder.glob(f"*{OBJECT_SUFFIX}")):
                raise S3Error(409, "BucketNotEmpty", "The bucket you tried to delete is not empty")
            shutil.rmtree(folder)
            return 204, {}, b""
        if method == "GET" and "versioning" in query:
            self._bucket(bucket)
            return 200, {"Content-Type": "application/xml"}, _xml("VersioningConfiguration", "<Status>Enabled</Status>")
        if method == "GET" and query.get("list-type") == "2":
            return self._list_objects(bucket, query)
        raise S3Error(
            501, "NotImplemented", f"the local S3 store does not implement {method} on a bucket with {sorted(query)}"
        )

    def _object_request(
        self, method: str, bucket: str, key: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Answer:
        if query.keys() - {"x-id"}:
            raise S3Error(
                501, "NotImplemented", f"the local S3 store does not implement object requests with {sorted(query)}"
            )
        if method == "PUT":
            source = headers.get("x-amz-copy-source")
            if source:
                return self._copy(bucket, key, unquote(source))
            if headers.get("if-none-match") == "*" and self._path(bucket, key).exists():
                raise S3Error(
                    412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold"
                )
            user_metadata = {name: value for name, value in headers.items() if name.startswith(META_PREFIX)}
            return self.put_object(bucket, key, body, headers.get("content-type", "binary/octet-stream"), user_metadata)
        if method in ("GET", "HEAD"):
            meta, data = self._read(bucket, key, with_data=method == "GET")
            answer_headers = {
                "Content-Type": meta["content_type"],
                "ETag": f'"{meta["etag"]}"',
                "Last-Modified": formatdate(meta["modified"], usegmt=True),
                "Content-Length": str(meta["size"]),
                "x-amz-checksum-crc32": meta["crc32"],
                **meta.get("metadata", {}),
            }
            etag = f'"{meta["etag"]}"'
            if "if-match" in headers and headers["if-match"] not in (etag, meta["etag"], "*"):
                raise S3Error(
                    412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold"
                )
            if headers.get("if-none-match") in (etag, meta["etag"], "*"):
                return 304, {"ETag": etag}, b""
            byte_range = headers.get("range")
            if byte_range and method == "GET":
                return self._ranged(data, byte_range, answer_headers)
            return 200, answer_headers, data
        if method == "DELETE":
            self._bucket(bucket)
            self._path(bucket, key).unlink(missing_ok=True)
            return 204, {}, b""
        raise S3Error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")

    # ---------------------------------------------------------------- buckets
    def create_bucket(self, bucket: str) -> Answer:
        if not BUCKET_NAME.match(bucket):
            raise S3Error(400, "InvalidBucketName", f"The specified bucket is not valid: {bucket}")
        folder = self.root / bucket
        if folder.exists():
            raise S3Error(
                409,
                "BucketAlreadyOwnedByYou",
                "Your previous request to create the named bucket succeeded and you already own it.",
            )
        folder.mkdir(parents=True)
        return 200, {"Location": f"/{bucket}"}, b""

    def _bucket(self, bucket: str) -> Path:
        folder = self.root / bucket
        if not BUCKET_NAME.match(bucket) or not folder.is_dir():
            raise S3Error(404, "NoSuchBucket", "The specified bucket does not exist")
        return folder

    def _list_buckets(self) -> Answer:
        entries = "".join(
            f"<Bucket><Name>{folder.name}</Name><CreationDate>{_iso(folder.stat().st_ctime)}</CreationDate></Bucket>"
            for folder in sorted(self.root.iterdir())
            if folder.is_dir()
        )
        body = f"<Owner><ID>local</ID></Owner><Buckets>{entries}</Buckets>"
        return 200, {"Content-Type": "application/xml"}, _xml("ListAllMyBucketsResult", body)

    # ---------------------------------------------------------------- objects
    def _path(self, bucket: str, key: str) -> Path:
        name = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        return self._bucket(bucket) / f"{name}{OBJECT_SUFFIX}"

    def _read(self, bucket: str, key: str, *, with_data: bool = True) -> tuple[dict[str, Any], bytes]:
        """An object's metadata and (optionally) bytes, read from one file: always the same version of both."""
        try:
            with self._path(bucket, key).open("rb") as stored:
                meta = json.loads(stored.readline())
                return meta, stored.read() if with_data else b""
        except FileNotFoundError:
            raise S3Error(404, "NoSuchKey", "The specified key does not exist.") from None

    def put_object(
        self, bucket: str, key: str, data: bytes, content_type: str, user_metadata: dict[str, str] | None = None
    ) -> Answer:
        path = self._path(bucket, key)
        if not key or len(key.encode("utf-8", "surrogatepass")) > 1024:
            raise S3Error(400, "KeyTooLongError", "Your key is too long")
        etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
        crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
        meta = {
            "key": key,
            "etag": etag,
            "size": len(data),
            "content_type": content_type,
            "crc32": crc,
            "modified": time.time(),
            "metadata": user_metadata or {},
        }
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, prefix=".put-") as tmp:
            tmp.write(json.dumps(meta).encode() + b"\n")
            tmp.write(data)
        os.replace(tmp.name, path)  # the one step that makes the new object visible
        return 200, {"ETag": f'"{etag}"', "x-amz-checksum-crc32": crc}, b""

    def _copy(self, bucket: str, key: str, source: str) -> Answer:
        source_bucket, _, source_key = source.lstrip("/").partition("/")
        meta, data = self._read(source_bucket, source_key)
        self.put_object(bucket, key, data, meta["content_type"], meta.get("metadata"))
        copied, _ = self._read(bucket, key, with_data=False)
        body = f'<ETag>"{copied["etag"]}"</ETag><LastModified>{_iso(copied["modified"])}</LastModified>'
        return 200, {"Content-Type": "application/xml"}, _xml("CopyObjectResult", body)

    @staticmethod
    def _ranged(data: bytes, byte_range: str, headers: dict[str, str]) -> Answer:
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", byte_range.strip())
        if not match or not any(match.groups()):
            return 200, headers, data
        first, last = match.groups()
        if first:
            start, end = int(first), min(int(last) if last else len(data) - 1, len(data) - 1)
        else:
            start, end = max(len(data) - int(last), 0), len(data) - 1
        if start >= len(data) or start > end:
            raise S3Error(416, "InvalidRange", "The requested range is not satisfiable")
        part = data[start : end + 1]
        headers = {**headers, "Content-Length": str(len(part)), "Content-Range": f"bytes {start}-{end}/{len(data)}"}
        headers.pop("x-amz-checksum-crc32", None)  # the checksum is the whole object's
        return 206, headers, part

    def _list_objects(self, bucket: str, query: dict[str, str]) -> Answer:
        folder = self._bucket(bucket)
        prefix, delimiter = query.get("prefix", ""), query.get("delimiter", "")
        start = query.get("continuation-token") or query.get("start-after") or ""
        try:
            limit = min(int(query.get("max-keys") or MAX_KEYS), MAX_KEYS)
            if limit < 0:
                raise ValueError
        except ValueError:
            raise S3Error(400, "InvalidArgument", "max-keys must be an integer from 0 to 1000") from None
        objects: dict[str, dict[str, Any]] = {}
        prefixes: set[str] = set()
        for path in folder.glob(f"*{OBJECT_SUFFIX}"):
            try:
                with path.open("rb") as stored:
                    meta = json.loads(stored.readline())
            except (FileNotFoundError, ValueError):
                continue  # deleted or being replaced while listing
            key = meta["key"]
            if not key.startswith(prefix):
                continue
            cut = key.find(delimiter, len(prefix)) if delimiter else -1
            if cut >= 0:
                prefixes.add(key[: cut + len(delimiter)])
            else:
                objects[key] = meta
        entries = sorted([*objects, *prefixes], key=lambda entry: entry.encode("utf-8", "surrogatepass"))
        entries = [entry for entry in entries if entry > start]
        page, truncated = entries[:limit], len(entries) > limit > 0
        contents = "".join(
            f"<Contents><Key>{escape(m['key'])}</Key><LastModified>{_iso(m['modified'])}</LastModified>"
            f'<ETag>"{m["etag"]}"</ETag><Size>{m["size"]}</Size><StorageClass>STANDARD</StorageClass></Contents>'
            for m in (objects[entry] for entry in page if entry in objects)
        )
        common = "".join(
            f"<CommonPrefixes><Prefix>{escape(entry)}</Prefix></CommonPrefixes>" for entry in page if entry in prefixes
        )
        body = (
            f"<Name>{bucket}</Name><Prefix>{escape(prefix)}</Prefix><KeyCount>{len(page)}</KeyCount>"
            f"<MaxKeys>{limit}</MaxKeys><IsTruncated>{'true' if truncated else 'false'}</IsTruncated>"
            f"{contents}{common}"
        )
        if delimiter:
            body += f"<Delimiter>{escape(delimiter)}</Delimiter>"
        if truncated:
            body += f"<NextContinuationToken>{escape(page[-1])}</NextContinuationToken>"
        return 200, {"Content-Type": "application/xml"}, _xml("ListBucketResult", body)
