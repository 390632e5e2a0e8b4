"""The `sidecar` command: `check` validates rule files (exit 0 valid, 2 invalid).

Bad input never shows a traceback: every command catches `SidecarError`, prints its
message (with file:line where known) to stderr and exits 2. Heavy modules are imported
inside the command that needs them, so `sidecar --help` and `sidecar check` start fast.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from sidecar import __version__
from sidecar.errors import ConfigError, RuleError, RuleErrors, SidecarError

if TYPE_CHECKING:
    from sidecar.config.loader import Rules
    from sidecar.replay.forecast import Span

__all__ = ["main"]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
DEFAULT_RULES = "rules"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
        return code
    except SidecarError as exc:
        print(f"sidecar: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("sidecar: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, not bad input: say so in one line, trace on request
        if os.environ.get("SIDECAR_DEBUG"):
            raise
        print(
            f"sidecar: internal error: {exc!r} (set SIDECAR_DEBUG=1 for a traceback)",
            file=sys.stderr,
        )
        return EXIT_FAILURE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sidecar", description="ML companion for Prometheus and Alertmanager."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = sub.add_parser(
        "check",
        help="validate rule files; exit 0 when valid, 2 when not",
        description="Validate YAML rule files and print every error as file:line:col: key: "
        "message.",
    )
    check.add_argument(
        "paths",
        nargs="*",
        default=[DEFAULT_RULES],
        metavar="PATH",
        help=f"rule files or directories of *.yaml (default: {DEFAULT_RULES}/)",
    )
    check.add_argument(
        "--online",
        action="store_true",
        help="also run every query as the scheduler does (a range query) and report what "
        "Prometheus rejects; exit 1 if it cannot be reached",
    )
    check.add_argument(
        "--prometheus-url",
        default=None,
        help="Prometheus for --online (default: settings.prometheus_url of the rule files)",
    )
    check.set_defaults(func=_cmd_check)

    score = sub.add_parser(
        "score",
        help="score a timestamp,value CSV for anomalies, row by row",
        description="Replay a series through the same Monitor the scheduler runs and write "
        "the rows with an added anomaly_score column in [0, 1]. Each row's score uses only "
        "that row and the rows before it. IN.csv or OUT.csv may be - (stdin, stdout).",
    )
    score.add_argument("input", metavar="IN.csv", help="CSV with header timestamp,value")
    score.add_argument("-o", "--output", required=True, metavar="OUT.csv", help="CSV to write")
    score.add_argument("--rules", metavar="FILE", help="rule file with the detector to use")
    score.add_argument(
        "--rule", metavar="NAME", help="detector rule in --rules (default: the only one)"
    )
    score.add_argument(
        "--strict",
        action="store_true",
        help="refuse a row whose timestamp is not after the row before (exit 2) instead of "
        "scoring it as a repeat sample at the previous time",
    )
    score.set_defaults(func=_cmd_score)

    forecast = sub.add_parser(
        "forecast",
        help="rolling-origin forecasts of a timestamp,value CSV with prediction intervals",
        description="Fit on the first W rows, then at every K-th row (the origin) forecast the "
        "next H rows from the rows up to the origin only. Writes "
        "origin_timestamp,h,yhat,yhat_lower,yhat_upper. H, K and W are row counts or "
        "Prometheus durations (30m, 6h, 7d). IN.csv or OUT.csv may be - (stdin, stdout).",
    )
    forecast.add_argument("input", metavar="IN.csv", help="CSV with header timestamp,value")
    forecast.add_argument("-o", "--output", required=True, metavar="OUT.csv")
    forecast.add_argument(
        "--horizon", type=_span, metavar="H", help="how far ahead (default: the rule's horizon)"
    )
    forecast.add_argument(
        "--every", type=_span, metavar="K", help="between origins (default: 1 row)"
    )
    forecast.add_argument(
        "--warmup", type=_span, required=True, metavar="W", help="history before the first origin"
    )
    forecast.add_argument(
        "--level", type=_level, metavar="L", help="interval level (default: the rule's, or 0.9)"
    )
    forecast.add_argument(
        "--model",
        choices=["auto", "ets", "mstl", "seasonal_naive", "naive"],
        help="forecasting model (default: the rule's, or auto)",
    )
    forecast.add_argument("--rules", metavar="FILE", help="rule file with the forecast rule to use")
    forecast.add_argument(
        "--rule", metavar="NAME", help="forecast rule in --rules (default: the only one)"
    )
    forecast.set_defaults(func=_cmd_forecast)

    rightsize = sub.add_parser(
        "rightsize",
        help="CPU/memory requests and limits from usage CSVs, with a day-by-day replay",
        description="Recommend a container's CPU request (from CPU.csv, cores), memory "
        "request and memory limit (from --memory MEM.csv, bytes); both are timestamp,value "
        "CSVs. With -o, first replay: at every --every after --warmup, recommend from the "
        "rows before only and score the next period. Prints the recommendation from all rows "
        "as text, or with --patch as YAML: a strategic-merge patch of the container's "
        "resources, or a VerticalPodAutoscaler in Off mode.",
    )
    rightsize.add_argument("input", nargs="?", metavar="CPU.csv", help="CPU usage in cores")
    rightsize.add_argument("--memory", metavar="MEM.csv", help="memory in use, in bytes")
    rightsize.add_argument("-o", "--output", metavar="OUT.csv", help="write the replay here")
    rightsize.add_argument(
        "--every", type=_duration, default=86400.0, metavar="D", help="replay period (1d)"
    )
    rightsize.add_argument(
        "--warmup", type=_duration, default=2 * 86400.0, metavar="D", help="history first (2d)"
    )
    rightsize.add_argument(
        "--oom-at",
        action="append",
        default=[],
        type=_timestamp,
        metavar="TIME",
        help="when the container was OOM-killed (repeatable; unix seconds or ISO-8601)",
    )
    rightsize.add_argument("--risk", type=_fraction, metavar="R", help="CPU risk (0.05)")
    rightsize.add_argument("--rules", metavar="FILE", help="rule file with the rightsizing rule")
    rightsize.add_argument("--rule", metavar="NAME", help="rightsizing rule in --rules")
    rightsize.add_argument("--patch", choices=["resources", "vpa"], help="print as YAML")
    rightsize.add_argument("--workload", default="app", metavar="NAME", help="for --patch")
    rightsize.add_argument("--container", default="app", metavar="NAME", help="for --patch")
    rightsize.add_argument("--namespace", default="default", metavar="NS", help="for --patch")
    rightsize.set_defaults(func=_cmd_rightsize)

    alerts = sub.add_parser("alerts", help="alert salience tools")
    alerts_sub = alerts.add_subparsers(dest="alerts_command", required=True, metavar="COMMAND")
    replay = alerts_sub.add_parser(
        "replay",
        help="rank alerts over a JSONL replay of Alertmanager notifications",
        description="Apply each line (a webhook payload with receivedAt, or a feedback line) "
        "to the alert book and write one line per input line: the firing alerts, most "
        "salient first.",
    )
    replay.add_argument("input", metavar="IN.jsonl")
    replay.add_argument("-o", "--output", required=True, metavar="OUT.jsonl")
    replay.add_argument("--rules", metavar="FILE", help="rule file with a salience section")
    replay.add_argument("--db", metavar="FILE", help="SQLite file to keep the book in (resumable)")
    replay.add_argument(
        "--format",
        choices=["ids", "full"],
        help="ids: fingerprint and salience per alert (for scripts; the default for a file "
        "or pipe); full: also its alertname and reasons (the default on a terminal)",
    )
    replay.set_defaults(func=_cmd_alerts_replay)

    run = sub.add_parser(
        "run",
        help="run the sidecar: scheduler, exporter and HTTP API on Ray Serve",
        description="Start an embedded local Ray (or join RAY_ADDRESS) and serve the app. "
        "Ctrl-C or SIGTERM stops it; SIGHUP reloads the rule files.",
    )
    run.add_argument(
        "--config",
        action="append",
        metavar="FILE",
        help=f"rule file or directory (repeatable; default: {DEFAULT_RULES}/)",
    )
    run.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        help="least severe log lines written (default: settings.log_level, info)",
    )
    run.add_argument(
        "--log-format",
        choices=["text", "json"],
        help="text lines or one JSON object per line (default: settings.log_format, text)",
    )
    run.set_defaults(func=_cmd_run)

    train = sub.add_parser(
        "train",
        help="learn the rules' state from Prometheus history (a Ray job) for a warm start",
        description="Fetch each chosen rule's series over the window, replay them in parallel "
        "Ray tasks (chunks of series by the rule's shard_by labels) and write "
        "data_dir/checkpoints/trained.ckpt, which `sidecar run` loads when it starts. Runs on "
        "an embedded local Ray, or on the cluster at RAY_ADDRESS (also under `ray job "
        "submit`). Run it again after a failure: finished chunks are not redone.",
    )
    train.add_argument(
        "--config",
        action="append",
        metavar="FILE",
        help=f"rule file or directory (repeatable; default: {DEFAULT_RULES}/)",
    )
    train.add_argument(
        "--rule",
        action="append",
        default=[],
        metavar="NAME",
        help="a detector or forecast rule to train (repeatable; default: every enabled one)",
    )
    train.add_argument(
        "--from",
        dest="window",
        type=_duration,
        required=True,
        metavar="DURATION",
        help="how much history to learn from, ending now (a Prometheus duration: 14d)",
    )
    train.add_argument(
        "--workers",
        type=_count,
        default=None,
        metavar="N",
        help="tasks at once (default: the Ray cluster's CPUs)",
    )
    train.add_argument(
        "--samples-per-task",
        type=_count,
        default=None,
        metavar="N",
        help="samples one task fetches at most, which bounds its memory (default: 2000000)",
    )
    train.add_argument(
        "--fresh",
        action="store_true",
        help="start over instead of resuming an unfinished job",
    )
    train.set_defaults(func=_cmd_train)
    return parser


def _cmd_check(args: argparse.Namespace) -> int:
    from sidecar.config.loader import load_rules

    try:
        rules = load_rules(args.paths)
    except RuleErrors as exc:
        for err in exc.errors:
            print(err, file=sys.stderr)
        print(f"{len(exc.errors)} error(s)", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.online:
        url = args.prometheus_url or str(rules.settings.prometheus_url)
        problems = _check_online(rules, url)
        if problems is None:
            print(
                f"sidecar: Prometheus at {url} is unreachable: online checks not done",
                file=sys.stderr,
            )
            return EXIT_FAILURE
        if problems:
            for err in problems:
                print(err, file=sys.stderr)
            print(f"{len(problems)} error(s)", file=sys.stderr)
            return EXIT_BAD_INPUT
    files = ", ".join(rules.files) or "no files"
    print(
        f"{len(rules.detectors)} detector rule(s), {len(rules.forecasts)} forecast rule(s), "
        f"{len(rules.rightsizing)} rightsizing rule(s) valid in {files}"
    )
    return EXIT_OK


def _cmd_score(args: argparse.Namespace) -> int:
    from sidecar.replay.score import score_csv, select_rule

    rule = select_rule(args.rules, args.rule)
    report = score_csv(args.input, args.output, rule, strict=args.strict)
    warning = report.warning(args.input)
    if warning:
        print(warning, file=sys.stderr)
    print(f"scored {report.rows} rows into {args.output}", file=sys.stderr)
    return EXIT_OK


def _cmd_forecast(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from sidecar.replay.forecast import (
        ForecastSettings,
        Span,
        forecast_csv,
        select_forecast_rule,
    )

    if args.rules:
        settings = ForecastSettings.from_rule(select_forecast_rule(args.rules, args.rule))
    elif args.rule:
        raise ConfigError("--rule needs --rules FILE")
    elif args.horizon is None:
        raise ConfigError("--horizon is required without --rules")
    else:
        settings = ForecastSettings(args.horizon)
    settings = replace(
        settings,
        horizon=args.horizon or settings.horizon,
        model=args.model or settings.model,
        level=settings.level if args.level is None else args.level,
    )
    every = args.every or Span(rows=1)
    n = forecast_csv(args.input, args.output, settings, every, args.warmup)
    print(f"wrote {n} forecast origins into {args.output}", file=sys.stderr)
    return EXIT_OK


def _span(text: str) -> Span:
    """A row count or a Prometheus duration, for argparse."""
    from sidecar.replay.forecast import Span

    try:
        return Span.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _number(text: str, ok: Callable[[float], bool], what: str) -> float:
    """`text` as a number `ok` accepts, for argparse; else an error naming `what`."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not ok(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
    return value


