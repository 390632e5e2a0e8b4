"""The sidecar's log lines from inside Ray's worker processes, in `sidecar run`'s own log.

Serve sends a replica's Python logging to its own files; the `sidecar` loggers of the
Scheduler, AlertDesk and Ingress replicas also write to the worker's original stderr,
which Ray forwards to the driver (`log_to_driver`), prefixed with the replica's name.
"""

from __future__ import annotations

import logging
import sys

__all__ = ["FORMAT", "forward_to_driver"]

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_MARK = "_sidecar_driver_handler"


def forward_to_driver(level: int = logging.INFO) -> None:
    """Send the `sidecar` loggers' records to this process' original stderr (once)."""
    logger = logging.getLogger("sidecar")
    if any(getattr(h, _MARK, False) for h in logger.handlers):
        return
    stream = sys.__stderr__
    if stream is None:
        return
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(FORMAT))
    setattr(handler, _MARK, True)
    logger.addHandler(handler)
    logger.setLevel(level)
