"""`sidecar forecast`: rolling-origin forecasts over a CSV series, with no look-ahead.

The forecaster is fitted on the first W rows and refitted every `refit_every` rows after
that (each time on the rows up to the current origin only); between refits it follows each
new row incrementally. At every K-th row from row W on (the origin) it writes the next H
forecasts with their 90% interval. A row's value never reaches a forecast made before it.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

from sidecar.errors import InputError
from sidecar.forecast.auto import AutoForecaster
from sidecar.progress import progress
from sidecar.replay.timeseries_csv import read_rows

__all__ = ["FORECAST_HEADER", "LEVEL", "forecast_csv"]

FORECAST_HEADER = ("origin_timestamp", "h", "yhat", "yhat_lower", "yhat_upper")
LEVEL = 0.9
MIN_WARMUP = 10


def forecast_csv(
    src: str,
    dst: str,
    horizon: int,
    every: int,
    warmup: int,
    model: str = "auto",
    refit_every: int | None = None,
) -> int:
    """Write rolling-origin forecasts of `src` to `dst`; returns the number of origins."""
    if horizon < 1 or every < 1:
        raise InputError(src, None, "--horizon and --every must be at least 1")
    if warmup < MIN_WARMUP:
        raise InputError(src, None, f"--warmup must be at least {MIN_WARMUP} rows")
    try:
        with open(src, newline="", encoding="utf-8") as fh:
            _, reader = read_rows(fh, src)
            rows = list(reader)
    except OSError as exc:
        raise InputError(src, None, f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise InputError(src, None, f"not UTF-8 text: {exc.reason}") from None
    if len(rows) < warmup:
        raise InputError(src, None, f"only {len(rows)} rows; --warmup needs {warmup}")
    t = np.array([r.t for r in rows])
    y = np.array([r.value for r in rows])
    stamps = [r.fields for r in rows]
    refit = refit_every or max(warmup, 1440)
    tmp = Path(dst).with_name(Path(dst).name + ".partial")
    origins = 0
    try:
        with (
            open(tmp, "w", newline="", encoding="utf-8") as fout,
            progress(len(rows) - warmup + 1, f"forecast {Path(src).name}", unit="row") as bar,
        ):
            w = csv.writer(fout, lineterminator="\n")
            w.writerow(FORECAST_HEADER)
            ti = _timestamp_index(src)
            fc = AutoForecaster(horizon=horizon, model=model).fit(t[:warmup], y[:warmup])
            last_fit = warmup
            for i in range(warmup - 1, len(rows)):
                if i >= warmup:
                    if i + 1 - last_fit >= refit:
                        fc = AutoForecaster(horizon=horizon, model=model).fit(
                            t[: i + 1], y[: i + 1]
                        )
                        last_fit = i + 1
                    else:
                        fc.update(float(t[i]), float(y[i]))
                if (i - (warmup - 1)) % every == 0:
                    f = fc.forecast(horizon, LEVEL)
                    stamp = stamps[i][ti]
                    for h in range(horizon):
                        w.writerow(
                            [stamp, h + 1, _fmt(f.mean[h]), _fmt(f.lower[h]), _fmt(f.upper[h])]
                        )
                    origins += 1
                bar.update(1)
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
    return origins


def _timestamp_index(src: str) -> int:
    with open(src, newline="", encoding="utf-8") as fh:
        header = [h.strip() for h in next(csv.reader(fh))]
    return header.index("timestamp")


def _fmt(v: float) -> str:
    return f"{float(v):.6g}"
