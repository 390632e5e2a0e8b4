"""Progress bars for long work (replays, backtests, benchmarks), shown only on a terminal."""

from __future__ import annotations

import os
import sys
from typing import Any

__all__ = ["progress"]


def progress(total: float | None, desc: str, unit: str = "it", **kwargs: Any) -> Any:
    """A tqdm bar on stderr, disabled unless stderr is a terminal (or SIDECAR_PROGRESS=1)."""
    from tqdm import tqdm

    forced = os.environ.get("SIDECAR_PROGRESS")
    disable = (forced == "0") if forced in ("0", "1") else not sys.stderr.isatty()
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        disable=disable,
        file=sys.stderr,
        dynamic_ncols=True,
        mininterval=0.2,
        **kwargs,
    )
