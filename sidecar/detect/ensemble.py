"""`ensemble`: point deviations and sustained changes from one baseline pass."""

from __future__ import annotations

from typing import Any

from sidecar.detect.base import UnivariateDetector
from sidecar.detect.baseline import CUSUM_TO_Z, Evaluation

__all__ = ["Ensemble"]


class Ensemble(UnivariateDetector):
    """max(robust z, CUSUM mapped to the z scale), squashed like `seasonal_robust_z`.

    Both members read the same baseline state, so the ensemble costs one kernel pass.
    """

    kind = "ensemble"

    def _statistic(self, ev: Evaluation, xp: Any) -> Any:
        return xp.maximum(xp.maximum(ev.z, CUSUM_TO_Z * ev.cusum), ev.stuck)
