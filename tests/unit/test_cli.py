"""The `reco` command line, in-process against moto and the local store."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest.mock import patch

import pytest

from reco.cli import main
from reco.stores.catalog import catalog_store
from reco.stores.events import event_store
from reco.stores.models import model_registry

SHARED_ML100K = Path(__file__).resolve().parents[2].parent / "shared/data/ml-100k"


pytestmark = pytest.mark.store_contract  # against moto and the local store


@contextmanager
def freeze_later() -> Iterator[None]:
    """time.time() an hour later: the import shifts its timestamps to end at a different now."""
    later = time.time() + 3600
    with patch("reco.imports.time.time", return_value=later):
        yield


def write_tiny_ml100k(folder: Path) -> None:
    folder.mkdir()
    rows = [
        (1, 1, 5, 881250949),
        (1, 2, 4, 881250950),
        (2, 1, 3, 881250951),
        (2, 3, 5, 881250952),
        (3, 2, 4, 881250953),
    ]
    (folder / "u.data").write_text("".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in rows))
    (folder / "u.genre").write_text("unknown|0\nAction|1\nComedy|2\n\n")
    flags = {1: "0|1|0", 2: "0|0|1", 3: "0|1|1"}
    (folder / "u.item").write_text(
        "".join(f"{i}|Movie {i} (1995)|01-Jan-1995||http://x|{flags[i]}\n" for i in (1, 2, 3)), encoding="latin-1"
    )


def test_import_movielens_then_train_then_evaluate(
    aws: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tiny_ml100k(tmp_path / "ml")
    assert main(["--tenant", "films", "import-movielens", str(tmp_path / "ml")]) == 0
    assert "events: 5 accepted, 0 rejected" in capsys.readouterr().out
    item = catalog_store().get_item("films", "1")
    assert item is not None and item.properties["title"] == "Movie 1 (1995)"
    assert item.properties["genres"] == ["Action"]
    events = event_store().recent_page("films", user_id="2").records
    assert [(e.item_id, e.type, e.value) for e in events] == [("3", "rating", 5), ("1", "rating", 3)]
    # A re-import stores nothing twice, even though its timestamps are shifted to a later "now".
    assert main(["--tenant", "films", "import-movielens", str(tmp_path / "ml")]) == 0
    assert "events: 5 accepted (5 of them already stored), 0 rejected" in capsys.readouterr().out
    assert len(event_store().recent_page("films", user_id="2").records) == 2
    with freeze_later():
        assert main(["--tenant", "films", "import-movielens", str(tmp_path / "ml")]) == 0
    assert len(event_store().recent_page("films", user_id="2").records) == 2

    assert main(["--tenant", "films", "train", "pop", "--recipe", "popularity"]) == 0
    assert "pop: version 1 published" in capsys.readouterr().out
    assert model_registry().get("films", "pop").current_version == 1  # type: ignore[union-attr]

    assert main(["--tenant", "films", "evaluate", "pop", "--k", "1,2"]) == 0
    table = capsys.readouterr().out
    assert "recall@1" in table and "popularity" in table


def test_errors_are_one_line_and_exit_2(aws: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "nope"]) == 2
    assert "model not found: 'nope' (give --recipe to define it)" in capsys.readouterr().err
    assert main(["import-movielens", "/nonexistent"]) == 2


@pytest.mark.skipif(not SHARED_ML100K.exists(), reason="../shared/data/ml-100k is not present")
def test_evaluate_on_movielens_prints_every_recipe(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "--movielens", str(SHARED_ML100K), "--recipes", "popularity,ease", "--k", "20"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:5] == ["recipe", "recall@20", "ndcg@20", "mrr@20", "coverage@20"]
    recall = {line.split()[0]: float(line.split()[1]) for line in lines[1:]}
    assert recall["ease"] >= 0.19 and recall["popularity"] < recall["ease"]


def test_an_auto_model_evaluates_as_its_search_and_tune_adds_tuned_rows(
    aws: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import UTC, datetime, timedelta

    from reco.ingestion import ingest_events

    start = datetime.now(UTC) - timedelta(days=2)
    events = [
        {
            "event_id": f"e{u}-{k}",
            "user_id": f"u{u}",
            "item_id": f"i{(u + k) % 12}",
            "type": "view",
            "timestamp": (start + timedelta(minutes=u * 10 + k)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        for u in range(30)
        for k in range(6)
    ]
    assert not ingest_events("shop", events, event_store(), bulk=True).rejected
    assert main(["--tenant", "shop", "train", "best", "--recipe", "auto"]) == 0
    trained = capsys.readouterr().out
    assert "best: version 1 published" in trained and "\ntuning: " in trained and "  chosen params: " in trained
    assert max(len(line) for line in trained.splitlines()) < 300  # the search is summed up, not dumped
    assert main(["--tenant", "shop", "evaluate", "best", "--k", "5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("180 events") and [line.split()[0] for line in lines[2:]] == ["auto:"]
    assert main(["--tenant", "shop", "evaluate", "best", "--recipes", "popularity,item_knn", "--tune", "5"]) == 0
    labels = [line.split()[:2] for line in capsys.readouterr().out.splitlines()[2:]]
    assert [label[0] for label in labels] == ["popularity", "item_knn", "item_knn", "auto:"]
    assert labels[2][1] == "tuned"
