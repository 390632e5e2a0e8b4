"""`seasonal_robust_z`: how far a sample is from its seasonal baseline, in robust sigmas."""

from __future__ import annotations

from typing import Any

from sidecar.detect.base import UnivariateDetector
from sidecar.detect.baseline import Evaluation

__all__ = ["SeasonalRobustZ"]


class SeasonalRobustZ(UnivariateDetector):
    """Point anomalies: spikes, dips, stuck or out-of-season values.

    The score is squash(|x - expected| / sigma); the baseline learns the seasonal profile
    online, clips outliers when learning and re-levels after a detected level shift.
    """

    kind = "seasonal_robust_z"

    def _statistic(self, ev: Evaluation, xp: Any) -> Any:
        return xp.maximum(ev.z, ev.stuck)
