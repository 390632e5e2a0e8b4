"""Beyond a channel's highest statistics the calibration extrapolates a fitted power-law tail.

Without it, a value above everything a heavy-tailed channel has seen got only the thin
prior's tail: each new record of Student-t noise scored as one in 10^20.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sidecar.detect.calibration import Calibration, tail_probability, update, update_scalar
from sidecar.detect.ops import ARRAY, SCALAR


def _history(values: np.ndarray) -> Calibration:
    cal = Calibration(SCALAR, None)
    for v in values.tolist():
        update_scalar(cal, v, True, False)
    return cal


@pytest.mark.parametrize("seed", range(4))
def test_a_heavy_tailed_channels_new_record_is_as_rare_as_it_really_is(seed: int) -> None:
    rng = np.random.default_rng(seed)
    seen = np.abs(rng.standard_t(3, 5000))
    cal = _history(seen)
    record = 1.5 * float(seen.max())
    truth = float(np.mean(np.abs(rng.standard_t(3, 4_000_000)) >= record))
    fitted = tail_probability(cal, SCALAR, record, fit=True)
    assert truth / 20 < fitted < truth * 5
    assert tail_probability(cal, SCALAR, record, fit=False) < truth * 1e-6  # the prior alone


@pytest.mark.parametrize("seed", range(4))
def test_a_gaussian_channel_keeps_far_deviations_rare(seed: int) -> None:
    cal = _history(np.abs(np.random.default_rng(seed).normal(size=5000)))
    assert tail_probability(cal, SCALAR, 6.0, fit=True) < 5e-5
    assert tail_probability(cal, SCALAR, 8.0, fit=True) < 5e-6
    # inside the history the fit changes nothing
    assert tail_probability(cal, SCALAR, 2.2, fit=True) == tail_probability(cal, SCALAR, 2.2)


def test_too_short_a_history_is_not_fitted() -> None:
    cal = _history(np.abs(np.random.default_rng(1).standard_t(2, 200)))
    assert tail_probability(cal, SCALAR, 500.0, fit=True) == tail_probability(cal, SCALAR, 500.0)


def test_the_array_path_fits_the_same_tail_bit_for_bit() -> None:
    rng = np.random.default_rng(4)
    n = 40
    cal = Calibration(ARRAY, n)
    scalars = [Calibration(SCALAR, None) for _ in range(n)]
    df = rng.uniform(1.0, 30.0, n)  # from very heavy to nearly Gaussian tails
    for _ in range(1500):
        stat = np.abs(rng.standard_t(df)) * rng.uniform(0.5, 3.0)
        update(cal, ARRAY, stat, True, True, False)
        for c in range(n):
            update_scalar(scalars[c], float(stat[c]), True, False)
    probes = [0.0, 0.3, 1.7, 2.0, 4.4, 9.0, 31.0, 99.0, 250.0, 1e9, math.inf, math.nan]
    for probe in probes:
        stat = np.full(n, probe)
        fit = rng.random(n) < 0.7  # the fit can be chosen per channel
        got = tail_probability(cal, ARRAY, stat, fit=fit)
        want = [tail_probability(scalars[c], SCALAR, probe, fit=bool(fit[c])) for c in range(n)]
        np.testing.assert_array_equal(got, want)
