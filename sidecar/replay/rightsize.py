"""`sidecar rightsize`: requests and limits from usage CSVs, replayed day by day first.

The inputs are `timestamp,value` CSVs: CPU in cores, memory in bytes. With `-o OUT.csv`, at
every `every` boundary after `warmup` the recommendation is made from the rows before it
only, and the next period scores it (share of samples above, mean slack); the summary goes
to stderr. Then the recommendation from all rows is printed: as text, or as a Kubernetes
patch / VPA object (YAML).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from sidecar.config.schema import RightsizingPolicy
from sidecar.errors import InputError
from sidecar.progress import progress
from sidecar.replay.streams import display_name, open_input, open_output
from sidecar.replay.timeseries_csv import read_batches
from sidecar.rightsize.container import RESOURCES, ContainerUsage, recommend_container
from sidecar.rightsize.patch import format_cpu, format_memory
from sidecar.rightsize.recommend import Sizing

__all__ = [
    "REPLAY_HEADER",
    "ReplaySummary",
    "describe",
    "read_series",
    "recommend_now",
    "replay_rightsizing",
]

REPLAY_HEADER = (
    "origin_timestamp",
    "resource",
    "value",
    "lower",
    "upper",
    "next_share_above",
    "next_mean_slack",
)
Array = NDArray[np.float64]


def read_series(src: str) -> tuple[Array, Array]:
    """Times and values of a `timestamp,value` CSV (`-` = stdin); InputError with the line."""
    name = display_name(src, "<stdin>")
    try:
        with open_input(src) as fin:
            _, batches = read_batches(fin.stream, name, 8192)
            parts = list(batches)
    except UnicodeDecodeError as exc:
        raise InputError(name, None, f"not UTF-8 text: {exc.reason}") from None
    if not parts:
        raise InputError(name, None, "no rows")
    t = np.concatenate([b.t for b in parts])
    u = np.concatenate([b.value for b in parts])
    if int(np.isfinite(u).sum()) < 2:
        raise InputError(name, None, "fewer than two numeric values: nothing to size")
    negative = np.flatnonzero(u < 0)
    if negative.size:
        row = int(negative[0])
        raise InputError(name, None, f"usage cannot be negative (data row {row + 1})")
    return t, u


def _usage(
    cpu: tuple[Array, Array] | None,
    memory: tuple[Array, Array] | None,
    oom_kills: tuple[float, ...],
    before: float,
) -> ContainerUsage:
    def cut(s: tuple[Array, Array] | None) -> tuple[Array | None, Array | None]:
        if s is None:
            return None, None
        keep = s[0] < before
        return s[0][keep], s[1][keep]

    ct, cu = cut(cpu)
    mt, mu = cut(memory)
    kills = tuple(k for k in oom_kills if k < before)
    return ContainerUsage(cpu_t=ct, cpu=cu, memory_t=mt, memory=mu, oom_kills=kills)


@dataclass
class ReplaySummary:
    """Per resource: periods scored, mean share of samples above and mean slack."""

    periods: dict[str, int]
    share_above: dict[str, float]
    slack: dict[str, float]

    def lines(self) -> list[str]:
        out = []
        for res, n in self.periods.items():
            out.append(
                f"{res}: {n} period(s) replayed, {self.share_above[res]:.2%} of samples above, "
                f"mean slack {self.slack[res]:.4g}"
            )
        return out


def replay_rightsizing(
    cpu: tuple[Array, Array] | None,
    memory: tuple[Array, Array] | None,
    policy: RightsizingPolicy,
    dst: str,
    *,
    every: float,
    warmup: float,
    oom_kills: tuple[float, ...] = (),
) -> ReplaySummary:
    """Write the rolling recommendations to `dst`; each is scored on the period after it."""
    series = {"cpu": cpu, "memory": memory}
    start = min(s[0][0] for s in series.values() if s is not None)
    end = max(s[0][-1] for s in series.values() if s is not None)
    origins = np.arange(start + warmup, end, every)
    shares: dict[str, list[float]] = {}
    slacks: dict[str, list[float]] = {}
    with (
        open_output(dst) as fout,
        progress(origins.size, f"rightsize {Path(dst).name}", unit="period") as bar,
    ):
        w = csv.writer(fout, lineterminator="\n")
        w.writerow(REPLAY_HEADER)
        for origin in origins.tolist():
            sized = recommend_container(_usage(cpu, memory, oom_kills, origin), policy)
            for res, s in sized.items():
                src = series["cpu" if res.startswith("cpu") else "memory"]
                assert src is not None
                nxt = (src[0] >= origin) & (src[0] < origin + every)
                un = src[1][nxt]
                un = un[np.isfinite(un)]
                share = float(np.mean(un > s.value)) if un.size else float("nan")
                slack = float(np.mean(s.value - un)) if un.size else float("nan")
                if un.size:
                    shares.setdefault(res, []).append(share)
                    slacks.setdefault(res, []).append(slack)
                w.writerow(
                    [
                        f"{origin:.0f}",
                        res,
                        f"{s.value:.6g}",
                        f"{s.lower:.6g}",
                        f"{s.upper:.6g}",
                        "" if not un.size else f"{share:.6g}",
                        "" if not un.size else f"{slack:.6g}",
                    ]
                )
            bar.update(1)
    return ReplaySummary(
        {r: len(v) for r, v in shares.items()},
        {r: float(np.mean(v)) for r, v in shares.items()},
        {r: float(np.mean(v)) for r, v in slacks.items()},
    )


def recommend_now(
    cpu: tuple[Array, Array] | None,
    memory: tuple[Array, Array] | None,
    policy: RightsizingPolicy,
    oom_kills: tuple[float, ...] = (),
) -> dict[str, Sizing]:
    """The recommendation from every row."""
    return recommend_container(_usage(cpu, memory, oom_kills, np.inf), policy)


def describe(sized: Mapping[str, Sizing]) -> list[str]:
    """One line per resource: quantity, 80% range and reason."""
    out = []
    for res in RESOURCES:
        if res not in sized:
            continue
        s = sized[res]
        fmt = format_cpu if res.startswith("cpu") else format_memory
        out.append(f"{res} {fmt(s.value)} (80%: {fmt(s.lower)}-{fmt(s.upper)}): {s.reason}")
    return out
