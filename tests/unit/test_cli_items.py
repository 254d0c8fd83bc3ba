"""`reco import-items` (an item catalog from CSV or JSON lines) and the import commands' help."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reco.cli import main
from reco.stores.catalog import catalog_store

pytestmark = pytest.mark.store_contract  # against moto and the local store


def help_text(command: str, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # argparse wraps lines: compare words


def test_import_csv_help_describes_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    text = help_text("import-csv", capsys)
    for described in (
        "path the CSV file; its first line names the columns",
        "--user-col COLUMN the column of user ids (default: user_id)",
        "--item-col COLUMN the column of item ids (default: item_id)",
        "--value-col COLUMN the column of ratings: each event's value (default: rating)",
        "--time-col COLUMN the column of Unix times in seconds (default: timestamp)",
        "--delimiter DELIMITER the character between fields (default: ',')",
        "--keep-timestamps store the times as they are (refused if any falls outside the event retention)",
    ):
        assert described in text


def test_import_items_help_describes_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    text = help_text("import-items", capsys)
    for described in (
        "path a .csv (or .tsv) file whose first line names the columns, or a .jsonl file",
        "--format {csv,jsonl} the file's format (default: from its extension)",
        "--id-col COLUMN the column (JSON: key) of item ids (default: id)",
        "--name-col COLUMN the column stored as the item's `name` property",
        "--description-col COLUMN the column stored as the `description` property",
        "--properties COLUMNS comma-separated columns kept as properties",
        "--numbers COLUMNS comma-separated columns whose text is a number",
        "--lists COLUMNS comma-separated columns whose text is a list of strings",
        "--list-separator LIST_SEPARATOR what separates a list's values (default: '|')",
        "--delimiter DELIMITER the CSV's field separator",
    ):
        assert described in text


def test_import_items_from_csv_maps_columns_and_rejects_bad_rows(
    aws: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = tmp_path / "catalog.csv"
    catalog.write_text(
        "sku,title,summary,price,tags,colour\n"
        "A1,Red shoe,A red running shoe,49.99,shoes|running,red\n"
        "A2,Blue shoe,,19,shoes,\n"
        "A3,Bad price,,cheap,shoes,green\n"
        ",No id,,1,,\n"
        "A4,Too,many,1,2,3,4\n"
        "\n"
        '"A5","Quoted, with a comma","Two\nlines",5,,\n'
    )
    mapping = ["--id-col", "sku", "--name-col", "title", "--description-col", "summary"]
    code = main(["--tenant", "shop", "import-items", str(catalog), *mapping, "--numbers", "price", "--lists", "tags"])

    assert code == 1  # some rows were rejected
    assert capsys.readouterr().out.splitlines() == [
        "  rejected items line 4: price: 'cheap' is not a number",
        "  rejected items line 5: no id: the field 'sku' is missing or empty",
        "  rejected items line 6: 7 fields where the header has 6",
        "items: 3 accepted, 3 rejected",
    ]
    store = catalog_store()
    red = store.get_item("shop", "A1")
    assert red is not None and red.properties == {
        "name": "Red shoe",
        "description": "A red running shoe",
        "price": 49.99,
        "tags": ["shoes", "running"],
        "colour": "red",
    }
    blue = store.get_item("shop", "A2")
    assert blue is not None and blue.properties == {"name": "Blue shoe", "price": 19, "tags": ["shoes"]}
    quoted = store.get_item("shop", "A5")
    assert quoted is not None and quoted.properties == {
        "name": "Quoted, with a comma",
        "description": "Two\nlines",
        "price": 5,
    }
    assert store.get_item("shop", "A3") is None and store.get_item("shop", "A4") is None


def test_import_items_from_json_lines_prints_five_rejections_then_a_count(
    aws: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [
        json.dumps({"id": "B1", "name": "Lamp", "price": 12.5, "rooms": ["hall"], "note": None}),
        json.dumps({"id": 42, "properties": {"name": "Chair", "category": "seating"}}),  # the API's row shape
        "{not json",
        json.dumps(["B3"]),
        json.dumps({"name": "no id"}),
        json.dumps({"id": "B4", "size": {"w": 1}}),  # an object is no property value
        json.dumps({"id": "B5", "name": "first"}),
        json.dumps({"id": "B5", "name": "second"}),
        json.dumps({"id": "B6", "properties": "flat"}),
        "",
        json.dumps({"id": "B7", "description": "kept", "hidden": "dropped"}),
    ]
    catalog = tmp_path / "catalog.jsonl"
    catalog.write_text("\n".join(lines) + "\n")

    code = main(["--tenant", "shop", "import-items", str(catalog), "--properties", "price,rooms,category,size"])

    assert code == 1
    assert capsys.readouterr().out.splitlines() == [
        "  rejected items line 3: not JSON (Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1))",
        "  rejected items line 4: a line must be a JSON object, not list",
        "  rejected items line 5: no id: the field 'id' is missing or empty",
        # the API's own reason (ingest_items), at the file's line
        "  rejected items line 6: properties.size: attribute values must be a string, a number, a boolean or an array "
        "of strings",
        "  rejected items line 7: superseded by line 8: the same id appears later in the file",
        "  ... and 1 more rejected rows",
        "items: 4 accepted, 6 rejected",
    ]
    store = catalog_store()
    lamp = store.get_item("shop", "B1")
    assert lamp is not None and lamp.properties == {"name": "Lamp", "price": 12.5, "rooms": ["hall"]}
    chair = store.get_item("shop", "42")
    assert chair is not None and chair.properties == {"name": "Chair", "category": "seating"}
    twice = store.get_item("shop", "B5")
    assert twice is not None and twice.properties == {"name": "second"}
    kept = store.get_item("shop", "B7")
    assert kept is not None and kept.properties == {"description": "kept"}
    assert store.get_item("shop", "B4") is None and store.get_item("shop", "B6") is None


def test_import_items_errors_are_one_line(
    aws: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = tmp_path / "catalog.csv"
    catalog.write_text("sku,title\nA1,Shoe\n")
    assert main(["import-items", str(catalog)]) == 2
    assert capsys.readouterr().err == f"reco import-items: {catalog}: no column 'id'; the header has sku, title\n"
    assert main(["import-items", str(tmp_path / "catalog.xml")]) == 2
    assert "cannot tell the format from '.xml': name it .csv or .jsonl, or give --format" in capsys.readouterr().err
    assert catalog_store().get_item("demo", "A1") is None


def test_rejections_keep_their_file_lines_across_batches(aws: dict[str, str]) -> None:
    from reco.item_files import FileRow, import_item_rows

    rows = [
        FileRow(1, {"id": "a"}),
        FileRow(2, error="unreadable"),
        FileRow(3, {"id": "b", "properties": {"x": {}}}),
        FileRow(4, {"id": "c", "properties": {"n": 1}}),
        FileRow(5, {"id": "c", "properties": {"n": 2}}),
        FileRow(6, error="also unreadable"),
    ]
    report = import_item_rows("t", rows, catalog_store(), batch_size=2, keep=3)
    assert (report.accepted, report.rejected) == (2, 4)
    assert report.first_rejections == [
        (2, "unreadable"),
        (3, "properties.x: attribute values must be a string, a number, a boolean or an array of strings"),
        (4, "superseded by line 5: the same id appears later in the file"),
    ]
    assert catalog_store().get_item("t", "c").properties == {"n": 2}  # type: ignore[union-attr]
