"""Command line: ``python -m analysis {clean,validate,assess,benchmark,run}``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from analysis.errors import RawDataError


def _cmd_clean(args: argparse.Namespace) -> int:
    from analysis.pipeline import clean

    published = clean()
    for name, path in published.items():
        print(f"wrote {path}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from analysis.pipeline import raw_files, validate_files

    paths = [Path(p) for p in args.files] or raw_files()
    problems = validate_files(paths)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) in {len(paths)} file(s)", file=sys.stderr)
        return 1
    print(f"{len(paths)} file(s) valid")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analysis", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("clean", help="raw -> data/processed (indicators, targets, conflicts, exclusions, sources)").set_defaults(func=_cmd_clean)
    validate = commands.add_parser("validate", help="check raw files; list every problem as file:row:column")
    validate.add_argument("files", nargs="*", help="CSV files (default: every file in data/raw)")
    validate.set_defaults(func=_cmd_validate)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except RawDataError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        print(f"{len(exc.problems)} problem(s); nothing was written", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
