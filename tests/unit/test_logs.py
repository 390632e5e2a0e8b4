"""Logging: one level and format for the driver and the replicas; JSON lines parse."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from sidecar.app.logs import configure, formatter
from sidecar.config.loader import load_rules
from tests.unit.test_cli_check import run_cli


@pytest.fixture
def restore_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("SIDECAR_LOG_LEVEL", raising=False)
    monkeypatch.delenv("SIDECAR_LOG_FORMAT", raising=False)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_carry_time_level_logger_and_message(restore_logging: None) -> None:
    out = io.StringIO()
    configure("warning", "json", out)
    logging.getLogger("sidecar.test").info("not written")
    logging.getLogger("sidecar.test").warning("rule %s failed", "r1")
    [line] = out.getvalue().splitlines()
    record = json.loads(line)
    assert record["levelname"] == "WARNING" and record["name"] == "sidecar.test"
    assert record["message"] == "rule r1 failed" and record["asctime"]


def test_text_format_and_the_replicas_see_the_same_settings(restore_logging: None) -> None:
    out = io.StringIO()
    configure("debug", "text", out)
    logging.getLogger("sidecar.test").debug("tick")
    assert out.getvalue().rstrip().endswith("DEBUG sidecar.test: tick")
    # the variables configure exports are settings overrides, as a replica loads them
    rules = load_rules([], environ={"SIDECAR_LOG_LEVEL": "debug", "SIDECAR_LOG_FORMAT": "json"})
    assert (rules.settings.log_level, rules.settings.log_format) == ("debug", "json")
    assert isinstance(formatter("text"), logging.Formatter)


def test_bad_log_flags_exit_2() -> None:
    assert run_cli("run", "--log-format", "xml").returncode == 2
    assert run_cli("run", "--log-level", "loud").returncode == 2
