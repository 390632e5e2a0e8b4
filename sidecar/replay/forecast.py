"""`sidecar forecast`: rolling-origin forecasts over a CSV series, with no look-ahead.

The forecaster is fitted on the first W rows and refitted every `refit_every` rows after
that (each time on the rows up to the current origin only); between refits it follows each
new row incrementally. At every K-th row from row W on (the origin) it writes the next H
forecasts with their interval (90% unless a rule or `--level` says otherwise). A row's
value never reaches a forecast made before it. Lengths are rows or Prometheus durations.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sidecar.config.durations import format_duration, parse_duration
from sidecar.config.schema import ForecastRule
from sidecar.errors import InputError
from sidecar.forecast.auto import AutoForecaster
from sidecar.forecast.conformal import MAX_HORIZON
from sidecar.forecast.models import median_step
from sidecar.progress import progress
from sidecar.replay.rule_choice import pick_rule
from sidecar.replay.streams import display_name, open_input, open_output
from sidecar.replay.timeseries_csv import read_rows

__all__ = ["FORECAST_HEADER", "LEVEL", "ForecastSettings", "Span", "forecast_csv"]

FORECAST_HEADER = ("origin_timestamp", "h", "yhat", "yhat_lower", "yhat_upper")
LEVEL = 0.9
MIN_WARMUP = 10


@dataclass(frozen=True, slots=True)
class Span:
    """A length given as rows (`72`) or as a Prometheus duration (`6h`), which becomes rows
    at the input's sampling step."""

    rows: int | None = None
    seconds: float | None = None

    @classmethod
    def parse(cls, text: str) -> Span:
        """`text` as a row count or a duration; ValueError names what was expected."""
        text = text.strip()
        if text.isdigit():
            return cls(rows=int(text))
        try:
            return cls(seconds=parse_duration(text))
        except ValueError:
            raise ValueError(
                f"{text!r} is neither a row count nor a duration such as 30m, 6h or 7d"
            ) from None

    def to_rows(self, step: float) -> int:
        """Rows this span covers at `step` seconds per row."""
        if self.rows is not None:
            return self.rows
        assert self.seconds is not None
        return int(round(self.seconds / step))

    def __str__(self) -> str:
        return str(self.rows) if self.rows is not None else format_duration(self.seconds or 0.0)


@dataclass(frozen=True, slots=True)
class ForecastSettings:
    """What a replay forecasts: a rule's settings, or the command line's."""

    horizon: Span
    model: str = "auto"
    level: float = LEVEL
    interval_scale: str = "absolute"

    @classmethod
    def from_rule(cls, rule: ForecastRule) -> ForecastSettings:
        return cls(Span(seconds=rule.horizon), rule.model, rule.level, rule.interval_scale)


def select_forecast_rule(rules_file: str, name: str | None) -> ForecastRule:
    """The forecast rule named `name` in `rules_file` (or its only one)."""
    from sidecar.config.loader import load_rules

    rules = load_rules([rules_file])  # RuleErrors are SidecarErrors: exit 2 with locations
    return pick_rule(rules.forecasts, name, rules_file, "forecast")


def forecast_csv(
    src: str,
    dst: str,
    settings: ForecastSettings,
    every: Span,
    warmup: Span,
    refit_every: int | None = None,
) -> int:
    """Write rolling-origin forecasts of `src` to `dst`; returns the number of origins."""
    name = display_name(src, "<stdin>")
    if warmup.rows is not None and warmup.rows < MIN_WARMUP:
        raise InputError(name, None, f"--warmup must be at least {MIN_WARMUP} rows")
    try:
        with open_input(src) as fin:
            header, reader = read_rows(fin.stream, name)
            rows = list(reader)
    except UnicodeDecodeError as exc:
        raise InputError(name, None, f"not UTF-8 text: {exc.reason}") from None
    if len(rows) < 2:
        raise InputError(name, None, f"only {len(rows)} rows; forecasting needs at least two")
    t = np.array([r.t for r in rows])
    y = np.array([r.value for r in rows])
    step = median_step(t)
    horizon = settings.horizon.to_rows(step)
    n_every = every.to_rows(step)
    if horizon > MAX_HORIZON:
        raise InputError(
            name,
            None,
            f"--horizon {settings.horizon} is {horizon} rows, more than {MAX_HORIZON}: "
            "forecast a series resampled to a coarser step",
        )
    if horizon < 1 or n_every < 1:
        raise InputError(
            name,
            None,
            f"--horizon {settings.horizon} and --every {every} must be at least one row "
            f"(the input has a row every {format_duration(step)})",
        )
    n_warmup = (
        warmup.rows
        if warmup.rows is not None
        else int(np.searchsorted(t, t[0] + (warmup.seconds or 0.0), side="left"))
    )
    if n_warmup < MIN_WARMUP:
        raise InputError(
            name, None, f"--warmup must be at least {MIN_WARMUP} rows ({warmup} is {n_warmup})"
        )
    if len(rows) < n_warmup:
        raise InputError(name, None, f"only {len(rows)} rows; --warmup needs {n_warmup}")
    ti = [h.lower() for h in header].index("timestamp")
    stamps = [r.fields[ti] for r in rows]
    refit = refit_every or max(n_warmup, 1440)

    def fitted(upto: int) -> AutoForecaster:
        return AutoForecaster(
            horizon=horizon,
            model=settings.model,
            max_horizon=horizon,  # errors are kept per step: no more steps than asked for
            interval_scale=settings.interval_scale,
        ).fit(t[:upto], y[:upto])

    origins = 0
    with (
        open_output(dst) as fout,
        progress(len(rows) - n_warmup + 1, f"forecast {Path(name).name}", unit="row") as bar,
    ):
        w = csv.writer(fout, lineterminator="\n")
        w.writerow(FORECAST_HEADER)
        fc = fitted(n_warmup)
        last_fit = n_warmup
        for i in range(n_warmup - 1, len(rows)):
            if i >= n_warmup:
                if i + 1 - last_fit >= refit:
                    fc = fitted(i + 1)
                    last_fit = i + 1
                else:
                    fc.update(float(t[i]), float(y[i]))
            if (i - (n_warmup - 1)) % n_every == 0:
                f = fc.forecast(horizon, settings.level)
                prefix = _csv_field(stamps[i])
                fout.write(
                    "".join(
                        f"{prefix},{h},{m:.6g},{lo:.6g},{hi:.6g}\n"
                        for h, m, lo, hi in zip(
                            range(1, horizon + 1),
                            f.mean.tolist(),
                            f.lower.tolist(),
                            f.upper.tolist(),
                            strict=True,
                        )
                    )
                )
                origins += 1
            bar.update(1)
    return origins


def _csv_field(text: str) -> str:
    """`text` as one CSV field (quoted only when it must be, as csv.writer does)."""
    if not any(c in text for c in ',"\r\n'):
        return text
    return '"' + text.replace('"', '""') + '"'
