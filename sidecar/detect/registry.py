"""Every detector by its rule-file `kind`, and `make_detector(spec)` to build one."""

from __future__ import annotations

from typing import Any

from sidecar.config.schema import DetectorSpec, RobustDeviationDetector
from sidecar.detect.base import Detector
from sidecar.detect.changepoint import ChangePoint
from sidecar.detect.deviation import RobustDeviation
from sidecar.detect.iforest import IsolationForestWindow
from sidecar.detect.seasonal import SeasonalRobustZ

__all__ = ["DEFAULT_SPEC", "DETECTORS", "make_detector"]

DETECTORS: dict[str, type[Any]] = {
    "robust_deviation": RobustDeviation,
    "seasonal_robust_z": SeasonalRobustZ,
    "change_point": ChangePoint,
    "isolation_forest": IsolationForestWindow,
}
"""Detector classes by `kind`; the contract tests run over all of them."""

DEFAULT_SPEC: DetectorSpec = RobustDeviationDetector(kind="robust_deviation")


def make_detector(spec: DetectorSpec | None = None) -> Detector:
    """A fresh detector for a rule's `detector` spec (the default one when None)."""
    spec = DEFAULT_SPEC if spec is None else spec
    params = spec.model_dump(exclude={"kind"})
    detector: Detector = DETECTORS[spec.kind](**params)
    return detector
