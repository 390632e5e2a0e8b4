"""Whether `sidecar run` can have its HTTP port, checked before anything starts.

Serve's direct-ingress replica binds `listen_port` without SO_REUSEADDR, so for a minute
after a restart (the previous run's connections in TIME_WAIT) it fails to start, and a
port another program listens on fails only after Ray and Serve came up. `claim` tells
them apart first: a listener is an error naming the port; TIME_WAIT is waited out.
"""

from __future__ import annotations

import errno
import socket
import time
from collections.abc import Callable
from typing import Literal

from sidecar.errors import ConfigError

__all__ = ["PortState", "claim", "client_host", "port_state"]

PortState = Literal["free", "time_wait", "in_use"]
TIME_WAIT_S = 65.0
"""Linux keeps a closed connection in TIME_WAIT for 60 s."""


def _binds(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise ConfigError(
                f"settings.listen_port: cannot bind {host}:{port}: {exc.strerror}"
            ) from None
    return True


def client_host(listen_host: str) -> str:
    """Where a client on this host reaches a listener bound to `listen_host`."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(listen_host, listen_host)


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((client_host(host), port), timeout=1.0):
            return True
    except OSError:
        return False


def port_state(host: str, port: int) -> PortState:
    """`free`, `in_use` (a program listens), or `time_wait` (only closed connections hold
    it: their sockets were bound without SO_REUSEADDR, so not even a reusing bind works)."""
    if _binds(host, port):
        return "free"
    return "in_use" if _listening(host, port) else "time_wait"


def claim(
    host: str,
    port: int,
    *,
    wait: float = TIME_WAIT_S,
    say: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Return once `host:port` can be bound; ConfigError if a program listens on it."""
    deadline = time.monotonic() + wait
    told = False
    while True:
        state = port_state(host, port)
        if state == "free":
            return
        if state == "in_use":
            raise ConfigError(
                f"settings.listen_port: {host}:{port} is in use by another program; "
                "stop it or choose another listen_port"
            )
        if time.monotonic() >= deadline:
            raise ConfigError(
                f"settings.listen_port: {host}:{port} is still held by closed connections "
                f"(TIME_WAIT) after {wait:.0f} s"
            )
        if not told:
            say(f"waiting for {host}:{port}: connections of a previous run are in TIME_WAIT")
            told = True
        sleep(0.5)
