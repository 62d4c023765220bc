"""The assessment plan: which indicator, at which boundary, against which target years.

It is data (``data/assessment_plan.yml``), so that adding a peer city, the merged city or a
new target is a line in a file, not a code change.  :func:`load_assessment_plan` checks the
file and names the entry of every mistake.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from analysis import config
from analysis.data.registry import Registry, load_registry, nearest
from analysis.errors import PlanError
from analysis.storage import parse_yaml

ENTRY_KEYS = {"indicator", "boundary", "target_years", "annual_target_years", "primary_estimator"}
PLAN_KEYS = {"assessments", "peers", "plans", "programme"}


@dataclass(frozen=True)
class PlanEntry:
    """One indicator at one boundary to assess, against its preferred targets for the given years.

    ``annual_target_years`` expands an open annual target ("at least 2% a year from 2025") into
    one assessment per listed year.  ``primary_estimator`` is the estimator family the target is
    tied to ("" when none is).
    """

    indicator: str
    boundary: str
    target_years: tuple[int, ...] = ()
    annual_target_years: tuple[int, ...] = ()
    primary_estimator: str = ""

    @property
    def geography(self) -> str:
        """The place id of the boundary, as the registry says (``hcmc`` for both Ho Chi Minh City boundaries,
        ``da_nang`` for ``da_nang-pre-2025-07``; a boundary no place has is its own id)."""
        return load_registry().geography_of(self.boundary)


def _years(value, where: str, key: str, problems: list[str]) -> tuple[int, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(
        isinstance(y, int) and not isinstance(y, bool) and 1990 <= y <= 2100 for y in value
    ):
        problems.append(f"{where}: '{key}' should be a list of years such as [2025, 2030], got {value!r}")
        return ()
    return tuple(value)


def parse_assessment_plan(document: object, source: str = "assessment plan") -> tuple[PlanEntry, ...]:
    """Check a parsed plan document and build its entries.

    Raises
    ------
    PlanError
        Listing every problem, each naming the file and the entry.
    """
    if not isinstance(document, dict) or not isinstance(document.get("assessments"), list):
        raise PlanError(f"{source}: expected a list under 'assessments'")
    if set(document) - PLAN_KEYS:
        raise PlanError(
            f"{source}: unknown section(s) {', '.join(sorted(set(document) - PLAN_KEYS))} "
            f"(known: {', '.join(sorted(PLAN_KEYS))})"
        )
    problems: list[str] = []
    entries = []
    seen = set()
    for number, raw in enumerate(document["assessments"], 1):
        where = f"{source}: entry {number}"
        if not isinstance(raw, dict):
            problems.append(f"{where}: expected a mapping with indicator and boundary, got {raw!r}")
            continue
        where += f" ({raw.get('indicator')} @ {raw.get('boundary')})"
        unknown = set(raw) - ENTRY_KEYS
        if unknown:
            problems.append(
                f"{where}: unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(ENTRY_KEYS))})"
            )
        for key in ("indicator", "boundary"):
            if not isinstance(raw.get(key), str) or not raw.get(key):
                problems.append(f"{where}: '{key}' is missing or not text")
        target_years = _years(raw.get("target_years"), where, "target_years", problems)
        annual = _years(raw.get("annual_target_years"), where, "annual_target_years", problems)
        if not target_years and not annual:
            problems.append(f"{where}: give target_years or annual_target_years")
        primary = raw.get("primary_estimator") or ""
        if not isinstance(primary, str):
            problems.append(f"{where}: 'primary_estimator' should be text, got {primary!r}")
            primary = ""
        key = (raw.get("indicator"), raw.get("boundary"))
        if key in seen:
            problems.append(f"{where}: the same indicator and boundary appear twice")
        seen.add(key)
        entries.append(PlanEntry(str(raw.get("indicator")), str(raw.get("boundary")), target_years, annual, primary))
    if problems:
        raise PlanError("\n".join(problems))
    return tuple(entries)


@dataclass(frozen=True)
class Peer:
    """A place set beside the city in the reports, with the share indicator compared."""

    place: str
    indicator: str


def parse_peers(document: object, source: str = "assessment plan") -> tuple[Peer, ...]:
    """The ``peers`` of a parsed plan document (none when the section is absent).

    Raises
    ------
    PlanError
        When an entry lacks a place or an indicator.
    """
    entries = document.get("peers") or [] if isinstance(document, dict) else []
    problems, peers = [], []
    for number, raw in enumerate(entries, 1):
        if (
            not isinstance(raw, dict)
            or not isinstance(raw.get("place"), str)
            or not isinstance(raw.get("indicator"), str)
        ):
            problems.append(f"{source}: peers entry {number}: expected {{place: ..., indicator: ...}}, got {raw!r}")
            continue
        peers.append(Peer(raw["place"], raw["indicator"]))
    if problems:
        raise PlanError("\n".join(problems))
    return tuple(peers)


def _read_plan(path: Path | None) -> tuple[object, str]:
    plan_path = path or config.assessment_plan_file()
    try:
        return parse_yaml(plan_path.read_text(encoding="utf-8")), plan_path.name
    except FileNotFoundError:
        raise PlanError(f"{plan_path}: the assessment plan is missing") from None
    except yaml.YAMLError as exc:
        raise PlanError(f"{plan_path}: not valid YAML ({str(exc).splitlines()[0]})") from None


def load_peers(path: Path | None = None) -> tuple[Peer, ...]:
    """The peers listed in ``data/assessment_plan.yml``."""
    document, name = _read_plan(path)
    return parse_peers(document, name)


@dataclass(frozen=True)
class PlanExecution:
    """How far spending strays from a plan: what is spent is the plan times a ratio whose median and spread
    (standard deviation of its logarithm) these give; ``basis`` says where they come from."""

    median_ratio: float
    log_sd: float
    basis: dict[str, str]


def parse_plan_execution(document: object, source: str = "assessment plan") -> PlanExecution | None:
    """The ``plans: execution`` section of a parsed plan document (None when absent: plans are then not used).

    Raises
    ------
    PlanError
        When the ratio is not positive or the spread not positive.
    """
    section = (document.get("plans") or {}) if isinstance(document, dict) else {}
    execution = section.get("execution") if isinstance(section, dict) else None
    if execution is None:
        return None
    ratio, spread = (execution.get(k) if isinstance(execution, dict) else None for k in ("median_ratio", "log_sd"))
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and v > 0 for v in (ratio, spread)):
        raise PlanError(f"{source}: plans: execution needs a positive median_ratio and log_sd, got {execution!r}")
    basis = execution.get("basis")
    if not (isinstance(basis, dict) and all(isinstance(basis.get(lang), str) and basis[lang] for lang in ("vi", "en"))):
        raise PlanError(f"{source}: plans: execution: 'basis' needs a text in vi and en, got {basis!r}")
    return PlanExecution(float(ratio), float(spread), {"vi": basis["vi"], "en": basis["en"]})


def load_plan_execution(path: Path | None = None) -> PlanExecution | None:
    """How plans are read as evidence (``plans: execution`` in ``data/assessment_plan.yml``)."""
    document, name = _read_plan(path)
    return parse_plan_execution(document, name)


def load_assessment_plan(path: Path | None = None) -> tuple[PlanEntry, ...]:
    """Read and check ``data/assessment_plan.yml`` (or ``path``).

    Raises
    ------
    PlanError
        When the file is missing, is not YAML, or has an invalid entry.
    """
    document, name = _read_plan(path)
    return parse_assessment_plan(document, name)


# --- a report's parameters -----------------------------------------------------------------

#: Parameters (of any notebook) that name something of the registry, with what they must name; "" is
#: allowed for those that may be left out.
_NAMED = {
    "indicator": ("indicators", "an indicator of data/registry/indicators.yml", False),
    "show_indicator": ("indicators", "an indicator of data/registry/indicators.yml", False),
    "boundary": ("boundaries", "a boundary of data/registry/places.yml", False),
    "merged_boundary": ("boundaries", "a boundary of data/registry/places.yml", True),
    "primary_estimator": ("estimators", "an estimator family of data/registry/estimators.yml", True),
    "lang": ("languages", "a language of the reports", False),
    "title_key": ("texts", "a text of src/analysis/locale/*.yml", False),
}


def report_parameter_problems(
    parameters: dict, registry: Registry | None = None, plan: tuple[PlanEntry, ...] | None = None
) -> list[str]:
    """What is wrong with a report's parameters, before anything runs: each names the parameter, its value
    and the nearest valid value.

    Every indicator, boundary, estimator, language and title must exist, and an indicator and a
    boundary must fit together: the boundary is one ``data/assessment_plan.yml`` assesses the
    indicator at (a city indicator with the national boundary has no target to show).
    """
    from analysis.i18n import LANGUAGES, catalogue

    registry = registry or load_registry()
    plan = load_assessment_plan() if plan is None else plan
    known = {
        "indicators": set(registry.indicators),
        "boundaries": registry.boundary_ids(),
        "estimators": set(registry.estimators),
        "languages": set(LANGUAGES),
        "texts": set.intersection(*(set(catalogue(lang)) for lang in LANGUAGES)),
    }
    problems, valid = [], {}
    for name, (kind, what, optional) in _NAMED.items():
        value = parameters.get(name)
        if not isinstance(value, str) or (optional and value == ""):
            continue  # absent, or of the wrong type (checked against the notebook's parameters cell)
        if value in known[kind]:
            valid[name] = value
            continue
        close = nearest(value, known[kind], cutoff=0.5)
        hint = f"did you mean '{close[0]}'?" if close else f"valid: {', '.join(sorted(known[kind])[:12])}"
        problems.append(f"parameter {name}='{value}' is not {what}; {hint}")
    indicator = valid.get("indicator")
    assessed = [entry.boundary for entry in plan if entry.indicator == indicator]
    for name in ("boundary", "merged_boundary"):
        boundary = valid.get(name)
        if indicator and boundary and boundary not in assessed:
            close = (nearest(boundary, assessed, cutoff=0.5) or assessed)[:1]
            hint = f"; did you mean '{close[0]}'?" if close else ""
            problems.append(
                f"parameter {name}='{boundary}' does not fit indicator='{indicator}': data/assessment_plan.yml "
                f"assesses it at {', '.join(assessed) or 'no boundary'}, so the report would have no target{hint}"
            )
    return problems


# --- the programme: every target of the city's programme, for the scorecard ---------------------

#: The rule each kind of target needs (models/judging.py holds one function per rule).
PROGRAMME_RULES = (
    "share_at_least",
    "top_k",
    "growth_each_year",
    "growth_average",
    "count",
    "reduction",
    "universal",
)
#: The programme's groups, in the order the scorecard shows them.
PROGRAMME_GROUPS = ("digital_government", "digital_economy", "digital_society")
PROGRAMME_KEYS = {
    "number",
    "group",
    "name",
    "targets",
    "rule",
    "estimator",
    "ranking_group",
    "judged_on",
    "related",
    "not_observable",
    "publish",
}


@dataclass(frozen=True)
class RelatedFigure:
    """A figure near a target that cannot judge it: another base, scope or boundary (``differs`` says which)."""

    indicator: str
    boundary: str
    differs: dict[str, str]


@dataclass(frozen=True)
class ProgrammeTarget:
    """One target of the city's programme as the scorecard judges it (``programme`` in the assessment plan).

    ``targets`` are ids of ``targets.csv`` (all must be met); ``judged_on`` is the boundary whose figure
    decides when it is not the target's own (with ``judged_on_why``); ``not_observable`` says why no figure
    can judge the target as set.
    """

    number: int
    group: str
    name: dict[str, str]
    targets: tuple[str, ...]
    rule: str
    publish: dict[str, str]
    estimator: str = ""
    ranking_group: int | None = None
    judged_on: str = ""
    judged_on_why: dict[str, str] | None = None
    related: tuple[RelatedFigure, ...] = ()
    not_observable: dict[str, str] | None = None


@dataclass(frozen=True)
class Programme:
    """The programme's targets and how "universal" is read (``universal_at_least``, percent, with its basis)."""

    targets: tuple[ProgrammeTarget, ...]
    universal_at_least: float
    universal_basis: dict[str, str]


