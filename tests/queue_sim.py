"""A discrete-event simulation of one replica with a known capacity, for capacity learning.

Poisson arrivals at a time-varying rate (thinning), `servers` FCFS worker threads, a service
time distribution; per window: the arrival rate and the 95th-percentile and mean latency.
Requests routed at random split a Poisson stream into independent Poisson streams, so one
replica at `load / replicas` stands for all of them. The true capacity at a latency
objective is found the same way, at constant loads long enough to reach steady state.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

__all__ = ["constant_load", "daily_load", "exponential", "lognormal", "simulate", "true_capacity"]

Array = NDArray[np.float64]
Service = Callable[[np.random.Generator, int], Array]
Rate = Callable[[Array], Array]


def exponential(mean: float = 1.0) -> Service:
    return lambda rng, n: rng.exponential(mean, n)


def lognormal(mean: float = 1.0, cv: float = 2.0) -> Service:
    sigma = math.sqrt(math.log(1 + cv * cv))
    mu = math.log(mean) - sigma * sigma / 2
    return lambda rng, n: rng.lognormal(mu, sigma, n)


def daily_load(peak: float, trough: float = 0.25) -> Rate:
    """A daily cycle from `trough * peak` to `peak` (arrivals per second)."""

    def rate(t: Array) -> Array:
        phase = (np.asarray(t) % 86400.0) / 86400.0 * 2 * np.pi
        return np.asarray(peak * (trough + (1 - trough) * np.clip(np.sin(phase - 1.2), 0, None)))

    return rate


def constant_load(rate: float) -> Rate:
    return lambda t: np.full(np.shape(t), rate)


def simulate(
    rate: Rate,
    service: Service,
    *,
    servers: int = 1,
    seconds: float,
    window: float = 300.0,
    seed: int = 0,
) -> tuple[Array, Array, Array]:
    """Per window: (arrivals per second, p95 latency, mean latency); NaN under 20 requests."""
    rng = np.random.default_rng(seed)
    top = float(np.max(rate(np.linspace(0.0, seconds, 4096)))) * 1.05
    n = rng.poisson(top * seconds)
    arrivals = np.sort(rng.uniform(0.0, seconds, n))
    arrivals = arrivals[rng.uniform(0.0, top, n) < rate(arrivals)]
    work = service(rng, arrivals.size)
    if servers == 1:  # Lindley's recursion, solved as a running minimum (vectorised)
        steps = np.concatenate([[0.0], work[:-1] - np.diff(arrivals)])
        climb = np.cumsum(steps)
        latency = climb - np.minimum(np.minimum.accumulate(climb), 0.0) + work
    else:
        free = [0.0] * servers
        latency = np.empty(arrivals.size)
        for i, (a, s) in enumerate(zip(arrivals.tolist(), work.tolist(), strict=True)):
            start = max(a, heapq.heappop(free))
            heapq.heappush(free, start + s)
            latency[i] = start + s - a
    windows = int(seconds // window)
    which = np.minimum((arrivals // window).astype(np.int64), windows - 1)
    counts = np.bincount(which, minlength=windows)
    order = np.lexsort((latency, which))
    sorted_latency = latency[order]
    firsts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    p95 = np.full(windows, np.nan)
    mean = np.full(windows, np.nan)
    for k in np.flatnonzero(counts >= 20):
        seg = sorted_latency[firsts[k] : firsts[k] + counts[k]]
        p95[k] = seg[int(0.95 * (seg.size - 1))]
        mean[k] = seg.mean()
    return counts / window, p95, mean


def true_capacity(
    service: Service,
    objective: float,
    *,
    mean_service: float,
    servers: int = 1,
    stat: str = "p95",
    seed: int = 1,
) -> float:
    """The constant load per second whose steady-state latency statistic is `objective`."""
    lo, hi = 0.0, servers / mean_service  # the throughput
    for _ in range(12):
        mid = 0.5 * (lo + hi)
        _, p95, mean = simulate(
            constant_load(mid),
            service,
            servers=servers,
            seconds=86400.0,
            window=86400.0,
            seed=seed,
        )
        value = (p95 if stat == "p95" else mean)[0]
        lo, hi = (lo, mid) if value > objective else (mid, hi)
    return 0.5 * (lo + hi)
