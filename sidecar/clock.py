"""Where "now" comes from: the only module that reads the wall clock.

Core code takes `now: float` as an argument; shells hold a `Clock`. Replays drive a
`ReplayClock` from the data (`receivedAt`), so offline runs and production agree.
"""

from __future__ import annotations

import time
from typing import Protocol

__all__ = ["Clock", "ReplayClock", "SystemClock"]


class Clock(Protocol):
    """Gives the current time as unix seconds, and a monotonic reading for durations."""

    def now(self) -> float: ...

    def monotonic(self) -> float: ...


class SystemClock:
    """The wall clock (`time.time`) and the process' monotonic clock."""

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


class ReplayClock:
    """A clock set by the caller, for replays: time moves only when `set` is called."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)

    def set(self, now: float) -> None:
        """Move to `now`; a replay never goes backwards, so earlier times are ignored."""
        self._now = max(self._now, float(now))

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._now
