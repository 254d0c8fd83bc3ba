"""DynamoDB tables in one SQLite file: each table and each global secondary index is a SQLite table.

Writes run one at a time on one connection (DynamoDB's conditional writes and transactions are
read-check-write, atomic); reads run on a pool of connections and never wait for a writer (WAL).
A write is committed before it is answered, so a killed process keeps every acknowledged write.
"""

from __future__ import annotations

import contextlib
import json
import queue
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.dynamodb.errors import ResourceInUse, ResourceNotFound, ValidationError
from local.dynamodb.schema import NO_RANGE, IndexSchema, TableSchema, schema_from_json
from local.dynamodb.values import MAX_ITEM_BYTES, Item, item_size, successor

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA wal_autocheckpoint=0",  # a background thread checkpoints, off the write path
    # Committed transactions survive a killed process (the OS holds the WAL); only a power cut
    # may lose the last ones. That is the local runner's promise, at a fraction of FULL's cost.
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=10000",
    "PRAGMA temp_store=MEMORY",
)
READ_POOL = 8
# Page cache per connection, in KiB: the writer's holds the hot index pages; readers lean on the OS's.
WRITER_CACHE_KIB, READER_CACHE_KIB = 16_000, 4_000
CHECKPOINT_SECONDS = 0.5
CHECKPOINT_WAL_BYTES = 32 * 1024 * 1024
FETCH_ROWS = 256

Key = tuple[str | bytes, str | bytes]


def items_table(table: str) -> str:
    return f'"items/{table}"'


def index_columns(index: str) -> tuple[str, str]:
    """The items-table columns holding an index's hash and range key (NULL: the item is not in it)."""
    return f'"gsi/{index}/hk"', f'"gsi/{index}/rk"'


def _index_key(index: IndexSchema, item: Item) -> tuple[Any, Any]:
    stored = index.key.stored(item)
    return (None, None) if stored is None else stored


class StaleSchema(Exception):
    """A table's definition changed between preparing a write and taking the write lock: prepare it again."""


@dataclass(frozen=True)
class Row:
    """A stored item: its JSON text (spliced into answers as is), stored key and DynamoDB size."""

    doc: str
    key: Key
    size: int

    def item(self) -> Item:
        return json.loads(self.doc)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Range:
    """A sort-key condition on stored key values: ``op`` in = < <= > >= between begins_with."""

    op: str
    low: str | bytes
    high: str | bytes | None = None


