"""Scheduler cost of a forecast rule per series: the cold tick (fit) and warm ticks (update).

N series cut from ../shared/data/crane-cpu (1-minute real CPU traces; series i is trace
i mod 16 starting i*37 minutes in) feed `Engine.step` for a forecast rule with a 1-minute
step and a 1-day lookback, as the Scheduler would after its Prometheus query: one cold tick
(every series fitted: `AutoForecaster`, candidates compared by backtest), then warm ticks of
one new sample each. The engine alone: Prometheus' share is benchmarks/tick.py's. Baseline
in the same process: one plain statsmodels `ExponentialSmoothing` fit per series on the
same history. The ratio per series holds at 10k (the fits are independent).

    python -m benchmarks.forecast_tick [--series 200] [--warm 5]
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from sidecar.config.loader import Rules
from sidecar.config.schema import ForecastRule, Settings
from sidecar.engine import Engine
from sidecar.progress import progress
from sidecar.types import Frame, SeriesKey

CRANE = Path(__file__).resolve().parents[2] / "shared" / "data" / "crane-cpu"
Array = NDArray[np.float64]
STEP, LOOKBACK = 60.0, 86400.0


def histories(n: int, rows: int) -> list[Array]:
    traces = [
        np.loadtxt(p, delimiter=",", skiprows=1)[:, 1] for p in sorted(CRANE.glob("cpu*.csv"))
    ]
    out = []
    for i in range(n):
        tr = traces[i % len(traces)]
        start = (i * 37) % (tr.size - rows - 100)
        out.append(tr[start : start + rows + 100])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=200)
    ap.add_argument("--warm", type=int, default=5)
    args = ap.parse_args()
    rows = int(LOOKBACK / STEP)
    ys = histories(args.series, rows)
    keys = [SeriesKey("cpu", (("series", str(i)),)) for i in range(args.series)]
    rule = ForecastRule(name="cpu", query="cpu", step=STEP, lookback=LOOKBACK, horizon=3600.0)
    engine = Engine(Rules(settings=Settings(), forecasts=(rule,)), interval=STEP)
    t0 = 1_700_000_000.0
    t = t0 + STEP * np.arange(rows)
    frames = [Frame(k, t, y[:rows], ("value",)) for k, y in zip(keys, ys, strict=True)]
    now = float(t[-1])
    c0 = time.process_time()
    snap = engine.step({"cpu": frames}, now)
    cold = time.process_time() - c0
    assert len(snap.forecasts) == args.series, "every series forecast"
    warm = []
    for j in range(args.warm):
        now += STEP
        tick = [
            Frame(k, np.array([now]), y[rows + j : rows + j + 1], ("value",))
            for k, y in zip(keys, ys, strict=True)
        ]
        c0 = time.process_time()
        engine.step({"cpu": tick}, now)
        warm.append(time.process_time() - c0)
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    c0 = time.process_time()
    with warnings.catch_warnings(), progress(args.series, "plain ETS fits") as bar:
        warnings.simplefilter("ignore")
        for y in ys:
            ExponentialSmoothing(
                y[:rows], trend="add", damped_trend=True, initialization_method="estimated"
            ).fit()
            bar.update(1)
    ets = time.process_time() - c0
    n = args.series
    print(f"forecast rule, {n} series of {rows} one-minute samples (1-day lookback)")
    print(f"{'':<34}{'ms/series':>10}{'x plain ETS fit':>17}{'at 10k series':>15}")
    for name, cpu in (
        ("cold tick (fit every series)", cold),
        ("warm tick (one sample each)", float(np.median(warm))),
        ("plain ETS fit (baseline)", ets),
    ):
        print(f"{name:<34}{1e3 * cpu / n:>10.2f}{cpu / ets:>17.2f}{cpu / n * 1e4:>13.1f} s")


if __name__ == "__main__":
    main()
