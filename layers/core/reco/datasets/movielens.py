"""MovieLens readers returning plain lists and numpy arrays (no pandas in the layer).

The files are never copied into the repository (their terms forbid redistribution): tests and
benchmarks read them from ``../shared/data`` and skip when it is absent.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from reco.models.interactions import F32, F64

_YEAR_IN_TITLE = re.compile(r"\((\d{4})\)\s*$")


@dataclass
class Ratings:
    """Explicit ratings as parallel columns, plus item properties keyed by item id."""

    user_ids: list[str]
    item_ids: list[str]
    ratings: F32
    timestamps: F64
    items: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.user_ids)


def _year(title: str, date: str = "") -> int | None:
    """The release year: from ``(1995)`` at the end of the title, else from a ``01-Jan-1995`` date."""
    match = _YEAR_IN_TITLE.search(title)
    if match:
        return int(match.group(1))
    tail = date.strip()[-4:]
    return int(tail) if tail.isdigit() else None


def _movie(title: str, genres: list[str], date: str = "") -> dict[str, Any]:
    properties: dict[str, Any] = {"title": title, "genres": genres}
    year = _year(title, date)
    if year is not None:
        properties["year"] = year
    return properties


def _columns(rows: list[list[str]]) -> Ratings:
    users, items, ratings, times = zip(*rows, strict=True) if rows else ((), (), (), ())
    return Ratings(
        list(users),
        list(items),
        np.array(ratings, dtype=np.float32),
        np.array(times, dtype=np.float64),
    )


def read_ml100k(directory: str | Path) -> Ratings:
    """MovieLens 100K: ``u.data`` (user, item, rating, time; tabs) and ``u.item``/``u.genre``."""
    root = Path(directory)
    with open(root / "u.data", encoding="latin-1") as handle:
        ratings = _columns([line.split("\t")[:4] for line in handle if line.strip()])
    numbered: list[tuple[int, str]] = []
    with open(root / "u.genre", encoding="latin-1") as handle:
        for line in handle:
            if line.strip():
                name, _, index = line.strip().rpartition("|")
                numbered.append((int(index), name))
    names = [name for _, name in sorted(numbered)]
    with open(root / "u.item", encoding="latin-1") as handle:
        for line in handle:
            fields = line.rstrip("\n").split("|")
            if len(fields) < 5:
                continue
            flags = fields[5 : 5 + len(names)]
            genres = [name for name, flag in zip(names, flags, strict=False) if flag == "1"]
            ratings.items[fields[0]] = _movie(fields[1], genres, fields[2])
    return ratings


def read_ml1m(directory: str | Path) -> Ratings:
    """MovieLens 1M: ``ratings.dat`` (``user::movie::rating::time``) and ``movies.dat``.

    When ``ratings.dat`` is absent, ``ratings_ge4.csv`` (every rating >= 4, the derivative kept in
    ``../shared/data/ml-1m``) is read instead.
    """
    root = Path(directory)
    if (root / "ratings.dat").exists():
        with open(root / "ratings.dat", encoding="latin-1") as handle:
            ratings = _columns([line.rstrip("\n").split("::")[:4] for line in handle if line.strip()])
    else:
        ratings = read_ratings_csv(root / "ratings_ge4.csv")
    movies = root / "movies.dat"
    if movies.exists():
        with open(movies, encoding="latin-1") as handle:
            for line in handle:
                fields = line.rstrip("\n").split("::")
                if len(fields) >= 3:
                    ratings.items[fields[0]] = _movie(fields[1], [g for g in fields[2].split("|") if g])
    return ratings


def read_ratings_csv(
    path: str | Path,
    user_col: str = "user_id",
    item_col: str = "movie_id",
    rating_col: str = "rating",
    time_col: str = "timestamp",
    delimiter: str = ",",
) -> Ratings:
    """A ratings CSV with a header row, e.g. ``user_id,movie_id,rating,timestamp``."""
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        header = next(reader)
        missing = [c for c in (user_col, item_col, rating_col, time_col) if c not in header]
        if missing:
            raise ValueError(f"{path}: missing columns {missing}; header is {header}")
        picks = [header.index(c) for c in (user_col, item_col, rating_col, time_col)]
        return _columns([[row[i] for i in picks] for row in reader if row])
