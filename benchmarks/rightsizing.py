"""Right-sizing quality against the VPA recommender and KRR, in one process, on real traces.

CPU: the 16 crane-cpu traces (1-minute samples, 4 to 30 days), each scaled so its median is
one core (VPA's buckets start at 0.01 cores; scaling keeps every trace at the same bucket
resolution). For every whole day k from the third on, each method recommends a request from
the history before day k, and day k scores it: the share of samples above the request, and
the slack (request minus usage, averaged) as a % of the day's mean usage. The table reports
the share over all series-days and the slack averaged over series (each series counts once).

Memory: no real memory traces are in ../shared/data, so the same crane traces are read as
working sets (median 512 MiB) plus synthetic ones (flat, daily cycle, slow leak with restarts,
step growth, rare spikes; 14 days at 1 minute). The limit is scored the same way: series-days
with any sample above the limit (an OOM kill), and those where VPA had none. VPA's limit is its
target (a limit/request ratio of 1, the usual setting for memory).

    python -m benchmarks.rightsizing [--quick]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from benchmarks.realdata import load_crane
from benchmarks.rightsize_anchors import krr_cpu, krr_memory, vpa_cpu, vpa_memory
from sidecar.progress import progress
from sidecar.rightsize.recommend import DAY, memory_limit, request

Array = NDArray[np.float64]
Recommender = Callable[[Array, Array], float]
MIB = 2.0**20


@dataclass
class Score:
    shares: list[float] = field(default_factory=list)  # per series-day
    slack: list[float] = field(default_factory=list)  # per series: mean slack / mean usage
    series_share: list[float] = field(default_factory=list)  # per series: share above
    over: list[bool] = field(default_factory=list)  # per series-day: any sample above
    seconds: float = 0.0
    calls: int = 0


def days_of(t: Array) -> int:
    return int((t[-1] - t[0]) // DAY)


def score(series: list[tuple[Array, Array]], methods: dict[str, Recommender]) -> dict[str, Score]:
    out = {name: Score() for name in methods}
    total = sum(max(days_of(t) - 2, 0) for t, _ in series) * len(methods)
    with progress(total, "series-days", unit="day") as bar:
        for t, u in series:
            t0 = t[0]
            slack: dict[str, list[float]] = {n: [] for n in methods}
            usage: list[float] = []
            for k in range(2, days_of(t)):
                hist = t < t0 + k * DAY
                nxt = (t >= t0 + k * DAY) & (t < t0 + (k + 1) * DAY)
                un = u[nxt]
                usage.append(float(un.mean()))
                for name, fn in methods.items():
                    started = time.process_time()
                    value = fn(t[hist], u[hist])
                    out[name].seconds += time.process_time() - started
                    out[name].calls += 1
                    out[name].shares.append(float(np.mean(un > value)))
                    out[name].over.append(bool(np.any(un > value)))
                    slack[name].append(float(np.mean(value - un)))
                    bar.update(1)
            n = len(usage)
            for name in methods:
                out[name].slack.append(sum(slack[name]) / sum(usage))
                if n:
                    out[name].series_share.append(float(np.mean(out[name].shares[-n:])))
    return out


def crane(median: float, quick: bool) -> list[tuple[Array, Array]]:
    out = []
    for arr in load_crane()[: 4 if quick else None]:
        t, u = arr[:, 0], np.maximum(arr[:, 1], 0.0)
        out.append((t, u * (median / float(np.median(u)))))
    return out


def synthetic_memory(seed: int, days: int = 14) -> list[tuple[Array, Array]]:
    rng = np.random.default_rng(seed)
    t = 1_700_000_000.0 + 60.0 * np.arange(days * 1440)
    hour = (t % DAY) / 3600
    base = 512 * MIB
    noise = rng.normal(0, 4 * MIB, t.size)
    flat = base + noise
    daily = base * (1 + 0.4 * np.clip(np.sin((hour - 8) / 24 * 2 * np.pi), 0, None)) + noise
    leak = base * (1 + 0.8 * (((t - t[0]) / (3.5 * DAY)) % 1.0)) + noise  # restarts every 3.5 d
    steps = base * (1 + 0.15 * np.floor((t - t[0]) / (4 * DAY))) + noise
    spikes = flat.copy()
    hit = rng.random(t.size) < 0.0005
    spikes[hit] += base * rng.uniform(0.3, 1.0, hit.sum())
    return [(t, np.maximum(x, 0.0)) for x in (flat, daily, leak, steps, spikes)]


def cpu_table(quick: bool) -> None:
    risks = (0.05,) if quick else (0.03, 0.05, 0.06, 0.07, 0.1)
    methods: dict[str, Recommender] = {
        "vpa (p90 +15%, 24 h half-life)": lambda t, u: vpa_cpu(t, u)[0],
        "krr simple (p95 of 14 d)": krr_cpu,
    }
    for r in risks:
        methods[f"sidecar risk {r:g}"] = lambda t, u, r=r: request(t, u, risk=r).value
    methods["sidecar risk 0.05, priced only"] = lambda t, u: (
        request(t, u, risk=0.05, cover_daily_peak=False).value
    )
    res = score(crane(1.0, quick), methods)
    base = res["vpa (p90 +15%, 24 h half-life)"]
    print("\nCPU request, crane-cpu (next day scored; slack as % of mean usage)")
    print(
        f"{'method':34s} {'above %':>8s} {'slack %':>8s} {'vs VPA':>7s} {'worst':>6s} "
        f"{'ms/rec':>7s}"
    )
    for name, s in res.items():
        worst = max(s.series_share)  # the series most often above its request
        print(
            f"{name:34s} {100 * np.mean(s.shares):8.2f} {100 * np.mean(s.slack):8.1f} "
            f"{np.mean(s.slack) / np.mean(base.slack) - 1:+7.1%} {100 * worst:6.1f} "
            f"{1000 * s.seconds / s.calls:7.2f}"
        )


def memory_table(quick: bool) -> None:
    sets = {
        "crane as working sets": crane(512 * MIB, quick),
        "synthetic (5 shapes x 2 seeds)": [
            s for seed in ((0,) if quick else (0, 1)) for s in synthetic_memory(seed)
        ],
    }
    methods: dict[str, Recommender] = {
        "vpa target as limit": lambda t, u: vpa_memory(t, u)[0],
        "vpa upper bound": lambda t, u: vpa_memory(t, u)[1],
        "krr (max +15%)": krr_memory,
        "sidecar limit": lambda t, u: memory_limit(t, u).value,
    }
    for title, series in sets.items():
        res = score(series, methods)
        print(f"\nMemory limit, {title} (next day scored)")
        vpa = np.array(res["vpa target as limit"].over)
        print(
            f"{'method':24s} {'days over':>9s} {'where VPA none':>14s} "
            f"{'samples over %':>15s} {'slack %':>8s}"
        )
        for name, s in res.items():
            over = np.array(s.over)
            print(
                f"{name:24s} {int(over.sum()):9d} {int(np.sum(over & ~vpa)):14d} "
                f"{100 * np.mean(s.shares):15.3f} {100 * np.mean(s.slack):8.1f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="4 traces, one setting")
    args = parser.parse_args()
    cpu_table(args.quick)
    memory_table(args.quick)


if __name__ == "__main__":
    main()
