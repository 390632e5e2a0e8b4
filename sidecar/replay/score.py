"""`sidecar score`: a CSV series through a rule's `Monitor`, one output row per input row."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

from sidecar.config.schema import DetectorRule
from sidecar.detect.monitor import Monitor
from sidecar.detect.registry import make_detector
from sidecar.errors import ConfigError, InputError
from sidecar.progress import progress
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
    if name is None:
        if len(rules.detectors) != 1:
            names = ", ".join(r.name for r in rules.detectors) or "none"
            raise ConfigError(f"{rules_file}: name the detector rule with --rule (found: {names})")
        return rules.detectors[0]
    for rule in rules.detectors:
        if rule.name == name:
            return rule
    raise ConfigError(f"{rules_file}: no detector rule named {name!r}")


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
    try:
        size = os.path.getsize(src)
        fin = open(src, newline="", encoding="utf-8-sig")  # noqa: SIM115 (closed by the with below)
    except OSError as exc:
        raise InputError(src, None, f"cannot read: {exc.strerror}") from None
    tmp = Path(dst).with_name(Path(dst).name + ".partial")
    rows = repeats = 0
    first_repeat: int | None = None
    try:
        with (
            fin,
            open(tmp, "w", newline="", encoding="utf-8") as fout,
            progress(size, f"score {Path(src).name}", unit="B", unit_scale=True) as bar,
        ):
            header, batches = read_batches(fin, src, BATCH, repeats=not strict)
            if SCORE_COLUMN in header:
                raise InputError(src, 1, f"the input already has a column {SCORE_COLUMN!r}")
            writer = csv.writer(fout, lineterminator="\n")
            writer.writerow([*header, SCORE_COLUMN])
            key = SeriesKey(Path(src).stem)
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
                # bytes read from the file (a buffer ahead of the parser: near enough)
                pos = os.lseek(fin.fileno(), 0, os.SEEK_CUR)
                bar.update(pos - last_pos)
                last_pos = pos
            bar.update(size - last_pos)
        os.replace(tmp, dst)
    except UnicodeDecodeError as exc:
        raise InputError(src, None, f"not UTF-8 text: {exc.reason}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return ScoreReport(rows, repeats, first_repeat)
