"""Public rating data sets as ingestion rows: the same rows the API accepts, so imports use the same code."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from reco.datasets.movielens import Ratings, read_ml1m, read_ml100k

RATING_EVENT = "rating"


def read_movielens(directory: str | Path) -> Ratings:
    """ML-100K (``u.data``) or ML-1M (``ratings.dat``), told apart by their files."""
    folder = Path(directory)
    if (folder / "u.data").exists():
        return read_ml100k(folder)
    if (folder / "ratings.dat").exists() or (folder / "movies.dat").exists():
        return read_ml1m(folder)
    raise FileNotFoundError(f"{folder} holds neither u.data (ML-100K) nor ratings.dat (ML-1M)")


# Compressed data ends this far inside the retention, so its oldest events do not expire days after import.
RETENTION_MARGIN = 0.1
SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class TimeFit:
    """How an import's timestamps were placed: new timestamps and a sentence that says how."""

    timestamps: np.ndarray
    summary: str


def fit_to_retention(timestamps: np.ndarray, retention_days: int, now: float | None = None) -> TimeFit:
    """Place every timestamp inside the event retention, keeping their order.

    Shifting alone keeps the gaps between events exactly (all the recipes and trending look at);
    data spanning more than 90 % of the retention is also compressed linearly, so that every row
    is kept and the oldest still has a tenth of the retention before it expires.
    """
    if timestamps.size == 0:
        return TimeFit(timestamps, "no timestamps to place")
    newest_target = (time.time() if now is None else now) - 60
    oldest, newest = float(timestamps.min()), float(timestamps.max())
    span_days = (newest - oldest) / SECONDS_PER_DAY
    room_days = retention_days * (1 - RETENTION_MARGIN)
    if span_days <= room_days:
        shift_days = (newest_target - newest) / SECONDS_PER_DAY
        return TimeFit(
            timestamps + (newest_target - newest),
            f"timestamps shifted by {shift_days:,.0f} days so the newest is now "
            f"({span_days:,.0f} days of data, within the {retention_days}-day event retention)",
        )
    scale = room_days / span_days
    placed = newest_target - (newest - timestamps) * scale
    return TimeFit(
        placed,
        f"timestamps compressed x{scale:.3f} and shifted: {span_days:,.0f} days of data now span "
        f"{room_days:,.0f} days ending now, inside the {retention_days}-day event retention (order kept, "
        f"gaps scaled; the oldest events expire in {retention_days - room_days:,.0f} days)",
    )


def check_within_retention(timestamps: np.ndarray, retention_days: int, now: float | None = None) -> None:
    """Refuse, in one message, timestamps kept as they are that the retention would reject row by row."""
    current = time.time() if now is None else now
    too_old = int((timestamps < current - retention_days * SECONDS_PER_DAY).sum())
    too_new = int((timestamps > current + SECONDS_PER_DAY).sum())
    if too_old:
        oldest = datetime.fromtimestamp(float(timestamps.min()), UTC).date().isoformat()
        raise ValueError(
            f"{too_old:,} of {timestamps.size:,} rows are older than the {retention_days}-day event retention "
            f"(the oldest is from {oldest}): drop --keep-timestamps to fit them into it; nothing was imported"
        )
    if too_new:
        raise ValueError(
            f"{too_new:,} of {timestamps.size:,} rows lie more than a day in the future: "
            "drop --keep-timestamps to place them before now; nothing was imported"
        )


def item_rows(ratings: Ratings) -> list[dict[str, Any]]:
    return [{"id": item_id, "properties": properties} for item_id, properties in ratings.items.items()]


def event_rows(ratings: Ratings, timestamps: np.ndarray, prefix: str) -> Iterator[dict[str, Any]]:
    """One ``rating`` event per row, oldest first; the id (user, item and the row's original time) makes
    a re-import idempotent without merging a log's repeated (user, item) rows.

    In time order, each batch touches a day or two of the day index instead of every day of the data.
    """
    for index in np.argsort(timestamps, kind="stable").tolist():
        user, item, value = ratings.user_ids[index], ratings.item_ids[index], ratings.ratings[index]
        original, ts = ratings.timestamps[index], timestamps[index]
        yield {
            "event_id": f"{prefix}-{user}-{item}-{int(original)}",
            "user_id": user,
            "item_id": item,
            "type": RATING_EVENT,
            "value": float(value),
            "timestamp": datetime.fromtimestamp(float(ts), UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        }


def batches(rows: Iterator[dict[str, Any]] | list[dict[str, Any]], size: int = 1000) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
