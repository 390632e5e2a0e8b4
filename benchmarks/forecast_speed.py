"""Forecasting speed against statsmodels' ETS on the same schedule, in one process.

1. `sidecar forecast --horizon 72 --every 1 --warmup 2688` over 8,064 five-minute rows
   (28 days of ../shared/data/crane-cpu/cpu15.csv, 1-minute samples averaged in blocks of
   five), against statsmodels' `ETSModel` (additive error, damped additive trend; with a
   288-sample season one fit alone takes minutes here) refitted at the same rows as the sidecar
   refits, its state filtered through
   every new row with the fitted parameters (`smooth`), and a forecast with its 90%
   interval at every origin: what a user of statsmodels' ETS runs for the same output.
   Also the refits alone (the least any refitting forecaster pays).
2. `AutoForecaster.fit` per second by history length and step, against one plain
   statsmodels `ExponentialSmoothing` fit of the same history.

    python -m benchmarks.forecast_speed [--rows 8064]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from sidecar.forecast.auto import AutoForecaster
from sidecar.progress import progress
from sidecar.replay.forecast import ForecastSettings, Span, forecast_csv

CRANE = Path(__file__).resolve().parents[2] / "shared" / "data" / "crane-cpu"
Array = NDArray[np.float64]
HORIZON, WARMUP = 72, 2688


def five_minute(name: str, rows: int) -> tuple[Array, Array]:
    """The first `rows` five-minute means of a 1-minute crane trace."""
    a = np.loadtxt(CRANE / name, delimiter=",", skiprows=1)
    n = min(rows, a.shape[0] // 5)
    return a[: 5 * n : 5, 0], a[: 5 * n, 1].reshape(n, 5).mean(axis=1)


def refit_rows(n: int) -> list[int]:
    """The rows (exclusive ends) `sidecar forecast` refits at with its default schedule."""
    refit = max(WARMUP, 1440)
    return list(range(WARMUP, n + 1, refit))


def ets_replay(y: Array, every: int = 1) -> tuple[float, float]:
    """CPU seconds of statsmodels ETS on the sidecar's schedule: (everything, refits only)."""
    import pandas as pd  # ETS' prediction intervals need an indexed series
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    series = pd.Series(y)

    def model(upto: int) -> ETSModel:
        return ETSModel(series[:upto], error="add", trend="add", damped_trend=True)

    refits = set(refit_rows(y.size))
    fit_cpu = 0.0
    c0 = time.process_time()
    params = None
    with (
        warnings.catch_warnings(),
        progress(y.size - WARMUP + 1, "statsmodels ETS", unit="row") as bar,
    ):
        warnings.simplefilter("ignore")
        for i in range(WARMUP - 1, y.size):
            if i + 1 in refits or params is None:
                f0 = time.process_time()
                params = model(i + 1).fit(disp=False).params
                fit_cpu += time.process_time() - f0
            if (i - (WARMUP - 1)) % every == 0:
                res = model(i + 1).smooth(params)
                res.get_prediction(start=i + 1, end=i + HORIZON).summary_frame(alpha=0.1)
            bar.update(1)
    return time.process_time() - c0, fit_cpu


def sidecar_replay(t: Array, y: Array, every: int = 1) -> float:
    """CPU seconds of `sidecar forecast` over the same rows (reading the CSV included)."""
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.csv", Path(tmp) / "out.csv"
        src.write_text(
            "timestamp,value\n" + "".join(f"{a:.0f},{b:.6f}\n" for a, b in zip(t, y, strict=True))
        )
        c0 = time.process_time()
        forecast_csv(
            str(src), str(dst), ForecastSettings(Span(rows=HORIZON)), Span(rows=every),
            Span(rows=WARMUP),
        )  # fmt: skip
        return time.process_time() - c0


def fit_rates() -> None:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    a = np.loadtxt(CRANE / "cpu1.csv", delimiter=",", skiprows=1)
    t1, y1 = a[:, 0], a[:, 1]
    print(
        f"\n{'history':>8}{'step':>6}{'points':>8}{'fits/s':>9}{'plain ETS fits/s':>18}{'ratio':>7}"
    )
    for days in (1, 7):
        for step in (1, 5):
            n = days * 1440
            t = t1[:n][::step]
            y = y1[: n // step * step].reshape(-1, step).mean(axis=1) if step > 1 else y1[:n]
            t = t[: y.size]
            reps = 3
            c0 = time.process_time()
            for _ in range(reps):
                AutoForecaster(horizon=max(1, 60 // step)).fit(t, y)
            ours = reps / (time.process_time() - c0)
            c0 = time.process_time()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for _ in range(reps):
                    ExponentialSmoothing(
                        y, trend="add", damped_trend=True, initialization_method="estimated"
                    ).fit()
            plain = reps / (time.process_time() - c0)
            print(f"{days:>7}d{step:>5}m{y.size:>8}{ours:>9.2f}{plain:>18.2f}{ours / plain:>7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=8064)
    parser.add_argument("--no-fit-rates", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("SIDECAR_PROGRESS", "0")
    t, y = five_minute("cpu15.csv", args.rows)
    origins = y.size - WARMUP + 1
    print(f"cpu15, {y.size} five-minute rows, --horizon {HORIZON} --every 1 --warmup {WARMUP}")
    print(f"refits at rows {refit_rows(y.size)}; {origins} origins")
    ours = sidecar_replay(t, y)
    ets_all, ets_fits = ets_replay(y)
    print(f"{'':<34}{'CPU-s':>8}{'ms/origin':>11}{'sidecar ratio':>15}")
    print(f"{'sidecar forecast':<34}{ours:>8.1f}{1e3 * ours / origins:>11.2f}{1.0:>15.2f}")
    for name, cpu in (("statsmodels ETS, same schedule", ets_all), ("ETS refits alone", ets_fits)):
        print(f"{name:<34}{cpu:>8.1f}{1e3 * cpu / origins:>11.2f}{ours / cpu:>15.2f}")
    if not args.no_fit_rates:
        fit_rates()


if __name__ == "__main__":
    main()
