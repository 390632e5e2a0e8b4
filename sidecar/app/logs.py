"""Log set-up for `sidecar run` and its Ray worker processes: one level and one format.

The driver configures the root logger (`configure`); the level and format travel to the
replicas as `SIDECAR_LOG_LEVEL` / `SIDECAR_LOG_FORMAT` (settings overrides, inherited by the
local Ray's workers). Serve sends a replica's Python logging to its own files; the `sidecar`
loggers of the Scheduler, AlertDesk and Ingress replicas also write to the worker's original
stderr, which Ray forwards to the driver (`log_to_driver`), prefixed with the replica's name.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TextIO

from pythonjsonlogger.json import JsonFormatter

__all__ = ["FORMAT", "configure", "formatter", "forward_to_driver"]

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"
_MARK = "_sidecar_driver_handler"


def formatter(fmt: str) -> logging.Formatter:
    """`text` lines or `json` objects (keys asctime, levelname, name, message)."""
    if fmt == "json":
        return JsonFormatter(_JSON_FIELDS, timestamp=False)
    return logging.Formatter(FORMAT)


def _level(name: str | None) -> int:
    return logging.getLevelNamesMapping().get((name or "info").upper(), logging.INFO)


def configure(level: str, fmt: str, stream: TextIO | None = None) -> None:
    """The driver's logging: every logger at `level` in format `fmt` on `stream` (stderr);
    exported so the replicas started after this use the same."""
    os.environ["SIDECAR_LOG_LEVEL"] = level
    os.environ["SIDECAR_LOG_FORMAT"] = fmt
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(fmt))
    logging.basicConfig(level=_level(level), handlers=[handler], force=True)


def forward_to_driver() -> None:
    """Send the `sidecar` loggers' records to this process' original stderr (once), at the
    level and in the format the driver set."""
    logger = logging.getLogger("sidecar")
    if any(getattr(h, _MARK, False) for h in logger.handlers):
        return
    stream = sys.__stderr__
    if stream is None:
        return
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter(os.environ.get("SIDECAR_LOG_FORMAT", "text")))
    setattr(handler, _MARK, True)
    logger.addHandler(handler)
    logger.setLevel(_level(os.environ.get("SIDECAR_LOG_LEVEL")))
