"""Property-based: no series a user can hand the forecasters makes them fail.

Lengths, sampling steps, gaps (NaN and missing rows), constant and near-constant series,
huge values and spikes, for every model and `AutoForecaster`: a fit either works and gives
ordered, finite intervals, or (for fewer than two samples) says why with a ValueError; and
`sidecar forecast` over such files, damaged rows and any lengths exits 0 or 2, never 1.
"""

from __future__ import annotations

import contextlib
import io
import math
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from sidecar.cli import main
from sidecar.forecast.auto import MODELS, make_forecaster
from sidecar.forecast.models import SeasonalHolt

STEPS = (15.0, 60.0, 300.0, 1800.0, 3600.0, 86400.0)
SHAPES = ("seasonal", "constant", "near_constant", "ramp", "noise", "steps")


@st.composite
def series(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Times and values: regular or with missing rows; NaN gaps, spikes, any scale."""
    step = draw(st.sampled_from(STEPS))
    n = draw(st.integers(2, 1200))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    k = np.arange(n, dtype=np.float64)
    if draw(st.booleans()):  # missing rows: the time jumps
        k = np.cumsum(rng.choice([1.0, 1.0, 1.0, 2.0, 7.0], size=n))
    t = draw(st.sampled_from([0.0, 1_700_000_000.0])) + step * k
    shape = draw(st.sampled_from(SHAPES))
    day = 86400.0 / step
    if shape == "seasonal":
        y = np.sin(2 * np.pi * k / max(day, 2.0)) + 0.1 * rng.normal(size=n)
    elif shape == "constant":
        y = np.zeros(n)
    elif shape == "near_constant":
        y = np.where(rng.random(n) < 0.01, 1e-9, 0.0)
    elif shape == "ramp":
        y = k / max(n, 1)
    elif shape == "noise":
        y = rng.normal(size=n)
    else:
        y = np.repeat(rng.normal(size=n // 50 + 1), 50)[:n]
    scale = draw(st.sampled_from([1e-12, 1.0, 1e6, 1e12]))
    y = y * scale + draw(st.sampled_from([0.0, 5.0, -3e9]))
    if draw(st.booleans()):  # spikes
        y[rng.random(n) < 0.02] += 1e3 * scale
    gaps = draw(st.sampled_from([0.0, 0.05, 0.5, 1.0]))
    y[rng.random(n) < gaps] = math.nan
    if draw(st.booleans()) and n > 10:  # a long gap
        y[n // 3 : n // 2] = math.nan
    return t, y


def check_forecast(t: np.ndarray, y: np.ndarray, model: str, horizon: int) -> None:
    fc = make_forecaster(model, horizon=horizon)
    if t.size < 2:
        with pytest.raises(ValueError, match="at least two samples"):
            fc.fit(t, y)
        return
    fc.fit(t, y)
    f = fc.forecast(horizon, 0.9)
    assert f.mean.shape == (horizon,)
    assert np.isfinite(f.mean).all() and np.isfinite(f.lower).all() and np.isfinite(f.upper).all()
    assert (f.lower <= f.mean).all() and (f.mean <= f.upper).all()
    fc.update(float(t[-1]) + 60.0, math.nan)
    fc.update(float(t[-1]) + 120.0, float(np.nan_to_num(y[-1])))
    assert np.isfinite(fc.forecast(horizon, 0.5).mean).all()


@pytest.mark.parametrize("model", MODELS)
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=series(), horizon=st.integers(1, 400))
# two samples two days apart: a daily season shorter than a step (was a ValueError)
@example(data=(np.array([604800.0, 777600.0]), np.array([-1.3e-14, 6.4e-14])), horizon=1)
def test_every_model_forecasts_any_series(
    model: str, data: tuple[np.ndarray, np.ndarray], horizon: int
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a statsmodels warning escaping is a bug too
        check_forecast(*data, model, horizon)


@settings(max_examples=40, deadline=None)
@given(
    day=st.integers(4, 60),
    weeks=st.integers(2, 8),
    extra=st.integers(-3, 3),
    phase0=st.integers(-10_000, 10_000),
)
def test_seasonal_holt_survives_periods_at_half_the_history(
    day: int, weeks: int, extra: int, phase0: int
) -> None:
    """MSTL drops a period not shorter than half its input; the model must agree with it
    (the crash of issue 25: a weekly period at exactly half the history)."""
    week = weeks * day
    n = max(4, 2 * week + extra)
    y = np.sin(2 * np.pi * np.arange(n) / day) + np.arange(n) % week / week
    model = SeasonalHolt((day, week))
    model.fit_points(y, phase0)
    assert all(2 * p <= n for p in model.periods_)
    assert np.isfinite(model.predict(2 * week)).all()


def test_regression_weekly_period_exactly_half_the_fit() -> None:
    """Issue 25's crash: 5-minute samples, a day and a week, 4,032 rows to fit (2 weeks)."""
    n = 4032
    k = np.arange(n)
    y = 100 + 30 * np.sin(2 * np.pi * k / 288) + 15 * np.sin(2 * np.pi * k / 2016)
    model = SeasonalHolt((288, 2016))
    model.fit_points(y, 5_666_666)
    assert model.periods_ == (288,)
    assert np.isfinite(model.predict(72)).all()


@st.composite
def csv_text(draw: st.DrawFn) -> str:
    """A timestamp,value file as users produce them: mostly numbers, some of everything else."""
    t, y = draw(series())
    lines = ["timestamp,value"]
    for ti, yi in zip(t.tolist(), y.tolist(), strict=True):
        value = "" if math.isnan(yi) else repr(yi)
        lines.append(f"{ti:.0f},{value}")
    if draw(st.booleans()) and len(lines) > 3:  # one damaged row somewhere
        i = draw(st.integers(1, len(lines) - 1))
        lines[i] = draw(st.sampled_from(["", "x,1", "1,2,3", f"{t[0]:.0f},1", "nan,1", "1e400,1"]))
    return "\n".join(lines) + "\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=csv_text(),
    horizon=st.sampled_from(["1", "12", "400", "3000", "5m", "1h", "1d", "0", "1s"]),
    every=st.sampled_from(["1", "7", "1h", "30s"]),
    warmup=st.sampled_from(["10", "100", "1000", "1h", "2d", "9"]),
    model=st.sampled_from(MODELS),
)
def test_cli_forecast_never_fails_internally(
    text: str, horizon: str, every: str, warmup: str, model: str
) -> None:
    """Whatever the file and lengths: exit 0 with a well-formed output, or exit 2 saying why."""
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.csv", Path(tmp) / "out.csv"
        src.write_text(text)
        err = io.StringIO()
        args = ["forecast", str(src), "-o", str(dst), "--horizon", horizon, "--every", every]
        with contextlib.redirect_stderr(err), warnings.catch_warnings():
            warnings.simplefilter("error")
            code = main([*args, "--warmup", warmup, "--model", model])
        event(f"exit {code}")
        assert code in (0, 2), err.getvalue()
        assert "internal error" not in err.getvalue()
        if code == 2:
            assert err.getvalue().startswith("sidecar: ") and not dst.exists()
        else:
            rows = dst.read_text().splitlines()
            assert rows[0] == "origin_timestamp,h,yhat,yhat_lower,yhat_upper"
            for row in rows[1:]:
                _, _, mean, lower, upper = (float(v) for v in row.split(","))
                assert lower <= mean <= upper
