"""`sidecar run`'s port check: a listener is an error naming the port, TIME_WAIT is waited out."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sidecar.app.ports import claim, port_state
from sidecar.errors import ConfigError
from tests.conftest import ROOT
from tests.rig import LOOPBACK, free_port


@pytest.fixture
def listener() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def time_wait_port() -> int:
    """A port whose only holder is a connection the server side closed (TIME_WAIT)."""
    server = socket.socket()
    server.bind((LOOPBACK, 0))
    server.listen()
    port = int(server.getsockname()[1])
    client = socket.create_connection((LOOPBACK, port))
    conn, _ = server.accept()
    conn.close()  # the server closes first: its end (port) goes to TIME_WAIT
    time.sleep(0.05)
    client.close()
    server.close()
    return port


def test_states(listener: int) -> None:
    assert port_state(LOOPBACK, free_port()) == "free"
    assert port_state(LOOPBACK, listener) == "in_use"
    assert port_state(LOOPBACK, time_wait_port()) == "time_wait"


def test_a_listener_is_an_error_at_once_naming_the_port(listener: int) -> None:
    with pytest.raises(ConfigError, match=f"127.0.0.1:{listener} is in use"):
        claim(LOOPBACK, listener, sleep=lambda _: pytest.fail("a listener is not waited for"))


def test_time_wait_is_waited_out_then_reported() -> None:
    port = time_wait_port()
    said: list[str] = []
    with pytest.raises(ConfigError, match="TIME_WAIT"):
        claim(LOOPBACK, port, wait=0.3, say=said.append, sleep=time.sleep)
    assert said == [f"waiting for 127.0.0.1:{port}: connections of a previous run are in TIME_WAIT"]


def test_sidecar_run_on_a_busy_port_exits_2_before_starting_ray(
    listener: int, tmp_path: Path
) -> None:
    (tmp_path / "sidecar.yaml").write_text(f"settings:\n  listen_port: {listener}\n")
    done = subprocess.run(
        [sys.executable, "-m", "sidecar", "run", "--config", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert f"127.0.0.1:{listener} is in use" in done.stderr and "Traceback" not in done.stderr
    assert "Started a local Ray instance" not in done.stderr
