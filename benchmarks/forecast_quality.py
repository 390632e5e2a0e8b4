"""Forecast and autoscaling quality against the baselines users run today, in one process.

Data: ../shared/data/crane-cpu (16 real CPU traces, 1-minute steps) and synthetic request
rates (daily and weekly cycles, growth ramps, bursts; 5-minute steps, 4 weeks).

Backtest: fit on the first 60% of each series (at most 7 days), then rolling origins every
30 minutes; MASE of the value exactly 1 h and 6 h ahead (scaled by the in-sample MAE of
the seasonal-naive forecast with a one-day season, as in M4), and coverage of the 90%
interval. Methods:
* `promql_holt_winters`: Prometheus' `holt_winters(v[1h], 0.3, 0.3)`: the smoothed value
  (double exponential smoothing over the last hour), used as a flat forecast.
* `promql_predict_linear`: `predict_linear(v[1h], h)`: least squares over the last hour.
* `ets`: statsmodels damped-trend exponential smoothing, fitted once; interval
  ±1.645·sigma·sqrt(h) from its in-sample one-step residuals.
* `sidecar`: `AutoForecaster` (model chosen per series by backtest, conformal intervals);
  `sidecar_relative`: the same with `interval_scale: relative` (errors per unit of forecast).

Autoscaling simulation (every step, replicas take 5 minutes to start, one replica carries
1/15 of the series' peak at 100%, every method aims at the same target utilisation,
`--utilization`, 0.8 by default): % of steps whose load exceeds 100% of the running
replicas, and replica-hours relative to perfect foresight (the load's own replicas at the
target utilisation), for the HPA's reactive rule (10% tolerance, 5-minute scale-down
stabilisation), the ETS upper bound, and `sidecar` (`recommend` at each `--levels` level;
`sidecar_stacked`: the upper bound also held to the target utilisation, the policy's
`peak_utilization: <target>`).

    python -m benchmarks.forecast_quality [--quick] [--levels 0.9,0.95] [--utilization 0.8]
"""

from __future__ import annotations

import argparse
import glob
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from sidecar.config.schema import ScalingPolicy
from sidecar.forecast.auto import AutoForecaster
from sidecar.forecast.models import DampedHolt, fill_gaps
from sidecar.forecast.scaling import ScalingMemory, recommend
from sidecar.progress import progress
from sidecar.types import Forecast

CRANE = Path(__file__).resolve().parents[2] / "shared" / "data" / "crane-cpu"
Array = NDArray[np.float64]
Z90 = 1.6448536269514722
SCALES = ("absolute", "relative")
METHOD = {"absolute": "sidecar", "relative": "sidecar_relative"}
"""The sidecar with each `interval_scale` (the point forecasts are the same)."""
STACKED = "sidecar_stacked"


