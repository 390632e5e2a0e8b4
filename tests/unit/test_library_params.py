"""The detectors and the forecaster as a library (without rule files): parameters are checked
with messages naming them, settable the sklearn way, and never cached stale."""

from __future__ import annotations

import numpy as np
import pytest

from sidecar.detect.registry import DETECTORS
from sidecar.forecast.auto import AutoForecaster
from sidecar.types import Frame, SeriesKey

UNIVARIATE = [k for k, cls in DETECTORS.items() if getattr(cls, "seasonal", True)]


@pytest.mark.parametrize("kind", UNIVARIATE)
@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("window", 0, "window must be a positive integer, got 0"),
        ("warmup", -3, "warmup must be a positive integer, got -3"),
        ("window", 2.5, "window must be a positive integer, got 2.5"),
        ("onset_window", 0, "onset_window must be a positive integer or None, got 0"),
        ("season", "daily", "season must be 'auto', 'none', a duration such as '1d'"),
        ("season", -60, "got -60"),
    ],
)
def test_a_bad_parameter_is_refused_by_name_and_value(
    kind: str, name: str, value: object, says: str
) -> None:
    cls = DETECTORS[kind]
    with pytest.raises(ValueError, match=says.replace("(", r"\(").replace(".", r"\.")):
        cls(**{name: value})
    det = cls()
    with pytest.raises(ValueError, match=name):
        det.set_params(**{name: value})
    with pytest.raises(ValueError, match=name):
        setattr(det, name, value)


@pytest.mark.parametrize("kind", UNIVARIATE)
def test_set_params_takes_effect_and_clone_keeps_it(kind: str) -> None:
    det = DETECTORS[kind]()
    assert det.params_.window == 120
    det.window = 10  # after params_ was derived: it follows
    assert det.params_.window == 10
    assert det.set_params(season="1d", warmup=5) is det
    assert det.params_.periods == (86400.0,) and det.params_.warmup == 5
    assert det.clone().get_params() == det.get_params()
    with pytest.raises(ValueError, match="has no parameter 'windw'"):
        det.set_params(windw=3)


def test_a_duration_season_scores_as_its_seconds() -> None:
    rng = np.random.default_rng(0)
    t = 1_700_000_000.0 + 300.0 * np.arange(2000)
    x = 10 + np.sin(2 * np.pi * t / 86400) + rng.normal(0, 0.1, t.size)
    frame = Frame(SeriesKey("s"), t, x, ("v",))
    by_text = DETECTORS["robust_deviation"](season="1d").score_frame(frame)
    by_seconds = DETECTORS["robust_deviation"](season=86400).score_frame(frame)
    assert by_text == by_seconds


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"model": "arima"}, "model must be one of auto, ets, mstl, seasonal_naive, naive"),
        ({"horizon": 0}, "horizon must be a positive integer of steps, got 0"),
        ({"interval_scale": "log"}, "interval_scale must be 'absolute' or 'relative'"),
    ],
)
def test_the_forecaster_refuses_what_it_would_not_do(kwargs: dict[str, object], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        AutoForecaster(**kwargs)  # type: ignore[arg-type]
