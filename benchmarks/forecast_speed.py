"""Forecasting speed: fits per second by history length and step, and `sidecar forecast` with --every 1.

Histories come from ../shared/data/crane-cpu (1-minute samples; 5-minute steps are block
means). The baseline in the same process is a plain statsmodels `ExponentialSmoothing` fit on
the same history (the "plain ETS" users would run).

    python -m benchmarks.forecast_speed
"""

from __future__ import annotations

import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from sidecar.forecast.auto import AutoForecaster
from sidecar.replay.forecast import forecast_csv

CRANE = Path(__file__).resolve().parents[2] / "shared" / "data" / "crane-cpu"


def main() -> None:
    os.environ.setdefault("SIDECAR_PROGRESS", "0")
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    a = np.loadtxt(CRANE / "cpu1.csv", delimiter=",", skiprows=1)
    t1, y1 = a[:, 0], a[:, 1]
    print(f"{'history':>8}{'step':>6}{'points':>8}{'fits/s':>9}{'plain ETS fits/s':>18}{'ratio':>7}")
    for days in (1, 7):
        for step in (1, 5):
            n = days * 1440
            t = t1[:n][:: step]
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
                    ExponentialSmoothing(y, trend="add", damped_trend=True,
                                         initialization_method="estimated").fit()
            plain = reps / (time.process_time() - c0)
            print(f"{days:>7}d{step:>5}m{y.size:>8}{ours:>9.2f}{plain:>18.2f}{ours / plain:>7.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.csv", Path(tmp) / "out.csv"
        lines = (CRANE / "cpu3.csv").read_text().splitlines()[: 8001]
        src.write_text("\n".join(lines) + "\n")
        c0 = time.process_time()
        origins = forecast_csv(str(src), str(dst), horizon=12, every=1, warmup=2880)
        el = time.process_time() - c0
    print(f"sidecar forecast: 8000 rows, --horizon 12 --every 1: {origins} origins in {el:.1f} CPU-s")


if __name__ == "__main__":
    main()
