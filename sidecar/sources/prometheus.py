"""`PrometheusSource`: the one adapter over prometheus-api-client's `PrometheusConnect`.

What it adds to the library: typed `Frame`s on a step grid (gaps as NaN, labels in
canonical order), long ranges split under Prometheus' 11,000-points-per-series limit and
stitched back, bounded retries with backoff (urllib3's `Retry`, mounted by the library),
and the library's and `requests`' exceptions turned into `sidecar.errors` at this boundary.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Self

import numpy as np
import requests
from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException
from urllib3.exceptions import NewConnectionError
from urllib3.exceptions import TimeoutError as Urllib3Timeout
from urllib3.util.retry import Retry

from sidecar.config.schema import Settings
from sidecar.errors import (
    BadResponse,
    QueryError,
    SourceError,
    SourceTimeout,
    SourceUnavailable,
)
from sidecar.types import Frame, SeriesKey

__all__ = ["MAX_POINTS_PER_SERIES", "PrometheusSource"]

MAX_POINTS_PER_SERIES = 11_000
"""Prometheus refuses range queries of more points than this per series."""

_RETRY_STATUS = (429, 502, 503, 504)


class PrometheusSource:
    """Range and instant queries against one Prometheus, as `MetricsSource` describes.

    `timeout` bounds each attempt; with `retries` a call gives up after at most
    `(retries + 1) * timeout` plus the backoff sleeps (`backoff * 2**k`, capped at 5 s).
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 10.0,
        retries: int = 2,
        backoff: float = 0.2,
        max_points: int = MAX_POINTS_PER_SERIES,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_points = max_points
        retry = Retry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            backoff_factor=backoff,
            backoff_max=5.0,
            status_forcelist=_RETRY_STATUS,
            allowed_methods=frozenset({"GET", "POST"}),
            raise_on_status=False,  # the last response is classified by _check_status
            respect_retry_after_header=True,
        )
        session = requests.Session()
        session.hooks["response"].append(_check_status)
        self._client = PrometheusConnect(
            url=self.url, headers=dict(headers or {}), retry=retry, session=session, timeout=timeout
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> PrometheusSource:
        """A source configured by the process settings."""
        return cls(
            str(settings.prometheus_url),
            timeout=settings.query_timeout,
            retries=settings.query_retries,
        )

    def close(self) -> None:
        """Release pooled connections."""
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- queries -----------------------------------------------------------------------

    def query(self, promql: str, at: float) -> dict[SeriesKey, float]:
        """Instant query at `at`; a scalar result comes back under the empty key."""
        params = {"time": f"{at:.3f}", "timeout": f"{self.timeout:g}s"}
        with _translated():
            result = self._client.custom_query(promql, params=params)
        return _parse_vector(result)

    def query_range(self, promql: str, start: float, end: float, step: float) -> list[Frame]:
        """Every series on the grid `k * step` within [start, end]; missing samples are NaN.

        One HTTP request serves all series of the query; a range longer than Prometheus'
        per-series point limit is split into consecutive requests and stitched together.
        """
        if step <= 0:
            raise ValueError(f"step must be positive, got {step}")
        first = math.ceil(start / step)
        last = math.floor(end / step)
        if last < first:
            return []
        grid = np.arange(first, last + 1, dtype=np.float64) * step
        columns: dict[SeriesKey, np.ndarray[Any, np.dtype[np.float64]]] = {}
        for lo in range(0, grid.size, self.max_points):
            chunk = grid[lo : lo + self.max_points]
            with _translated():
                result = self._client.custom_query_range(
                    promql,
                    start_time=_utc(chunk[0]),
                    end_time=_utc(chunk[-1]),
                    step=f"{step:g}",
                    params={"timeout": f"{self.timeout:g}s"},
                )
            for key, ts, vs in _parse_matrix(result):
                idx = np.rint((ts - grid[0]) / step).astype(np.int64)
                ok = (idx >= 0) & (idx < grid.size)
                col = columns.get(key)
                if col is None:
                    col = columns[key] = np.full(grid.size, np.nan)
                col[idx[ok]] = vs[ok]
        return [
            Frame(key=key, t=grid, X=col.reshape(-1, 1), columns=(key.metric or "value",))
            for key, col in sorted(columns.items(), key=lambda kv: (kv[0].metric, kv[0].labels))
        ]


# ---------------------------------------------------------------------------------------
# Error translation: requests / urllib3 / prometheus-api-client → sidecar.errors
# ---------------------------------------------------------------------------------------


def _check_status(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """requests response hook: classify a non-200 answer by Prometheus' JSON error body."""
    if response.status_code == 200:
        return
    try:
        body = response.json()
        error, error_type = str(body.get("error", "")), str(body.get("errorType", ""))
    except (ValueError, AttributeError):
        error, error_type = response.text[:200], ""
    status = response.status_code
    message = f"Prometheus answered HTTP {status}: {error or response.reason}"
    if status in (400, 422):
        raise QueryError(message, error_type, status)
    if error_type == "timeout" or status in (408, 504):
        raise SourceTimeout(message)
    if status >= 500 or status == 429:
        raise SourceUnavailable(message)
    raise BadResponse(message)


class _translated:
    """Context manager mapping library exceptions to the sidecar's tree."""

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        if exc is None or isinstance(exc, SourceError):
            return
        if isinstance(exc, requests.Timeout) or _caused_by_timeout(exc):
            raise SourceTimeout(f"Prometheus did not answer in time: {exc}") from exc
        if isinstance(exc, requests.exceptions.JSONDecodeError | json.JSONDecodeError):
            raise BadResponse(f"Prometheus answered with a body that is not JSON: {exc}") from exc
        if isinstance(exc, requests.RequestException):
            raise SourceUnavailable(f"cannot reach Prometheus: {exc}") from exc
        if isinstance(exc, PrometheusApiClientException):
            raise BadResponse(str(exc)) from exc
        if isinstance(exc, KeyError | TypeError | IndexError):
            raise BadResponse(f"unexpected Prometheus response shape: {exc!r}") from exc


def _caused_by_timeout(exc: BaseException) -> bool:
    """requests wraps urllib3's read timeouts after retries in a plain ConnectionError."""
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, NewConnectionError):
            continue  # refused or unroutable: urllib3 files it under ConnectTimeoutError
        if isinstance(e, Urllib3Timeout | TimeoutError):
            return True
        stack.extend([getattr(e, "reason", None), e.__cause__, e.__context__])
        stack.extend(a for a in getattr(e, "args", ()) if isinstance(a, BaseException))
    return False


# ---------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(float(ts), tz=UTC)


def _labels(item: Any) -> SeriesKey:
    metric = item.get("metric") if isinstance(item, dict) else None
    if not isinstance(metric, dict):
        raise BadResponse(f"series without a label set in Prometheus response: {item!r:.200}")
    return SeriesKey.from_labels(metric)


def _sample(pair: Any) -> tuple[float, float]:
    try:
        ts, value = pair
        return float(ts), float(value)  # "NaN", "+Inf", "-Inf" parse as floats
    except (TypeError, ValueError) as exc:
        raise BadResponse(f"malformed sample in Prometheus response: {pair!r:.100}") from exc


def _parse_matrix(
    result: Any,
) -> Iterator[
    tuple[SeriesKey, np.ndarray[Any, np.dtype[np.float64]], np.ndarray[Any, np.dtype[np.float64]]]
]:
    if not isinstance(result, list):
        raise BadResponse(f"range query result is not a list: {result!r:.200}")
    for item in result:
        key = _labels(item)
        values = item.get("values")
        if not isinstance(values, list):
            raise BadResponse(f"range query series without values: {item!r:.200}")
        pairs = [_sample(p) for p in values]
        arr = np.array(pairs, dtype=np.float64).reshape(-1, 2)
        yield key, arr[:, 0], arr[:, 1]


def _parse_vector(result: Any) -> dict[SeriesKey, float]:
    # prometheus-api-client returns data.result: a list for vectors, a [ts, "v"] pair for scalars.
    if isinstance(result, list) and len(result) == 2 and not isinstance(result[0], dict):
        return {SeriesKey(""): _sample(result)[1]}
    if not isinstance(result, list):
        raise BadResponse(f"instant query result is not a list: {result!r:.200}")
    out: dict[SeriesKey, float] = {}
    for item in result:
        key = _labels(item)
        if "values" in item:
            raise QueryError("instant query returned a range vector; drop the [range] selector")
        out[key] = _sample(item.get("value"))[1]
    return out