def synthetic_traffic(seed: int, n: int = 8064, step: float = 300.0) -> tuple[Array, Array]:
    rng = np.random.default_rng(seed)
    t = 1_700_000_000.0 + step * np.arange(n)
    day = (t % 86400) / 86400
    weekday = ((t // 86400) + 3) % 7
    base = float(rng.uniform(50, 500))
    daily = np.clip(np.sin(np.pi * (day - 0.25) / 0.6), 0, None) ** 1.5
    weekly = np.where(weekday >= 5, float(rng.uniform(0.4, 0.8)), 1.0)
    growth = 1 + float(rng.uniform(0, 0.5)) * np.arange(n) / n
    y = base * (0.2 + daily * weekly) * growth
    y *= 1 + rng.normal(0, 0.05, n)
    for _ in range(int(rng.integers(2, 6))):  # bursts of 20-90 minutes
        s = int(rng.integers(0, n - 20))
        y[s : s + int(rng.integers(4, 18))] *= float(rng.uniform(1.3, 2.0))
    return t, y


@dataclass
class Tally:
    err: dict[str, list[float]] = field(default_factory=dict)
    cover: dict[str, list[bool]] = field(default_factory=dict)

    def add(self, key: str, e: float, covered: bool | None) -> None:
        self.err.setdefault(key, []).append(e)
        if covered is not None:
            self.cover.setdefault(key, []).append(covered)


def _hw(window: Array, sf: float = 0.3, tf: float = 0.3) -> float:
    w = window[np.isfinite(window)]
    if w.size < 2:
        return float(w[-1]) if w.size else math.nan
    s, b = w[0], w[1] - w[0]
    for v in w[1:]:
        s_new = sf * v + (1 - sf) * (s + b)
        b = tf * (s_new - s) + (1 - tf) * b
        s = s_new
    return float(s)


def _linear(tw: Array, window: Array, at: float) -> float:
    ok = np.isfinite(window)
    if ok.sum() < 2:
        return math.nan
    slope, icpt = np.polyfit(tw[ok], window[ok], 1)
    return float(slope * at + icpt)


def backtest(t: Array, y: Array, tally: Tally, horizons: dict[str, int], every: int) -> None:
    n = y.size
    step = float(np.median(np.diff(t)))
    fit_n = min(int(n * 0.6), int(7 * 86400 / step))
    train = fill_gaps(y[:fit_n])
    day = int(round(86400 / step))
    lag = day if fit_n >= 2 * day else 1  # M4's MASE: in-sample seasonal-naive error scale
    scale = float(np.mean(np.abs(train[lag:] - train[:-lag]))) or 1.0
    hour = int(round(3600 / step))
    ets = DampedHolt()
    ets.fit_points(y[:fit_n], 0)
    resid = []
    probe = DampedHolt(ets.alpha_, ets.beta_, ets.phi_)
    probe.fit_points(y[: max(3, fit_n // 2)], 0)
    for v in y[max(3, fit_n // 2) : fit_n].tolist():
        resid.append(v - float(probe.predict(1)[0]))
        probe.step(v)
    sigma = float(np.nanstd(resid)) or 1.0
    ours = {
        (scale, k): AutoForecaster(horizon=h, interval_scale=scale).fit(t[:fit_n], y[:fit_n])
        for k, h in horizons.items()
        for scale in SCALES
    }
    for i in range(fit_n, n):
        origin = i - 1  # forecasts made with data up to and including row i-1
        if (origin - fit_n + 1) % every == 0:
            for k, h in horizons.items():
                target = origin + h
                if target >= n or not math.isfinite(y[target]):
                    continue
                actual = float(y[target])
                lo = max(0, origin - hour + 1)
                hw = _hw(y[lo : origin + 1])
                pl = _linear(t[lo : origin + 1], y[lo : origin + 1], float(t[target]))
                e_mean = float(ets.predict(h)[-1])
                half = Z90 * sigma * math.sqrt(h)
                tally.add(f"promql_holt_winters/{k}", abs(actual - hw) / scale, None)
                tally.add(f"promql_predict_linear/{k}", abs(actual - pl) / scale, None)
                tally.add(
                    f"ets/{k}",
                    abs(actual - e_mean) / scale,
                    e_mean - half <= actual <= e_mean + half,
                )
                for name in SCALES:
                    f = ours[(name, k)].forecast(h, 0.9)
                    tally.add(
                        f"{METHOD[name]}/{k}",
                        abs(actual - float(f.mean[-1])) / scale,
                        float(f.lower[-1]) <= actual <= float(f.upper[-1]),
                    )
        v = float(y[i])
        ets.step(v)
        for fc in ours.values():
            fc.update(float(t[i]), v)


@dataclass
class Sim:
    under: dict[str, int] = field(default_factory=dict)
    cost: dict[str, float] = field(default_factory=dict)
    steps: int = 0
    perfect: float = 0.0


def simulate(
    t: Array,
    y: Array,
    sim: Sim,
    levels: tuple[float, ...],
    utilization: float = 0.8,
    lead_s: float = 300.0,
) -> None:
    n = y.size
    step = float(np.median(np.diff(t)))
    lead = max(1, int(round(lead_s / step)))
    load = fill_gaps(y)
    cap = float(np.max(load)) / 15.0
    fit_n = min(int(n * 0.6), int(7 * 86400 / step))
    policy = ScalingPolicy(
        capacity_per_replica=cap,
        target_utilization=utilization,
        min_replicas=1,
        max_replicas=1000,
        lead_time=lead_s,
        scale_down_stabilization=300.0,
    )
    stacked = policy.model_copy(update={"peak_utilization": utilization})
    per_replica = cap * utilization
    ours = {
        scale: AutoForecaster(horizon=lead + 1, interval_scale=scale).fit(t[:fit_n], y[:fit_n])
        for scale in SCALES
    }
    ets = DampedHolt()
    ets.fit_points(y[:fit_n], 0)
    res = []
    for v in load[fit_n // 2 : fit_n].tolist():
        res.append(v - float(ets.predict(1)[0]))
    sigma = float(np.std(res)) or 1.0
    need = np.ceil(load / per_replica)
    decided: dict[str, list[int]] = {"hpa": [], "ets_upper": []}
    runs = [
        (scale, lv, pol, f"{name}@{lv:g}")
        for scale in SCALES
        for lv in levels
        for name, pol in ((METHOD[scale], policy), (STACKED, stacked))
        if name != STACKED or (scale == "absolute" and utilization < 1)
    ]
    decided.update({key: [] for *_, key in runs})
    memories = {key: ScalingMemory() for *_, key in runs}
    hpa_current = int(need[fit_n - 1])
    hpa_hist: list[tuple[int, int]] = []
    for i in range(fit_n, n):
        now_load = float(load[i - 1])
        # HPA: ratio with 10% tolerance, scale-down stabilisation over 5 minutes
        ratio = now_load / (hpa_current * per_replica) if hpa_current else 2.0
        want = hpa_current if abs(ratio - 1) <= 0.1 else max(1, math.ceil(hpa_current * ratio))
        hpa_hist = [(j, r) for j, r in hpa_hist if j > i - int(300 / step)] + [(i, want)]
        hpa_current = want if want >= hpa_current else max(r for _, r in hpa_hist)
        decided["hpa"].append(hpa_current)
        e_up = float(np.max(ets.predict(lead + 1) + Z90 * sigma * np.sqrt(np.arange(1, lead + 2))))
        decided["ets_upper"].append(max(1, math.ceil(e_up / per_replica)))
        forecasts: dict[tuple[str, float], Forecast] = {}
        for scale, lv, pol, key in runs:
            if (scale, lv) not in forecasts:
                forecasts[(scale, lv)] = ours[scale].forecast(lead + 1, lv)
            rec, memories[key] = recommend(
                forecasts[(scale, lv)], pol, now_load, float(t[i - 1]), memory=memories[key]
            )
            decided[key].append(rec.replicas)
        ets.step(float(y[i - 1]))
        for model in ours.values():
            model.update(float(t[i - 1]), float(y[i - 1]))
    # a decision made at step i serves from i + lead on; until then the previous one runs
    span = range(fit_n + lead, n)
    sim.steps += len(span)
    sim.perfect += float(np.sum(need[fit_n + lead :]))
    for k, seq in decided.items():
        running = np.array(seq[: len(span)], dtype=float)
        actual = load[fit_n + lead :]
        sim.under[k] = sim.under.get(k, 0) + int(np.sum(actual > running * cap + 1e-9))
        sim.cost[k] = sim.cost.get(k, 0.0) + float(np.sum(running))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="4 crane traces and 2 synthetic")
    ap.add_argument(
        "--levels",
        type=lambda v: [float(x) for x in v.split(",")],
        default=[0.9],
        help="interval levels whose upper bound sizes the sidecar's replicas",
    )
    ap.add_argument(
        "--utilization",
        type=float,
        default=0.8,
        help="target utilisation of every autoscaler (under-provisioned = load above 100%%)",
    )
    args = ap.parse_args()
    files = sorted(glob.glob(str(CRANE / "*.csv")))
    series = [(Path(f).stem, *np.loadtxt(f, delimiter=",", skiprows=1).T) for f in files]
    series += [(f"traffic{s}", *synthetic_traffic(s)) for s in range(8)]
    if args.quick:
        series = series[:4] + series[-2:]
    groups: dict[str, tuple[Tally, Sim]] = {}
    started = time.process_time()
    with progress(len(series), "backtest+sim", unit="series") as bar:
        for name, t_raw, y_raw in series:
            t, y = np.asarray(t_raw, dtype=float), np.asarray(y_raw, dtype=float)
            step = float(np.median(np.diff(t)))
            horizons = {"1h": int(round(3600 / step)), "6h": int(round(6 * 3600 / step))}
            group = "synthetic traffic" if name.startswith("traffic") else "crane-cpu"
            for key in ("all", group):
                groups.setdefault(key, (Tally(), Sim()))
            tally, sim = Tally(), Sim()
            backtest(t, y, tally, horizons, every=max(1, int(round(1800 / step))))
            simulate(t, y, sim, tuple(args.levels), args.utilization)
            for key in ("all", group):
                _merge(groups[key], tally, sim)
            bar.update(1)
    print(f"{len(series)} series; {time.process_time() - started:.0f} CPU-s")
    for key in ("all", "crane-cpu", "synthetic traffic"):
        if key in groups:
            _report(key, *groups[key])


def _merge(into: tuple[Tally, Sim], tally: Tally, sim: Sim) -> None:
    for k, v in tally.err.items():
        into[0].err.setdefault(k, []).extend(v)
    for k, c in tally.cover.items():
        into[0].cover.setdefault(k, []).extend(c)
    for k, u in sim.under.items():
        into[1].under[k] = into[1].under.get(k, 0) + u
        into[1].cost[k] = into[1].cost.get(k, 0.0) + sim.cost[k]
    into[1].steps += sim.steps
    into[1].perfect += sim.perfect


def _report(name: str, tally: Tally, sim: Sim) -> None:
    print(f"\n== {name}")
    print(f"{'method':<24}{'MASE 1h':>9}{'MASE 6h':>9}{'cover90 1h':>12}{'cover90 6h':>12}")
    for m in ("promql_holt_winters", "promql_predict_linear", "ets", *METHOD.values()):
        cells = [f"{np.mean(tally.err[f'{m}/{k}']):>9.3f}" for k in ("1h", "6h")]
        cov = [tally.cover.get(f"{m}/{k}") for k in ("1h", "6h")]
        cells += [f"{100 * np.mean(c):>11.1f}%" if c else f"{'-':>12}" for c in cov]
        print(f"{m:<24}" + "".join(cells))
    print(
        f"autoscaling ({sim.steps} steps): under-provisioned steps and replica-hours vs "
        f"perfect foresight"
    )
    for k in sim.under:
        print(f"{k:<24}{100 * sim.under[k] / sim.steps:>8.2f}%{sim.cost[k] / sim.perfect:>8.2f}x")


if __name__ == "__main__":
    main()
