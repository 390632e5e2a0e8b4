"""Onset scoring (`onset_window`): an episode scores once, at its start, and a long incident
does not teach the calibration that its values are normal."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sidecar.config.loader import load_rules
from sidecar.detect.monitor import Monitor
from sidecar.detect.seasonal import SeasonalRobustZ
from sidecar.engine import Engine
from sidecar.types import Frame, SeriesKey

STEP = 300.0
WINDOW = 48  # samples: 4 hours at 5 minutes


def _scores(x: np.ndarray, onset_window: int | None) -> np.ndarray:
    t = 1_700_000_000.0 + STEP * np.arange(x.size)
    det = SeasonalRobustZ(onset_window=onset_window)
    return np.array([s.value for s in det.score_frame(Frame(SeriesKey("s"), t, x, ("v",)))])


def _noise(n: int, seed: int) -> np.ndarray:
    return 100.0 + np.random.default_rng(seed).normal(0, 2.0, n)


def test_a_stuck_incident_does_not_hide_the_next_anomaly() -> None:
    x = _noise(288 * 10, 1)
    x[900:1050] = x[900]  # the exporter is stuck for 12.5 hours
    x[2500] -= 16.0  # days later: an 8-sigma dip
    default, onset = _scores(x, None), _scores(x, WINDOW)
    assert default[2500] < 0.5  # the stuck run was learned as normal: the dip is missed
    assert onset[2500] > 0.9
    assert onset[900:1050].max() > 0.9  # the incident itself still scores, at its start


def test_an_episode_scores_at_its_start_only() -> None:
    x = _noise(288 * 6, 2)
    x[1200:] += 40.0  # a lasting 20-sigma level shift
    default, onset = _scores(x, None), _scores(x, WINDOW)
    assert onset[1200] > 0.9
    assert int((onset[1201:1260] >= 0.5).sum()) < int((default[1201:1260] >= 0.5).sum())
    assert int((onset[1201:1260] >= 0.5).sum()) <= 1


def test_a_lasting_episode_scores_once() -> None:
    """A value stuck for a day stays far off its baseline throughout: it scores at its start
    and not again every WINDOW samples while it lasts."""
    x = _noise(288 * 8, 5)
    x[1200:1500] = x[1200]  # stuck for 25 hours
    onset = _scores(x, WINDOW)
    assert onset[1200:1220].max() > 0.9
    assert onset[1200 + 72 : 1500].max() < 0.5  # from 6 hours on (it rises for ~5)


def test_a_larger_anomaly_within_the_hold_still_scores() -> None:
    x = _noise(288 * 6, 3)
    x[1200] += 10.0  # 5 sigma
    x[1206] += 30.0  # half an hour later: 15 sigma
    onset = _scores(x, WINDOW)
    assert onset[1200] > 0.5
    assert onset[1206] > onset[1200]


def _level_shift() -> tuple[np.ndarray, np.ndarray]:
    x = _noise(288 * 6, 4)
    x[1200:] += 40.0  # a lasting 20-sigma level shift
    return 1_700_000_000.0 + STEP * np.arange(x.size), x


def test_the_verdict_lasts_as_long_as_the_episode() -> None:
    t, x = _level_shift()
    det = SeasonalRobustZ(onset_window=WINDOW)
    verdicts = Monitor(det).update_frame(Frame(SeriesKey("s"), t, x, ("v",)))
    flagged = [i for i, v in enumerate(verdicts) if v.anomalous and i >= 1100]
    assert flagged[0] == 1200 and verdicts[1200].score.value > 0.9
    assert flagged == list(range(1200, 1200 + len(flagged)))  # one episode, no flapping
    held = [i for i in flagged if verdicts[i].score.value < verdicts[i].threshold]
    assert held  # held by the deviation, not by fresh onsets
    # the baseline, then the history's median (level_z) adopted the new level: it ended
    assert flagged[-1] < 1290


def test_the_engine_holds_episodes_like_the_monitor(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "detectors:\n  - name: shift\n    query: up\n    step: 5m\n    lookback: 1d\n"
        "    detector: {kind: seasonal_robust_z, onset_window: 48}\n"
    )
    engine = Engine(load_rules([rules]))
    t, x = _level_shift()
    key = SeriesKey.from_labels({"__name__": "up", "job": "a"})
    got = []
    for i in range(1100, 1300, 1):  # one tick per sample after a first tick with the history
        lo = 0 if i == 1100 else i
        frame = Frame(key, t[lo : i + 1], x[lo : i + 1, None], ("value",))
        snap = engine.step({"shift": [frame]}, float(t[i]))
        [point] = snap.anomalies
        got.append(point.anomalous)
    mon = Monitor(SeasonalRobustZ(onset_window=WINDOW))
    want = [v.anomalous for v in mon.update_frame(Frame(key, t[:1300], x[:1300], ("v",)))]
    assert got == want[1100:1300] and sum(got) > 1
