"""An alert's salience combined from its prepared (cached) signals and the clock's is, to
the bit, the salience of all its signals combined at once: value, reasons and their order
(ties, zero contributions, silent signals and pinned feedback included)."""

from __future__ import annotations

import math
import random

from sidecar.config.schema import SalienceSettings, SalienceWeights
from sidecar.salience.scorer import BIAS, Salience, SalienceScorer, Signal

NAMES = list(SalienceWeights.model_fields)


def _signal(rng: random.Random) -> Signal:
    name = rng.choice(NAMES)
    value = rng.choice([0.0, 0.5, -0.5, 1.0, -1.0, round(rng.uniform(-1, 1), 3)])
    reason = rng.choice(["", f"{name} because {rng.randrange(5)}"])
    return Signal(name, value, reason)


def _plainly(scorer: SalienceScorer, signals: list[Signal]) -> Salience:
    """The definition, written plainly: logistic of bias plus weighted signals; the
    strongest reasons (a stable sort), feedback always among them."""
    w = scorer.rules.weights
    weighted = [(s, getattr(w, s.name) * s.value) for s in signals]
    value = 1.0 / (1.0 + math.exp(-(BIAS + sum(c for _, c in weighted))))
    said = [sc for sc in weighted if sc[1] != 0 and sc[0].reason]
    top = sorted(said, key=lambda sc: -abs(sc[1]))[: scorer.rules.top_reasons]
    pinned = [sc for sc in said if sc[0].name == "feedback" and sc not in top]
    if pinned:
        top = top[: max(0, len(top) - len(pinned))] + pinned
    return Salience(value, tuple(s.reason for s, _ in top), tuple((s.name, c) for s, c in weighted))


def test_prepared_then_combined_equals_combined_at_once() -> None:
    rng = random.Random(7)
    for top in (1, 2, 3, 5):
        scorer = SalienceScorer(SalienceSettings(top_reasons=top))
        for _ in range(3000):
            static = [_signal(rng) for _ in range(rng.randrange(0, 9))]
            more = [_signal(rng) for _ in range(rng.randrange(0, 3))]
            at_once = _plainly(scorer, static + more)
            assert scorer.combine(static + more) == at_once
            assert scorer.combine_prepared(scorer.prepare(static), more) == at_once


def test_feedback_is_named_even_when_weaker_than_the_top_reasons() -> None:
    scorer = SalienceScorer(SalienceSettings(top_reasons=2))
    static = [Signal("severity", 1.0, "critical"), Signal("rarity", 1.0, "rare")]
    more = [Signal("feedback", -0.1, "marked noise by an operator")]
    sal = scorer.combine_prepared(scorer.prepare(static), more)
    assert sal.reasons == ("critical", "marked noise by an operator")


def test_reasons_kept_between_rankings_are_the_ones_worked_out_afresh() -> None:
    rng = random.Random(11)
    scorer = SalienceScorer(SalienceSettings(top_reasons=2))
    seen: dict[object, object] = {}
    prepared = [
        scorer.prepare([_signal(rng) for _ in range(rng.randrange(0, 7))]) for _ in range(40)
    ]
    for _ in range(4000):  # the same alerts asked again and again as the clock moves
        p = rng.choice(prepared)
        age = rng.uniform(0, 4000)
        more = [Signal("fresh", math.exp(-age / 1800), f"started {int(age // 60)}m ago")]
        more = rng.choice([more, [], [*more, _signal(rng)]])
        fresh = scorer.combine_prepared(p, more)
        assert scorer.value_and_reasons(p, more, seen) == (fresh.value, fresh.reasons)
    assert len(seen) < 4000  # it was used
