"""The request logs of POST /api/recommend/recommend: rows written per request, pages read back.

Each request writes a ``sequence`` row before anything is generated (what was asked) and a
``decision`` row after (what was served). Rows live in one partition per UTC day and sort by
creation time, so GET /api/recommend/logs reads the newest first with one Query per day partition
(never a Scan). A page cursor is the last row's sort key plus the window and type it was read
with: the next page continues strictly below it, so pages neither repeat nor skip rows.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from reco.errors import BadRequest, MalformedCursor
from reco.records import iso_millis
from reco.schemas.customer import LogKind, RequestLogEntry, RequestLogsPage

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_WINDOW = timedelta(hours=24)
MAX_WINDOW = timedelta(days=31)
MAX_CURSOR_CHARS = 1024
LOG_KINDS: tuple[LogKind, ...] = ("sequence", "decision")
# <ISO-8601 UTC ms>#<request id>#<kind>; request ids never hold '#' (see reco.api.middleware).
_SORT_KEY = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)#([^#]{1,128})#(sequence|decision)$")


@dataclass(frozen=True)
class RequestLog:
    """One log row: ``data`` is any JSON object (stored as JSON text, so it round-trips exactly)."""

    kind: LogKind
    request_id: str
    created_at: datetime
    data: dict[str, Any]

    @property
    def sort_key(self) -> str:
        return log_sort_key(self.created_at, self.request_id, self.kind)


def log_sort_key(created_at: datetime, request_id: str, kind: str) -> str:
    return f"{iso_millis(created_at)}#{request_id}#{kind}"


def log_day(moment: datetime) -> str:
    """The partition of a moment: its UTC date, ``YYYY-MM-DD``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d")


class RequestLogWriter(Protocol):
    def write(self, tenant: str, log: RequestLog) -> None: ...


class RequestLogReader(Protocol):
    def read_day(
        self,
        tenant: str,
        day: str,
        *,
        low: str,
        high: str,
        kind: str | None,
        limit: int,
        start_after: str | None,
        now: datetime,
    ) -> tuple[list[RequestLog], str | None]:
        """Unexpired rows of one day partition with ``low <= sort key <= high`` (of ``kind`` if set), newest first.

        At most ``limit`` rows are read (fewer may come back: expired rows and other kinds are
        dropped); the second value is the sort key to pass as ``start_after`` to read on, None
        once the partition is exhausted.
        """
        ...


class RequestLogs(RequestLogWriter, RequestLogReader, Protocol):
    """The store of request logs: the customer API writes and reads it."""


@dataclass(frozen=True)
class LogWindow:
    start: datetime  # inclusive
    end: datetime  # exclusive
    kind: LogKind | None


@dataclass(frozen=True)
class LogsQuery:
    """GET /api/recommend/logs as sent: times as text (ISO-8601), all optional but ``limit``."""

    start: str | None
    end: str | None
    kind: LogKind | None
    limit: int
    cursor: str | None


def read_logs(tenant: str, query: LogsQuery, reader: RequestLogReader, *, now: datetime) -> RequestLogsPage:
    """A page of the tenant's request logs, newest first."""
    window, after = _resume(query) if query.cursor else (_window(query, now), None)
    low, high = iso_millis(window.start), after or iso_millis(window.end)
    found: list[RequestLog] = []
    day, first_day = _parse_day(high[:10]), window.start.astimezone(UTC).date()
    while day >= first_day and len(found) <= query.limit:
        start_after: str | None = None
        while len(found) <= query.limit:
            wanted = query.limit + 1 - len(found)
            rows, start_after = reader.read_day(
                tenant,
                day.isoformat(),
                low=low,
                high=high,
                kind=window.kind,
                limit=wanted,
                start_after=start_after,
                now=now,
            )
            found.extend(r for r in rows if r.sort_key != after)  # the high bound is inclusive
            if start_after is None:
                break
        day -= timedelta(days=1)
    page = found[: query.limit]
    more = len(found) > query.limit
    return RequestLogsPage(
        logs=[
            RequestLogEntry(request_id=r.request_id, type=r.kind, created_at=iso_millis(r.created_at), data=r.data)
            for r in page
        ],
        next_cursor=_encode_cursor(window, page[-1].sort_key) if more else None,
    )


# Instants a log window may name: logs are never older than the epoch, and days around year 1 or
# 9999 would overflow date arithmetic (a 500 otherwise).
EARLIEST = datetime(1970, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 1, tzinfo=UTC)


