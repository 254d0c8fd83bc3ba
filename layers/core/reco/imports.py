"""Public rating data sets as ingestion rows: the same rows the API accepts, so imports use the same code."""

from __future__ import annotations

import time
from collections.abc import Iterator
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


def shift_to(timestamps: np.ndarray, newest: float | None = None) -> np.ndarray:
    """Move every timestamp by one offset so the newest is ``newest`` (now by default).

    Events older than the event retention would expire at once; shifting keeps the order and the
    gaps between events, which is all the recipes (and trending) look at.
    """
    if timestamps.size == 0:
        return timestamps
    target = time.time() - 60 if newest is None else newest
    return timestamps + (target - float(timestamps.max()))


def item_rows(ratings: Ratings) -> list[dict[str, Any]]:
    return [{"id": item_id, "properties": properties} for item_id, properties in ratings.items.items()]


def event_rows(ratings: Ratings, timestamps: np.ndarray, prefix: str) -> Iterator[dict[str, Any]]:
    """One ``rating`` event per row; the id (user, item and the row's original time) makes a
    re-import idempotent without merging a log's repeated (user, item) rows."""
    rows = zip(ratings.user_ids, ratings.item_ids, ratings.ratings, ratings.timestamps, timestamps, strict=True)
    for user, item, value, original, ts in rows:
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
