"""`read_batches` reads exactly what `read_rows` reads: the same rows, gaps and errors."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest

from sidecar.errors import InputError
from sidecar.replay.timeseries_csv import REPEAT_STEP, read_batches, read_rows, repeat_times

MIXED = (
    "timestamp,value,host\n"
    "100,1.5,a\n"
    " 200 , 2 ,b\n"  # blanks around numbers
    "300,,c\n"  # a gap
    "400,NaN,d\n"  # a gap
    "\n"  # a blank line
    "1970-01-01 00:08:20,5,e\n"  # ISO time (500 s)
    "600,inf,f\n"
    "700,7e2,g\n"
    "800,8,h\n"
    "900,9,i\n"
)


def _rows(text: str) -> list[tuple[float, float, list[str]]]:
    _, rows = read_rows(io.StringIO(text), "in.csv")
    return [(r.t, r.value, r.fields) for r in rows]


def _batched(text: str, size: int) -> list[tuple[float, float, list[str]]]:
    _, batches = read_batches(io.StringIO(text), "in.csv", size)
    out: list[tuple[float, float, list[str]]] = []
    for b in batches:
        assert len(b.t) == len(b.value) == len(b.fields) > 0
        out += zip(b.t.tolist(), b.value.tolist(), b.fields, strict=True)
    return out


def _same(a: list[tuple[float, float, list[str]]], b: list[tuple[float, float, list[str]]]) -> bool:
    return len(a) == len(b) and all(
        (ta == tb and (va == vb or (math.isnan(va) and math.isnan(vb))) and fa == fb)
        for (ta, va, fa), (tb, vb, fb) in zip(a, b, strict=True)
    )


@pytest.mark.parametrize("size", [1, 2, 3, 4, 100])
def test_batches_hold_the_rows_read_rows_reads(size: int) -> None:
    expected = _rows(MIXED)
    assert [t for t, _, _ in expected] == [100, 200, 300, 400, 500, 600, 700, 800, 900]
    assert _same(_batched(MIXED, size), expected)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("timestamp,value\n1,2\n2,3\n3,abc\n4,5\n", "in.csv:4: value 'abc' is not a number"),
        ("timestamp,value\n1,2\n3,2\n5,3\n4,4\n", "in.csv:5: timestamps must increase"),
        ("timestamp,value\n1,2\n2,3\n3,4\n4\n", "in.csv:5: expected 2 fields, found 1"),
        ("timestamp,value\n1,2\n2,3\ninf,4\n", "in.csv:4: timestamp is not finite"),
        (  # the CSV reader itself fails, mid-batch
            'timestamp,value\n1,2\n2,3\n3,4\n4,5\n5,"' + "9" * 200_000 + '"\n6,7\n',
            "in.csv:6: unreadable CSV: field larger than field limit",
        ),
    ],
)
@pytest.mark.parametrize("size", [1, 2, 3, 100])
def test_batches_report_the_line_read_rows_reports(text: str, message: str, size: int) -> None:
    """An error in a later batch, or one that only the order across batches shows."""
    with pytest.raises(InputError) as by_rows:
        _rows(text)
    with pytest.raises(InputError) as by_batches:
        _batched(text, size)
    assert str(by_batches.value) == str(by_rows.value)
    assert str(by_rows.value).startswith(message)


@pytest.mark.parametrize("size", [1, 2, 3, 100])
def test_repeats_are_read_at_the_previous_time_in_batches_and_rows(size: int) -> None:
    text = "timestamp,value\n100,1\n200,2\n200,3\n150,4\n300,5\n300,6\n"
    _, rows = read_rows(io.StringIO(text), "in.csv", repeats=True)
    got = [(r.line, r.t, r.repeat) for r in rows]
    step = REPEAT_STEP
    assert got == [
        (2, 100.0, False),
        (3, 200.0, False),
        (4, 200.0 + step, True),
        (5, 200.0 + 2 * step, True),
        (6, 300.0, False),
        (7, 300.0 + step, True),
    ]
    _, batches = read_batches(io.StringIO(text), "in.csv", size, repeats=True)
    listed = list(batches)
    assert [t for b in listed for t in b.t.tolist()] == [t for _, t, _ in got]
    assert [ln for b in listed for ln in b.repeat_lines] == [4, 5, 7]
    t, changed = repeat_times(np.array([100.0, 200.0, 200.0, 150.0, 300.0, 300.0]))
    assert t.tolist() == [t for _, t, _ in got] and changed.tolist() == [2, 3, 5]
