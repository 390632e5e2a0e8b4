"""Reading `timestamp,value` CSV files for the replay commands, with line-numbered errors.

Timestamps are unix seconds or ISO-8601 (`2024-05-01T12:00:00Z`, `2024-05-01 12:00:00`;
no zone means UTC). Rows must be in strictly increasing time order. An empty value, `NaN`
or `nan` is a gap; anything else that is not a number is an error, reported with its line.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sidecar.errors import InputError

__all__ = ["CsvRow", "parse_timestamp", "read_rows"]

_GAPS = {"", "nan", "NaN", "NAN"}


@dataclass(slots=True)  # not frozen: one is built per row, and frozen init costs 4x
class CsvRow:
    """One data row: its line number, parsed time and value, and the original fields."""

    line: int
    t: float
    value: float
    fields: list[str]


def parse_timestamp(text: str) -> float:
    """Unix seconds from unix seconds or ISO-8601 text (UTC when no zone is given)."""
    text = text.strip()
    try:
        value = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(value):
            raise ValueError(f"timestamp is not finite: {text!r}")
        return value
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"timestamp {text!r} is neither unix seconds nor ISO-8601 (YYYY-MM-DD HH:MM:SS)"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def read_rows(fh: Iterable[str], name: str) -> tuple[list[str], Iterator[CsvRow]]:
    """The header and a lazy iterator of validated rows; raises InputError with the line."""
    reader = csv.reader(fh)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(name, 1, "empty file: expected a header `timestamp,value`") from None
    except csv.Error as exc:
        raise InputError(name, 1, f"unreadable CSV: {exc}") from None
    cols = [h.strip() for h in header]
    missing = [c for c in ("timestamp", "value") if c not in cols]
    if missing:
        raise InputError(
            name, 1, f"missing column(s) {', '.join(missing)}: the header must name timestamp,value"
        )
    ti, vi = cols.index("timestamp"), cols.index("value")
    return cols, _rows(reader, name, ti, vi, len(cols))


def _rows(reader: Iterator[list[str]], name: str, ti: int, vi: int, width: int) -> Iterator[CsvRow]:
    last = -math.inf
    line = 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(name, line + 1, f"unreadable CSV: {exc}") from None
        line += 1
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue  # blank line
        if len(fields) != width:
            raise InputError(name, line, f"expected {width} fields, found {len(fields)}")
        try:
            t = parse_timestamp(fields[ti])
        except ValueError as exc:
            raise InputError(name, line, str(exc)) from None
        if t <= last:
            raise InputError(
                name, line, f"timestamps must increase: {fields[ti]!r} is not after the row before"
            )
        last = t
        raw = fields[vi].strip()
        if raw in _GAPS:
            value = math.nan
        else:
            try:
                value = float(raw)
            except ValueError:
                raise InputError(name, line, f"value {raw!r} is not a number") from None
        yield CsvRow(line, t, value, fields)
