"""The MovieLens readers, on tiny made-up files in the original formats (no MovieLens data here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reco.datasets import read_ml1m, read_ml100k, read_ratings_csv


def test_ml100k(tmp_path: Path) -> None:
    (tmp_path / "u.data").write_text("7\t1\t5\t881250949\n8\t2\t3\t891717742\n")
    (tmp_path / "u.genre").write_text("unknown|0\nAction|1\nComedy|2\n\n")
    flags = {"1": "0|1|1", "2": "1|0|0"}
    (tmp_path / "u.item").write_bytes(
        "1|Caf\xe9 Film (1995)|01-Jan-1995||http://x|{f1}\n2|unknown||||{f2}\n".format(
            f1=flags["1"], f2=flags["2"]
        ).encode("latin-1")
    )
    ratings = read_ml100k(tmp_path)
    assert ratings.user_ids == ["7", "8"] and ratings.item_ids == ["1", "2"]
    assert ratings.ratings.dtype == np.float32 and ratings.ratings.tolist() == [5.0, 3.0]
    assert ratings.timestamps.dtype == np.float64 and ratings.timestamps[0] == 881250949
    assert ratings.items["1"] == {"title": "Caf\xe9 Film (1995)", "genres": ["Action", "Comedy"], "year": 1995}
    assert ratings.items["2"] == {"title": "unknown", "genres": ["unknown"]}
    assert len(ratings) == 2


def test_ml1m_dat_files(tmp_path: Path) -> None:
    (tmp_path / "ratings.dat").write_text("1::1193::5::978300760\n2::661::3::978302109\n")
    (tmp_path / "movies.dat").write_bytes("1193::Vol\xe9 (1975)::Drama|Thriller\n".encode("latin-1"))
    ratings = read_ml1m(tmp_path)
    assert ratings.user_ids == ["1", "2"] and ratings.item_ids == ["1193", "661"]
    assert ratings.items["1193"] == {"title": "Vol\xe9 (1975)", "genres": ["Drama", "Thriller"], "year": 1975}


def test_ml1m_falls_back_to_the_ratings_ge4_csv(tmp_path: Path) -> None:
    (tmp_path / "ratings_ge4.csv").write_text("user_id,movie_id,rating,timestamp\n1,3186,4,978300019\n")
    assert read_ml1m(tmp_path).item_ids == ["3186"]


def test_ratings_csv_with_other_columns_and_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "r.tsv"
    path.write_text("ts\tuser\titem\tscore\n5\tu1\ti9\t4.5\n")
    ratings = read_ratings_csv(path, "user", "item", "score", "ts", delimiter="\t")
    assert (ratings.user_ids, ratings.item_ids, ratings.ratings.tolist(), ratings.timestamps.tolist()) == (
        ["u1"],
        ["i9"],
        [4.5],
        [5.0],
    )
    with pytest.raises(ValueError, match="missing columns"):
        read_ratings_csv(path)
