"""Capacity learned from history against simulated services whose capacity is known.

Each service is one replica (tests/queue_sim.py): Poisson arrivals with a daily cycle whose
peak is `reach` of the true capacity, a service-time distribution and FCFS worker threads,
7 days in 5-minute windows. The true capacity is the constant load whose steady-state
latency statistic (p95 or mean) meets the objective, found by simulation. The table gives the
estimate's error against it, by how close to saturation the history came, and how often the
estimator said the history could not tell (`-`).

    python -m benchmarks.capacity [--quick]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np

from sidecar.forecast.capacity import estimate_capacity
from sidecar.progress import progress
from tests.queue_sim import Service, daily_load, exponential, lognormal, simulate, true_capacity


@dataclass(frozen=True)
class Case:
    name: str
    service: Service
    mean_service: float
    servers: int
    stat: str
    objective: float
    days: float = 7.0


CASES = (
    Case("M/M/1, p95 <= 10x service", exponential(0.05), 0.05, 1, "p95", 0.5),
    Case("M/M/1, mean <= 4x service", exponential(0.05), 0.05, 1, "mean", 0.2),
    Case("M/G/1 lognormal cv 2, p95", lognormal(0.05, 2.0), 0.05, 1, "p95", 0.5),
    Case("M/G/1 lognormal cv 0.3, p95", lognormal(0.05, 0.3), 0.05, 1, "p95", 0.25),
    Case("M/M/4 (4 threads), p95", exponential(0.2), 0.2, 4, "p95", 1.0, days=3.0),
)
REACHES = (0.3, 0.5, 0.7, 0.9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one seed, two cases")
    args = parser.parse_args()
    cases = CASES[:2] if args.quick else CASES
    seeds = (0,) if args.quick else (0, 1, 2)
    print(
        f"{'service':32s} {'truth':>7s} " + " ".join(f"{'reach ' + str(r):>22s}" for r in REACHES)
    )
    fit_seconds: list[float] = []
    covered: list[bool] = []
    with progress(len(cases) * len(REACHES) * len(seeds), "simulations", unit="sim") as bar:
        for case in cases:
            truth = true_capacity(
                case.service,
                case.objective,
                mean_service=case.mean_service,
                servers=case.servers,
                stat=case.stat,
            )
            cells = []
            for reach in REACHES:
                errors: list[float | None] = []
                for seed in seeds:
                    load, p95, mean = simulate(
                        daily_load(reach * truth),
                        case.service,
                        servers=case.servers,
                        seconds=case.days * 86400,
                        seed=seed,
                    )
                    latency = p95 if case.stat == "p95" else mean
                    started = time.process_time()
                    est = estimate_capacity(load, latency, case.objective)
                    fit_seconds.append(time.process_time() - started)
                    errors.append(None if est.value is None else est.value / truth - 1)
                    if est.lower is not None and est.upper is not None:
                        covered.append(est.lower <= truth <= est.upper)
                    bar.update(1)
                told = [e for e in errors if e is not None]
                cell = (
                    f"{len(told)}/{len(errors)} told, worst {max(abs(e) for e in told):5.1%}"
                    if told
                    else f"0/{len(errors)} told"
                )
                cells.append(f"{cell:>22s}")
            print(f"{case.name:32s} {truth:7.3f} " + " ".join(cells))
    print("\n'told': runs with an estimate; 'worst': the largest |error| among them.")
    if covered:
        print(f"truth inside the estimate's range in {sum(covered)} of {len(covered)} told runs")
    print(
        f"seeds per cell: {len(seeds)}; CPU time per estimate (7 days of 5-minute windows, "
        f"{60} bootstrap refits): {np.mean(fit_seconds):.3f} s"
    )


if __name__ == "__main__":
    main()
