"""Page cursors of scenario-driven lists: an offset into one deterministic list, bound to its request.

The cursor carries the offset, the moment the first page was computed (later pages ignore newer
events, so the list does not shift under the reader) and a fingerprint of the request and the
resolved case (a cursor replayed on another request, user or tenant is refused).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from reco.errors import WrongParameter

MAX_CURSOR_CHARS = 512


@dataclass(frozen=True)
class PageCursor:
    offset: int
    as_of: datetime
    fingerprint: str


def fingerprint(parts: Any) -> str:
    """A short digest of a JSON-able description of the request."""
    raw = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(raw).hexdigest()[:24]


def encode_page_cursor(cursor: PageCursor) -> str:
    millis = int(cursor.as_of.timestamp() * 1000)
    raw = json.dumps([cursor.offset, millis, cursor.fingerprint], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_page_cursor(text: str) -> PageCursor:
    try:
        if len(text) > MAX_CURSOR_CHARS:
            raise ValueError("too long")
        offset, millis, digest = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        if not (isinstance(offset, int) and isinstance(millis, int) and isinstance(digest, str)) or offset < 0:
            raise ValueError("not a cursor")
        return PageCursor(offset, datetime.fromtimestamp(millis / 1000, UTC), digest)
    except (ValueError, TypeError, binascii.Error, OverflowError, OSError, RecursionError):
        raise WrongParameter(
            "cursor is malformed: pass the next_cursor of the previous page unchanged", data={"parameter": "cursor"}
        ) from None


def check_cursor(cursor: PageCursor, expected: str) -> None:
    if cursor.fingerprint != expected:
        raise WrongParameter(
            "cursor was issued for another request: page with the same parameters (user, item, scenario, "
            "filters, amt) as the first page",
            data={"parameter": "cursor"},
        )
