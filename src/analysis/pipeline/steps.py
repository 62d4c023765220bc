"""The steps of the pipeline, declared once: what each reads, the code it runs, what it writes, how it runs.

In the spirit of owid/etl's ``dag``: the data steps (clean, assess, assess as of a year, track record,
changes, benchmark) are the table :data:`STEPS`; a step reads the outputs of the steps before it that
write what it reads.  After a step runs, the fingerprint of its inputs is recorded in
``data/processed/.pipeline.json``; whether a step is stale is decided by :func:`analysis.pipeline.rule.why_stale`
from that record alone.  The batch (``python -m analysis run`` and ``--dry-run``), the notebooks
(:func:`analysis.reports.loading.load_report`), the commands ``clean``, ``assess`` and ``track-record`` and
the track record's cache (:func:`cache_key`) all ask this module.  Reports are steps too: see
:mod:`analysis.pipeline.reports`.

Nothing here imports pandas: a run with nothing to do decides from fingerprints alone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from analysis import config
from analysis.data import files as data_files
from analysis.data.provenance import hash_files, sha256_of
from analysis.data.registry import registry_files
from analysis.models.benchmark_code import METHOD_FILES
from analysis.pipeline.rule import why_stale
from analysis.storage import atomic_write_json

#: The pipeline's record of what each step was last made from (in ``data/processed``).
RECORD_FILE = ".pipeline.json"
#: Set in a batch run's kernels: the run made the tables from the inputs it fingerprinted, so a table that
#: exists is never stale there (a figure added meanwhile is for the next run).
TABLES_READY = "ANALYSIS_TABLES_READY"
#: Shared modules every stage runs (see ``ARCHITECTURE.md``).
SHARED_CODE = ("config.py", "errors.py", "storage.py", "tables.py", "i18n.py", "locale")
#: File endings of the package's source that count as code (see :func:`code_digest`).
CODE_SUFFIXES = (".py", ".mplstyle", ".yml", ".j2", ".css")


@dataclass(frozen=True)
class Context:
    """What a pipeline call is about: the ``as_of`` year (None: every figure), the editions folder, a log."""

    as_of: int | None = None
    editions: Path | None = None
    log: Callable[[str], None] | None = field(default=None, compare=False)

    def editions_dir(self) -> Path:
        """The editions folder (default ``reports/editions``)."""
        return self.editions or config.reports_dir() / "editions"


@dataclass(frozen=True)
class Step:
    """One step: its name, the files it reads, the package code it runs, the files it writes, how it runs.

    ``facts`` are inputs that are not files (the year, the latest edition); ``applies`` says whether the step
    is part of a run with this context (the as-of assessment only with ``as_of``; the benchmarks only when a
    benchmark file is there); ``command`` runs it alone.
    """

    name: str
    reads: Callable[[Context], list[Path]]
    code: tuple[str, ...]
    writes: Callable[[Context], list[Path]]
    build: Callable[[Context], object]
    command: str
    facts: Callable[[Context], dict[str, str]] = lambda _ctx: {}
    applies: Callable[[Context], bool] = lambda _ctx: True
    per_year: bool = False

    def key(self, ctx: Context) -> str:
        """The step's name in the record: ``assess-as-of-2024`` for the as-of assessment of 2024."""
        return config.as_of_name(self.name.removesuffix("-as-of"), ctx.as_of) if self.per_year else self.name


# --- fingerprints ------------------------------------------------------------------------------------


def code_digest(parts: Iterable[str]) -> str:
    """Hex sha256 of the package source under ``parts`` (folders or files of ``src/analysis``)."""
    package = Path(__file__).resolve().parents[1]
    paths: list[Path] = []
    for part in parts:
        where = package / part
        found = [where] if where.is_file() else [p for p in where.rglob("*") if p.is_file()]
        paths += [p for p in found if p.suffix in CODE_SUFFIXES and "__pycache__" not in p.parts]
    return hash_files(sorted(set(paths)))


