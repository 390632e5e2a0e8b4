"""The hand-specialised one-channel kernel computes exactly what the generic kernel does."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from sidecar.detect import baseline_scalar
from sidecar.detect.baseline import BaselineParams, BaselineState, evaluate, learn, new_state
from sidecar.detect.ops import SCALAR


def hostile_stream(seed: int, n: int = 3000) -> tuple[list[float], list[float], list[bool]]:
    """Seasonal noise with gaps, infinities, unlearnable values, shifts, stuck runs, steps."""
    rng = np.random.default_rng(seed)
    t = 1_700_000_000.0 + np.cumsum(rng.uniform(30.0, 90.0, n))
    x = 40 + 8 * np.sin(2 * np.pi * t / 3600.0) + rng.normal(0, 1, n)
    x[400:420] = np.nan
    x[500] = math.inf
    x[501] = -math.inf
    x[502] = 1e200
    x[1200:] += 30.0  # level shift
    x[1800:2000] += rng.normal(0, 8, 200)  # variance change
    x[2200:2260] = x[2200]  # stuck
    x[2500:] = np.round(x[2500:])  # quantised
    x[2800:2810] = 0.0
    x[2810] = np.nan  # a gap right after zeros (a gap reads as 0.0 inside the kernel)
    track = (rng.uniform(size=n) < 0.05).tolist()  # protected samples: tracked, not learned
    return t.tolist(), x.tolist(), track


def same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray):  # the found period's history (FOUND)
        a, b = a.tolist(), b.tolist()
    if isinstance(a, list):
        return len(a) == len(b) and all(same(u, v) for u, v in zip(a, b, strict=True))
    if a is None or b is None:
        return a is b
    fa, fb = float(a), float(b)
    return (math.isnan(fa) and math.isnan(fb)) or (
        fa == fb and math.copysign(1, fa) == math.copysign(1, fb)
    )


@pytest.mark.parametrize(
    "params",
    [
        BaselineParams(),
        BaselineParams(periods=(3600.0,), warmup=0),
        BaselineParams(periods=(), window=10, warmup=5),
        BaselineParams(periods=(1800.0, 3600.0 * 3), cusum_h=4.0, variance_h=5.0),
        BaselineParams(season_read_cycles=2.0, borrow_first_cycle=False),
        BaselineParams(periods=(3600.0, 1.5 * 86400.0)),  # longer than a day: read as steps
        BaselineParams(find_period=True),  # the stream's hourly cycle is found (FOUND)
    ],
    ids=[
        "default",
        "hourly-no-warmup",
        "no-season",
        "low-thresholds",
        "cusum-read-outs",
        "steps",
        "found-period",
    ],
)
@pytest.mark.parametrize("seed", [0, 1])
def test_scalar_kernel_matches_generic_kernel_bit_for_bit(
    params: BaselineParams, seed: int
) -> None:
    t, x, track = hostile_stream(seed)
    generic = new_state(params, SCALAR)
    fast = new_state(params, SCALAR)
    for i, (ti, xi, tr) in enumerate(zip(t, x, track, strict=True)):
        ev_g = evaluate(params, generic, SCALAR, ti, xi)
        ev_f = baseline_scalar.evaluate_one(params, fast, ti, xi)
        for name in ev_g.__slots__:
            assert same(getattr(ev_g, name), getattr(ev_f, name)), (i, name)
        learn(params, generic, SCALAR, ev_g, not tr)
        baseline_scalar.learn_one(params, fast, ev_f, not tr)
        for name in BaselineState.__slots__:
            assert same(getattr(generic, name), getattr(fast, name)), (i, name)
