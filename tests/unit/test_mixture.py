"""The point deviation weighs every eligible candidate model, not only the one read out."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sidecar.detect.seasonal import SeasonalRobustZ
from sidecar.types import Frame, SeriesKey

DAY = 86400.0
STEP = 300.0


def _weekly(seed: int, weeks: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A daily cycle whose weekends run at 60%: the daily profile is wrong twice a week."""
    rng = np.random.default_rng(seed)
    t0 = 1_700_006_400.0 - 1_700_006_400.0 % DAY  # a midnight
    t = t0 + STEP * np.arange(int(weeks * 7 * DAY / STEP))
    weekday = ((t // DAY) + 3) % 7
    x = (100 + 30 * np.sin(2 * np.pi * (t % DAY) / DAY)) * np.where(weekday >= 5, 0.6, 1.0)
    return t, x + rng.normal(0, 2.0, t.size), weekday


def _scores(t: np.ndarray, x: np.ndarray, sharpness: float) -> np.ndarray:
    det = SeasonalRobustZ(onset_window=48)
    det.__dict__["params_"] = dataclasses.replace(det.params_, mix_sharpness=sharpness)
    return np.array([s.value for s in det.score_frame(Frame(SeriesKey("s"), t, x, ("v",)))])


HARD = 1e9  # only the candidate read out has a say: the old hard selection


def test_weekend_boundaries_are_judged_by_the_weekly_profile_too() -> None:
    mixed: list[float] = []
    hard: list[float] = []
    for seed in range(6):
        t, x, weekday = _weekly(seed)
        starts = [
            i
            for i in range(int(14 * DAY / STEP), t.size)  # once the weekly profile has a week
            if weekday[i] != weekday[i - 1] and weekday[i] in (0.0, 5.0)
        ]
        for scores, out in ((_scores(t, x, 4.0), mixed), (_scores(t, x, HARD), hard)):
            out.extend(float(scores[i : i + 12].max()) for i in starts)
    assert sum(v >= 0.9 for v in mixed) < sum(v >= 0.9 for v in hard)
    assert np.mean(mixed) < np.mean(hard) - 0.05


@pytest.mark.parametrize("seed", range(3))
def test_a_deviation_no_candidate_expects_still_scores(seed: int) -> None:
    t, x, _ = _weekly(seed)
    noon = int((22 * DAY + DAY / 2) / STEP)  # a Thursday noon in week four
    x = x.copy()
    x[noon] += 60.0  # 30 sigma: beyond what the weekend boundaries (~10 sigma) taught it
    assert _scores(t, x, 4.0)[noon] > 0.9


def test_one_candidate_gives_its_own_deviation() -> None:
    det = SeasonalRobustZ(season="none")
    rng = np.random.default_rng(0)
    t0 = 1_700_000_000.0
    for i in range(500):
        det.learn_one(t0 + 60.0 * i, {"v": float(100 + rng.normal(0, 2))})
    for v in (100.0, 104.0, 112.0, 160.0):
        ev = det._sample("v", t0 + 60.0 * 500, v).ev
        assert ev.z == pytest.approx(abs(ev.resid[0]) / ev.sigma[0], rel=1e-9)