def input_name(path: Path) -> str:
    """How a file is named in a fingerprint: its path in the project (``data/curation.yml``), else its name."""
    try:
        return path.resolve().relative_to(config.project_root()).as_posix()
    except ValueError:
        return path.name


def fingerprint(step: Step, ctx: Context, code: dict | None = None) -> dict[str, str]:
    """The step's inputs now: each file it reads (sha256, ``absent`` when it is not there), its code, its facts.

    ``code``: a memo of code digests shared by several calls (one hashing of the package per call site).
    """
    memo = {} if code is None else code
    key = ",".join(step.code)
    if key not in memo:
        memo[key] = code_digest(step.code)
    files = {input_name(path): sha256_of(path) if path.exists() else "absent" for path in step.reads(ctx)}
    return {**files, "code": memo[key], **step.facts(ctx)}


def cache_key(name: str, ctx: Context | None = None) -> str:
    """What a step's own cache depends on beyond the figures it is handed: its code and the settings among the
    files it reads (the registry, the assessment plan), not the figures (raw files, the curation list that
    sets some aside, processed tables), by which the cache is keyed besides.

    The track record keeps each past year's restatement under this key and the figures public then.
    """
    ctx = ctx or Context()
    step = STEP[name]
    figures = (config.raw_dir(), config.processed_dir())
    settings = [p for p in step.reads(ctx) if p.parent not in figures and p != config.curation_file()]
    text = "\n".join([code_digest(step.code), *(f"{input_name(p)}:{sha256_of(p)}" for p in settings if p.exists())])
    return hashlib.sha256(text.encode()).hexdigest()


# --- the record ------------------------------------------------------------------------------------


def record_path() -> Path:
    """``data/processed/.pipeline.json``."""
    return config.processed_dir() / RECORD_FILE


