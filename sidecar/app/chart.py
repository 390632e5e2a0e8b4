"""A series against its expected range as a small inline SVG, drawn on the server (no
script, no CDN), for the on-call page."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

__all__ = ["BandChart", "band_chart"]


@dataclass(frozen=True, slots=True)
class BandChart:
    """What one chart shows: values over time, and the expected range over time (or the
    latest range alone, drawn across the whole chart, when no history of it is known)."""

    t: Sequence[float]
    value: Sequence[float]
    band_t: Sequence[float] = ()
    lower: Sequence[float] = ()
    upper: Sequence[float] = ()
    latest_lower: float | None = None
    latest_upper: float | None = None


def band_chart(chart: BandChart, title: str, width: int = 320, height: int = 90) -> str:
    """The SVG markup (titled for screen readers; the values are also in the page's text)."""
    points = [(t, v) for t, v in zip(chart.t, chart.value, strict=False) if math.isfinite(v)]
    band = [
        (t, lo, hi)
        for t, lo, hi in zip(chart.band_t, chart.lower, chart.upper, strict=False)
        if math.isfinite(lo) and math.isfinite(hi)
    ]
    if not band and points and chart.latest_lower is not None and chart.latest_upper is not None:
        first, last = points[0][0], points[-1][0]
        band = [(first, chart.latest_lower, chart.latest_upper)]
        band.append((last, chart.latest_lower, chart.latest_upper))
    label = escape(title)
    if not points:
        return (
            f'<svg class="chart" role="img" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}"><title>{label}: no data</title>'
            f'<text x="8" y="{height // 2}">no data from Prometheus</text></svg>'
        )
    ts = [t for t, _ in points] + [t for t, _, _ in band]
    ys = [v for _, v in points] + [y for _, lo, hi in band for y in (lo, hi)]
    t0, t1 = min(ts), max(ts)
    y0, y1 = min(ys), max(ys)
    if y1 == y0:
        y0, y1 = y0 - 1.0, y1 + 1.0
    pad = 4.0

    def x(t: float) -> float:
        return pad + (width - 2 * pad) * ((t - t0) / (t1 - t0) if t1 > t0 else 0.5)

    def y(v: float) -> float:
        return height - pad - (height - 2 * pad) * (v - y0) / (y1 - y0)

    parts = [
        f'<svg class="chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{label}</title>'
    ]
    if band:
        upper = " ".join(f"{x(t):.1f},{y(hi):.1f}" for t, _, hi in band)
        lower = " ".join(f"{x(t):.1f},{y(lo):.1f}" for t, lo, _ in reversed(band))
        parts.append(f'<polygon class="band" points="{upper} {lower}"/>')
    line = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in points)
    parts.append(f'<polyline class="value" fill="none" points="{line}"/>')
    outside = [
        (t, v)
        for t, v in points
        if band and not _inside(t, v, band)  # marked by shape too, not by colour alone
    ]
    for t, v in outside:
        parts.append(
            f'<rect class="outside" x="{x(t) - 2:.1f}" y="{y(v) - 2:.1f}" width="4" height="4"/>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _inside(t: float, v: float, band: list[tuple[float, float, float]]) -> bool:
    """Whether `v` at `t` lies within the band's range at the closest band time."""
    _, lo, hi = min(band, key=lambda b: abs(b[0] - t))
    return lo <= v <= hi
