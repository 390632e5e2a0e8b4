"""Rule files: bad fixtures give exactly their expected located errors; good ones load."""

from __future__ import annotations

from pathlib import Path

import pytest

from sidecar.config.loader import load_rules
from sidecar.config.schema import (
    IsolationForestDetector,
    SeasonalRobustZDetector,
    ThresholdSpec,
)
from sidecar.errors import RuleErrors
from tests.conftest import FIXTURES, ROOT

BAD = sorted((FIXTURES / "rules" / "bad").glob("*.yaml"))


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_file_reports_exactly_the_expected_errors(path: Path, repo_root: Path) -> None:
    rel = path.relative_to(ROOT)
    expected = path.with_suffix(".expected").read_text().splitlines()
    with pytest.raises(RuleErrors) as info:
        load_rules([rel], environ={})
    assert [str(e) for e in info.value.errors] == expected


def test_every_bad_fixture_has_an_expected_file() -> None:
    assert BAD, "no bad fixtures found"
    assert all(p.with_suffix(".expected").exists() for p in BAD)


def test_full_good_file_loads_to_the_expected_objects() -> None:
    rules = load_rules([FIXTURES / "rules" / "good" / "full.yaml"], environ={})
    assert str(rules.settings.prometheus_url) == "http://prometheus.example:9090/"
    assert rules.settings.interval == 15.0
    assert rules.settings.shards == 4
    assert rules.settings.listen_port == 8000  # default from the schema
    api, host = rules.detectors
    assert api.name == "api_p99_latency"
    assert api.step == 30.0 and api.lookback == 6 * 3600.0
    assert api.detector == SeasonalRobustZDetector(
        kind="seasonal_robust_z", season=86400.0, window=120
    )
    assert api.threshold == ThresholdSpec(quantile=0.995, protect=True)
    assert api.threshold.policy == "quantile" and api.threshold.min_score == 0.5
    assert host.queries is not None and list(host.queries) == ["cpu", "load"]
    assert host.join_on == ("instance",)
    assert isinstance(host.detector, IsolationForestDetector) and host.detector.window == 500
    assert host.threshold.policy == "fixed" and host.threshold.score_threshold == 0.8
    [fc] = rules.forecasts
    assert fc.horizon == 7200.0 and fc.step == 300.0 and fc.lookback == 14 * 86400.0
    assert fc.scaling is not None
    assert (fc.scaling.min_replicas, fc.scaling.max_replicas) == (2, 30)
    assert fc.scaling.lead_time == 180.0 and fc.scaling.target_utilization == 0.6
    assert rules.salience.weights.severity == 0.5 and rules.salience.weights.rarity == 2.0
    assert rules.salience.weights.novelty == 1.0
    assert rules.salience.features.anomaly is False
    assert rules.salience.episode_gap == 120.0
    assert rules.names == ("api_p99_latency", "host_pressure", "checkout_rps")
    assert rules.locations["api_p99_latency"].line == 8  # its query line


def test_minimal_file_gets_schema_defaults() -> None:
    rules = load_rules([FIXTURES / "rules" / "good" / "minimal.yaml"], environ={})
    [d] = rules.detectors
    assert d.detector.kind == "robust_deviation" and d.detector.season == "auto"
    assert d.step == 30.0 and d.lookback == 86400.0
    assert d.threshold.policy == "fixed" and not d.threshold.protect
    assert d.threshold.score_threshold == pytest.approx(1e-3 / (1e-4 + 1e-3))
    assert str(rules.settings.prometheus_url) == "http://127.0.0.1:9090/"
    assert rules.forecasts == ()


def test_shipped_rules_directory_is_valid(repo_root: Path) -> None:
    rules = load_rules(["rules"], environ={})
    assert rules.detectors and rules.forecasts
    assert all(d.enabled for d in rules.detectors)


def test_duplicate_names_and_sections_across_files(tmp_path: Path) -> None:
    a = tmp_path / "a.yaml"
    b = tmp_path / "b.yaml"
    a.write_text("settings: {interval: 1m}\ndetectors:\n  - name: same\n    query: up\n")
    b.write_text("settings: {interval: 2m}\nforecasts:\n  - name: same\n    query: up\n")
    with pytest.raises(RuleErrors) as info:
        load_rules([tmp_path], environ={})
    assert [str(e) for e in info.value.errors] == [
        f"{b}:1:1: settings: given twice (first at {a}:1:1)",
        f"{b}:3:11: forecasts[0].name: duplicate rule name 'same' (first defined at {a}:3:11)",
    ]


def test_a_file_named_twice_is_read_once(repo_root: Path) -> None:
    rules = load_rules(["rules", "rules/detectors.yaml"], environ={})
    assert len(rules.files) == len(set(rules.files))


def test_missing_path_is_an_error_not_a_crash(tmp_path: Path) -> None:
    with pytest.raises(RuleErrors, match="no such file or directory"):
        load_rules([tmp_path / "nope.yaml"], environ={})


def test_empty_file_is_valid_and_empty(tmp_path: Path) -> None:
    (tmp_path / "empty.yaml").write_text("# nothing yet\n")
    rules = load_rules([tmp_path], environ={})
    assert rules.detectors == () and rules.forecasts == ()


def test_yaml_anchors_and_merge_keys_are_followed(tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text(
        "x-common: &common {step: 1m, lookback: 2h}\n"  # an unknown top-level key is an error...
    )
    with pytest.raises(RuleErrors, match="x-common: unknown key"):
        load_rules([tmp_path], environ={})
    (tmp_path / "r.yaml").write_text(
        "detectors:\n"
        "  - &base {name: one, query: up, step: 1m, lookback: 2h}\n"
        "  - {<<: *base, name: two}\n"
    )
    one, two = load_rules([tmp_path], environ={}).detectors
    assert (two.name, two.step, two.lookback) == ("two", 60.0, 7200.0)
    assert one.name == "one"


class TestEnvironmentOverrides:
    def test_env_overrides_file_settings(self, repo_root: Path) -> None:
        env = {
            "SIDECAR_PROMETHEUS_URL": "http://10.0.0.1:9090",
            "SIDECAR_INTERVAL": "1m",
            "SIDECAR_LISTEN_PORT": "9000",
            "SIDECAR_RAY_DASHBOARD": "true",
            "UNRELATED": "x",
        }
        s = load_rules(["rules"], environ=env).settings
        assert str(s.prometheus_url) == "http://10.0.0.1:9090/"
        assert (s.interval, s.listen_port, s.ray_dashboard) == (60.0, 9000, True)
        assert s.shards == 1  # from rules/sidecar.yaml, untouched

    def test_bad_env_values_are_reported_by_variable(self, repo_root: Path) -> None:
        env = {"SIDECAR_INTERVAL": "5 m", "SIDECAR_SHARDS": "0"}
        with pytest.raises(RuleErrors) as info:
            load_rules(["rules"], environ=env)
        assert [str(e) for e in info.value.errors] == [
            (
                "$SIDECAR_INTERVAL: settings.interval: not a Prometheus duration such as 30s, 5m, "
                "1h30m or 7d (got '5 m')"
            ),
            "$SIDECAR_SHARDS: settings.shards: Input should be greater than 0 (got '0')",
        ]

    def test_empty_variable_unsets_an_optional_setting(self, tmp_path: Path) -> None:
        (tmp_path / "s.yaml").write_text("settings: {webhook_token: abc}\n")
        assert load_rules([tmp_path], environ={}).settings.webhook_token == "abc"
        env = {"SIDECAR_WEBHOOK_TOKEN": ""}
        assert load_rules([tmp_path], environ=env).settings.webhook_token is None
