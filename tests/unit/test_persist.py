"""The default detector's second statistic: a deviation that two of three samples share.

In heavy-tailed noise a single 12-unit sample is routine, four in a row are not. The point
deviation alone cannot tell them apart; the median of the last three residuals can.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from sidecar.detect import calibration
from sidecar.detect.baseline import Evaluation
from sidecar.detect.ops import ARRAY, SCALAR
from sidecar.detect.seasonal import SeasonalRobustZ
from sidecar.types import Frame, SeriesKey


class _PointOnly(SeasonalRobustZ):
    """The default detector without its persistent-deviation statistic."""

    n_statistics = 1

    def _statistics(self, ev: Evaluation, xp: Any) -> tuple[Any, ...]:
        return (self._statistic(ev, xp),)


def _heavy_tailed_with_a_run(seed: int) -> Frame:
    rng = np.random.default_rng(seed)
    n = 3000
    t = 1_700_000_000.0 + 300.0 * np.arange(n)
    x = 100.0 + 2.0 * rng.standard_t(3, n)  # |noise| > 24 about once a week at 5 minutes
    x[2500:2504] += 24.0  # four samples 12 noise units up
    return Frame(SeriesKey("s"), t, x[:, None], ("v",))


@pytest.mark.parametrize("seed", range(6))
def test_a_short_run_in_heavy_tailed_noise_scores_where_single_samples_do_not(seed: int) -> None:
    frame = _heavy_tailed_with_a_run(seed)
    both = np.array([s.value for s in SeasonalRobustZ(onset_window=48).score_frame(frame)])
    point = np.array([s.value for s in _PointOnly(onset_window=48).score_frame(frame)])
    # four samples at 12 units: 1 in ~20,000 as a median of three (the residuals are clipped
    # at 6 sigma), three statistics share the score, and the tail beyond the channel's
    # history is fitted, so ~0.85-0.99 is as high as honest calibration goes
    assert both[2500:2506].max() > 0.8
    assert both[2500:2506].max() > point[2500:2506].max() + 0.2  # singles are unremarkable
    assert point[2500:2506].max() < 0.8
    normal = slice(1000, 2400)  # and normal samples do not pay for it
    assert np.mean(both[normal] >= 0.9) <= np.mean(point[normal] >= 0.9) + 0.001


def test_persist_is_the_median_of_the_last_three_residuals() -> None:
    det = SeasonalRobustZ(season="none", warmup=5)
    t0 = 1_700_000_000.0
    for i in range(200):
        det.learn_one(t0 + 60.0 * i, {"v": 10.0 + (i % 2) * 0.1})
    base = det._state("v")[0]
    us = []
    for i, v in enumerate([30.0, 10.05, 30.0, 31.0]):
        ev = det._sample("v", t0 + 60.0 * (200 + i), v).ev
        us.append(ev.u)
        assert ev.persist == abs(float(np.median([base.resid_before, base.resid_last, ev.u])))
        det.learn_one(t0 + 60.0 * (200 + i), {"v": v})
    assert us[0] == 6.0  # clipped at cusum_clip
    assert abs(us[1]) < 1.0


def test_halving_keeps_counts_whole_and_both_paths_equal() -> None:
    """Forgetting halves counts rounding up, so sums are exact in any order: the per-row
    and array tails still agree to the bit after many halvings."""
    rng = np.random.default_rng(0)
    stats = np.abs(rng.standard_t(3, 3 * int(calibration.CAP)))
    one = calibration.Calibration(SCALAR, None)
    many = calibration.Calibration(ARRAY, 2)
    for s in stats.tolist():
        calibration.update(one, SCALAR, s, True, True)
        calibration.update(many, ARRAY, np.array([s, s]), np.array([True, False]), True)
    assert one.total < stats.size / 2  # halved several times
    assert all(c == int(c) for c in one.counts)
    assert one.total == sum(one.counts)
    np.testing.assert_array_equal(many.counts[0], np.asarray(one.counts))
    for z in (0.3, 2.0, 4.5, 9.0, 150.0):
        p_row = calibration.tail_probability(one, SCALAR, z)
        p_bank = calibration.tail_probability(many, ARRAY, np.array([z, z]))
        assert p_bank[0] == p_row


@pytest.mark.parametrize("seed", range(4))
def test_an_incident_both_statistics_see_scores_once(seed: int) -> None:
    """Onset scoring reads the combined score: a 20-sigma jump that stays 6 sigma up for
    nine samples is one onset, not a second one when the median of three catches up."""
    rng = np.random.default_rng(seed)
    x = 100.0 + rng.normal(0, 2.0, 288 * 6)
    x[1200] += 40.0
    x[1201:1210] += 12.0
    t = 1_700_000_000.0 + 300.0 * np.arange(x.size)
    frame = Frame(SeriesKey("s"), t, x[:, None], ("v",))
    scores = np.array([s.value for s in SeasonalRobustZ(onset_window=48).score_frame(frame)])
    assert scores[1200] > 0.9
    assert int((scores[1201:1215] >= 0.5).sum()) == 0


@pytest.mark.parametrize("seed", range(3))
def test_a_step_the_daily_profile_knows_does_not_persist(seed: int) -> None:
    """Business hours (a square wave) whose daily profile a noisy day blurred: the no-season
    level, smoother on the plateaus, is often read out and lags every step by ~20 sigma for
    a few samples. The daily profile knows the steps, so they do not count as persisting
    (before: the statistic at its cap, 6, and scores up to 0.5 at the steps)."""
    rng = np.random.default_rng(seed)
    day, n = 86400.0, 288 * 10
    t = 1_700_000_000.0 - 1_700_000_000.0 % day + 300.0 * np.arange(n)
    phase = (t % day) / day
    x = 800.0 + 300.0 * np.where((phase >= 8 / 24) & (phase < 18 / 24), 1.0, -1.0)
    x += rng.normal(0.0, 30.0, n)
    noisy = slice(int(4.7 * 288), int(5.9 * 288))
    x[noisy] += rng.normal(0.0, 120.0, x[noisy].size)  # a day of 4x noise
    det = SeasonalRobustZ(onset_window=48)
    edges = [
        i
        for i in range(7 * 288, n)
        if min(abs(phase[i] - 8 / 24), abs(phase[i] - 18 / 24)) * 288 < 4
    ]
    persist, scores, none_read = [], [], 0
    for i in range(n):
        sample = det._sample("v", float(t[i]), float(x[i]))
        score = det._column_score("v", sample)
        det._learn_sample(sample, True)
        if i in edges:
            persist.append(sample.ev.persist)
            scores.append(score.value)
            none_read += sample.ev.sel == 0.0
    assert none_read >= 0.05 * len(edges)  # the case: the no-season level read at steps
    assert max(persist) < 3.0
    assert max(scores) < 0.2
