"""Scoring ad-hoc observations (`POST /anomaly`): each item is several metrics of one target.

Three bases, best first, and the response says which was used:

* `history`: the target's recent samples are known (the scheduler has them); a `Monitor`
  warmed on that history scores the observations in time order, exactly as live scoring.
* `batch`: no history, but enough observations (at least `MIN_BATCH`) to judge each
  against the others: robust z against the batch median and MAD, calibrated by the prior.
* `prior`: one or a few cold observations. Only utilisation-like metrics (names with usage,
  utilization, ratio, percent, or values in [0, 1]) have a sane prior: saturation, expected
  at most 0.8 (80 for percentages). Other metrics score 0 and say they lack history.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from sidecar.config.schema import ThresholdSpec
from sidecar.detect import calibration
from sidecar.detect.base import EXPECTED_SIGMAS, UnivariateDetector
from sidecar.detect.calibration import Calibration
from sidecar.detect.deviation import RobustDeviation
from sidecar.detect.monitor import Monitor
from sidecar.detect.ops import SCALAR
from sidecar.types import Frame

__all__ = ["MIN_BATCH", "MetricResult", "ObservationResult", "score_observations"]

MIN_BATCH = 12
_MAD_TO_SIGMA = 1.4826
_UTILISATION = re.compile(r"usage|utili[sz]ation|util|ratio|percent|pct|saturation", re.I)
_SATURATION_FRACTION = 0.8
_SATURATION_SPREAD = 0.03  # one sigma of the prior beyond the expected maximum

Basis = Literal["history", "batch", "prior"]


@dataclass(frozen=True, slots=True)
class MetricResult:
    """One metric of one observation: its value, score and expected range (None if unknown)."""

    value: float
    score: float
    expected: tuple[float, float] | None


@dataclass(frozen=True, slots=True)
class ObservationResult:
    """The verdict on one observation, with the metric that drove it and why."""

    score: float
    anomalous: bool
    threshold: float
    driver: str | None
    basis: Basis
    metrics: dict[str, MetricResult] = field(default_factory=dict)
    reason: str = ""


def score_observations(
    observations: Sequence[Mapping[str, float]],
    timestamps: Sequence[float],
    threshold: ThresholdSpec | None = None,
    history: Frame | None = None,
) -> list[ObservationResult]:
    """Score each observation (a metric → value mapping) at its timestamp, in input order."""
    spec = ThresholdSpec() if threshold is None else threshold
    if history is not None and len(history) >= RobustDeviation().warmup:
        return _with_history(observations, timestamps, spec, history)
    if len(observations) >= MIN_BATCH:
        return _against_batch(observations, spec)
    return [_against_prior(obs, spec) for obs in observations]


def _result(
    scores: dict[str, MetricResult], spec: ThresholdSpec, basis: Basis, reason: str
) -> ObservationResult:
    th = spec.score_threshold
    driver = max(scores, key=lambda k: scores[k].score) if scores else None
    top = scores[driver].score if driver is not None else 0.0
    return ObservationResult(top, top >= th, th, driver, basis, scores, reason)


def _with_history(
    observations: Sequence[Mapping[str, float]],
    timestamps: Sequence[float],
    spec: ThresholdSpec,
    history: Frame,
) -> list[ObservationResult]:
    detector = RobustDeviation()  # the default detector (registry.DEFAULT_SPEC)
    monitor = Monitor(detector, spec)
    monitor.update_frame(history)
    order = sorted(range(len(observations)), key=lambda i: timestamps[i])
    out: dict[int, ObservationResult] = {}
    last = float(history.t[-1])
    for i in order:
        t = max(float(timestamps[i]), math.nextafter(last, math.inf))
        last = t
        x = {k: float(v) for k, v in observations[i].items()}
        per = _columns(detector, t, x)
        verdict = monitor.update(t, x)
        out[i] = ObservationResult(
            verdict.score.value,
            verdict.anomalous,
            verdict.threshold,
            verdict.score.driver,
            "history",
            per,
            f"compared with {len(history)} recent samples of this target",
        )
    return [out[i] for i in range(len(observations))]


def _columns(
    detector: UnivariateDetector, t: float, x: Mapping[str, float]
) -> dict[str, MetricResult]:
    return {
        name: MetricResult(x[name], s.value, s.expected)
        for name, s in detector.score_columns(t, x).items()
    }


def _prior_score(z: float) -> float:
    """A deviation's score under the prior alone (no history: a fresh calibration)."""
    p = calibration.tail_probability(Calibration(SCALAR, None), SCALAR, z)
    return float(calibration.score_of(p))


def _against_batch(
    observations: Sequence[Mapping[str, float]], spec: ThresholdSpec
) -> list[ObservationResult]:
    names = sorted({k for obs in observations for k in obs})
    columns = {
        n: np.array([float(o.get(n, math.nan)) for o in observations], dtype=np.float64)
        for n in names
    }
    stats: dict[str, tuple[float, float]] = {}
    for n, col in columns.items():
        finite = col[np.isfinite(col)]
        med = float(np.median(finite)) if finite.size else math.nan
        mad = float(np.median(np.abs(finite - med))) * _MAD_TO_SIGMA if finite.size else math.nan
        stats[n] = (med, max(mad, 1e-9 * (abs(med) + 1.0)))
    out = []
    for i in range(len(observations)):
        scores: dict[str, MetricResult] = {}
        for n in names:
            value = float(columns[n][i])
            med, sigma = stats[n]
            if math.isnan(value) or math.isnan(med):
                continue
            z = abs(value - med) / sigma
            expected = (med - EXPECTED_SIGMAS * sigma, med + EXPECTED_SIGMAS * sigma)
            scores[n] = MetricResult(value, _prior_score(z), expected)
        out.append(
            _result(
                scores,
                spec,
                "batch",
                f"compared with the other {len(observations) - 1} observations",
            )
        )
    return out


def _is_utilisation(name: str, value: float) -> bool:
    return bool(_UTILISATION.search(name)) or 0.0 <= value <= 1.0


def _against_prior(obs: Mapping[str, float], spec: ThresholdSpec) -> ObservationResult:
    scores: dict[str, MetricResult] = {}
    unknown: list[str] = []
    for name, raw in obs.items():
        value = float(raw)
        if math.isnan(value):
            continue
        if not _is_utilisation(name, value):
            unknown.append(name)
            scores[name] = MetricResult(value, 0.0, None)
            continue
        scale = 100.0 if value > 1.0 else 1.0
        top = _SATURATION_FRACTION * scale
        z = max(0.0, value - top) / (_SATURATION_SPREAD * scale)
        scores[name] = MetricResult(value, _prior_score(z) if z > 0 else 0.0, (0.0, top))
    reason = "no history: utilisation checked against saturation (expected at most 80%)"
    if unknown:
        reason += f"; no prior for {', '.join(sorted(unknown))}"
    return _result(scores, spec, "prior", reason)
