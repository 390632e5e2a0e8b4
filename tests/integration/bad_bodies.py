"""Hypothesis strategies for request bodies that should never get a 5xx: valid shapes of
each endpoint with some values swapped for NaN, ±Infinity, 1e400, lone surrogates, huge or
tiny numbers, wrong types and nesting, serialised the way a careless client would."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

BIG = "__1e400__"  # stands for a literal 1e400 (json.dumps cannot write one)
NASTY_NUMBERS = st.sampled_from(
    [float("nan"), float("inf"), float("-inf"), BIG, 5e-324, -0.0, 1e308, -1e308, 2**64, -1, 0]
)
NASTY_TEXT = st.sampled_from(["\ud800", "\udfff", "a\udfffb", "", "x" * 5000, "<script>", "\x00"])
LEAVES: st.SearchStrategy[Any] = st.one_of(
    NASTY_NUMBERS,
    NASTY_TEXT,
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(),
    st.text(max_size=20),
)
JSON: st.SearchStrategy[Any] = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)

VALID: dict[str, Any] = {
    "/anomaly": {
        "metrics": [{"cpu_usage": 0.5, "memory_usage": 0.4, "timestamp": 1_700_000_000}],
        "threshold": {"false_alarm_rate": 0.001},
    },
    "/scaling": {
        "usage_patterns": {"cpu_avg": 0.7, "memory_avg": 0.5, "request_rate": 100.0},
        "current_replicas": 3,
        "capacity_per_replica": 50.0,
        "min_replicas": 1,
        "max_replicas": 10,
        "history": [
            {"timestamp": 1_700_000_000 + 60 * i, "value": 10.0 + i % 5} for i in range(30)
        ],
    },
    "/salience": {
        "features": [
            {"type": "system_event", "severity": "critical", "frequency": 0.1, "labels": {"a": "b"}}
        ]
    },
    "/alerts": {
        "version": "4",
        "status": "firing",
        "receiver": "fuzz",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "Fuzz", "severity": "warning"},
                "annotations": {"summary": "s"},
                "startsAt": "2026-01-01T00:00:00Z",
                "fingerprint": "fuzz0001",
            }
        ],
    },
    "/alerts/feedback": {"fingerprint": "fuzz0001", "label": "noise"},
    "/rightsizing": {
        "cpu": [
            {"timestamp": 1_700_000_000 + 300 * i, "value": 0.2 + i % 7 / 10} for i in range(20)
        ],
        "memory": [{"timestamp": 1_700_000_000 + 300 * i, "value": 3e8} for i in range(20)],
        "oom_kills": [1_700_003_000],
        "throttled": 0.2,
        "policy": {"risk": 0.05, "max_cpu": "2", "min_memory": "64Mi", "half_life": 86400},
        "workload": {"name": "web", "container": "app", "namespace": "shop"},
    },
}


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replace(value[head], rest, new)}
    copy = list(value)
    copy[head] = _replace(copy[head], rest, new)
    return copy


@st.composite
def bodies(draw: st.DrawFn, endpoint: str) -> bytes:
    """A body for `endpoint`: its valid shape with one to three values (or keys) replaced."""
    body: Any = VALID[endpoint]
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(body)
        path = draw(st.sampled_from(paths))
        if draw(st.booleans()):
            body = _replace(body, path, draw(JSON))
        else:
            node = body
            for p in path:
                node = node[p]
            if isinstance(node, dict):  # add a key that may not be encodable
                body = _replace(body, path, {**node, draw(NASTY_TEXT): draw(LEAVES)})
    text = json.dumps(body, allow_nan=True, ensure_ascii=True)
    return text.replace(f'"{BIG}"', "1e400").encode()
