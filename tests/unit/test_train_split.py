"""Training chunks: a query narrowed to a chunk's label values parses and keeps its meaning;
values a chunk cannot match, unknown rules and overlapping parts are refused clearly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import promql_parser
import pytest

from sidecar.checkpoint import RuleState
from sidecar.cli import main
from sidecar.config.loader import load_rules
from sidecar.config.schema import RobustDeviationDetector, SeasonalRobustZDetector
from sidecar.detect.registry import make_detector
from sidecar.engine import merge_rule_states
from sidecar.train.job import TrainError, chosen_rules
from sidecar.train.split import Chunk, SplitError, chunk_values, listing_query, restrict_query


def _selectors(promql: str) -> list[str]:
    found: list[str] = []

    def seen(node: promql_parser.Expr) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            found.append(str(node))

    promql_parser.walk(promql_parser.parse(promql), post_visit=seen)
    return found


def test_every_selector_gets_the_chunk_matcher_and_the_rest_is_kept() -> None:
    q = (
        'sum by (instance) (rate(http_requests_total{job="api"}[5m])) '
        "/ on (instance) group_left up offset 5m"
    )
    out = restrict_query(q, {"instance": ["10.0.0.1:9100", "web-(blue)"]})
    sels = _selectors(out)
    assert len(sels) == 2
    assert all('instance=~"10[.]0[.]0[.]1:9100|web-[(]blue[)]"' in s for s in sels)
    assert 'job="api"' in sels[0] and "[5m]" in out and "offset 5m" in out
    assert "group_left" in out and "sum by (instance)" in out


def test_values_a_chunk_cannot_match_and_queries_without_selectors_are_refused() -> None:
    for bad in ['a"b', "a\\b", "a[0]", "^a"]:
        with pytest.raises(SplitError, match="cannot match"):
            restrict_query("up", {"instance": [bad]})
    with pytest.raises(SplitError, match="selects no series"):
        restrict_query("vector(1)", {"instance": ["a"]})


def test_chunks_hold_at_most_size_series_and_filter_over_selected_combinations() -> None:
    found = [("a", "x"), ("b", "y"), ("a", "x"), ("c", "x")]
    chunks = chunk_values("r", ("instance", "job"), found, 2)
    assert [c.values for c in chunks] == [(("a", "x"), ("b", "y")), (("c", "x"),)]
    keep = chunks[0].member_filter()
    assert keep({"instance": "a", "job": "x", "other": "1"})
    assert not keep({"instance": "a", "job": "y"})  # matched by the regexes, not a member
    assert Chunk("r", 0).restrict("up") == "up"
    assert listing_query("up", ("instance",)) == "count by (instance) (up)"
    with pytest.raises(ValueError, match="at least one"):
        chunk_values("r", ("instance",), found, 0)


def test_unknown_rules_are_named(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(
        "detectors:\n  - {name: a, query: up}\n  - {name: b, query: up, enabled: false}\n"
    )
    rules = load_rules([path])
    assert [r.name for r in chosen_rules(rules, [])] == ["a"]
    with pytest.raises(TrainError, match="no enabled detector or forecast rule named 'b'"):
        chosen_rules(rules, ["b"])
    assert main(["train", "--config", str(path), "--rule", "zz", "--from", "1d"]) == 2
    with pytest.raises(SystemExit) as bad:
        main(["train", "--config", str(path), "--from", "soon"])
    assert bad.value.code == 2


def test_merging_refuses_other_rules_and_shared_series() -> None:
    a = RuleState("h1", "detector", None)
    with pytest.raises(ValueError, match="different rules"):
        merge_rule_states([a, RuleState("h2", "detector", None)])
    with pytest.raises(ValueError, match="nothing"):
        merge_rule_states([])


def test_channels_move_between_banks_of_one_detector_only() -> None:
    det = make_detector(RobustDeviationDetector(kind="robust_deviation"))
    src, dst = det.bank(4), det.bank(4)  # type: ignore[attr-defined]
    rng = np.random.default_rng(0)
    for i in range(50):
        s = src.score(np.full(4, 60.0 * i), rng.normal(10, 1, 4))
        src.learn(s)
    dst.copy_channels(src, np.array([2]), np.array([0]))
    t, x = np.full(4, 3000.0), np.full(4, 10.0)
    assert dst.score(t, x).upper[0] == src.score(t, x).upper[2]
    other = make_detector(SeasonalRobustZDetector(kind="seasonal_robust_z")).bank(4)  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="same detector"):
        other.copy_channels(src, np.array([0]), np.array([0]))
