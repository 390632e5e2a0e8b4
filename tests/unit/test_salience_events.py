"""POST /salience scoring: the API.md example, known keys typed, unknown keys reported."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sidecar.salience.events import Event, score_event
from sidecar.salience.scorer import SalienceScorer


def test_api_example_scores_in_unit_interval_with_reasons() -> None:
    scorer = SalienceScorer()
    system = score_event(
        Event.model_validate({"type": "system_event", "severity": "high", "frequency": 0.8}), scorer
    )
    user = score_event(
        Event.model_validate({"type": "user_interaction", "engagement": 0.6, "duration": 120}),
        scorer,
    )
    for r in (system, user):
        assert 0.0 <= r.salience.value <= 1.0 and r.salience.reasons
    assert "severity high" in system.salience.reasons


def test_signals_move_the_score_the_right_way() -> None:
    scorer = SalienceScorer()

    def value(**kw: object) -> float:
        return score_event(Event.model_validate(kw), scorer).salience.value

    assert value(severity="critical") > value(severity="info")
    assert value(frequency=0.05) > value(frequency=0.9)
    assert value(engagement=0.9) > value(engagement=0.1)
    assert value(duration=10) > value(duration=86400)


def test_unknown_keys_are_reported_not_rejected() -> None:
    r = score_event(
        Event.model_validate({"type": "x", "colour": "red", "weight": 3}), SalienceScorer()
    )
    assert r.unknown_keys == ("colour", "weight")


@pytest.mark.parametrize(
    "bad", [{"frequency": 2}, {"engagement": -0.1}, {"severity": 3.0}, {"duration": -5}]
)
def test_known_keys_are_validated(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Event.model_validate(bad)
