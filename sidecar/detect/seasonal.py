"""`seasonal_robust_z`: how far a sample is from its seasonal baseline, in robust sigmas."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from sidecar.detect.base import UnivariateDetector
from sidecar.detect.baseline import CUSUM_TO_Z, DRIFT_TO_Z, Evaluation
from sidecar.detect.ops import ScalarOps

__all__ = ["SeasonalRobustZ"]


COARSE_STEP = 1500.0
"""Seconds between samples from which sustained changes (CUSUM) are read too."""
PERSIST_TO_Z = 1.25
"""The median of three residuals counts like a deviation this many times its size: its
spread on normal noise is about 1/1.25 of one residual's (development benchmark: 1.1 to
1.5 scored within noise of each other)."""


class SeasonalRobustZ(UnivariateDetector):
    """Point anomalies (spikes, dips, stuck or out-of-season values, level shifts) and drifts.

    Three statistics, each calibrated on its own: the point deviation, the largest of
    |x - expected| / sigma, a rare repeat (`stuck`) and the deviation from the median of the
    channel's recent history (`level_z`: an adaptive baseline follows a long incident, the
    history's median does not);
    the persistent deviation, the median of the last three residuals; and the drift, how far
    the level moved in its last ~72 samples (in sigmas). Heavy-tailed noise makes single
    8-sigma samples routine, but rarely two of three in a row, so a short level shift or a
    2-sample spike there is found by the second (NAB-style, 5-min: 59.2 -> 61.9; 15-min
    50.4 -> 53.7). A ramp never leaves a large residual (re-levelling follows it), but moves
    the level by its slope every sample: the drift finds it (5-min, mean of 8 seeds:
    trend changes found 53 -> 78 of 139). The baseline learns the seasonal profiles online
    (read out after one cycle: `season_read_cycles`), weighs every eligible candidate model in
    the point deviation, clips outliers when learning and re-levels after a detected level
    shift. On series
    sampled every COARSE_STEP or more (30-minute, hourly) the level/variance CUSUM is read
    with the point deviation: there a slow change spans few samples and
    the CUSUM finds it first, while at 5 and 15 minutes it costs more false alarms than it
    finds.
    """

    kind = "seasonal_robust_z"
    prior_weight = 10_000.0  # fading to 100 over a channel's first 1,500 statistics:
    prior_fade = 1_500.0  # short series are judged by the prior (decision record 0001)
    n_statistics = 3
    slow_statistics: tuple[int, ...] = (2,)  # the drift
    fitted_tails: tuple[int, ...] = (0, 1, 2)  # the point deviation's at fine steps only: _fitted
    season_read_cycles = 1.0  # the point deviation weighs every candidate: no CUSUM runs
    borrow_first_cycle = True  # a daily profile's scale is the no-season one on day one

    def _statistic(self, ev: Evaluation, xp: Any) -> Any:
        coarse = ev.dt >= COARSE_STEP  # False while dt is unknown (NaN)
        if isinstance(xp, ScalarOps):  # the per-row hot path: xp.maximum's branches inline
            z, stuck, level = ev.z, ev.stuck, ev.level_z
            point = z if z >= stuck else stuck
            point = point if point >= level else level
            if coarse:
                cusum = CUSUM_TO_Z * ev.cusum
                return point if point >= cusum else cusum
            return point
        point = xp.maximum(xp.maximum(ev.z, ev.stuck), ev.level_z)
        return xp.where(coarse, xp.maximum(point, CUSUM_TO_Z * ev.cusum), point)

    def _fitted(self, ev: Evaluation, xp: Any) -> tuple[Any, ...]:
        """The point deviation's tail is fitted only where it does not read the CUSUM (below
        COARSE_STEP): a rising CUSUM feeds the fit with its own episode (30-minute corpus,
        4 seeds: +1.1 to +1.9 without that fit)."""
        coarse = ev.dt >= COARSE_STEP  # False while dt is unknown (NaN)
        if isinstance(xp, ScalarOps):
            return self._coarse_fits if coarse else self._fits
        return (xp.not_(coarse), *self._fits[1:])

    @cached_property
    def _coarse_fits(self) -> tuple[bool, ...]:
        return (False, *self._fits[1:])

    def _statistics(self, ev: Evaluation, xp: Any) -> tuple[Any, ...]:
        return (self._statistic(ev, xp), PERSIST_TO_Z * ev.persist, DRIFT_TO_Z * abs(ev.drift))
