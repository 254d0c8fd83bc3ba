"""An item catalog from a file (CSV or JSON lines) as the rows PUT /v1/items accepts.

``reco import-items`` reads a file into those rows and stores them with :func:`ingest_items`, the
API's own validation and store, so a file row is accepted or refused exactly as an API row is.
Rows are told apart by their line in the file, which is what a person fixes.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reco.ingestion import CatalogRepository, ingest_items
from reco.records import IngestResult, Rejection
from reco.schemas.catalog import MAX_BATCH

FORMATS = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
NAME_PROPERTY = "name"
DESCRIPTION_PROPERTY = "description"
NESTED_PROPERTIES = "properties"  # a JSON line in the API's own row shape: {"id": …, "properties": {…}}
_INTEGER = re.compile(r"^[+-]?\d+$")
# ingest_items names a superseded row by its index in the batch; a file's reader wants its line.
_SUPERSEDED_BY_ROW = re.compile(r"^superseded by row (\d+): the same id appears later in this batch$")


@dataclass(frozen=True)
class ItemMapping:
    """Which fields of a file row make an item.

    ``name`` and ``description`` are stored as the ``name`` and ``description`` properties (what
    lists, chat and text search show); a field left ``None`` is used if the file has one of that name.
    ``properties`` names the other fields to keep (``None``: every other field). Text in a
    ``numbers`` field becomes a number, text in a ``lists`` field an array split on ``list_separator``.
    """

    id: str = "id"
    name: str | None = None
    description: str | None = None
    properties: tuple[str, ...] | None = None
    numbers: frozenset[str] = frozenset()
    lists: frozenset[str] = frozenset()
    list_separator: str = "|"

    def renamed(self) -> dict[str, str]:
        """``{file field: property}`` for the fields stored under another name."""
        return {
            field_name: prop
            for field_name, prop in ((self.name, NAME_PROPERTY), (self.description, DESCRIPTION_PROPERTY))
            if field_name is not None
        }

    def required(self) -> list[str]:
        """The fields the file must have: the id, and every field named explicitly."""
        return [self.id, *self.renamed(), *(self.properties or ()), *sorted(self.numbers), *sorted(self.lists)]


@dataclass(frozen=True)
class FileRow:
    """One data row of a file: its line, and the item row or why it cannot be one."""

    line: int
    row: dict[str, Any] | None = None
    error: str | None = None


@dataclass
class ItemFileImport:
    """What an import did: counts, and the first rejected rows (line, reason) in file order."""

    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    first_rejections: list[tuple[int, str]] = field(default_factory=list)
    keep: int = 5

    def reject(self, line: int, reason: str) -> None:
        if len(self.first_rejections) < self.keep:
            self.first_rejections.append((line, reason))
        self.rejected += 1


def file_format(path: str | Path, requested: str | None = None) -> str:
    if requested:
        return requested
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"{path}: cannot tell the format from '{suffix}': name it .csv or .jsonl, or give --format")
    return FORMATS[suffix]


def read_item_file(
    path: str | Path, mapping: ItemMapping, fmt: str | None = None, delimiter: str | None = None
) -> Iterator[FileRow]:
    """The file's rows as item rows, one per data line (blank lines skipped), read as they are needed."""
    kind = file_format(path, fmt)
    if kind == "csv":
        separator = delimiter or ("\t" if Path(path).suffix.lower() == ".tsv" else ",")
        return _csv_rows(Path(path), mapping, separator)
    return _jsonl_rows(Path(path), mapping)


def _csv_rows(path: Path, mapping: ItemMapping, delimiter: str) -> Iterator[FileRow]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        header = next(reader, None)
        if not header:
            raise ValueError(f"{path}: no header row (the first line names the columns)")
        missing = [column for column in mapping.required() if column not in header]
        if missing:
            raise ValueError(f"{path}: no column {', '.join(map(repr, missing))}; the header has {', '.join(header)}")
        defaults = {prop: prop for prop in (NAME_PROPERTY, DESCRIPTION_PROPERTY) if prop in header}
        mapping = _with_defaults(mapping, defaults)
        try:
            for cells in reader:
                if not cells or cells == [""]:
                    continue
                if len(cells) != len(header):
                    yield FileRow(reader.line_num, error=f"{len(cells)} fields where the header has {len(header)}")
                    continue
                # An empty cell is no value: the item simply lacks that property.
                fields = {name: cell for name, cell in zip(header, cells, strict=True) if cell.strip()}
                yield _item_row(reader.line_num, fields, mapping)
        except csv.Error as error:  # the reader cannot go on past it (e.g. an unclosed quote)
            raise ValueError(f"{path}, line {reader.line_num}: {error}") from None


