"""Readers for the real development data in ../shared/data (labelled and unlabelled series)."""

from __future__ import annotations

import csv
import glob
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from sidecar.replay.timeseries_csv import parse_timestamp

__all__ = ["CRANE", "MS_CLOUD", "LabelledSeries", "label_runs", "load_crane", "load_ms_cloud"]

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
MS_CLOUD = DATA / "ms-cloud-monitoring"
CRANE = DATA / "crane-cpu"


@dataclass(frozen=True)
class LabelledSeries:
    """One labelled real series: times, values, and its anomalies as inclusive index runs."""

    domain: str
    name: str
    t: NDArray[np.float64]
    x: NDArray[np.float64]
    runs: list[tuple[int, int]]


def label_runs(labels: NDArray[np.int64]) -> list[tuple[int, int]]:
    """Inclusive (first, last) index of every run of consecutive 1s."""
    padded = np.concatenate([[0], (labels > 0).astype(np.int64), [0]])
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def load_ms_cloud(root: Path = MS_CLOUD) -> list[LabelledSeries]:
    """Every `TimeStamp,Value,Label` file of the Cloud Monitoring development set."""
    out = []
    for path in sorted(glob.glob(str(root / "*" / "*.csv"))):
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
        body = [r for r in rows[1:] if r]
        t = np.array([parse_timestamp(r[0]) for r in body])
        x = np.array([float(r[1]) if r[1].strip() else np.nan for r in body])
        labels = np.array([int(float(r[2])) for r in body])
        p = Path(path)
        out.append(LabelledSeries(p.parent.name, p.stem, t, x, label_runs(labels)))
    return out


def load_crane(root: Path = CRANE) -> list[NDArray[np.float64]]:
    """The unlabelled crane-cpu traces, each an (n, 2) array of unix seconds and value."""
    return [
        np.loadtxt(f, delimiter=",", skiprows=1) for f in sorted(glob.glob(str(root / "*.csv")))
    ]
