"""Prometheus durations and the offline PromQL balance check, as tables."""

from __future__ import annotations

import pytest

from sidecar.config.durations import format_duration, parse_duration
from sidecar.config.promql import check_promql


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0", 0.0),
        ("30s", 30.0),
        ("5m", 300.0),
        ("1h", 3600.0),
        ("7d", 604800.0),
        ("1w", 604800.0),
        ("1y", 31536000.0),
        ("1h30m", 5400.0),
        ("1d2h3m4s", 93784.0),
        ("500ms", 0.5),
        ("1m30s250ms", 90.25),
    ],
)
def test_valid_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)
    assert parse_duration(format_duration(seconds)) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "text", ["", "30", "5 m", "5M", "1.5h", "-5m", "m", "30s1m", "1h1h", "1 h"]
)
def test_invalid_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(
    "query",
    [
        "up",
        'sum by (job) (rate(http_requests_total{code=~"5.."}[5m]))',
        "histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])))",
        'label_replace(up, "a", "$1", "b", "(.*)")',  # brackets inside a string are text
        "up # a comment with an unbalanced ( bracket",
        "sum(rate(x[5m:1m]))",
        '{__name__=~"job:.*"}',
        r'up{a="escaped \" quote ("}',
        "up > bool 1",
        "-(up)",
        "absent(up)",
    ],
)
def test_valid_instant_vector_queries(query: str) -> None:
    assert check_promql(query) is None


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("sum by handler rate(x[5m])", "invalid promql query"),
        ("rate(up[5x])", "bad number or duration syntax: 5x"),
        ("ratee(up[5m])", "unknown function with name 'ratee'"),
        ("up[5m]", "the query gives a matrix; a rule needs an instant vector"),
        ('"hello"', "the query gives a string; a rule needs an instant vector"),
        ("scalar(up)", "the query gives a scalar; a rule needs an instant vector"),
        ("rate(x[5m])[1h:1m]", "the query gives a matrix; a rule needs an instant vector"),
    ],
)
def test_prometheus_grammar_and_result_type(query: str, message: str) -> None:
    problem = check_promql(query)
    assert problem is not None and problem.startswith(message)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "query is empty"),
        ("sum(rate(x[5m])", "'(' opened at offset 3 is never closed"),
        ("sum(x))", "unexpected ')' at offset 6"),
        ("rate(x[5m)]", "')' at offset 9 does not close '[' opened at offset 6"),
        ('up{job="a}', 'unterminated string " opened at offset 7'),
        ("up{job='a}", "unterminated string ' opened at offset 7"),
    ],
)
def test_unbalanced_promql(query: str, message: str) -> None:
    assert check_promql(query) == message