class Database:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._write_lock = threading.Lock()
        self._writer = self._connect(WRITER_CACHE_KIB)
        self._readers: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        self._reader_count = 0
        self._pool_lock = threading.Lock()
        self._schemas: dict[str, TableSchema] = {}
        self.schema_version = 0  # moves with every table definition change
        self._closed = threading.Event()
        self._checkpointer = threading.Thread(
            target=self._checkpoint_now_and_then, name="sqlite-checkpoint", daemon=True
        )
        self._checkpointer.start()
        self._writer.execute("CREATE TABLE IF NOT EXISTS tables (name TEXT PRIMARY KEY, schema TEXT NOT NULL)")
        for name, stored in self._writer.execute("SELECT name, schema FROM tables"):
            self._schemas[name] = schema_from_json(json.loads(stored))

    def _connect(self, cache_kib: int = READER_CACHE_KIB) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        for pragma in PRAGMAS:
            connection.execute(pragma)
        connection.execute(f"PRAGMA cache_size=-{int(cache_kib)}")
        return connection

    def _checkpoint_now_and_then(self) -> None:
        """Copy the write-ahead log into the database file when it grows (readers and the writer go on)."""
        connection = self._connect()
        wal = Path(f"{self.path}-wal")
        try:
            while not self._closed.wait(CHECKPOINT_SECONDS):
                try:
                    if wal.exists() and wal.stat().st_size > CHECKPOINT_WAL_BYTES:
                        connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:
                    continue  # busy now: the next round will do it
        finally:
            connection.close()

    def close(self) -> None:
        self._closed.set()
        self._checkpointer.join(timeout=10)
        with self._write_lock:
            with contextlib.suppress(sqlite3.Error):  # a reader still open: the log is replayed at the next start
                self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._writer.close()
        while True:
            try:
                self._readers.get_nowait().close()
            except queue.Empty:
                return

    # ---------------------------------------------------------------- connections
    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One atomic write: everything inside commits together, or nothing does."""
        with self._write_lock:
            self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise
            self._writer.execute("COMMIT")

    @contextmanager
    def write_at(self, schema_version: int) -> Iterator[sqlite3.Connection]:
        """A write prepared against the table definitions of ``schema_version``; StaleSchema if they changed since."""
        with self.write() as connection:
            if self.schema_version != schema_version:
                raise StaleSchema
            yield connection

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A connection for reads; every read sees every write committed before it began."""
        try:
            connection = self._readers.get_nowait()
        except queue.Empty:
            connection = self._connect()
        try:
            yield connection
        finally:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            if self._readers.qsize() < READ_POOL:
                self._readers.put(connection)
            else:
                connection.close()

    # ---------------------------------------------------------------- tables
    def schema(self, name: str) -> TableSchema:
        schema = self._schemas.get(name)
        if schema is None:
            raise ResourceNotFound(f"Requested resource not found: Table: {name} not found")
        return schema

    def table_names(self) -> list[str]:
        return sorted(self._schemas)

    def create_table(self, schema: TableSchema) -> None:
        with self.write() as connection:
            if schema.name in self._schemas:
                raise ResourceInUse(f"Table already exists: {schema.name}")
            # A rowid table with a unique key index, not WITHOUT ROWID: items of a few hundred bytes
            # inserted in key order across many partitions split wide b-tree pages (measured: 2x slower).
            connection.execute(
                f"CREATE TABLE {items_table(schema.name)} (hk NOT NULL, rk NOT NULL, doc TEXT NOT NULL, "
                "size INTEGER NOT NULL, expires INTEGER, UNIQUE (hk, rk))"
            )
            connection.execute(
                f'CREATE INDEX "expiry/{schema.name}" ON {items_table(schema.name)} (expires) WHERE expires IS NOT NULL'
            )
            for index in schema.indexes.values():
                self._create_index(connection, schema, index)
            self._save_schema(connection, schema)

    def _create_index(self, connection: sqlite3.Connection, schema: TableSchema, index: IndexSchema) -> None:
        """An index is two columns of the items table (its keys) and a SQLite index over them."""
        table = items_table(schema.name)
        columns = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
        hash_column, range_column = index_columns(index.name)
        for column in (hash_column, range_column):
            if column.strip('"') not in columns:
                connection.execute(f"ALTER TABLE {table} ADD COLUMN {column}")
        # The table key ends the index too: index order is total, and a page resumes inside it.
        connection.execute(
            f'CREATE INDEX "gsi/{schema.name}/{index.name}" ON {table} ({hash_column}, {range_column}, hk, rk) '
            f"WHERE {hash_column} IS NOT NULL"
        )
        rows = connection.execute(f"SELECT hk, rk, doc FROM {table}").fetchall()
        for hk, rk, doc in rows:  # an index added to a table that has items: fill it
            connection.execute(
                f"UPDATE {table} SET {hash_column} = ?, {range_column} = ? WHERE hk = ? AND rk = ?",
                (*_index_key(index, json.loads(doc)), hk, rk),
            )

    def _save_schema(self, connection: sqlite3.Connection, schema: TableSchema) -> None:
        connection.execute(
            "INSERT OR REPLACE INTO tables (name, schema) VALUES (?, ?)", (schema.name, json.dumps(schema.to_json()))
        )
        self._schemas[schema.name] = schema
        self.schema_version += 1

    def update_schema(self, schema: TableSchema) -> None:
        """Store a changed definition: indexes added are filled from the items, removed ones dropped."""
        with self.write() as connection:
            current = self.schema(schema.name)
            for name in current.indexes.keys() - schema.indexes.keys():
                hash_column, range_column = index_columns(name)
                connection.execute(f'DROP INDEX "gsi/{schema.name}/{name}"')
                connection.execute(f"UPDATE {items_table(schema.name)} SET {hash_column} = NULL, {range_column} = NULL")
            for name in schema.indexes.keys() - current.indexes.keys():
                self._create_index(connection, schema, schema.indexes[name])
            if schema.ttl_attribute != current.ttl_attribute:
                self._refresh_expiry(connection, schema)
            self._save_schema(connection, schema)

    def delete_table(self, name: str) -> TableSchema:
        with self.write() as connection:
            schema = self.schema(name)
            connection.execute(f"DROP TABLE {items_table(name)}")
            connection.execute("DELETE FROM tables WHERE name = ?", (name,))
            del self._schemas[name]
            self.schema_version += 1
            return schema

    def _refresh_expiry(self, connection: sqlite3.Connection, schema: TableSchema) -> None:
        rows = connection.execute(f"SELECT hk, rk, doc FROM {items_table(schema.name)}").fetchall()
        for hk, rk, doc in rows:
            connection.execute(
                f"UPDATE {items_table(schema.name)} SET expires = ? WHERE hk = ? AND rk = ?",
                (_expiry(json.loads(doc), schema.ttl_attribute), hk, rk),
            )

    def statistics(self, name: str) -> tuple[int, int]:
        with self.read() as connection:
            count, size = connection.execute(
                f"SELECT count(*), coalesce(sum(size), 0) FROM {items_table(name)}"
            ).fetchone()
        return int(count), int(size)

    # ---------------------------------------------------------------- items
    def get(self, connection: sqlite3.Connection, schema: TableSchema, key: Key) -> Row | None:
        found = connection.execute(
            f"SELECT doc, size FROM {items_table(schema.name)} WHERE hk = ? AND rk = ?", key
        ).fetchone()
        return None if found is None else Row(found[0], key, found[1])

    def put(self, connection: sqlite3.Connection, schema: TableSchema, item: Item, doc: str, size: int) -> None:
        key = schema.key.stored(item)
        assert key is not None
        columns, values = ["hk", "rk", "doc", "size", "expires"], [*key, doc, size, _expiry(item, schema.ttl_attribute)]
        for index in schema.indexes.values():
            columns.extend(index_columns(index.name))
            values.extend(_index_key(index, item))
        connection.execute(
            f"INSERT OR REPLACE INTO {items_table(schema.name)} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(values))})",
            values,
        )

    def delete(self, connection: sqlite3.Connection, schema: TableSchema, key: Key) -> None:
        connection.execute(f"DELETE FROM {items_table(schema.name)} WHERE hk = ? AND rk = ?", key)

    # ---------------------------------------------------------------- reads in key order
    def rows(
        self,
        connection: sqlite3.Connection,
        schema: TableSchema,
        index: IndexSchema | None,
        hash_key: str | bytes | None,
        condition: Range | None,
        *,
        forward: bool = True,
        after: tuple[Any, ...] | None = None,
    ) -> Iterator[Row]:
        """Items of one partition (``hash_key``) or of the whole table (None), in key order.

        ``after`` is the stored key to continue after: ``(range,)`` in a partition of the table,
        ``(range, item hash, item range)`` in an index, ``(hash, range)`` for a whole-table scan.
        """
        direction = "" if forward else " DESC"
        clauses: list[str] = []
        values: list[Any] = []
        if index is None:
            hash_column, sort_column = "hk", "rk"
            order = ["rk"] if hash_key is not None else ["hk", "rk"]
        else:
            hash_column, sort_column = index_columns(index.name)
            order = [sort_column, "hk", "rk"] if hash_key is not None else [hash_column, sort_column, "hk", "rk"]
            if hash_key is None:
                clauses.append(f"{hash_column} IS NOT NULL")
        if hash_key is not None:
            clauses.append(f"{hash_column} = ?")
            values.append(hash_key)
        if condition is not None:
            clause, bound = _range_clause(sort_column, condition)
            clauses.append(clause)
            values.extend(bound)
        if after is not None:
            clauses.append(f"({', '.join(order)}) {'>' if forward else '<'} ({', '.join('?' * len(order))})")
            values.extend(after)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        ordering = ", ".join(column + direction for column in order)
        sql = f"SELECT doc, size, hk, rk FROM {items_table(schema.name)}{where} ORDER BY {ordering}"
        cursor = connection.execute(sql, values)
        try:
            while True:
                batch = cursor.fetchmany(FETCH_ROWS)
                if not batch:
                    return
                for doc, size, hk, rk in batch:
                    yield Row(doc, (hk, rk), size)
        finally:
            cursor.close()  # ends the read snapshot, even when the caller stops early

    # ---------------------------------------------------------------- time to live
    def expired_keys(self, connection: sqlite3.Connection, schema: TableSchema, before: int, limit: int) -> list[Key]:
        return [
            (hk, rk)
            for hk, rk in connection.execute(
                f"SELECT hk, rk FROM {items_table(schema.name)} WHERE expires IS NOT NULL AND expires < ? LIMIT ?",
                (before, limit),
            )
        ]


