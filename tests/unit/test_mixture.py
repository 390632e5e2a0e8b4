"""The point deviation weighs every eligible candidate model, not only the one read out."""

from __future__ import annotations

import numpy as np
import pytest

from sidecar.detect import baseline_scalar
from sidecar.detect.baseline import BaselineParams, _mixture_z
from sidecar.detect.ops import ARRAY, SCALAR
from sidecar.detect.seasonal import SeasonalRobustZ
from sidecar.types import Frame, SeriesKey

PARAMS = BaselineParams()  # candidates: no season, daily, weekly


def _z(
    u: list[float],
    errors: list[float],
    eligible: list[bool],
    sigmas: list[float] | None = None,
) -> float:
    """The mixture deviation of residuals `u` (in their own sigmas; sigma 1 each unless
    `sigmas`) with recent errors `errors`."""
    best = min(e for e, ok in zip(errors, eligible, strict=True) if ok)
    sel = errors.index(best)
    sig = [1.0] * len(u) if sigmas is None else sigmas
    resid = [v * g for v, g in zip(u, sig, strict=True)]
    spread = sig[sel]
    z_sel = abs(resid[sel]) / spread
    generic = _mixture_z(
        PARAMS, SCALAR, resid, sig, errors, eligible, best, float(sel), z_sel, spread
    )
    if sum(eligible) > 1:  # (the per-row kernel reads one candidate alone without it)
        us = [r / g for r, g in zip(resid, sig, strict=True)]
        qqs = [(1.0 + v * v * 0.25) * (1.0 + v * v * 0.25) for v in us]
        per_row = baseline_scalar._mixture_z(
            PARAMS, qqs, errors, eligible, best, sel, z_sel, sig, spread
        )
    else:
        per_row = generic
    bank = _mixture_z(
        PARAMS,
        ARRAY,
        [np.array([r]) for r in resid],
        [np.array([g]) for g in sig],
        [np.array([e]) for e in errors],
        [np.array([ok]) for ok in eligible],
        np.array([best]),
        np.array([float(sel)]),
        np.array([z_sel]),
        np.array([spread]),
    )
    assert per_row == generic == float(bank[0])  # the three paths agree to the bit
    return float(per_row)


def test_a_sample_an_equally_good_model_expected_is_not_far_off() -> None:
    # the daily profile (read out) is 8 sigma off; the weekly one, as good lately, expected it
    assert _z([8.0, 8.0, 0.5], [1.0, 1.0, 1.05], [True, True, True]) < 3.0


def test_a_model_with_a_much_wider_sigma_has_little_say() -> None:
    """As good lately, but its sigma five times the read-out's (a weekly profile whose
    30-minute bins miss each step of a business day): a 10-sigma spike it calls 2 sigma
    is still far off (7.6). With its error alone deciding its say, the mixture read 2.9."""
    assert _z([10.0, 6.0, 2.0], [1.0, 1.4, 1.1], [True, True, True], [1.0, 1.0, 5.0]) > 7.0
    # as wide as the read-out, it has its say as before
    assert _z([10.0, 6.0, 2.0], [1.0, 1.4, 1.1], [True, True, True]) < 5.0


def test_a_model_much_worse_lately_has_little_say() -> None:
    says = [_z([8.0, 8.0, 0.5], [1.0, 1.0, e], [True, True, True]) for e in (1.5, 3.0, 5.0)]
    assert says == sorted(says)  # the worse its recent error, the less it explains away
    assert 7.0 < says[-1] <= 8.0


def test_a_model_not_yet_eligible_has_no_say() -> None:
    assert _z([8.0, 8.0, 0.5], [1.0, 1.0, 0.5], [True, True, False]) == pytest.approx(8.0)


def test_one_model_gives_its_own_deviation() -> None:
    for u in (0.0, 0.7, 3.0, 12.0, 300.0):
        assert _z([u, 0.0, 0.0], [1.0, 1.0, 1.0], [True, False, False]) == u


def test_everyone_off_is_off() -> None:
    assert _z([8.0, 9.0, 10.0], [1.0, 1.0, 1.0], [True, True, True]) > 8.0


@pytest.mark.parametrize("seed", range(3))
def test_a_deviation_no_candidate_expects_still_scores(seed: int) -> None:
    """Weekly series: a profile is wrong at every weekend boundary (about 10 sigma, the
    daily one by the whole step, the weekly one by its interpolation across it), so a spike
    well beyond that must still score on a weekday in week four, above everything else.
    Measured on seeds 0-5: the spike 0.90-0.98, the highest other score after the first
    week 0.58-0.68. The weekend edges feed the fitted tail, so its absolute level moves
    with them (seed 1: 0.98 while the daily profile was read at every edge)."""
    rng = np.random.default_rng(seed)
    day, step = 86400.0, 300.0
    t = 1_700_006_400.0 - 1_700_006_400.0 % day + step * np.arange(int(35 * day / step))
    weekday = ((t // day) + 3) % 7
    x = (100 + 30 * np.sin(2 * np.pi * (t % day) / day)) * np.where(weekday >= 5, 0.6, 1.0)
    x = x + rng.normal(0, 2.0, t.size)
    noon = int((22 * day + day / 2) / step)  # a Thursday noon
    x[noon] += 60.0  # 30 sigma
    det = SeasonalRobustZ(onset_window=48)
    scores = [s.value for s in det.score_frame(Frame(SeriesKey("s"), t, x, ("v",)))]
    assert scores[noon] > 0.85
    rest = scores[int(8 * day / step) : noon] + scores[noon + 1 :]
    assert scores[noon] > max(rest) + 0.15


@pytest.mark.parametrize("seed", range(3))
def test_a_spike_on_a_business_day_square_wave_scores(seed: int) -> None:
    """Business hours switched on at 08:00 and off at 18:00 (20 sigma), two weeks at 5
    minutes, a 10-sigma spike at midday on day 10. Every part of the square wave's story
    must hold for it to score: the daily profile learns the steps (bins on the sample
    grid, confirmed first samples), is read out at them (PERF_CAP), the calibration
    restarts once it clearly wins, and the weekly profile that smears the steps has
    little say (its wide sigma). Measured on seeds 0-5: the spike 0.98-1.0, every other
    score from day 3 on at most 0.34; at the session-10 start the spike scored at most
    0.26."""
    rng = np.random.default_rng(seed)
    day, step = 86400.0, 300.0
    t = 1_700_006_400.0 + step * np.arange(int(14 * day / step))
    hour = (t % day) / 3600.0
    x = 10.0 + 20.0 * ((hour >= 8.0) & (hour < 18.0)) + rng.normal(0, 1.0, t.size)
    spike = int(10 * day / step) + int(12 * 3600 / step) + 7 * seed
    x[spike] += 10.0
    det = SeasonalRobustZ(onset_window=48)
    scores = [s.value for s in det.score_frame(Frame(SeriesKey("s"), t, x, ("v",)))]
    rest = scores[int(3 * day / step) : spike] + scores[spike + 1 :]
    assert scores[spike] > 0.9
    assert scores[spike] > max(rest) + 0.4
