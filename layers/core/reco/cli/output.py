"""What the commands print: progress bars on a terminal, and plain tables."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


def progress(items: Iterable[T], total: int | None = None, desc: str = "", unit: str = "rows") -> Iterator[T]:
    """A progress bar on a terminal (tqdm), plain iteration elsewhere."""
    try:
        from tqdm import tqdm
    except ImportError:  # the Lambda layer does not ship tqdm
        yield from items
        return
    yield from tqdm(items, total=total, desc=desc, unit=unit, disable=not sys.stderr.isatty())


def print_table(rows: list[dict[str, Any]]) -> None:
    if not rows:
        print("(no rows)")
        return
    columns = list(rows[0])
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))


def _cell(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)
