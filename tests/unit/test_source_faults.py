"""PrometheusSource against small misbehaving HTTP servers: every fault maps to its exception."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence

import numpy as np
import pytest

from sidecar.errors import BadResponse, QueryError, SourceTimeout, SourceUnavailable
from sidecar.sources.prometheus import PrometheusSource
from tests.fakes import FakePrometheus, Reply
from tests.rig import free_port

MATRIX_OK = json.dumps(
    {
        "status": "success",
        "data": {
            "resultType": "matrix",
            "result": [
                {"metric": {"__name__": "m", "job": "j"}, "values": [[60, "1"], [120, "2"]]}
            ],
        },
    }
).encode()


@pytest.fixture
def fake() -> Iterator[list[FakePrometheus]]:
    started: list[FakePrometheus] = []
    yield started
    for f in started:
        f.close()


def _serve(fake: list[FakePrometheus], replies: Sequence[Reply]) -> FakePrometheus:
    server = FakePrometheus(replies)
    fake.append(server)
    return server


def test_garbage_body_is_bad_response(fake: list[FakePrometheus]) -> None:
    server = _serve(fake, [Reply(200, b"<html>not prometheus</html>", content_type="text/html")])
    with PrometheusSource(server.url, timeout=2, retries=0) as src, pytest.raises(BadResponse):
        src.query_range("m", 60, 120, 60)


def test_json_of_the_wrong_shape_is_bad_response(fake: list[FakePrometheus]) -> None:
    body = json.dumps({"status": "success", "data": {"result": [{"values": "nope"}]}}).encode()
    server = _serve(fake, [Reply(200, body)])
    with PrometheusSource(server.url, timeout=2, retries=0) as src, pytest.raises(BadResponse):
        src.query_range("m", 60, 120, 60)


def test_rejected_query_is_query_error_with_prometheus_error_type(
    fake: list[FakePrometheus],
) -> None:
    body = json.dumps(
        {"status": "error", "errorType": "bad_data", "error": "1:5: parse error: unexpected"}
    ).encode()
    server = _serve(fake, [Reply(400, body)])
    with (
        PrometheusSource(server.url, timeout=2, retries=2) as src,
        pytest.raises(QueryError) as info,
    ):
        src.query("up(", at=100)
    assert info.value.error_type == "bad_data"
    assert "parse error" in str(info.value)
    assert len(server.requests) == 1  # a rejected query is not retried


def test_slow_prometheus_times_out_within_the_configured_bound(fake: list[FakePrometheus]) -> None:
    server = _serve(fake, [Reply(200, MATRIX_OK, delay=5.0)])
    timeout, retries = 0.3, 1
    started = time.monotonic()
    with (
        PrometheusSource(server.url, timeout=timeout, retries=retries, backoff=0.05) as src,
        pytest.raises(SourceTimeout),
    ):
        src.query_range("m", 60, 120, 60)
    elapsed = time.monotonic() - started
    # (retries + 1) attempts of `timeout` each plus one short backoff; far below the 5 s delay
    assert elapsed < (retries + 1) * timeout + 1.5
    assert len(server.requests) == retries + 1


def test_unavailable_after_bounded_retries(fake: list[FakePrometheus]) -> None:
    body = json.dumps(
        {"status": "error", "errorType": "unavailable", "error": "shutting down"}
    ).encode()
    server = _serve(fake, [Reply(503, body)])
    with (
        PrometheusSource(server.url, timeout=2, retries=2, backoff=0.01) as src,
        pytest.raises(SourceUnavailable) as info,
    ):
        src.query("up", at=100)
    assert not isinstance(info.value, SourceTimeout)
    assert len(server.requests) == 3


def test_a_transient_503_is_retried_and_the_answer_used(fake: list[FakePrometheus]) -> None:
    server = _serve(fake, [Reply(503, b"{}"), Reply(200, MATRIX_OK)])
    with PrometheusSource(server.url, timeout=2, retries=2, backoff=0.01) as src:
        frames = src.query_range("m", 60, 120, 60)
    assert len(server.requests) == 2
    assert [list(f.X[:, 0]) for f in frames] == [[1.0, 2.0]]


def test_prometheus_down_is_unavailable_quickly() -> None:
    port = free_port()  # nothing listens here
    started = time.monotonic()
    with (
        PrometheusSource(f"http://127.0.0.1:{port}", timeout=1, retries=1, backoff=0.05) as src,
        pytest.raises(SourceUnavailable) as raised,
    ):
        src.query("up", at=100)
    assert time.monotonic() - started < 3
    # refused is not a timeout (urllib3's NewConnectionError subclasses ConnectTimeoutError)
    assert type(raised.value) is SourceUnavailable


def test_server_side_query_timeout_is_source_timeout(fake: list[FakePrometheus]) -> None:
    body = json.dumps(
        {"status": "error", "errorType": "timeout", "error": "query timed out"}
    ).encode()
    server = _serve(fake, [Reply(503, body)])
    with PrometheusSource(server.url, timeout=2, retries=0) as src, pytest.raises(SourceTimeout):
        src.query("up", at=100)


def test_timeout_is_sent_to_prometheus_as_a_query_parameter(fake: list[FakePrometheus]) -> None:
    server = _serve(fake, [Reply(200, MATRIX_OK)])
    with PrometheusSource(server.url, timeout=7, retries=0) as src:
        src.query_range("m", 60, 120, 60)
    assert "timeout=7s" in server.requests[0]


def test_missing_samples_become_nan_on_the_step_grid(fake: list[FakePrometheus]) -> None:
    body = json.dumps(
        {
            "status": "success",
            "data": {
                "resultType": "matrix",
                "result": [
                    {"metric": {"job": "j", "__name__": "m"}, "values": [[60, "1"], [180, "NaN"]]},
                    {"metric": {"__name__": "m", "a": "x"}, "values": [[120, "+Inf"]]},
                ],
            },
        }
    ).encode()
    server = _serve(fake, [Reply(200, body)])
    with PrometheusSource(server.url, timeout=2, retries=0) as src:
        frames = src.query_range("m", 31, 200, 60)  # grid: multiples of 60 inside [31, 200]
    assert [f.key.as_dict() for f in frames] == [{"a": "x"}, {"job": "j"}]
    assert list(frames[0].t) == [60.0, 120.0, 180.0]
    a, j = (f.X[:, 0] for f in frames)
    assert a[1] == np.inf and np.isnan(a[[0, 2]]).all()
    assert j[0] == 1.0 and np.isnan(j[1:]).all()
    assert frames[1].columns == ("m",)
