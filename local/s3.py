"""S3 on the local disk: buckets are folders, objects are files beside a small JSON record of their metadata.

Only what reco and its tools ask of S3: buckets (create, head, delete, list, versioning switched on),
objects (put, copy, get with a byte range, head, delete) and ListObjectsV2, in S3's REST dialect.
A file is written whole and renamed into place, so a killed process never leaves half an object.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import tempfile
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

Answer = tuple[int, dict[str, str], bytes]


@dataclass(frozen=True)
class S3Error(Exception):
    status: int
    code: str
    message: str


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
            if any(folder.glob("*.json")):
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
            return self.put_object(bucket, key, body, headers.get("content-type", "binary/octet-stream"))
        if method in ("GET", "HEAD"):
            meta = self._meta(bucket, key)
            data = b"" if method == "HEAD" else self._data_path(bucket, key).read_bytes()
            answer_headers = {
                "Content-Type": meta["content_type"],
                "ETag": f'"{meta["etag"]}"',
                "Last-Modified": formatdate(meta["modified"], usegmt=True),
                "Content-Length": str(meta["size"]),
                "x-amz-checksum-crc32": meta["crc32"],
            }
            byte_range = headers.get("range")
            if byte_range and method == "GET":
                return self._ranged(data, byte_range, answer_headers)
            return 200, answer_headers, data
        if method == "DELETE":
            self._bucket(bucket)
            for path in (self._meta_path(bucket, key), self._data_path(bucket, key)):
                path.unlink(missing_ok=True)
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
    def _data_path(self, bucket: str, key: str) -> Path:
        return self.root / bucket / hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()

    def _meta_path(self, bucket: str, key: str) -> Path:
        return self._data_path(bucket, key).with_suffix(".json")

    def _meta(self, bucket: str, key: str) -> dict[str, Any]:
        self._bucket(bucket)
        try:
            return json.loads(self._meta_path(bucket, key).read_text())  # type: ignore[no-any-return]
        except FileNotFoundError:
            raise S3Error(404, "NoSuchKey", "The specified key does not exist.") from None

    def put_object(self, bucket: str, key: str, data: bytes, content_type: str) -> Answer:
        folder = self._bucket(bucket)
        if not key or len(key.encode("utf-8", "surrogatepass")) > 1024:
            raise S3Error(400, "KeyTooLongError", "Your key is too long")
        etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
        crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
        meta = {"key": key, "etag": etag, "size": len(data), "content_type": content_type, "crc32": crc}
        with tempfile.NamedTemporaryFile(dir=folder, delete=False, prefix=".put-") as tmp:
            tmp.write(data)
        os.replace(tmp.name, self._data_path(bucket, key))
        meta["modified"] = os.stat(self._data_path(bucket, key)).st_mtime
        with tempfile.NamedTemporaryFile("w", dir=folder, delete=False, prefix=".put-") as tmp_meta:
            json.dump(meta, tmp_meta)
        os.replace(tmp_meta.name, self._meta_path(bucket, key))
        return 200, {"ETag": f'"{etag}"', "x-amz-checksum-crc32": crc}, b""

    def _copy(self, bucket: str, key: str, source: str) -> Answer:
        source_bucket, _, source_key = source.lstrip("/").partition("/")
        meta = self._meta(source_bucket, source_key)
        data = self._data_path(source_bucket, source_key).read_bytes()
        self.put_object(bucket, key, data, meta["content_type"])
        copied = self._meta(bucket, key)
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
        prefix = query.get("prefix", "")
        start = query.get("continuation-token") or query.get("start-after") or ""
        limit = min(int(query.get("max-keys") or MAX_KEYS), MAX_KEYS)
        metas = []
        for path in folder.glob("*.json"):
            try:
                meta = json.loads(path.read_text())
            except (FileNotFoundError, ValueError):
                continue  # deleted or being replaced while listing
            if meta["key"].startswith(prefix) and meta["key"] > start:
                metas.append(meta)
        metas.sort(key=lambda meta: meta["key"].encode("utf-8", "surrogatepass"))
        page, truncated = metas[:limit], len(metas) > limit
        contents = "".join(
            f"<Contents><Key>{escape(m['key'])}</Key><LastModified>{_iso(m['modified'])}</LastModified>"
            f'<ETag>"{m["etag"]}"</ETag><Size>{m["size"]}</Size><StorageClass>STANDARD</StorageClass></Contents>'
            for m in page
        )
        body = (
            f"<Name>{bucket}</Name><Prefix>{escape(prefix)}</Prefix><KeyCount>{len(page)}</KeyCount>"
            f"<MaxKeys>{limit}</MaxKeys><IsTruncated>{'true' if truncated else 'false'}</IsTruncated>{contents}"
        )
        if truncated:
            body += f"<NextContinuationToken>{escape(page[-1]['key'])}</NextContinuationToken>"
        return 200, {"Content-Type": "application/xml"}, _xml("ListBucketResult", body)
