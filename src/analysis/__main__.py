"""Command line: ``python -m analysis <command>`` (``--help`` lists them).

``add``, ``import``, ``template``, ``clean`` and ``validate`` are the data stage; ``assess``,
``track-record``, ``benchmark`` and ``fit-defaults`` the models stage; ``run`` the whole batch
(what ``make report`` calls), ``batch-timings`` its timings.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from analysis.errors import WRITE_ERRNOS, AnalysisError, ExitCode, WriteError

#: A file with a problem in every row would print megabytes; the first ones show what is wrong.
MAX_PROBLEMS_SHOWN = 50
#: Simulated paths per model of ``assess`` and ``track-record`` as the pipeline runs them (other counts are not
#: recorded as current: the pipeline reruns the step when a report next asks for it).
ASSESS_PATHS, TRACK_RECORD_PATHS = 4000, 2000
WAIT_HELP = (
    "seconds to wait while a batch run's data stage or a clean holds the data's lock "
    "(default 0: exit 3 and write nothing)"
)


def _cmd_clean(args: argparse.Namespace) -> int:
    from analysis import pipeline
    from analysis.data.stage import lock

    with lock():
        published = pipeline.run_step(pipeline.STEP["clean"], pipeline.Context())
    for _name, path in published.items():
        print(f"wrote {path}")
    return ExitCode.OK


def _cmd_validate(args: argparse.Namespace) -> int:
    from analysis.data.stage import raw_files, validate_files

    paths = [Path(p) for p in args.files] or raw_files()
    problems = validate_files(paths)
    for problem in problems[:MAX_PROBLEMS_SHOWN]:
        print(problem)
    if len(problems) > MAX_PROBLEMS_SHOWN:
        print(f"... and {len(problems) - MAX_PROBLEMS_SHOWN} more problem(s) of the same kinds")
    if problems:
        print(f"{len(problems)} problem(s) in {len(paths)} file(s)", file=sys.stderr)
        return ExitCode.BAD_INPUT
    print(f"{len(paths)} file(s) valid")
    return ExitCode.OK


def _cmd_add(args: argparse.Namespace) -> int:
    from analysis.data.intake import add_figure

    fields = {
        "indicator": args.indicator,
        "geography": args.geography,
        "period": args.period,
        "value_as_published": args.value,
        "unit_as_published": args.unit,
        "kind": args.kind,
        "methodology_or_estimator": args.estimator,
        "source_publisher": args.publisher,
        "source_title": args.title or "",
        "source_url": args.url,
        "published_date": args.published_date,
    }
    path, row = add_figure(fields, args.file, wait=args.wait)
    print(
        f"wrote {path.name} row {row} (and {path.name}.meta.yml); check it with `python -m analysis validate`, "
        "publish it with `make report`"
    )
    return ExitCode.OK


def _cmd_import(args: argparse.Namespace) -> int:
    from analysis.data.intake import import_file

    origin = {
        "title": args.title,
        "description": args.description,
        "producer": args.producer,
        "collection": args.collection,
        "date_accessed": args.retrieved,
    }
    path = import_file(Path(args.file), origin, args.name, wait=args.wait)
    print(f"wrote {path} and {path.name}.meta.yml; publish the figures with `make report`")
    return ExitCode.OK


def _cmd_template(args: argparse.Namespace) -> int:
    from analysis.data.intake import write_template

    path = write_template(Path(args.file))
    print(
        f"wrote {path}: fill in one row per figure (text exactly as published), then `python -m analysis import {path}`"
    )
    return ExitCode.OK


def _cmd_assess(args: argparse.Namespace) -> int:
    from analysis import pipeline
    from analysis.data.stage import lock
    from analysis.models.stage import assess

    step = pipeline.STEP["assess-as-of" if args.as_of else "assess"]
    with lock():
        if args.paths == ASSESS_PATHS:  # as the pipeline runs it: recorded, so a report does not rerun it
            written = pipeline.run_step(step, pipeline.Context(as_of=args.as_of))
        else:
            pipeline.forget(step.key(pipeline.Context(as_of=args.as_of)))
            written = assess(as_of=args.as_of, n_paths=args.paths)
    for _name, path in written.items():
        print(f"wrote {path}")
    return ExitCode.OK


def _cmd_track_record(args: argparse.Namespace) -> int:
    from analysis import pipeline
    from analysis.data.stage import lock
    from analysis.models.stage import publish_track_record

    with lock():
        if args.paths == TRACK_RECORD_PATHS:
            written = pipeline.run_step(pipeline.STEP["track_record"], pipeline.Context())
        else:
            pipeline.forget("track_record")
            written = publish_track_record(pipeline.cache_key("track_record"), n_paths=args.paths)
    print(f"wrote {written}")
    return ExitCode.OK


def _benchmark_windows(values: list[str] | None) -> list[int | None]:
    """``--window 3 4 full`` -> [3, 4, None]; default: every window of the README table."""
    from analysis.models.benchmark import WINDOWS

    if not values:
        return list(WINDOWS)
    out = []
    for value in values:
        if value == "full":
            out.append(None)
        elif value.isdigit() and int(value) >= 2:
            out.append(int(value))
        else:
            raise SystemExit(f"error: --window takes 'full' or a whole number of points >= 2, got {value!r}")
    return out


def _cmd_benchmark(args: argparse.Namespace) -> int:
    from analysis.models.benchmark import format_table
    from analysis.models.stage import run_benchmarks

    windows = _benchmark_windows(args.window)
    files = {Path(p).stem: (Path(p), args.kind) for p in args.data} if args.data else None
    try:
        document = run_benchmarks(
            files,
            windows,
            Path(args.out) if args.out else None,
            force=True,
            log=lambda line: print(line, file=sys.stderr),
        )
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    names = list(files) if files else list(document["datasets"])
    for name in names:
        entry = document["datasets"][name]
        print(format_table(entry["windows"], title=entry["data"]))
        print()
    print(f"wrote {args.out or 'data/processed/benchmark.json'}")
    return ExitCode.OK


def _cmd_fit_defaults(args: argparse.Namespace) -> int:
    import time

    from analysis import config
    from analysis.models.stage import refit_defaults

    default_data = {"level": config.benchmark_files()["m3_yearly"], "share": config.benchmark_files()["share_series"]}
    data = Path(args.data) if args.data else default_data[args.kind]
    started = time.perf_counter()
    try:
        target, figures = refit_defaults(args.kind, data, Path(args.out) if args.out else None)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    print(f"fitted the {args.kind} defaults on {figures['series']} series in {time.perf_counter() - started:.1f} s")
    print(f"chosen: {figures['chosen']}")
    print(f"wrote {target}")
    return ExitCode.OK


def _cmd_run(args: argparse.Namespace) -> int:
    from analysis.batch.run import RunOptions, run

    options = RunOptions(
        only=args.only,
        langs=args.lang,
        as_of=args.as_of or None,
        jobs=args.jobs,
        force=args.force,
        output=Path(args.output) if args.output else None,
        scheduler=args.scheduler,
        timeout=args.timeout,
        wait=args.wait,
        plan=Path(args.plan) if args.plan else None,
        dry_run=args.dry_run,
        quiet=args.quiet,
        progress=sys.stderr.isatty() and not args.quiet,
    )
    return run(options, log=lambda message: print(message, flush=True))


def _cmd_bench_batch(args: argparse.Namespace) -> int:
    from analysis.batch.timings import time_batch
    from analysis.storage import atomic_write_json

    result = time_batch()
    print(f"cold / naive chain      {result['cold_over_naive']:.3f}   (target <= 0.25)")
    print(f"warm / cold             {result['warm_over_cold']:.4f}  (target < 0.02)")
    print(f"nothing changed, wall   {result['nothing_changed_process_seconds']:.2f} s  (target < 1 s)")
    print(f"one new figure / cold   {result['one_figure_over_cold']:.3f}   (target <= 0.5)")
    print(f"seconds per report, 60  {result['seconds_per_report_60']:.2f}    (target <= 3)")
    print(f"machine: {result['machine']}")
    if args.out:
        atomic_write_json(Path(args.out), result)
    return ExitCode.OK


def build_parser() -> argparse.ArgumentParser:
    from analysis.errors import EXIT_CODES

    parser = argparse.ArgumentParser(
        prog="python -m analysis", description=__doc__, epilog=EXIT_CODES, formatter_class=argparse.RawTextHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "clean", help="raw -> data/processed (indicators, targets, conflicts, exclusions, sources)"
    ).set_defaults(func=_cmd_clean)
    validate = commands.add_parser("validate", help="check raw files; list every problem as file:row:column")
    validate.add_argument("files", nargs="*", help="CSV files (default: every file in data/raw)")
    validate.set_defaults(func=_cmd_validate)
    add = commands.add_parser(
        "add", help="add one published figure as a new raw row (checked first; nothing written on error)"
    )
    for option, help_text in (
        ("--indicator", "indicator id of data/registry/indicators.yml, e.g. digital_economy_share_GRDP"),
        ("--geography", "place as printed, e.g. 'HCMC', 'HCMC (merged)', 'Vietnam'"),
        ("--period", "period as printed, e.g. 2025, 2025-H1, '2026-2030 (annual)'"),
        ("--value", "value exactly as printed, e.g. 'khoảng 25', '18,66', '13,71-15,72'"),
        ("--unit", "unit as printed, e.g. '%% GRDP', 'tỷ đồng'"),  # %% : argparse formats help text
        ("--kind", f"one of {', '.join(('actual', 'estimate', 'preliminary', 'target', 'projection'))}"),
        ("--estimator", "who estimated the figure and how, e.g. 'MIC/MST-framework series (Bộ KH&CN)'"),
        ("--publisher", "outlet that printed the figure"),
        ("--url", "address of the page (http or https)"),
        ("--published-date", "date printed with the figure, YYYY-MM-DD"),
    ):
        add.add_argument(option, required=True, help=help_text)
    add.add_argument("--title", help="title of the article or document")
    add.add_argument("--file", help="entry file in data/raw (default analyst-<today>.csv)")
    add.add_argument("--wait", type=float, default=0.0, help=WAIT_HELP)
    add.set_defaults(func=_cmd_add)
    importer = commands.add_parser(
        "import", help="add every row of a CSV or Excel sheet as a new raw file (all rows checked first)"
    )
    importer.add_argument("file", help="CSV with the raw columns, or an Excel sheet made from `template`")
    importer.add_argument("--name", help="name of the new raw file (default: the file's name)")
    importer.add_argument("--producer", help="who compiled the figures (default: you)")
    importer.add_argument("--collection", help="how they were collected")
    importer.add_argument("--title", help="what the file holds")
    importer.add_argument("--description", help="a longer description")
    importer.add_argument("--retrieved", help="date the figures were retrieved, YYYY-MM-DD (default today)")
    importer.add_argument("--wait", type=float, default=0.0, help=WAIT_HELP)
    importer.set_defaults(func=_cmd_import)
    template = commands.add_parser(
        "template", help="write an Excel template for new figures (dropdowns, one example row)"
    )
    template.add_argument("file", help="the .xlsx file to write")
    template.set_defaults(func=_cmd_template)
    assess = commands.add_parser(
        "assess", help="trend models + progress rules -> data/processed/forecasts.csv, assessments.csv"
    )
    assess.add_argument("--as-of", type=int, default=None, help="use only figures published up to this year")
    assess.add_argument(
        "--paths", type=int, default=ASSESS_PATHS, help=f"simulated paths per model (default {ASSESS_PATHS})"
    )
    assess.set_defaults(func=_cmd_assess)
    track = commands.add_parser(
        "track-record", help="restate every planned target at each past year and score it -> track_record.csv"
    )
    track.add_argument(
        "--paths",
        type=int,
        default=TRACK_RECORD_PATHS,
        help=f"simulated paths per model (default {TRACK_RECORD_PATHS})",
    )
    track.set_defaults(func=_cmd_track_record)
    bench = commands.add_parser(
        "benchmark", help="back-test the forecast method on yearly series (M3 format), shares as shares"
    )
    bench.add_argument(
        "--data",
        action="append",
        help="CSV with series_id, t, value, split (repeatable; default: ../shared/benchmarks/m3_yearly.csv and "
        "share_series.csv)",
    )
    bench.add_argument(
        "--kind",
        choices=["share", "level"],
        help="model the files as shares (logit scale, 0-100, share defaults) or levels (log scale); "
        "default: detected from the values and the category column",
    )
    bench.add_argument(
        "--window",
        nargs="+",
        metavar="K",
        help="forecast from the last K training points (several allowed; 'full' for the whole history; "
        "default: full 6 5 4 3)",
    )
    bench.add_argument("--out", help="write the results as JSON (default data/processed/benchmark.json)")
    bench.set_defaults(func=_cmd_benchmark)
    fit = commands.add_parser(
        "fit-defaults",
        help="fit the forecaster's hyperparameters for one kind of series on a benchmark's training parts -> "
        "src/analysis/models/forecast_defaults.yml",
    )
    fit.add_argument("--kind", choices=["share", "level"], default="share", help="which section to refit")
    fit.add_argument(
        "--data", help="CSV in the M3 format (default: share_series.csv for shares, m3_yearly.csv for levels)"
    )
    fit.add_argument("--out", help="write here instead of the file the package reads")
    fit.set_defaults(func=_cmd_fit_defaults)
    run_parser = commands.add_parser(
        "run",
        help="regenerate every report in notebooks/plan.yml (HTML + PDF, each language)",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run_parser.add_argument("--only", action="append", help="plan entry name (repeatable)")
    run_parser.add_argument(
        "--lang", action="append", choices=["vi", "en"], help="language (repeatable; default: the plan's)"
    )
    run_parser.add_argument("--as-of", type=int, default=None, help="assess with figures published up to this year")
    run_parser.add_argument(
        "--jobs", type=int, default=2, help="parallel reports on the local process pool (default 2)"
    )
    run_parser.add_argument("--force", action="store_true", help="rebuild even when nothing changed")
    run_parser.add_argument("--output", help="reports folder (default reports/)")
    run_parser.add_argument("--scheduler", help="address of a Dask distributed scheduler to send the reports to")
    run_parser.add_argument("--timeout", type=int, default=600, help="seconds allowed per notebook cell (default 600)")
    run_parser.add_argument(
        "--wait", type=float, default=0.0, help="seconds to wait for another run's lock (default 0: exit)"
    )
    run_parser.add_argument("--plan", help="run plan (default notebooks/plan.yml)")
    run_parser.add_argument("--dry-run", action="store_true", help="say what would be rebuilt and why; change nothing")
    run_parser.add_argument("--quiet", action="store_true", help="print only errors and failures (for cron)")
    run_parser.set_defaults(func=_cmd_run)
    time_batch = commands.add_parser(
        "batch-timings", help="time naive chain vs batch cold, nothing changed, one new figure, 60 reports"
    )
    time_batch.add_argument("--out", help="write the timings as JSON")
    time_batch.set_defaults(func=_cmd_bench_batch)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except AnalysisError as exc:
        lines = exc.lines()
        for line in lines[:MAX_PROBLEMS_SHOWN]:
            print(f"error: {line}", file=sys.stderr)
        if len(lines) > MAX_PROBLEMS_SHOWN:
            print(f"... and {len(lines) - MAX_PROBLEMS_SHOWN} more problem(s) of the same kinds", file=sys.stderr)
        print(f"{len(lines)} problem(s); nothing was written", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        if exc.errno not in WRITE_ERRNOS:
            raise
        # a full, read-only or immutable disk is the operator's to fix: one line, no traceback
        print(f"error: {WriteError.from_os_error(exc, f'finish `{args.command}`')}", file=sys.stderr)
        return WriteError.exit_code


if __name__ == "__main__":
    sys.exit(main())
