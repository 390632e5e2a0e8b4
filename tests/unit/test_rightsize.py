"""The right-sizing recommender: daily peaks, bursts, OOM kills, bounds and intervals."""

from __future__ import annotations

import numpy as np
import pytest

from sidecar.config.quantities import parse_quantity
from sidecar.rightsize.recommend import DAY, memory_limit, request

MIB = 2.0**20
T0 = 1_700_006_400.0  # a midnight (UTC)


def minutes(days: float) -> np.ndarray:
    return T0 + 60.0 * np.arange(int(days * 1440))


def test_daily_peak_is_covered_even_when_it_is_a_short_part_of_the_day() -> None:
    t = minutes(7)
    hour = (t % DAY) / 3600
    rng = np.random.default_rng(1)
    u = np.where((hour >= 14) & (hour < 16), 4.0, 1.0) + rng.normal(0, 0.02, t.size)
    sized = request(t, u, risk=0.05)
    assert sized.value >= 3.9  # the two-hour peak (8% of the day) is sized, not priced away
    assert "daily peak" in sized.reason
    priced = request(t, u, risk=0.05, cover_daily_peak=False)
    assert priced.value < 1.2  # as a burst, 2 h a day is not worth 3 more cores all day


def test_random_bursts_are_priced_not_chased() -> None:
    t = minutes(7)
    rng = np.random.default_rng(2)
    u = 1.0 + rng.normal(0, 0.05, t.size)
    burst = rng.random(t.size) < 0.03
    u[burst] = 20.0  # 3% of minutes at 20x, at random hours
    sized = request(t, u, risk=0.05)
    assert sized.value < 2.0
    assert 0.02 < sized.share_above < 0.05
    assert "bursts" in sized.reason


def test_exponential_usage_gets_its_quantile_at_the_risk() -> None:
    t = minutes(6)
    u = np.random.default_rng(3).exponential(1.0, t.size)
    sized = request(t, u, risk=0.05, cover_daily_peak=False, half_life=1e9)
    assert sized.share_above == pytest.approx(0.05, abs=0.01)


def test_bounds_and_floor() -> None:
    t = minutes(3)
    u = np.full(t.size, 0.5)
    assert request(t, u, minimum=1.0).value == 1.0
    assert "minimum" in request(t, u, minimum=1.0).reason
    assert request(t, u, maximum=0.25).value == 0.25
    throttled = request(t, u, floor=0.8)
    assert throttled.value == 0.8 and "throttled" in throttled.reason


def test_interval_narrows_as_history_grows() -> None:
    rng = np.random.default_rng(4)
    t = minutes(28)
    hour = (t % DAY) / 3600
    u = 1 + 0.5 * np.sin(hour / 24 * 2 * np.pi) + rng.gamma(2.0, 0.1, t.size)
    widths = []
    for days in (1, 3, 7, 28):
        keep = t < T0 + days * DAY
        s = request(t[keep], u[keep])
        assert s.lower <= s.value <= s.upper
        widths.append((s.upper - s.lower) / s.value)
    assert widths == sorted(widths, reverse=True)
    assert widths[-1] < 0.5 * widths[0]


def test_bad_input_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="two finite"):
        request([1.0, 2.0], [np.nan, 1.0])
    with pytest.raises(ValueError, match="risk"):
        request([1.0, 2.0], [1.0, 1.0], risk=0.0)
    with pytest.raises(ValueError, match="same length"):
        memory_limit([1.0, 2.0], [1.0])


def test_memory_limit_above_peak_and_bumped_after_oom() -> None:
    t = minutes(7)
    rng = np.random.default_rng(5)
    u = 512 * MIB + rng.normal(0, 2 * MIB, t.size)
    plain = memory_limit(t, u)
    assert plain.value >= 1.15 * u.max()
    assert plain.share_above == 0.0
    killed = memory_limit(t, u, oom_kills=(float(t[-100]),))
    assert killed.value >= 1.2 * u.max()
    assert "OOM" in killed.reason
    old_kill = memory_limit(t, u, oom_kills=(float(t[0]),), window=DAY)
    assert "OOM" not in old_kill.reason  # outside the window


def test_memory_limit_follows_a_leak_and_ignores_one_burst() -> None:
    t = minutes(10)
    leak = 400 * MIB * (1 + 0.1 * (t - t[0]) / DAY)  # +10% of the start a day
    grown = memory_limit(t, leak)
    next_day_peak = 400 * MIB * (1 + 0.1 * 11)
    assert grown.value >= next_day_peak
    flat = np.full(t.size, 400 * MIB)
    flat[5000] = 4000 * MIB  # one 10x burst
    burst = memory_limit(t, flat)
    assert burst.value < 2.5 * 4000 * MIB  # growth capped at +100% a day


def test_memory_limit_bounds() -> None:
    t = minutes(2)
    u = np.full(t.size, 100 * MIB)
    assert memory_limit(t, u, maximum=64 * MIB).value == 64 * MIB
    assert memory_limit(t, u, minimum=1024 * MIB).value == 1024 * MIB


@pytest.mark.parametrize(
    ("text", "value"),
    [("250m", 0.25), ("2", 2.0), ("1.5", 1.5), ("512Mi", 512 * MIB), ("1G", 1e9), ("1k", 1e3)],
)
def test_kubernetes_quantities(text: str, value: float) -> None:
    assert parse_quantity(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["", "Mi", "1.5X", "-1", "1e3", "1 Mi"])
def test_not_quantities(text: str) -> None:
    with pytest.raises(ValueError, match="Kubernetes quantity"):
        parse_quantity(text)


def test_a_weekday_peak_survives_the_weekend() -> None:
    # two weeks ending on a Sunday night: weekdays peak at 4 cores 14:00-16:00, weekends stay at 1
    t = minutes(14)
    t = t - (t[-1] // DAY + 4) % 7 * DAY  # shift so the last day is a Sunday (UTC)
    hour = (t % DAY) / 3600
    weekday = (np.floor(t / DAY) + 3) % 7 < 5
    u = np.where(weekday & (hour >= 14) & (hour < 16), 4.0, 1.0)
    assert not weekday[-1] and not weekday[-1441]  # Saturday and Sunday last
    assert request(t, u).value >= 3.9  # the default half-life is a week
    assert request(t, u, half_life=2 * DAY).value < 2.0  # 2 days: sized for the weekend just seen