def _range_clause(column: str, condition: Range) -> tuple[str, list[Any]]:
    if condition.op == "between":
        return f"{column} BETWEEN ? AND ?", [condition.low, condition.high]
    if condition.op == "begins_with":
        upper = successor(condition.low)
        if upper is None:
            return f"{column} >= ?", [condition.low]
        return f"{column} >= ? AND {column} < ?", [condition.low, upper]
    return f"{column} {condition.op} ?", [condition.low]


def _expiry(item: Item, attribute: str | None) -> int | None:
    """The item's TTL in epoch seconds, when the TTL attribute holds a number."""
    if attribute is None:
        return None
    value = item.get(attribute)
    if value is None or "N" not in value:
        return None
    try:
        return int(float(value["N"]))
    except (OverflowError, ValueError):
        return None


def encoded(item: Item) -> tuple[str, int]:
    """The item's JSON text and its size: the text's length, or DynamoDB's count for items near the limit.

    A size is at most 4 bytes per character of the text, so only texts past a quarter of the limit
    are counted exactly. A string that is not valid UTF-8 is refused, as DynamoDB refuses it.
    """
    doc = json.dumps(item, ensure_ascii=False, separators=(",", ":"))
    try:
        doc.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError("One or more parameter values were invalid: a string holds invalid UTF-8") from None
    if len(doc) <= MAX_ITEM_BYTES // 4:
        return doc, len(doc)
    size = item_size(item)
    if size > MAX_ITEM_BYTES:
        raise ValidationError("Item size has exceeded the maximum allowed size")
    return doc, size


__all__ = ["NO_RANGE", "Database", "Range", "Row", "StaleSchema", "encoded"]
