"""The baseline's scale (sigma) remembers longer than its level, but never more than a day
unless the level's own window spans more.

A sigma that wanders with the last `window` samples makes z noisy, and on heavy-tailed
noise that noise reads as extra tail; an hourly series must not carry its first days'
(profile still unlearned) residuals in sigma for two weeks.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sidecar.detect.baseline import DAY, BaselineParams, evaluate, learn, new_state
from sidecar.detect.ops import SCALAR


def _sigmas(params: BaselineParams, step: float, x: np.ndarray) -> np.ndarray:
    state = new_state(params, SCALAR)
    out = []
    for i, v in enumerate(x.tolist()):
        ev = evaluate(params, state, SCALAR, 1_700_000_000.0 + step * i, v)
        out.append(ev.sigma[0])  # the no-season candidate: the series has no cycle
        learn(params, state, SCALAR, ev)
    return np.array(out)


def _heavy_tailed(n: int, seed: int = 3) -> np.ndarray:
    return 100.0 + 2.0 * np.random.default_rng(seed).standard_t(3, n)


def test_at_five_minutes_sigma_is_steadier_than_with_the_levels_memory() -> None:
    default = BaselineParams(periods=())
    quick = dataclasses.replace(default, scale_windows=1.0)
    x = _heavy_tailed(6000)
    steady, wandering = (_sigmas(p, 300.0, x)[1000:] for p in (default, quick))
    spread = [float(np.std(s) / np.mean(s)) for s in (steady, wandering)]
    assert spread[1] > 1.4 * spread[0]  # 3x the memory: about sqrt(3) less wander


def test_from_thirty_minutes_on_the_scale_learns_as_fast_as_the_level() -> None:
    default = BaselineParams(periods=())
    quick = dataclasses.replace(default, scale_windows=1.0)
    x = _heavy_tailed(1500)
    hourly = [_sigmas(p, 3600.0, x) for p in (default, quick)]
    assert np.array_equal(hourly[0], hourly[1])  # a day caps the memory: window alone spans more
    five_min = [_sigmas(p, 300.0, x) for p in (default, quick)]
    assert not np.array_equal(five_min[0], five_min[1])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_profile_off_for_days_does_not_take_its_bias_into_its_scale(seed: int) -> None:
    """A young daily profile (too young to re-level) is 20 sigma off through a 2-day
    weekend. Its scale measures the spread around its recent mean residual (BIAS_RATE), so
    after the weekend it is back near the noise: measured around 0 it held the weekend's
    bias, 4 times the noise on the day after and 3 times the day after that."""
    step = 300.0
    t = 1_700_000_000.0 + step * np.arange(int(6 * DAY / step))
    x = 100.0 + 10.0 * np.sin(2 * np.pi * t / DAY)
    x += np.random.default_rng(seed).normal(0.0, 1.0, t.size)  # noise sigma 1
    day = (t - t[0]) // DAY
    x[(day == 2) | (day == 3)] *= 0.8  # 20 sigma lower, before re-levelling may start
    params = BaselineParams(periods=(DAY,))
    state = new_state(params, SCALAR)
    daily_sigma = []
    for ti, xi in zip(t.tolist(), x.tolist(), strict=True):
        ev = evaluate(params, state, SCALAR, ti, xi)
        daily_sigma.append(ev.sigma[1])
        learn(params, state, SCALAR, ev)
    sigma = np.array(daily_sigma)
    assert sigma[day == 4].mean() < 2.5  # measured 2.0 (4.0-4.6 around 0)
    assert sigma[day == 5].max() < 2.0  # measured 1.6-1.7 (2.9-3.1 around 0)