def _count(text: str) -> int:
    """A whole number >= 1, for argparse."""
    return int(_number(text, lambda v: v >= 1 and v == int(v), "a whole number >= 1"))


def _level(text: str) -> float:
    """An interval level in [0.5, 1), for argparse."""
    return _number(text, lambda v: 0.5 <= v < 1, "a level in [0.5, 1) such as 0.9")


def _duration(text: str) -> float:
    """A positive Prometheus duration in seconds, for argparse."""
    from sidecar.config.durations import parse_duration

    try:
        value = parse_duration(text.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive duration")
    return value


def _timestamp(text: str) -> float:
    """Unix seconds or ISO-8601, for argparse."""
    from sidecar.replay.timeseries_csv import parse_timestamp

    try:
        return parse_timestamp(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _fraction(text: str) -> float:
    """A number in (0, 1), for argparse."""
    return _number(text, lambda v: 0 < v < 1, "a fraction in (0, 1) such as 0.05")


def _cmd_rightsize(args: argparse.Namespace) -> int:
    import yaml

    from sidecar.config.schema import RightsizingPolicy
    from sidecar.replay.rightsize import (
        describe,
        read_series,
        recommend_now,
        replay_rightsizing,
    )
    from sidecar.replay.rule_choice import pick_rule
    from sidecar.rightsize.patch import Workload, resources_patch, vpa_object

    if args.input is None and args.memory is None:
        raise ConfigError("give CPU.csv, --memory MEM.csv or both")
    policy = RightsizingPolicy()
    if args.rules:
        from sidecar.config.loader import load_rules

        rule = pick_rule(load_rules([args.rules]).rightsizing, args.rule, args.rules, "rightsizing")
        policy = RightsizingPolicy.model_validate(
            rule.model_dump(include=set(RightsizingPolicy.model_fields))
        )
    elif args.rule:
        raise ConfigError("--rule needs --rules FILE")
    if args.risk is not None:
        policy = policy.model_copy(update={"risk": args.risk})
    cpu = read_series(args.input) if args.input is not None else None
    memory = read_series(args.memory) if args.memory is not None else None
    kills = tuple(args.oom_at)
    if args.output:
        summary = replay_rightsizing(
            cpu, memory, policy, args.output, every=args.every, warmup=args.warmup, oom_kills=kills
        )
        for line in summary.lines():
            print(line, file=sys.stderr)
    sized = recommend_now(cpu, memory, policy, kills)
    if args.patch:
        workload = Workload(args.workload, args.container, args.namespace)
        make = resources_patch if args.patch == "resources" else vpa_object
        print(yaml.safe_dump(make(sized, workload), sort_keys=False), end="")
    else:
        print("\n".join(describe(sized)))
    return EXIT_OK


def _cmd_alerts_replay(args: argparse.Namespace) -> int:
    from sidecar.replay.alerts import ReplayFormat, replay_alerts

    salience = None
    if args.rules:
        from sidecar.config.loader import load_rules

        salience = load_rules([args.rules]).salience
    terminal = args.output == "-" and sys.stdout.isatty()
    fmt: ReplayFormat = args.format or ("full" if terminal else "ids")
    n = replay_alerts(args.input, args.output, salience, args.db, fmt)
    print(f"replayed {n} lines into {args.output}", file=sys.stderr)
    return EXIT_OK


def _cmd_run(args: argparse.Namespace) -> int:
    from sidecar.app.run import run

    # as settings overrides: the replicas read the same variables
    if args.log_level:
        os.environ["SIDECAR_LOG_LEVEL"] = args.log_level
    if args.log_format:
        os.environ["SIDECAR_LOG_FORMAT"] = args.log_format
    return run(args.config or [DEFAULT_RULES])


def _cmd_train(args: argparse.Namespace) -> int:
    from sidecar.config.loader import load_rules
    from sidecar.errors import SourceError
    from sidecar.train.job import DEFAULT_SAMPLES_PER_TASK, run_job

    rules = load_rules(args.config or [DEFAULT_RULES])
    try:
        summary = run_job(
            rules,
            args.rule,
            args.window,
            workers=args.workers,
            samples_per_task=args.samples_per_task or DEFAULT_SAMPLES_PER_TASK,
            fresh=args.fresh,
            say=lambda line: print(f"sidecar: {line}", file=sys.stderr),
        )
    except SourceError as exc:  # Prometheus, not the input: exit 1, and a rerun resumes
        print(f"sidecar: Prometheus: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    for line in summary.lines():
        print(line)
    return EXIT_FAILURE if summary.failed else EXIT_OK


def _check_online(rules: Rules, url: str) -> list[RuleError] | None:
    """What Prometheus says of each query run as the scheduler runs it (a range query over
    the last few steps), or None if Prometheus cannot be reached."""
    from sidecar.clock import SystemClock
    from sidecar.errors import BadResponse, QueryError, SourceUnavailable
    from sidecar.sources.prometheus import PrometheusSource

    now = SystemClock().now()
    problems: list[RuleError] = []
    with PrometheusSource(url, timeout=rules.settings.query_timeout, retries=0) as source:
        for name, step, queries in _queries_of(rules):
            for query in queries:
                try:
                    source.query_range(query, now - 5 * step, now, step)
                except QueryError as exc:
                    verb = "rejects" if exc.error_type == "bad_data" else "cannot run"
                    problems.append(
                        RuleError(
                            rules.locations[name], name, f"Prometheus {verb} the query: {exc}"
                        )
                    )
                except BadResponse as exc:
                    problems.append(
                        RuleError(rules.locations[name], name, f"unexpected answer: {exc}")
                    )
                except SourceUnavailable:
                    return None
    return problems


def _queries_of(rules: Rules) -> list[tuple[str, float, list[str]]]:
    """Every PromQL expression of every rule, by rule name, with the rule's step."""
    out: list[tuple[str, float, list[str]]] = []
    for d in rules.detectors:
        queries = [d.query] if d.query is not None else list((d.queries or {}).values())
        out.append((d.name, d.step, queries))
    for f in rules.forecasts:
        extra = [f.scaling.current_replicas_query] if f.scaling else []
        if f.scaling and f.scaling.learn_capacity:
            extra.append(f.scaling.learn_capacity.latency_query)
        out.append((f.name, f.step, [f.query] + [q for q in extra if q]))
    for r in rules.rightsizing:
        given = (r.cpu_query, r.memory_query, r.oom_query, r.throttling_query)
        out.append((r.name, r.step, [q for q in given if q is not None]))
    return out


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
