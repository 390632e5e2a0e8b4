"""Checkpoint bytes per series, by rule kind, and the time to write and read them.

Real data: the crane-cpu traces (1-minute CPU) cut into 7-day histories, fed to a detector
rule with the default detector (vectorised bank), one with a quantile threshold (a monitor
per series), and a forecast rule with a scaling policy (1-minute step, 1 h horizon). Baseline
in the same process: `pickle.dumps` of the series' raw samples (what a restart would
otherwise re-read from Prometheus).

    python -m benchmarks.checkpoint_size [--series 16]
"""

from __future__ import annotations

import argparse
import pickle
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.realdata import load_crane
from sidecar.checkpoint import read_checkpoint, write_checkpoint
from sidecar.config.loader import load_rules
from sidecar.engine import Engine
from sidecar.types import Frame, SeriesKey

RULES = """\
detectors:
  - {name: bank, query: cpu, step: 1m, lookback: 7d}
  - {name: monitor, query: cpu, step: 1m, lookback: 7d, threshold: {quantile: 0.999}}
forecasts:
  - name: forecast
    query: cpu
    step: 1m
    lookback: 7d
    horizon: 1h
    scaling: {capacity_per_replica: 100}
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=16)
    args = ap.parse_args()
    traces = load_crane()
    frames = []
    for i in range(args.series):
        arr = traces[i % len(traces)][: 7 * 1440]
        t = 1_700_000_000.0 + 60.0 * np.arange(arr.shape[0])
        key = SeriesKey.from_labels({"__name__": "cpu", "instance": f"i{i}"})
        frames.append(Frame(key, t, arr[:, 1:2].astype(np.float64), ("value",)))
    now = float(frames[0].t[-1])
    raw = len(pickle.dumps([(f.t, f.X) for f in frames], protocol=pickle.HIGHEST_PROTOCOL))
    print(
        f"{args.series} series x 7 days at 1 minute; raw samples pickled: "
        f"{raw / args.series / 1024:.0f} KiB a series"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rules.yaml"
        path.write_text(RULES)
        rules = load_rules([path], environ={})
        for kind in ("bank", "monitor", "forecast"):
            engine = Engine(rules)
            engine.step({kind: frames}, now)
            state = {kind: engine.export_state()[kind]}
            ckpt = Path(tmp) / f"{kind}.ckpt"
            t0 = time.perf_counter()
            size = write_checkpoint(ckpt, state, now)
            t1 = time.perf_counter()
            read_checkpoint(ckpt)
            t2 = time.perf_counter()
            print(
                f"{kind:9s} {size / args.series / 1024:8.1f} KiB a series "
                f"({size / raw:.2f}x the raw samples); write {1000 * (t1 - t0):.0f} ms, "
                f"read {1000 * (t2 - t1):.0f} ms"
            )


if __name__ == "__main__":
    main()
