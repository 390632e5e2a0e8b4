"""Reading `timestamp,value` CSV files for the replay commands, with line-numbered errors.

Timestamps are unix seconds or ISO-8601 (`2024-05-01T12:00:00Z`, `2024-05-01 12:00:00`;
no zone means UTC). Rows must be in strictly increasing time order, unless the caller
takes repeats (`repeats=True`): then a row whose time is not after the row before (a
repeated row, the hour a DST change repeats) is read as a repeat sample at the previous
time (`REPEAT_STEP` after it, so times stay strictly increasing) and its line is noted.
The header's column names match in any case, and a UTF-8 byte-order mark before it is
skipped. An empty value, `NaN` or `nan` is a gap; anything else that is not a number is an
error, reported with its line.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from sidecar.errors import InputError

if TYPE_CHECKING:
    from _csv import Reader

__all__ = [
    "REPEAT_STEP",
    "CsvBatch",
    "CsvRow",
    "parse_timestamp",
    "read_batches",
    "read_rows",
    "repeat_times",
]

_GAPS = {"", "nan", "NaN", "NAN"}
_BOM = "\ufeff"

REPEAT_STEP = 1e-3
"""Seconds after the previous row's time at which a repeated or backward row is read."""


@dataclass(slots=True)  # not frozen: one is built per row, and frozen init costs 4x
class CsvRow:
    """One data row: its line number, parsed time and value, and the original fields;
    `repeat` when its own time was not after the row before (`t` is then that row's time
    plus REPEAT_STEP)."""

    line: int
    t: float
    value: float
    fields: list[str]
    repeat: bool = False


def repeat_times(t: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """Times made strictly increasing as the reader makes them (a time not after the one
    before becomes that one plus REPEAT_STEP), and the indices of the rows it changed."""
    if t.size < 2 or bool((t[1:] > t[:-1]).all()):
        return t, np.empty(0, dtype=np.intp)
    out = t.copy()
    changed = []
    last = -math.inf
    for i, v in enumerate(out.tolist()):
        if v > last:
            last = v
        else:
            last += REPEAT_STEP
            out[i] = last
            changed.append(i)
    return out, np.array(changed, dtype=np.intp)


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


def read_rows(
    fh: Iterable[str], name: str, *, repeats: bool = False
) -> tuple[list[str], Iterator[CsvRow]]:
    """The header and a lazy iterator of validated rows; raises InputError with the line."""
    cols, reader, ti, vi = _open(fh, name)
    return cols, _rows(reader, name, ti, vi, len(cols), repeats=repeats)


@dataclass(slots=True)
class CsvBatch:
    """Consecutive data rows: their times and values as arrays, and the original fields."""

    t: NDArray[np.float64]
    value: NDArray[np.float64]
    fields: list[list[str]]
    repeat_lines: list[int]  # lines of the rows read as repeats


def read_batches(
    fh: Iterable[str], name: str, size: int, *, repeats: bool = False
) -> tuple[list[str], Iterator[CsvBatch]]:
    """The header and a lazy iterator of validated batches of up to `size` rows: the same
    rows and errors as `read_rows`, but a batch of plain numbers is converted in one pass
    (about a third of `read_rows`' cost per row) and only other batches (gaps, ISO times,
    blank lines, errors, repeats) go row by row."""
    cols, reader, ti, vi = _open(fh, name)
    return cols, _batches(reader, name, ti, vi, len(cols), size, repeats)


def _open(fh: Iterable[str], name: str) -> tuple[list[str], Reader, int, int]:
    """The stripped header, the CSV reader after it, and the timestamp and value columns."""
    reader = csv.reader(fh)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(name, 1, "empty file: expected a header `timestamp,value`") from None
    except csv.Error as exc:
        raise InputError(name, 1, f"unreadable CSV: {exc}") from None
    if header and header[0].startswith(_BOM):
        header[0] = header[0][len(_BOM) :]
    cols = [h.strip() for h in header]
    folded = [c.lower() for c in cols]
    missing = [c for c in ("timestamp", "value") if c not in folded]
    if missing:
        raise InputError(
            name, 1, f"missing column(s) {', '.join(missing)}: the header must name timestamp,value"
        )
    return cols, reader, folded.index("timestamp"), folded.index("value")


def _batches(
    reader: Reader, name: str, ti: int, vi: int, width: int, size: int, repeats: bool
) -> Iterator[CsvBatch]:
    line = 1  # of the last record read
    last = -math.inf
    while True:
        try:
            records = list(islice(reader, size))
        except csv.Error as exc:  # on the line the reader stopped at, not the batch's first
            raise InputError(name, reader.line_num, f"unreadable CSV: {exc}") from None
        if not records:
            return
        batch = _plain(records, ti, vi, width, last)
        if batch is None:  # row by row, for the gaps, ISO times, blank lines or the error
            rows = list(_rows(iter(records), name, ti, vi, width, line, last, repeats=repeats))
            batch = CsvBatch(
                np.array([r.t for r in rows], dtype=np.float64),
                np.array([r.value for r in rows], dtype=np.float64),
                [r.fields for r in rows],
                [r.line for r in rows if r.repeat],
            )
        line += len(records)
        if batch.fields:  # not only blank lines
            last = float(batch.t[-1])
            yield batch


def _plain(records: list[list[str]], ti: int, vi: int, width: int, last: float) -> CsvBatch | None:
    """The batch when every record is `width` numbers with finite, increasing times after
    `last`; else None. float() parses exactly what `_rows` accepts here (it ignores the
    surrounding blanks `_rows` strips; "nan" is a gap either way), and raises on the rest."""
    if not all(len(r) == width for r in records):
        return None
    try:
        t = np.array(list(map(float, [r[ti] for r in records])), dtype=np.float64)
        x = np.array(list(map(float, [r[vi] for r in records])), dtype=np.float64)
    except ValueError:
        return None
    if not (np.isfinite(t).all() and t[0] > last and (t[1:] > t[:-1]).all()):
        return None
    return CsvBatch(t, x, records, [])


def _rows(
    reader: Iterator[list[str]],
    name: str,
    ti: int,
    vi: int,
    width: int,
    line: int = 1,
    last: float = -math.inf,
    *,
    repeats: bool = False,
) -> Iterator[CsvRow]:
    """Validated rows from `reader`, whose records follow line `line` and the time `last`."""
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
        repeat = not t > last
        if repeat:
            if not repeats:
                raise InputError(
                    name,
                    line,
                    f"timestamps must increase: {fields[ti]!r} is not after the row before",
                )
            t = last + REPEAT_STEP
        last = t
        raw = fields[vi].strip()
        if raw in _GAPS:
            value = math.nan
        else:
            try:
                value = float(raw)
            except ValueError:
                raise InputError(name, line, f"value {raw!r} is not a number") from None
        yield CsvRow(line, t, value, fields, repeat)