def _texts(value, where: str, key: str, problems: list[str]) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(
        isinstance(value.get(lang), str) and value[lang] for lang in ("vi", "en")
    ):
        problems.append(f"{where}: '{key}' needs a text in vi and en, got {value!r}")
        return None
    return {"vi": value["vi"].strip(), "en": value["en"].strip()}


def _programme_target(raw: dict, where: str, problems: list[str]) -> ProgrammeTarget | None:
    unknown = set(raw) - PROGRAMME_KEYS
    if unknown:
        problems.append(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(PROGRAMME_KEYS))})"
        )
    number = raw.get("number")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        problems.append(f"{where}: 'number' should be a whole number from 1, got {number!r}")
    for key, known in (("group", PROGRAMME_GROUPS), ("rule", PROGRAMME_RULES)):
        if raw.get(key) not in known:
            hint = nearest(str(raw.get(key)), known)
            problems.append(
                f"{where}: unknown {key} {raw.get(key)!r}"
                + (f"; did you mean {hint[0]}?" if hint else "")
                + f" (known: {', '.join(known)})"
            )
    targets = raw.get("targets")
    if not isinstance(targets, list) or not targets or not all(isinstance(t, str) and t for t in targets):
        problems.append(f"{where}: 'targets' should be a list of target ids of data/processed/targets.csv")
        targets = []
    name = _texts(raw.get("name"), where, "name", problems)
    publish = _texts(raw.get("publish"), where, "publish", problems)
    if name is None or publish is None:
        problems.append(f"{where}: 'name' and 'publish' are required")
    group_size = raw.get("ranking_group")
    if group_size is not None and (not isinstance(group_size, int) or group_size < 2):
        problems.append(f"{where}: 'ranking_group' should be the number of places ranked, got {group_size!r}")
    judged_on = raw.get("judged_on") or {}
    if judged_on and (not isinstance(judged_on, dict) or not isinstance(judged_on.get("boundary"), str)):
        problems.append(f"{where}: 'judged_on' should be {{boundary: ..., why: {{vi: ..., en: ...}}}}")
        judged_on = {}
    why = _texts(judged_on.get("why"), where, "judged_on.why", problems) if judged_on else None
    related = []
    for index, item in enumerate(raw.get("related") or [], 1):
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("indicator", "boundary")):
            problems.append(f"{where}: related {index} should be {{indicator, boundary, differs: {{vi, en}}}}")
            continue
        differs = _texts(item.get("differs"), f"{where}: related {index}", "differs", problems)
        related.append(RelatedFigure(item["indicator"], item["boundary"], differs or {"vi": "", "en": ""}))
    if problems:
        return None
    return ProgrammeTarget(
        number=number,
        group=raw["group"],
        name=name,
        targets=tuple(targets),
        rule=raw["rule"],
        publish=publish,
        estimator=str(raw.get("estimator") or ""),
        ranking_group=group_size,
        judged_on=judged_on.get("boundary", "") if judged_on else "",
        judged_on_why=why,
        related=tuple(related),
        not_observable=_texts(raw.get("not_observable"), where, "not_observable", problems),
    )


