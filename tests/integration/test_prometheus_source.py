"""PrometheusSource against the real Prometheus binary scraping a real target."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pytest
import requests

from sidecar.errors import QueryError, SourceUnavailable
from sidecar.sources.prometheus import PrometheusSource
from tests.rig import MetricsTarget, PrometheusServer, free_port, wait_until


def _samples_now(prometheus: PrometheusServer, n: int) -> float:
    """Wait until Prometheus holds at least `n` 1-second samples of rig_value; return now."""
    wait_until(
        lambda: all(len(s["values"]) >= n for s in _raw_range(prometheus)),
        30,
        f"{n} samples of rig_value",
    )
    return time.time()


def _raw_range(prometheus: PrometheusServer) -> list[dict[str, Any]]:
    now = time.time()
    params: dict[str, str | float] = {
        "query": "rig_value",
        "start": now - 60,
        "end": now,
        "step": 1,
    }
    body = requests.get(f"{prometheus.url}/api/v1/query_range", params=params, timeout=5).json()
    result: list[dict[str, Any]] = body["data"]["result"]
    return result if len(result) == 2 else [{"values": []}]


def test_range_query_returns_scraped_samples_with_labels(
    prometheus: PrometheusServer, metrics_target: MetricsTarget
) -> None:
    now = _samples_now(prometheus, 5)
    with PrometheusSource(prometheus.url, timeout=5, retries=0) as src:
        frames = src.query_range("rig_value", now - 30, now, 1)
    keys = [f.key for f in frames]
    assert [k.metric for k in keys] == ["rig_value", "rig_value"]
    assert [k.as_dict()["series"] for k in keys] == ["a", "b"]
    assert all(k.as_dict()["job"] == "rig" for k in keys)
    assert all(k.as_dict()["instance"] == metrics_target.address for k in keys)
    for frame, expected in zip(frames, (1.0, 2.0), strict=True):
        seen = frame.X[:, 0][~np.isnan(frame.X[:, 0])]
        assert seen.size >= 3
        assert set(seen.tolist()) == {expected}
        assert np.all(np.diff(frame.t) == 1.0)
        assert frame.t[0] % 1.0 == 0


def test_chunked_range_equals_one_request(prometheus: PrometheusServer) -> None:
    now = _samples_now(prometheus, 5)
    start, end = math.floor(now) - 20, math.floor(now)
    with PrometheusSource(prometheus.url, timeout=5, retries=0) as whole:
        expected = whole.query_range("rig_value", start, end, 1)
    with PrometheusSource(prometheus.url, timeout=5, retries=0, max_points=4) as chunked:
        got = chunked.query_range("rig_value", start, end, 1)
    assert [f.key for f in got] == [f.key for f in expected]
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a.t, b.t)
        np.testing.assert_array_equal(a.X, b.X)


def test_instant_query_sees_a_changed_value(
    prometheus: PrometheusServer, metrics_target: MetricsTarget
) -> None:
    metrics_target.set("c", 42.5)
    with PrometheusSource(prometheus.url, timeout=5, retries=0) as src:
        values = wait_until(
            lambda: {
                k.as_dict()["series"]: v
                for k, v in src.query('rig_value{series="c"}', at=time.time()).items()
            },
            30,
            "series c scraped",
        )
    assert values == {"c": 42.5}


def test_scalar_and_empty_results(prometheus: PrometheusServer) -> None:
    with PrometheusSource(prometheus.url, timeout=5, retries=0) as src:
        assert list(src.query("scalar(vector(3))", at=time.time()).values()) == [3.0]
        assert src.query('rig_value{series="nope"}', at=time.time()) == {}
        assert src.query_range('rig_value{series="nope"}', time.time() - 10, time.time(), 1) == []


def test_query_prometheus_rejects_raises_query_error(prometheus: PrometheusServer) -> None:
    with (
        PrometheusSource(prometheus.url, timeout=5, retries=2) as src,
        pytest.raises(QueryError) as info,
    ):
        src.query("rate(rig_value)", at=time.time())
    assert info.value.error_type == "bad_data"
    assert "range vector" in str(info.value)


def test_range_selector_in_instant_query_is_query_error(prometheus: PrometheusServer) -> None:
    with (
        PrometheusSource(prometheus.url, timeout=5, retries=0) as src,
        pytest.raises(QueryError, match="range vector"),
    ):
        src.query("rig_value[10s]", at=time.time())


def test_stopped_prometheus_is_unavailable(tmp_path: object, metrics_target: MetricsTarget) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    server = PrometheusServer(tmp_path / "prom", [metrics_target.address])
    url = server.url
    with PrometheusSource(url, timeout=2, retries=0) as src:
        assert src.query("vector(1)", at=time.time())
        server.close()
        with pytest.raises(SourceUnavailable):
            src.query("vector(1)", at=time.time())
    with (
        PrometheusSource(f"http://127.0.0.1:{free_port()}", timeout=1, retries=0) as src,
        pytest.raises(SourceUnavailable),
    ):
        src.query_range("up", time.time() - 60, time.time(), 15)
