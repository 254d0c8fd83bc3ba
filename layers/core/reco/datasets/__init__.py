"""Readers of public evaluation data sets (files stay outside the repository; see ../shared/data)."""

from __future__ import annotations

from reco.datasets.movielens import Ratings, read_ml1m, read_ml100k, read_ratings_csv

__all__ = ["Ratings", "read_ml1m", "read_ml100k", "read_ratings_csv"]
