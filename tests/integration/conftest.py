"""Fixtures that start the real stack on loopback: Prometheus, Alertmanager, a local Ray.

Each is started once per session and always stopped, also when tests fail. Every test
under tests/integration is marked `integration`, so `pytest -m "not integration"` skips them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.rig import AlertmanagerServer, MetricsTarget, PrometheusServer, WebhookSink


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def metrics_target() -> Iterator[MetricsTarget]:
    """A scrape target with `rig_value{series="a"}` = 1 and `{series="b"}` = 2 to start with."""
    target = MetricsTarget()
    target.set("a", 1.0)
    target.set("b", 2.0)
    yield target
    target.close()


@pytest.fixture(scope="session")
def prometheus(
    tmp_path_factory: pytest.TempPathFactory, metrics_target: MetricsTarget
) -> Iterator[PrometheusServer]:
    """A real Prometheus scraping `metrics_target` every second; the first scrape has happened."""
    server = PrometheusServer(tmp_path_factory.mktemp("prometheus"), [metrics_target.address])
    try:
        server.wait_for_scrape()
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def webhook_sink() -> Iterator[WebhookSink]:
    """Records what Alertmanager delivers."""
    sink = WebhookSink()
    yield sink
    sink.close()


@pytest.fixture(scope="session")
def alertmanager(
    tmp_path_factory: pytest.TempPathFactory, webhook_sink: WebhookSink
) -> Iterator[AlertmanagerServer]:
    """A real Alertmanager whose only receiver is `webhook_sink` (group_wait 1s)."""
    server = AlertmanagerServer(tmp_path_factory.mktemp("alertmanager"), webhook_sink.url)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def ray_local() -> Iterator[Any]:
    """A local Ray started once per session (`address="local"`, no dashboard)."""
    import ray

    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )
    try:
        yield ray
    finally:
        ray.shutdown()
