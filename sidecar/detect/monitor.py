"""`Monitor`: a detector plus a threshold policy: score, classify, then learn (unless protected).

The policy is river's AnomalyFilter / sklearn's `offset_` idea: detectors only score;
verdicts come from here. `fixed` compares with one score (a false-alarm rate maps to one,
since scores are calibrated); `quantile` compares with a streaming quantile of the
series' own past scores, floored at `min_score`. With `protect`, a sample judged
anomalous is not learned, so an incident does not become the new normal by itself
(detectors with `track_one` still feed it to their change detection, so a lasting shift
becomes the new normal after a few samples instead of alarming for hours).

An episode stays anomalous after the sample that crossed the threshold for as long as the
score says the series is still `deviating` (5 sigma or more off its baseline): with onset
scoring (`onset_window`) only an episode's first sample scores, and the verdict, which
alerts read, still lasts as long as the incident.
"""

from __future__ import annotations

from collections.abc import Mapping

from sidecar.config.schema import ThresholdSpec
from sidecar.detect.base import Detector
from sidecar.types import Frame, Score, Verdict

__all__ = ["Monitor", "StreamingQuantile"]


class StreamingQuantile:
    """Quantile of scores in [0, 1] from a 200-bin histogram; counts halve past 50,000."""

    BINS = 200
    CAP = 50_000.0

    def __init__(self) -> None:
        self.counts = [0.0] * self.BINS
        self.total = 0.0

    def add(self, value: float) -> None:
        i = min(int(value * self.BINS), self.BINS - 1)
        self.counts[i] += 1.0
        self.total += 1.0
        if self.total > self.CAP:
            self.counts = [c * 0.5 for c in self.counts]
            self.total *= 0.5

    def quantile(self, q: float) -> float:
        """The q-quantile, interpolated within its bin; 1.0 before any value was added."""
        if self.total <= 0:
            return 1.0
        target = q * self.total
        acc = 0.0
        for i, c in enumerate(self.counts):
            if acc + c >= target and c > 0:
                return (i + (target - acc) / c) / self.BINS
            acc += c
        return 1.0


def _anomalous(score: Score, threshold: float, episode: bool) -> bool:
    """Crossed the threshold, or continues an anomalous episode (still deviating)."""
    return score.warm and (score.value >= threshold or (episode and score.deviating))


class Monitor:
    """Detector + threshold: `update` scores, classifies, learns (river's AnomalyFilter)."""

    def __init__(self, detector: Detector, threshold: ThresholdSpec | None = None) -> None:
        self.detector = detector
        self.threshold = ThresholdSpec() if threshold is None else threshold
        self._fixed = self.threshold.score_threshold
        self._quantile = StreamingQuantile() if self.threshold.policy == "quantile" else None
        self._episode = False  # the last verdict was anomalous
        # learning does not depend on the verdict unless protected: one fused call then
        self._update_one = None if self.threshold.protect else getattr(detector, "update_one", None)

    def current_threshold(self) -> float:
        """The score at or above which the next sample is anomalous."""
        if self._quantile is None:
            return self._fixed
        q = self.threshold.quantile
        assert q is not None
        return max(self._quantile.quantile(q), self.threshold.min_score)

    def _classify(self, score: Score, threshold: float) -> bool:
        self._episode = _anomalous(score, threshold, self._episode)
        return self._episode

    def update(self, t: float, x: Mapping[str, float]) -> Verdict:
        """Score `x`, classify it, then learn it unless it is anomalous and protected."""
        th = self._fixed if self._quantile is None else self.current_threshold()
        update_one = self._update_one
        if update_one is not None:
            score: Score = update_one(t, x)
            anomalous = self._classify(score, th)
        else:
            score = self.detector.score_one(t, x)
            anomalous = self._classify(score, th)
            if not (anomalous and self.threshold.protect):
                self.detector.learn_one(t, x)
            else:  # protected: not learned as normal, but a lasting change must still be seen
                track = getattr(self.detector, "track_one", None)
                if track is not None:
                    track(t, x)
        if self._quantile is not None and score.warm:
            self._quantile.add(score.value)
        return Verdict(score, anomalous, th)

    def update_frame(self, frame: Frame) -> list[Verdict]:
        """`update` for each row in order (the same numbers as the per-row loop).

        Without `protect`, learning does not depend on verdicts, so the detector's own batch
        form (`score_frame`, e.g. the forest's batched scoring) is used, then classified.
        """
        cols = frame.columns
        if self.threshold.protect:
            return [
                self.update(t, dict(zip(cols, row, strict=True)))
                for t, row in zip(frame.t.tolist(), frame.X.tolist(), strict=True)
            ]
        out = []
        if self._quantile is None:  # a fixed threshold: the loop without per-row calls
            th = self._fixed
            episode = self._episode
            for score in self.detector.score_frame(frame):
                episode = _anomalous(score, th, episode)
                out.append(Verdict(score, episode, th))
            self._episode = episode
            return out
        for score in self.detector.score_frame(frame):
            th = self.current_threshold()
            out.append(Verdict(score, self._classify(score, th), th))
            if score.warm:
                self._quantile.add(score.value)
        return out
