"""Cursors of GET /v1/recommendations: a page offset (single mode) or the served sections (auto mode).

Both are opaque, URL-safe and bound to the request they were issued for (a fingerprint of the
entity, context, filters and resolved scenario): replayed on another list they are refused rather
than silently paging something else. Both carry the moment the first page was computed, so later
pages read the same history and the list does not shift under the reader.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from reco.errors import MalformedCursor

MAX_CURSOR_CHARS = 16_384  # an auto cursor holds up to 100 section keys
PAGE_PREFIX = "pg_"
AUTO_PREFIX = "au_"


@dataclass(frozen=True)
class PageCursor:
    offset: int
    as_of: datetime
    digest: str


@dataclass(frozen=True)
class AutoCursor:
    served: tuple[str, ...]  # section keys already served, oldest first
    as_of: datetime
    digest: str


def _encode(prefix: str, payload: list[object]) -> str:
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return prefix + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def encode_page_cursor(cursor: PageCursor) -> str:
    return _encode(PAGE_PREFIX, [cursor.offset, int(cursor.as_of.timestamp() * 1000), cursor.digest])


def encode_auto_cursor(cursor: AutoCursor) -> str:
    return _encode(AUTO_PREFIX, [list(cursor.served), int(cursor.as_of.timestamp() * 1000), cursor.digest])


def is_page_cursor(text: str) -> bool:
    return text.startswith(PAGE_PREFIX)


def decode_list_cursor(text: str, parameter: str) -> PageCursor | AutoCursor:
    """The cursor ``text`` stands for; a 400 naming ``parameter`` when it is not one this API issued."""
    try:
        if len(text) > MAX_CURSOR_CHARS or not text.startswith((PAGE_PREFIX, AUTO_PREFIX)):
            raise ValueError("not a cursor")
        body = text[len(PAGE_PREFIX) :]
        first, millis, digest = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        if not isinstance(millis, int) or not isinstance(digest, str):
            raise ValueError("not a cursor")
        as_of = datetime.fromtimestamp(millis / 1000, UTC)
        if text.startswith(PAGE_PREFIX):
            if not isinstance(first, int) or isinstance(first, bool) or first < 0:
                raise ValueError("not an offset")
            return PageCursor(first, as_of, digest)
        if not isinstance(first, list) or not all(isinstance(key, str) for key in first):
            raise ValueError("not a section list")
        return AutoCursor(tuple(first), as_of, digest)
    except (ValueError, TypeError, binascii.Error, OverflowError, OSError, RecursionError, UnicodeDecodeError):
        raise MalformedCursor(
            f"{parameter} is malformed: pass the next_cursor of the previous response unchanged "
            "(or, for starting_after, a recommendation id such as rec_<item_id>)",
            data={"parameter": parameter},
        ) from None


def check_digest(digest: str, expected: str, parameter: str) -> None:
    if digest != expected:
        raise MalformedCursor(
            f"{parameter} was issued for another list: page with the same user, item, context, filters and mode "
            "as the first page",
            data={"parameter": parameter},
        )