def _jsonl_rows(path: Path, mapping: ItemMapping) -> Iterator[FileRow]:
    unnests = NESTED_PROPERTIES not in mapping.required()  # unless "properties" is named as a field of its own
    with open(path, encoding="utf-8-sig") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                value = json.loads(text)
            except ValueError as error:
                yield FileRow(number, error=f"not JSON ({error})")
                continue
            if not isinstance(value, dict):
                yield FileRow(number, error=f"a line must be a JSON object, not {type(value).__name__}")
                continue
            nested = value.pop(NESTED_PROPERTIES, None) if unnests else None
            if nested is not None and not isinstance(nested, dict):
                yield FileRow(number, error=f"{NESTED_PROPERTIES}: must be an object")
                continue
            fields = {**(nested or {}), **value}
            present = {prop: prop for prop in (NAME_PROPERTY, DESCRIPTION_PROPERTY) if prop in fields}
            # null means absent, as in the API's other bodies
            cleaned = {name: v for name, v in fields.items() if v is not None and v != ""}
            yield _item_row(number, cleaned, _with_defaults(mapping, present))


def _with_defaults(mapping: ItemMapping, present: dict[str, str]) -> ItemMapping:
    """Fill ``name``/``description`` left unset with the file's field of that name, if it has one."""
    return ItemMapping(
        id=mapping.id,
        name=mapping.name or present.get(NAME_PROPERTY),
        description=mapping.description or present.get(DESCRIPTION_PROPERTY),
        properties=mapping.properties,
        numbers=mapping.numbers,
        lists=mapping.lists,
        list_separator=mapping.list_separator,
    )


def _item_row(line: int, fields: dict[str, Any], mapping: ItemMapping) -> FileRow:
    item_id = fields.get(mapping.id)
    if item_id is None:
        return FileRow(line, error=f"no id: the field '{mapping.id}' is missing or empty")
    if isinstance(item_id, int) and not isinstance(item_id, bool):
        item_id = str(item_id)  # JSON exports often write numeric ids as numbers
    renamed = mapping.renamed()
    kept = mapping.properties if mapping.properties is not None else list(fields)
    # A field named like a mapped property ("name" beside --name-col title) gives way to the mapping.
    others = [f for f in kept if f != mapping.id and f not in renamed and f not in renamed.values()]
    properties: dict[str, Any] = {}
    try:
        for source in (*renamed, *others):
            if source in fields:
                properties[renamed.get(source, source)] = _convert(source, fields[source], mapping)
    except ValueError as error:
        return FileRow(line, error=str(error))
    return FileRow(line, {"id": item_id, "properties": properties})


def _convert(name: str, value: Any, mapping: ItemMapping) -> Any:
    if not isinstance(value, str):
        return value
    if name in mapping.numbers:
        text = value.strip()
        try:
            return int(text) if _INTEGER.match(text) else float(text)
        except ValueError:
            raise ValueError(f"{name}: '{text[:40]}' is not a number") from None
    if name in mapping.lists:
        return [part.strip() for part in value.split(mapping.list_separator) if part.strip()]
    return value


def import_item_rows(
    tenant: str, rows: Iterable[FileRow], catalog: CatalogRepository, *, batch_size: int = MAX_BATCH, keep: int = 5
) -> ItemFileImport:
    """Store the rows through :func:`ingest_items`, ``batch_size`` at a time; every rejection keeps its line."""
    report = ItemFileImport(keep=keep)
    lines: list[int] = []
    batch: list[dict[str, Any]] = []
    unreadable: list[Rejection] = []  # by line, not by position in the batch

    def store() -> None:
        result = ingest_items(tenant, batch, catalog) if batch else IngestResult(accepted=0)
        refused = [Rejection(lines[r.index], _in_lines(r.error, lines)) for r in result.rejected]
        for rejection in sorted([*unreadable, *refused], key=lambda r: r.index):
            report.reject(rejection.index, rejection.error)
        report.accepted += result.accepted
        report.duplicates += result.duplicates
        lines.clear()
        batch.clear()
        unreadable.clear()

    for row in rows:
        if row.row is None:
            unreadable.append(Rejection(row.line, row.error or "unreadable"))
        else:
            lines.append(row.line)
            batch.append(row.row)
        if len(batch) == batch_size:
            store()
    store()
    return report


def _in_lines(error: str, lines: list[int]) -> str:
    match = _SUPERSEDED_BY_ROW.match(error)
    if match is None:
        return error
    return f"superseded by line {lines[int(match.group(1))]}: the same id appears later in the file"