def _window(query: LogsQuery, now: datetime) -> LogWindow:
    """The window asked for: default the last 24 hours; ``from < to``, at most 31 days apart."""
    end = _instant("to", query.end) if query.end is not None else now
    start = _instant("from", query.start) if query.start is not None else end - DEFAULT_WINDOW
    if start >= end:
        raise BadRequest(
            f"from ({iso_millis(start)}) must be before to ({iso_millis(end)})", data={"parameter": "from"}
        )
    if end - start > MAX_WINDOW:
        raise BadRequest(
            f"from ({iso_millis(start)}) and to ({iso_millis(end)}) are more than {MAX_WINDOW.days} days apart: "
            "read a longer period in several windows",
            data={"parameter": "from"},
        )
    return LogWindow(start, end, query.kind)


def _instant(name: str, text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        hint = " (a '+' in a URL must be sent as %2B)" if " " in text else ""
        raise BadRequest(
            f"{name} must be an ISO-8601 instant with a time zone, e.g. 2026-05-01T12:00:00Z; got '{text[:64]}'{hint}",
            data={"parameter": name},
        )
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        moment = None
    if moment is None or not EARLIEST <= moment <= LATEST:
        raise BadRequest(
            f"{name} must lie between {iso_millis(EARLIEST)} and {iso_millis(LATEST)}; got '{text[:64]}'",
            data={"parameter": name},
        )
    return moment


def _parse_day(text: str) -> date:
    return date.fromisoformat(text)


# --- page cursors --------------------------------------------------------------------------------


def _millis(moment: datetime) -> int:
    """Whole milliseconds since the epoch (exact: no float rounding), the precision of the logs."""
    return (moment - EPOCH) // timedelta(milliseconds=1)


def _encode_cursor(window: LogWindow, sort_key: str) -> str:
    raw = json.dumps([_millis(window.start), _millis(window.end), window.kind, sort_key], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _resume(query: LogsQuery) -> tuple[LogWindow, str]:
    """The window and position a cursor continues; from / to / type, when sent again, must be its own."""
    assert query.cursor is not None
    window, sort_key = _decode_cursor(query.cursor)
    sent = {
        "from": (query.start, window.start),
        "to": (query.end, window.end),
    }
    for name, (text, expected) in sent.items():
        if text is not None and _millis(_instant(name, text)) != _millis(expected):
            raise MalformedCursor(
                f"cursor was issued for another query ({name} differs): repeat the first page's from, to and "
                "type, or leave them out",
                data={"parameter": "cursor"},
            )
    if query.kind is not None and query.kind != window.kind:
        raise MalformedCursor(
            "cursor was issued for another query (type differs): repeat the first page's from, to and type, "
            "or leave them out",
            data={"parameter": "cursor"},
        )
    return window, sort_key


def _decode_cursor(text: str) -> tuple[LogWindow, str]:
    try:
        if len(text) > MAX_CURSOR_CHARS:
            raise ValueError("too long")
        start_ms, end_ms, kind, sort_key = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        if not (_is_int(start_ms) and _is_int(end_ms) and isinstance(sort_key, str)) or kind not in (*LOG_KINDS, None):
            raise ValueError("not a cursor")
        start = EPOCH + timedelta(milliseconds=start_ms)
        end = EPOCH + timedelta(milliseconds=end_ms)
        match = _SORT_KEY.fullmatch(sort_key)
        if not EARLIEST <= start < end <= LATEST or end - start > MAX_WINDOW or match is None:
            raise ValueError("not a cursor")
        if not iso_millis(start) <= match.group(1) < iso_millis(end):
            raise ValueError("position outside the window")
    except (ValueError, TypeError, binascii.Error, OverflowError, OSError, RecursionError):
        raise MalformedCursor(
            "cursor is malformed: pass the next_cursor of the previous page unchanged", data={"parameter": "cursor"}
        ) from None
    return LogWindow(start, end, kind), sort_key


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# --- what a request logs -------------------------------------------------------------------------


def sequence_log(
    request_id: str,
    at: datetime,
    *,
    task: str,
    template: str,
    limit: int,
    sequence_data: dict[str, Any],
    subject: str | None,
) -> RequestLog:
    """What was asked, exactly as sent (``sequence_data`` verbatim), and who asked."""
    data = {"task": task, "template": template, "limit": limit, "subject": subject, "sequence_data": sequence_data}
    return RequestLog("sequence", request_id, at, data)


def decision_log(request_id: str, at: datetime, data: dict[str, Any]) -> RequestLog:
    return RequestLog("decision", request_id, at, data)
