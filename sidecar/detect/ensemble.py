"""`ensemble`: point deviations, sustained changes and drifts from one baseline pass."""

from __future__ import annotations

from typing import Any

from sidecar.detect.base import UnivariateDetector
from sidecar.detect.baseline import CUSUM_TO_Z, DRIFT_TO_Z, Evaluation

__all__ = ["Ensemble"]


class Ensemble(UnivariateDetector):
    """max(robust z, CUSUM mapped to the z scale), squashed like `seasonal_robust_z`.

    Both members read the same baseline state, so the ensemble costs one kernel pass. The
    drift (ramps) is calibrated beside them (development benchmark, 5-min, 8 seeds:
    53.4 -> 55.3).
    """

    kind = "ensemble"

    n_statistics = 2
    slow_statistics: tuple[int, ...] = (1,)  # the drift
    fitted_tails: tuple[int, ...] = (1,)

    def _statistics(self, ev: Evaluation, xp: Any) -> tuple[Any, ...]:
        return (self._statistic(ev, xp), DRIFT_TO_Z * abs(ev.drift))

    def _statistic(self, ev: Evaluation, xp: Any) -> Any:
        return xp.maximum(xp.maximum(ev.z, CUSUM_TO_Z * ev.cusum), ev.stuck)
