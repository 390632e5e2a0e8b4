"""Value types: canonical series keys and validated, read-only frames."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from sidecar.clock import ReplayClock
from sidecar.types import Frame, SeriesKey


def test_series_key_is_canonical_whatever_the_label_order() -> None:
    a = SeriesKey.from_labels({"__name__": "up", "job": "x", "instance": "h:1"})
    b = SeriesKey.from_labels({"instance": "h:1", "job": "x", "__name__": "up"})
    assert a == b and hash(a) == hash(b)
    assert a.labels == (("instance", "h:1"), ("job", "x"))
    assert str(a) == 'up{instance="h:1",job="x"}'
    assert pickle.loads(pickle.dumps(a)) == a


def test_frame_is_read_only_and_shape_checked() -> None:
    f = Frame(SeriesKey("m"), t=np.array([1.0, 2.0]), X=np.array([3.0, np.nan]), columns=("m",))
    assert f.X.shape == (2, 1) and len(f) == 2
    with pytest.raises(ValueError):
        f.X[0, 0] = 1.0
    with pytest.raises(ValueError, match="strictly increasing"):
        Frame(SeriesKey("m"), t=np.array([2.0, 1.0]), X=np.zeros(2), columns=("m",))
    with pytest.raises(ValueError, match="columns"):
        Frame(SeriesKey("m"), t=np.array([1.0]), X=np.zeros((1, 2)), columns=("m",))


def test_replay_clock_never_goes_backwards() -> None:
    clock = ReplayClock(100.0)
    clock.set(90.0)
    assert clock.now() == 100.0
    clock.set(130.5)
    assert clock.now() == 130.5
