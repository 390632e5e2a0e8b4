"""`robust_deviation` (the default): a sample's largest robust deviation, from its seasonal
baseline or from its recent history, scored by a fixed function of that deviation."""

from __future__ import annotations

from typing import Any

from sidecar.detect.base import UnivariateDetector
from sidecar.detect.baseline import Evaluation
from sidecar.detect.ops import ScalarOps

__all__ = ["RobustDeviation"]


class RobustDeviation(UnivariateDetector):
    """Spikes, dips, stuck values and level shifts, each episode scored at its onset.

    The statistic is the largest of three deviations: from the baseline's prediction
    (candidate models weighed by recent error, `z`), a repeat the series rarely makes
    (`stuck`), and from the median of the channel's last 512 sampling intervals in their
    robust spread (`level_z`, refreshed every 48: an adaptive baseline follows a long
    incident, the history's median does not). Each channel learns its own tail, but its
    prior counts for 5,000 samples (`seasonal_robust_z`'s: 100), so a short series is
    scored by the deviation itself and a long noisy one learns what is routine for it.
    The score is then confirmed by the history (`baseline.confirmation`): a sample that is
    ordinary for the last weeks and for yesterday at this time is discounted, however far
    it is from the adaptive baseline (docs/decisions/0001-real-data-scoring.md).
    """

    kind = "robust_deviation"
    confirm_sigmas: float | None = (
        5.0  # and far from the history's median too: see the decision record
    )
    # a level or variance change inside the recent range (a daily swing) is discounted by
    # the confirmation: seasonal_robust_z and change_point are the detectors for those
    targets = ("spike",)
    prior_weight = 5000.0  # a channel trusts its own tail late: see the decision record
    fitted_tails: tuple[int, ...] = (0,)
    season_read_cycles = 1.0  # the point deviation weighs every candidate: no CUSUM runs
    borrow_first_cycle = True  # a daily profile's scale is the no-season one on day one

    def _statistic(self, ev: Evaluation, xp: Any) -> Any:
        if isinstance(xp, ScalarOps):  # the per-row hot path: xp.maximum's branches inline
            z, stuck, level = ev.z, ev.stuck, ev.level_z
            point = z if z >= stuck else stuck
            return point if point >= level else level
        return xp.maximum(xp.maximum(ev.z, ev.stuck), ev.level_z)
