"""Seasonal profiles are learned within their first cycles.

Where every profile bin gets a sample a cycle (a daily profile at 5 minutes, a weekly one's
30-minute bins), the first cycle is each bin's mean against a level held at the first
sample, so the profile can be read in its second cycle: a weekly profile holds the weekend
after one week and is read out in the second, a daily one is within noise on day two.
Learned against a running mean (and relearned in the second cycle), a 40-sigma daily cycle
left residuals of ~9 noise sigmas on day two, and the weekly profile was never read out
in its second week.
"""

from __future__ import annotations

import numpy as np
import pytest

from sidecar.detect.seasonal import SeasonalRobustZ

DAY, STEP = 86400.0, 300.0


@pytest.mark.parametrize("jitter", [0.0, 20.0])
def test_the_weekly_profile_reads_the_weekend_as_a_step(jitter: float) -> None:
    """Weekends at 60 against weekdays at 100 (40 noise sigmas), 5-minute samples: in the
    third week the weekly profile reads the samples either side of midnight within noise.
    Two things make it: the weekend's first bin is learned whole in the first week (its
    second sample confirms its first, SECOND), and samples are read from the bin they fall
    in (`stepwise`). Without the first the bin held ~2/3 of the step (13 sigmas off);
    without both, interpolated between 30-minute bins' centres too, 25 sigmas off."""
    rng = np.random.default_rng(4)
    t = 1_700_006_400.0 - 1_700_006_400.0 % DAY + STEP * np.arange(int(21 * DAY / STEP))
    t = t + 100.0 + rng.uniform(-jitter, jitter, t.size)  # a grid 100 s off the clock's
    weekday = ((t // DAY) + 3) % 7
    x = np.where(weekday >= 5, 60.0, 100.0) + rng.normal(0, 1.0, t.size)
    det = SeasonalRobustZ()
    off = []
    for i, (ti, xi) in enumerate(zip(t.tolist(), x.tolist(), strict=True)):
        sample = det._sample("v", ti, xi)
        to_midnight = min(ti % DAY, DAY - ti % DAY)
        if ti - t[0] > 14 * DAY and to_midnight < 1200 and weekday[i] in (4, 5, 6, 0):
            off.append(abs(sample.ev.resid[2]))  # candidates: none, daily, weekly
        det._learn_sample(sample, True)
    assert len(off) >= 16  # two weekend edges, four samples either side
    assert max(off) < 5.0


@pytest.mark.parametrize("seed", range(3))
def test_a_weekly_profile_knows_the_weekend_after_one_week(seed: int) -> None:
    """Weekends at 60 against weekdays at 100, 5-minute samples, 30-minute weekly bins (six
    samples each): after 8 days the weekly profile holds most of the 40-unit gap. Learning
    at 1/6 of the daily rate per sample held ~27 of it, so the second weekend still alarmed."""
    rng = np.random.default_rng(seed)
    t = 1_700_006_400.0 - 1_700_006_400.0 % DAY + STEP * np.arange(int(8 * DAY / STEP))
    weekday = ((t // DAY) + 3) % 7
    x = np.where(weekday >= 5, 60.0, 100.0) + rng.normal(0, 1.0, t.size)
    det = SeasonalRobustZ()
    for ti, xi in zip(t.tolist(), x.tolist(), strict=True):
        det.learn_one(ti, {"v": xi})
    weekly = np.asarray(det._state("v")[0].profiles[2])  # candidates: none, daily, weekly
    bins = ((t % (7 * DAY)) / (7 * DAY) * weekly.size).astype(int)
    inner = ((t % DAY) > 3600) & ((t % DAY) < DAY - 3600)  # away from the day's edges
    gap = weekly[np.unique(bins[(weekday < 5) & inner])].mean()
    gap -= weekly[np.unique(bins[(weekday >= 5) & inner])].mean()
    assert 34.0 < gap < 50.0


@pytest.mark.parametrize("seed", range(3))
def test_a_large_daily_cycle_is_learned_within_days(seed: int) -> None:
    per_day = int(DAY / STEP)
    rng = np.random.default_rng(seed)
    t = 1_700_000_000.0 + STEP * np.arange(6 * per_day)
    x = 100.0 + 40.0 * np.sin(2 * np.pi * t / DAY) + rng.normal(0, 1.0, t.size)
    det = SeasonalRobustZ()
    daily = []  # the daily candidate's residual, before learning each sample
    for ti, xi in zip(t.tolist(), x.tolist(), strict=True):
        daily.append(det._evaluate(ti, {"v": xi})["v"].ev.resid[1])
        det.learn_one(ti, {"v": xi})
    spread = [float(np.std(daily[d * per_day : (d + 1) * per_day])) for d in range(6)]
    # measured on day 2 / 4 / 6: 1.21-1.32 / 1.12-1.16 / 1.04-1.13 (the noise alone: 1.0);
    # with the first day learned against a running mean: 9.2-9.3 / 1.3 / 1.1-1.2
    assert spread[1] < 1.6
    assert spread[3] < 1.3
    assert spread[5] < 1.25


@pytest.mark.parametrize("seed", range(3))
def test_a_weekly_profile_from_one_week_reads_out_the_second(seed: int) -> None:
    """A daily cycle of 30 noise sigmas, weekends 40% lower, 5-minute samples off the bin
    grid: the first week's 30-minute bins are means of their six samples against a level
    held at the first sample, so in the second week the weekly profile is within noise and
    is the one read out. Learned against a running mean (as the daily profile's first cycle
    is at 15 minutes and coarser), it was 2-14 noise sigmas off and was read out on no
    sample of the second week."""
    rng = np.random.default_rng(seed)
    t = 1_700_000_000.0 + float(rng.uniform(0, 7 * DAY)) + STEP * np.arange(int(14 * DAY / STEP))
    weekday = ((t // DAY) + 3) % 7
    truth = (100.0 + 30.0 * np.sin(2 * np.pi * t / DAY)) * np.where(weekday >= 5, 0.6, 1.0)
    x = truth + rng.normal(0, 1.0, t.size)
    det = SeasonalRobustZ()
    weekly, read = [], []  # the weekly candidate's residual and the read-out, week two
    for ti, xi in zip(t.tolist(), x.tolist(), strict=True):
        if ti - t[0] >= 8 * DAY:
            ev = det._evaluate(ti, {"v": xi})["v"].ev
            weekly.append(ev.resid[2])
            read.append(ev.sel)
        det.learn_one(ti, {"v": xi})
    # mean |residual| measured 1.04-1.05 on seeds 0-2 (the noise alone: 0.80), the weekly
    # read out on 73-97% of the samples (the rest the daily profile, which re-levels on the
    # weekend: 83-100% before its scale left out its bias, BIAS_RATE); before: 2.6-5.6, 0-29%
    assert float(np.mean(np.abs(weekly))) < 1.1
    assert np.mean(np.asarray(read) == 2.0) > 0.6


@pytest.mark.parametrize("seed", range(3))
def test_an_outlier_on_the_first_day_does_not_stay_in_the_profile(seed: int) -> None:
    """A first cycle learned as per-bin means takes a bin's first sample as it is; a 10^4
    outlier there was learned whole and, later cycles learning 3 sigma at a time, alarmed at
    its phase every day (residual 8,300, score 0.98). Clipped around the no-season
    prediction it was still 17 sigma off on day two (that prediction is loose on day one)
    and 6-10 on days 3-7, scoring up to 0.87. Now the next sample rejects it (REJECTED in
    baseline.learn): measured residual on days 3-7 at most 2.5, scores on days 2-7 at most
    0.05 (seeds 0-2)."""
    per_day = int(DAY / STEP)
    rng = np.random.default_rng(seed)
    t = 1_700_000_000.0 + STEP * np.arange(8 * per_day)
    x = 100.0 + 20.0 * np.sin(2 * np.pi * t / DAY) + rng.normal(0, 1.0, t.size)
    at = int(0.6 * per_day)
    x[at] += 1e4
    det = SeasonalRobustZ(onset_window=48)
    daily, scores = [], []
    for ti, xi in zip(t.tolist(), x.tolist(), strict=True):
        daily.append(det._evaluate(ti, {"v": xi})["v"].ev.resid[1])
        scores.append(det.update_one(ti, {"v": xi}).value)
    assert max(abs(daily[at + d * per_day]) for d in range(3, 8)) < 5.0
    assert max(scores[at + d * per_day] for d in range(2, 8)) < 0.5


@pytest.mark.parametrize("offset", [0.0, 137.0])
@pytest.mark.parametrize("seed", range(2))
def test_a_step_in_the_daily_cycle_is_learned_as_a_step(seed: int, offset: float) -> None:
    """Business hours switched on at 08:00 and off at 18:00 (a 20-sigma square wave), 5-minute
    samples on the clock's grid or 137 s off it. The daily profile's bins are centred on
    the samples (`bin_origin`) and a step's first sample is confirmed by the next one, so
    the first sample after each step is within noise from day two: measured at most 2.4
    noise sigmas on days 2-8 (seeds 0-3, both grids), all samples of days 3-8 at most 4.2.
    Bins edged on the clock's grid read every sample as the mean of two bins and the
    clipped first cycle learned the step 3 sigma a day: 9-19 sigmas on the grid, 2.5-17 off
    it."""
    rng = np.random.default_rng(seed)
    t = 1_700_006_400.0 - 1_700_006_400.0 % DAY + offset + STEP * np.arange(int(8 * DAY / STEP))
    hour = (t % DAY) / 3600.0
    x = 10.0 + 20.0 * ((hour >= 8.0) & (hour < 18.0)) + rng.normal(0, 1.0, t.size)
    det = SeasonalRobustZ()
    daily = []
    for ti, xi in zip(t.tolist(), x.tolist(), strict=True):
        daily.append(det._evaluate(ti, {"v": xi})["v"].ev.resid[1])  # none, daily, weekly
        det.learn_one(ti, {"v": xi})
    resid = np.abs(np.asarray(daily))
    day = (t - t[0]) // DAY
    after_step = np.zeros(t.size, dtype=bool)
    after_step[1:] = (hour[1:] >= 8.0) != (hour[:-1] >= 8.0)
    after_step[1:] |= (hour[1:] >= 18.0) != (hour[:-1] >= 18.0)
    assert resid[after_step & (day >= 1)].max() < 4.0
    assert resid[day >= 2].max() < 5.5


@pytest.mark.parametrize("seed", range(2))
def test_the_daily_profile_is_read_out_at_the_steps_it_knows(seed: int) -> None:
    """The same square wave in Student-t noise: on its plateaus the no-season level is as
    good as the daily profile, and with each residual counted up to 4 sigma its 20-sigma
    misses at the steps hardly showed in its error, so it was read out at 43-76% of the
    samples around the steps (its lag after a step read as a persistent deviation). Counted
    up to PERF_CAP sigma, the daily profile is read there: measured 98-100% (seeds 0-3)."""
    rng = np.random.default_rng(seed)
    t = 1_700_006_400.0 - 1_700_006_400.0 % DAY + STEP * np.arange(int(8 * DAY / STEP))
    hour = (t % DAY) / 3600.0
    noise = rng.standard_t(3, t.size) / np.sqrt(3.0)
    x = 10.0 + 20.0 * ((hour >= 8.0) & (hour < 18.0)) + noise
    det = SeasonalRobustZ()
    read = []
    for ti, xi in zip(t.tolist(), x.tolist(), strict=True):
        read.append(det._evaluate(ti, {"v": xi})["v"].ev.sel)
        det.learn_one(ti, {"v": xi})
    on = hour >= 8.0
    off = hour >= 18.0
    after_step = np.zeros(t.size, dtype=bool)
    after_step[1:] = (on[1:] != on[:-1]) | (off[1:] != off[:-1])
    around = after_step | np.roll(after_step, 1) | np.roll(after_step, 2)
    day = (t - t[0]) // DAY
    assert np.mean(np.asarray(read)[around & (day >= 2)] == 1.0) > 0.9
