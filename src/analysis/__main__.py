"""Command line: ``python -m analysis {clean,validate,assess,benchmark,run,bench-batch}``.

``clean`` and ``validate`` are the data stage, ``assess`` and ``benchmark`` the models stage,
``run`` the whole batch (what ``make report`` calls), ``bench-batch`` its timings.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from analysis.errors import AnalysisError


def _cmd_clean(args: argparse.Namespace) -> int:
    from analysis.data.stage import clean

    published = clean()
    for _name, path in published.items():
        print(f"wrote {path}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from analysis.data.stage import raw_files, validate_files

    paths = [Path(p) for p in args.files] or raw_files()
    problems = validate_files(paths)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) in {len(paths)} file(s)", file=sys.stderr)
        return 1
    print(f"{len(paths)} file(s) valid")
    return 0


def _cmd_assess(args: argparse.Namespace) -> int:
    from analysis.models.stage import assess

    for _name, path in assess(as_of=args.as_of, n_paths=args.paths).items():
        print(f"wrote {path}")
    return 0


def _cmd_benchmark(args: argparse.Namespace) -> int:
    from analysis import config
    from analysis.models.benchmark import evaluate, format_table, load_series
    from analysis.storage import atomic_write_json

    data = Path(args.data) if args.data else config.benchmark_file()
    try:
        series = load_series(data)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = evaluate(series, window=args.window, n_paths=args.paths, seed=args.seed)
    result["data"] = str(data)
    print(format_table(result))
    if args.out:
        atomic_write_json(Path(args.out), result)
        print(f"wrote {args.out}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from analysis.batch.run import RunOptions, run

    options = RunOptions(
        only=args.only,
        langs=args.lang,
        as_of=args.as_of or 0,
        jobs=args.jobs,
        force=args.force,
        output=Path(args.output) if args.output else None,
        scheduler=args.scheduler,
        timeout=args.timeout,
        wait=args.wait,
        plan=Path(args.plan) if args.plan else None,
    )
    return run(options, log=lambda message: print(message, flush=True))


def _cmd_bench_batch(args: argparse.Namespace) -> int:
    from analysis.batch.bench import bench_batch
    from analysis.storage import atomic_write_json

    result = bench_batch()
    print(result)
    if args.out:
        atomic_write_json(Path(args.out), result)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analysis", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "clean", help="raw -> data/processed (indicators, targets, conflicts, exclusions, sources)"
    ).set_defaults(func=_cmd_clean)
    validate = commands.add_parser("validate", help="check raw files; list every problem as file:row:column")
    validate.add_argument("files", nargs="*", help="CSV files (default: every file in data/raw)")
    validate.set_defaults(func=_cmd_validate)
    assess = commands.add_parser(
        "assess", help="trend models + progress rules -> data/processed/forecasts.csv, assessments.csv"
    )
    assess.add_argument("--as-of", type=int, default=None, help="use only figures published up to this year")
    assess.add_argument("--paths", type=int, default=4000, help="simulated paths per model (default 4000)")
    assess.set_defaults(func=_cmd_assess)
    bench = commands.add_parser("benchmark", help="back-test the forecast method on yearly series (M3 format)")
    bench.add_argument(
        "--data", help="CSV with series_id, t, value, split (default ../shared/benchmarks/m3_yearly.csv)"
    )
    bench.add_argument("--window", type=int, default=None, help="train on the last K points only")
    bench.add_argument("--paths", type=int, default=500, help="simulated paths per model (default 500)")
    bench.add_argument("--seed", type=int, default=0)
    bench.add_argument("--out", help="write the result as JSON")
    bench.set_defaults(func=_cmd_benchmark)
    run_parser = commands.add_parser(
        "run", help="regenerate every report in notebooks/plan.yml (HTML + PDF, each language)"
    )
    run_parser.add_argument("--only", action="append", help="plan entry name (repeatable)")
    run_parser.add_argument(
        "--lang", action="append", choices=["vi", "en"], help="language (repeatable; default: the plan's)"
    )
    run_parser.add_argument("--as-of", type=int, default=0, help="assess with figures published up to this year")
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
    run_parser.set_defaults(func=_cmd_run)
    bench_batch = commands.add_parser("bench-batch", help="time naive chain vs batch cold vs batch warm")
    bench_batch.add_argument("--out", help="write the timings as JSON")
    bench_batch.set_defaults(func=_cmd_bench_batch)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except AnalysisError as exc:
        lines = exc.lines()
        for line in lines:
            print(f"error: {line}", file=sys.stderr)
        print(f"{len(lines)} problem(s); nothing was written", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
