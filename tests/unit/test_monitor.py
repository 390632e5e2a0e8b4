"""Monitor: thresholds turn scores into verdicts; protection keeps incidents out of the baseline."""

from __future__ import annotations

import numpy as np
import pytest

from sidecar.config.schema import CALIBRATION_P_HALF, ThresholdSpec
from sidecar.detect.calibration import P_HALF
from sidecar.detect.monitor import Monitor, StreamingQuantile
from sidecar.detect.seasonal import SeasonalRobustZ
from sidecar.types import Frame, SeriesKey


def series(n: int = 1500, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = 1_700_000_000.0 + 60.0 * np.arange(n)
    return t, 10 + rng.normal(0, 1, n)


def test_schema_and_calibration_agree_on_the_score_scale() -> None:
    assert CALIBRATION_P_HALF == P_HALF


def test_false_alarm_rate_maps_to_a_score_threshold() -> None:
    assert ThresholdSpec(false_alarm_rate=1e-3).score_threshold == pytest.approx(0.5)
    assert ThresholdSpec().score_threshold == pytest.approx(1e-3 / 1.1e-3)
    assert ThresholdSpec(fixed=0.7).score_threshold == 0.7


def test_update_frame_equals_update_loop() -> None:
    t, x = series()
    x[1000] += 15
    a = Monitor(SeasonalRobustZ()).update_frame(Frame(SeriesKey("s"), t, x, ("v",)))
    m = Monitor(SeasonalRobustZ())
    b = [m.update(ti, {"v": xi}) for ti, xi in zip(t.tolist(), x.tolist(), strict=True)]
    assert a == b
    assert a[1000].anomalous and sum(v.anomalous for v in a) <= 3


def test_protect_keeps_a_long_incident_anomalous_longer() -> None:
    t, x = series(2000, seed=1)
    x[1500:1530] += 6  # a 30-sample incident
    f = Frame(SeriesKey("s"), t, x, ("v",))
    protected = Monitor(SeasonalRobustZ(), ThresholdSpec(fixed=0.9, protect=True)).update_frame(f)
    learning = Monitor(SeasonalRobustZ(), ThresholdSpec(fixed=0.9, protect=False)).update_frame(f)
    n_protected = sum(v.anomalous for v in protected[1500:1530])
    n_learning = sum(v.anomalous for v in learning[1500:1530])
    assert n_protected >= n_learning >= 1


def test_quantile_policy_flags_about_the_stated_fraction_and_respects_the_floor() -> None:
    t, x = series(6000, seed=2)
    spec = ThresholdSpec(quantile=0.99, min_score=0.0)
    verdicts = Monitor(SeasonalRobustZ(), spec).update_frame(Frame(SeriesKey("s"), t, x, ("v",)))
    rate = sum(v.anomalous for v in verdicts[1000:]) / 5000
    assert 0.003 < rate < 0.03
    floored = Monitor(SeasonalRobustZ(), ThresholdSpec(quantile=0.99, min_score=0.99))
    fv = floored.update_frame(Frame(SeriesKey("s"), t, x, ("v",)))
    assert all(v.threshold >= 0.99 for v in fv)
    assert all(v.score.value >= 0.99 for v in fv if v.anomalous)
    assert sum(v.anomalous for v in fv) < sum(v.anomalous for v in verdicts)


def test_streaming_quantile() -> None:
    q = StreamingQuantile()
    assert q.quantile(0.5) == 1.0
    for v in np.linspace(0, 1, 1001):
        q.add(float(v))
    assert q.quantile(0.5) == pytest.approx(0.5, abs=0.01)
    assert q.quantile(0.9) == pytest.approx(0.9, abs=0.01)


def test_protected_monitor_adapts_to_a_lasting_shift() -> None:
    t, x = series(3000, seed=3)
    x[2000:] += 8  # the new normal after a deploy
    spec = ThresholdSpec(protect=True)
    verdicts = Monitor(SeasonalRobustZ(), spec).update_frame(Frame(SeriesKey("s"), t, x, ("v",)))
    flagged = [i for i, v in enumerate(verdicts) if v.anomalous and i >= 2000]
    assert flagged and flagged[0] < 2003  # seen at once
    assert len(flagged) < 15  # and accepted as normal within a few samples
    assert not any(v.anomalous for v in verdicts[2100:])