def parse_programme(document: object, source: str = "assessment plan") -> Programme | None:
    """Check the ``programme`` section of a parsed plan and build it (None when the plan has none).

    Raises
    ------
    PlanError
        Listing every problem, each naming the file and the target's number.
    """
    section = document.get("programme") if isinstance(document, dict) else None
    if section is None:
        return None
    problems: list[str] = []
    if not isinstance(section, dict) or not isinstance(section.get("targets"), list):
        raise PlanError(f"{source}: programme: expected a list under 'targets'")
    universal = section.get("universal") or {}
    threshold = universal.get("at_least") if isinstance(universal, dict) else None
    if not isinstance(threshold, (int, float)) or not 50 <= threshold <= 100:
        problems.append(
            f"{source}: programme: 'universal: at_least' should be a percent from 50 to 100, got {threshold!r}"
        )
    basis = _texts(
        universal.get("basis") if isinstance(universal, dict) else None,
        f"{source}: programme",
        "universal.basis",
        problems,
    )
    entries, numbers = [], set()
    for index, raw in enumerate(section["targets"], 1):
        where = f"{source}: programme target {raw.get('number', index) if isinstance(raw, dict) else index}"
        if not isinstance(raw, dict):
            problems.append(f"{where}: expected a mapping, got {raw!r}")
            continue
        entry = _programme_target(raw, where, problems)
        if entry is not None:
            if entry.number in numbers:
                problems.append(f"{where}: number {entry.number} appears twice")
            numbers.add(entry.number)
            entries.append(entry)
    if problems:
        raise PlanError("\n".join(problems))
    return Programme(tuple(sorted(entries, key=lambda e: e.number)), float(threshold), basis)


def load_programme(path: Path | None = None) -> Programme | None:
    """The programme's targets in ``data/assessment_plan.yml`` (or ``path``); None when it lists none."""
    document, name = _read_plan(path)
    return parse_programme(document, name)