def load_records() -> dict[str, dict[str, str]]:
    """What each step was last made from (``{}`` when there is no readable record: every step is then stale)."""
    try:
        records = json.loads(record_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return records if isinstance(records, dict) else {}


def save_record(key: str, inputs: dict[str, str]) -> None:
    """Record that the step ``key`` was made from ``inputs`` (the caller holds the data's lock)."""
    records = load_records()
    records[key] = inputs
    atomic_write_json(record_path(), records)


def forget(key: str) -> None:
    """Drop the record of the step ``key`` (made some other way than the pipeline makes it): it is stale then."""
    records = load_records()
    if records.pop(key, None) is not None:
        atomic_write_json(record_path(), records)


def note_edition(ctx: Context | None = None) -> None:
    """An edition was just recorded from the current ``changes.csv``: it already says what that edition changed,
    so the ``changes`` step stays current (only its ``latest edition`` fact is updated)."""
    ctx = ctx or Context()
    records = load_records()
    if "changes" in records:
        records["changes"] = {**records["changes"], **STEP["changes"].facts(ctx)}
        atomic_write_json(record_path(), records)


# --- the steps ---------------------------------------------------------------------------------------


def _processed(*names: str) -> Callable[[Context], list[Path]]:
    return lambda _ctx: [config.processed_dir() / name for name in names]


def _raw_inputs(_ctx: Context) -> list[Path]:
    return data_files.input_files()


def _plan_and_registry(_ctx: Context) -> list[Path]:
    return [config.assessment_plan_file(), *registry_files()]


def _year(_ctx: Context) -> dict[str, str]:
    return {"year": str(dt.date.today().year)}


def _latest_edition(ctx: Context) -> dict[str, str]:
    names = sorted(p.name for p in ctx.editions_dir().glob("[!.]*") if p.is_dir())
    return {"latest edition": names[-1] if names else "none"}


def _as_of_tables(ctx: Context) -> list[Path]:
    return [
        config.processed_dir() / f"{config.as_of_name(n, ctx.as_of)}.csv"
        for n in ("assessments", "forecasts", "scorecard")
    ]


def _clean(ctx: Context) -> object:
    from analysis.data import stage

    return stage.clean(editions=ctx.editions)


def _assess(ctx: Context) -> object:
    from analysis.models import stage

    return stage.assess()


def _assess_as_of(ctx: Context) -> object:
    from analysis.models import stage

    return stage.assess(as_of=ctx.as_of)


def _track_record(ctx: Context) -> object:
    from analysis.models import stage

    return stage.publish_track_record(cache_key=cache_key("track_record", ctx))


def _changes(ctx: Context) -> object:
    from analysis.models import stage

    return stage.publish_changes(ctx.editions_dir())


def _benchmark(ctx: Context) -> object:
    from analysis.models import stage

    log = ctx.log
    return stage.run_benchmarks(
        log=(lambda line: log(f"data: {line}") if line.startswith("benchmark") else None) if log else None
    )


#: The code the benchmarks run: the forecasting methods and their shipped defaults.
BENCHMARK_CODE = tuple(f"models/{name}" for name in METHOD_FILES)
DATA_CODE = ("data", *SHARED_CODE)
MODELS_CODE = ("data", "models", *SHARED_CODE)

#: Every data step, in the order they run (a step reads only what steps before it write).
STEPS: tuple[Step, ...] = (
    Step(
        "clean",
        reads=_raw_inputs,
        code=DATA_CODE,
        writes=_processed(
            "indicators.csv", "targets.csv", "conflicts.csv", "exclusions.csv", "sources.csv", "clean_manifest.json"
        ),
        build=_clean,
        command="python -m analysis clean",
    ),
    Step(
        "assess",
        reads=lambda ctx: [*_processed("indicators.csv", "targets.csv")(ctx), *_plan_and_registry(ctx)],
        code=MODELS_CODE,
        writes=_processed("assessments.csv", "forecasts.csv", "scorecard.csv", "what_it_takes.csv", "merged_city.csv"),
        build=_assess,
        command="python -m analysis assess",
        facts=_year,
    ),
    Step(
        "assess-as-of",
        # as of a year, the figures are restated from the raw files (vintage by vintage); the published tables
        # are read to say what the step was made beside
        reads=lambda ctx: [
            *_raw_inputs(ctx),
            *_processed("indicators.csv", "targets.csv")(ctx),
            *_plan_and_registry(ctx),
        ],
        code=MODELS_CODE,
        writes=_as_of_tables,
        build=_assess_as_of,
        command="python -m analysis assess --as-of YEAR",
        facts=_year,
        applies=lambda ctx: bool(ctx.as_of),
        per_year=True,
    ),
    Step(
        "track_record",
        # the restatements read the raw files; the outcomes and the forecast checks read today's tables
        reads=lambda ctx: [
            *_raw_inputs(ctx),
            *_processed("assessments.csv", "indicators.csv")(ctx),
            *_plan_and_registry(ctx),
        ],
        code=MODELS_CODE,
        writes=_processed("track_record.csv", "forecast_checks.csv"),
        build=_track_record,
        command="python -m analysis track-record",
        facts=_year,
    ),
    Step(
        "changes",
        reads=lambda ctx: [
            *_processed("indicators.csv", "assessments.csv", "scorecard.csv")(ctx),
            config.assessment_plan_file(),
        ],
        code=MODELS_CODE,
        writes=_processed("changes.csv", "changes.json"),
        build=_changes,
        command="python -m analysis run",
        facts=_latest_edition,
    ),
    Step(
        "benchmark",
        reads=lambda _ctx: sorted(p for p in config.benchmark_files().values() if p.exists()),
        code=BENCHMARK_CODE,
        writes=_processed("benchmark.json"),
        build=_benchmark,
        command="python -m analysis benchmark",
        applies=lambda _ctx: any(p.exists() for p in config.benchmark_files().values()),
    ),
)
STEP = {step.name: step for step in STEPS}
#: The steps a batch run's data stage brings up to date (the benchmarks apart: ``--force`` does not rerun them).
DATA_STAGE = ("clean", "assess", "assess-as-of", "track_record", "changes")


def upstream(step: Step, ctx: Context) -> list[Step]:
    """The steps before ``step`` that write a file it reads."""
    reads = set(step.reads(ctx))
    before = STEPS[: STEPS.index(step)]
    return [s for s in before if s.applies(ctx) and reads & set(s.writes(ctx))]


def needed(names: Iterable[str] | None, ctx: Context) -> list[Step]:
    """The steps ``names`` (every step when None) with the steps they read from, in the order they run."""
    wanted = {step.name for step in STEPS} if names is None else set(names)
    changed = True
    while changed:
        more = {up.name for name in wanted for up in upstream(STEP[name], ctx)}
        changed = not more <= wanted
        wanted |= more
    return [step for step in STEPS if step.name in wanted and step.applies(ctx)]


def step_reason(
    step: Step, ctx: Context, records: dict, force: bool = False, stale_upstream=(), code=None
) -> str | None:
    """:func:`~analysis.pipeline.rule.why_stale` for one data step, against the pipeline's record.

    In a batch run's kernels (:data:`TABLES_READY`) a step whose outputs exist is never stale.
    """
    outputs = step.writes(ctx)
    if os.environ.get(TABLES_READY) and all(path.exists() for path in outputs):
        return None
    return why_stale(
        fingerprint(step, ctx, code),
        records.get(step.key(ctx)),
        outputs,
        force=force,
        stale_upstream=stale_upstream,
    )


def staleness(
    names: Iterable[str] | None = None, ctx: Context | None = None, force: bool = False
) -> dict[str, str | None]:
    """Which steps (``names`` and what they read from) are stale and why, without running anything.

    A step that reads from a stale step is stale too (it may be found current after that step has run:
    :func:`bring_up_to_date` asks again then).  Returns step key -> reason (None: up to date).
    """
    ctx = ctx or Context()
    records, code, reasons, stale = load_records(), {}, {}, set()
    for step in needed(names, ctx):
        ups = [up.name for up in upstream(step, ctx) if up.name in stale]
        reason = step_reason(step, ctx, records, force, ups, code)
        reasons[step.key(ctx)] = reason
        if reason:
            stale.add(step.name)
    return reasons


def run_step(step: Step, ctx: Context, code: dict | None = None) -> object:
    """Run one step and record what it was made from (the caller holds the data's lock)."""
    inputs = fingerprint(step, ctx, code)  # before it reads them: the record is of what it read
    result = step.build(ctx)
    save_record(step.key(ctx), inputs)
    return result


def bring_up_to_date(
    names: Iterable[str] | None = None,
    ctx: Context | None = None,
    force: bool = False,
    lock: bool = False,
    say: Callable[[str], None] | None = None,
) -> dict[str, str]:
    """Run the stale steps among ``names`` and those they read from, in order; returns step key -> why it ran.

    Each step is judged just before it would run, so a step whose inputs came out of the steps before it
    unchanged does not run.  ``lock``: take the data's lock first when anything is stale (a notebook; the
    batch and the commands hold it already).  ``say`` is told each step that runs, and why.
    """
    ctx = ctx or Context()
    names = list(names) if names is not None else None
    if not force and not any(staleness(names, ctx).values()):
        return {}
    if lock:
        with data_files.locked(data_files.LOCK_WAIT, "the report"):
            return bring_up_to_date(names, ctx, force, lock=False, say=say)
    ran: dict[str, str] = {}
    code: dict = {}
    for step in needed(names, ctx):
        reason = step_reason(step, ctx, load_records(), force, code=code)
        if reason:
            if say:
                say(f"{step.key(ctx)}: running ({reason})")
            run_step(step, ctx, code)
            ran[step.key(ctx)] = reason
    return ran
