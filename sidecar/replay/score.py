"""`sidecar score`: a CSV series through a rule's `Monitor`, one output row per input row."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from sidecar.config.schema import DetectorRule
from sidecar.detect.monitor import Monitor
from sidecar.detect.registry import make_detector
from sidecar.errors import ConfigError, InputError
from sidecar.progress import progress
from sidecar.replay.rule_choice import pick_rule
from sidecar.replay.streams import display_name, open_input, open_output
from sidecar.replay.timeseries_csv import read_batches
from sidecar.types import Frame, SeriesKey

__all__ = ["SCORE_COLUMN", "ScoreReport", "score_csv", "select_rule"]

SCORE_COLUMN = "anomaly_score"
BATCH = 4096  # rows scored per Frame (and between progress updates)


def select_rule(rules_file: str | None, name: str | None) -> DetectorRule | None:
    """The detector rule named `name` in `rules_file` (or its only one); None = defaults."""
    if rules_file is None:
        if name is not None:
            raise ConfigError("--rule needs --rules FILE")
        return None
    from sidecar.config.loader import load_rules

    rules = load_rules([rules_file])  # RuleErrors are SidecarErrors: exit 2 with locations
    return pick_rule(rules.detectors, name, rules_file, "detector")


@dataclass(frozen=True, slots=True)
class ScoreReport:
    """What `score_csv` did: rows written, and the rows read as repeats (count, first line)."""

    rows: int
    repeats: int = 0
    first_repeat_line: int | None = None

    def warning(self, src: str) -> str | None:
        """The one-line warning about repeated or backward timestamps, if there were any."""
        if not self.repeats:
            return None
        return (
            f"warning: {src}:{self.first_repeat_line}: {self.repeats} row(s) with a timestamp "
            "not after the row before, scored as repeat samples at the previous time "
            "(--strict refuses them)"
        )


def score_csv(
    src: str, dst: str, rule: DetectorRule | None = None, *, strict: bool = False
) -> ScoreReport:
    """Score `src` into `dst`, one output row per input row in the same order. Bad input
    raises InputError; a row whose time is not after the row before is scored as a repeat
    at the previous time, unless `strict` (then it is an InputError)."""
    monitor = Monitor(
        make_detector(None if rule is None else rule.detector),
        None if rule is None else rule.threshold,
    )
    column = "value"
    name = display_name(src, "<stdin>")
    rows = repeats = 0
    first_repeat: int | None = None
    try:
        with (
            open_input(src, encoding="utf-8-sig") as fin,
            open_output(dst) as fout,
            progress(
                fin.size,  # bytes of a file; rows of a pipe, whose size is unknown
                f"score {Path(name).name}",
                unit="row" if fin.size is None else "B",
                unit_scale=True,
            ) as bar,
        ):
            header, batches = read_batches(fin.stream, name, BATCH, repeats=not strict)
            if SCORE_COLUMN in header:
                raise InputError(name, 1, f"the input already has a column {SCORE_COLUMN!r}")
            writer = csv.writer(fout, lineterminator="\n")
            writer.writerow([*header, SCORE_COLUMN])
            key = SeriesKey(Path(name).stem)
            last_pos = 0
            # in batches, so the detector steps through a Frame (its fastest per-row path);
            # every score still uses only its row and the rows before it
            for batch in batches:
                verdicts = monitor.update_frame(Frame(key, batch.t, batch.value, (column,)))
                writer.writerows(
                    [*fields, f"{verdict.score.value:.6f}"]
                    for fields, verdict in zip(batch.fields, verdicts, strict=True)
                )
                rows += len(batch.fields)
                if batch.repeat_lines:
                    repeats += len(batch.repeat_lines)
                    if first_repeat is None:
                        first_repeat = batch.repeat_lines[0]
                pos = fin.position()
                bar.update(len(batch.fields) if pos is None else pos - last_pos)
                last_pos = pos or 0
    except UnicodeDecodeError as exc:
        raise InputError(name, None, f"not UTF-8 text: {exc.reason}") from None
    return ScoreReport(rows, repeats, first_repeat)
