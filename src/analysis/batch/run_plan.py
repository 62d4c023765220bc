"""The run plan: which notebooks the batch runs, with which parameters, in which languages.

``notebooks/plan.yml`` is data; :func:`plan_tasks` checks every entry (notebook exists,
parameters declared in the notebook's ``parameters`` cell with the right type) before
anything runs, and names the entry of every mistake.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from analysis import config
from analysis.errors import PlanError
from analysis.storage import parse_yaml


@dataclass
class Task:
    """One report to build: a notebook with parameters in one language."""

    name: str
    notebook: str
    lang: str
    title_key: str
    parameters: dict = field(default_factory=dict)
    as_of: int | None = None  # None: every figure
    timeout: int = 600
    #: The processed data the report reads: None for everything, else {"indicators": [...], "tables": [...]}.
    reads: dict | None = None

    @property
    def key(self) -> str:
        return f"{self.lang}/{report_stem(self)}"


def report_stem(task: Task) -> str:
    """File stem of a report: its plan name, with ``-as-of-YEAR`` when built as of a year."""
    return config.as_of_name(task.name, task.as_of)


#: A plan entry's name: a plain file name (it names reports/<lang>/<name>.pdf).
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")

#: Parameters the run sets itself: a plan entry may not fix them.
RUN_PARAMETERS = ("lang", "as_of")
ENTRY_KEYS = ("name", "notebook", "title_key", "parameters", "index_status", "reads")


def load_plan(path: Path | None = None) -> dict:
    """Read and check the run plan (``notebooks/plan.yml``).

    Raises
    ------
    PlanError
        One line per problem, naming the file and the entry: unreadable YAML, a missing or
        duplicated name, parameters that are not a mapping or that set ``lang``/``as_of``, a
        notebook outside ``notebooks/``, an unknown language, a malformed ``reads``.
    """
    from analysis.i18n import LANGUAGES

    plan_path = path or config.run_plan_file()
    try:
        document = parse_yaml(plan_path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise PlanError(f"{plan_path}{where}: not valid YAML ({getattr(exc, 'problem', None) or exc})") from None
    except OSError as exc:
        raise PlanError(f"{plan_path}: cannot be read ({exc.strerror or exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("reports"), list):
        raise PlanError(f"{plan_path}: expected a list under 'reports'")
    problems = []
    languages = document.get("languages", list(LANGUAGES))
    if not isinstance(languages, list) or not languages or set(languages) - set(LANGUAGES):
        problems.append(f"{plan_path}: languages must be a list drawn from {', '.join(LANGUAGES)}, got {languages!r}")
    seen = set()
    notebooks = config.notebooks_dir().resolve()
    for number, entry in enumerate(document["reports"], 1):
        where = f"{plan_path}: entry {number}"
        if not isinstance(entry, dict):
            problems.append(f"{where}: expected a mapping with name, notebook and parameters")
            continue
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{where}: has no name")
        elif not _NAME.fullmatch(name):
            # the name is a file name under reports/<lang>/: '../x' would write outside the staging folder
            problems.append(f"{where}: name {name!r} is not a plain file name (letters, digits, - _ .)")
        elif name in seen:
            problems.append(f"{where}: the name '{name}' is used twice")
        else:
            seen.add(name)
            where = f"{plan_path}: entry '{name}'"
        unknown = set(entry) - set(ENTRY_KEYS)
        if unknown:
            problems.append(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (allowed: {', '.join(ENTRY_KEYS)})")
        notebook = entry.get("notebook")
        if not isinstance(notebook, str) or not notebook:
            problems.append(f"{where}: has no notebook")
        elif not (notebooks / notebook).resolve().is_relative_to(notebooks):
            problems.append(f"{where}: notebook {notebook} is outside notebooks/")
        parameters = entry.get("parameters") or {}
        if not isinstance(parameters, dict):
            problems.append(f"{where}: parameters must be a mapping of name: value, got {type(parameters).__name__}")
        else:
            for fixed in RUN_PARAMETERS:
                if fixed in parameters:
                    problems.append(f"{where}: parameter '{fixed}' is set by the run (--lang, --as-of), not the plan")
        if not _valid_reads(entry.get("reads")):
            problems.append(f"{where}: reads must be 'all' or a mapping with lists under indicators and tables")
    if problems:
        raise PlanError("\n".join(problems))
    return document


def _valid_reads(reads) -> bool:
    if reads is None or reads == "all":
        return True
    return (
        isinstance(reads, dict)
        and set(reads) <= {"indicators", "tables"}
        and all(isinstance(value, list) for value in reads.values())
    )


def report_reads(entry: dict) -> dict | None:
    """What a report reads: ``reads`` from the plan; else its ``indicator`` parameter; None means everything."""
    reads = entry.get("reads")
    if reads == "all":
        return None
    if isinstance(reads, dict):
        return {"indicators": list(reads.get("indicators", [])), "tables": list(reads.get("tables", []))}
    indicator = (entry.get("parameters") or {}).get("indicator")
    return {"indicators": [indicator], "tables": []} if indicator else None


def notebook_parameters(notebook: Path, cache: dict | None = None) -> dict[str, dict]:
    """Declared parameters of a notebook, from its ``parameters`` cell (papermill): name -> type name and default.

    Returns
    -------
    dict
        ``{name: {"type": "str", "default": "hcmc-pre-2025-07"}}``; the default is None when it is not a
        literal.  ``cache`` (kept in the batch state) maps a notebook's sha256 to its answer: a run with
        nothing to do does not import papermill.
    """
    import ast
    import hashlib

    key = "parameters-v2:" + hashlib.sha256(notebook.read_bytes()).hexdigest()
    if cache is not None and key in cache:
        return cache[key]
    import papermill

    declared = papermill.inspect_notebook(str(notebook))
    found = {}
    for name, info in declared.items():
        try:
            default = ast.literal_eval(info.get("default") or "None")
        except (ValueError, SyntaxError):
            default = None
        found[name] = {"type": info.get("inferred_type_name") or "None", "default": default}
    if cache is not None:
        cache[key] = found
    return found


_TYPES = {"str": str, "int": int, "float": (int, float), "bool": bool}


def check_parameters(entry: dict, notebook: Path, cache: dict | None = None) -> list[str]:
    """Problems with one plan entry's parameters, naming the entry: unknown names, wrong types, and values
    the registry does not know or that do not fit together (the notebook's defaults count where the entry
    sets nothing; see :func:`analysis.models.assessment_plan.report_parameter_problems`)."""
    from analysis.models.assessment_plan import report_parameter_problems

    declared = notebook_parameters(notebook, cache)
    problems = []
    for name, value in (entry.get("parameters") or {}).items():
        if name not in declared:
            problems.append(
                f"plan entry '{entry['name']}': parameter '{name}' is not declared in {notebook.name} "
                f"(declared: {', '.join(sorted(declared))})"
            )
            continue
        expected = _TYPES.get(declared[name]["type"])
        if expected is not None and (not isinstance(value, expected) or (expected is int and isinstance(value, bool))):
            problems.append(
                f"plan entry '{entry['name']}': parameter '{name}' should be {declared[name]['type']}, "
                f"got {type(value).__name__} {value!r}"
            )
    values = {name: info["default"] for name, info in declared.items() if name not in RUN_PARAMETERS}
    values.update({k: v for k, v in (entry.get("parameters") or {}).items() if k in declared})
    values["title_key"] = values.get("title_key") or entry.get("title_key", entry["name"])
    for problem in report_parameter_problems(values):
        problems.append(f"plan entry '{entry['name']}': {problem}")
    return problems


def plan_tasks(
    plan: dict,
    only: list[str] | None = None,
    langs: list[str] | None = None,
    as_of: int | None = None,
    timeout: int = 600,
    cache: dict | None = None,
) -> list[Task]:
    """Expand the plan into tasks, validating every entry first.

    Raises
    ------
    PlanError
        Listing every invalid entry (missing notebook, unknown or mistyped parameter, unknown --only name).
    """
    problems = []
    names = [entry.get("name") for entry in plan["reports"]]
    for name in only or []:
        if name not in names:
            problems.append(f"--only {name}: no such plan entry (entries: {', '.join(names)})")
    languages = langs or plan.get("languages") or ["vi", "en"]
    tasks = []
    for entry in plan["reports"]:
        notebook = config.notebooks_dir() / entry["notebook"]
        if not notebook.exists():
            problems.append(f"plan entry '{entry.get('name')}': notebook {entry['notebook']} not found")
            continue
        problems.extend(check_parameters(entry, notebook, cache))
        if only and entry["name"] not in only:
            continue
        for lang in languages:
            tasks.append(
                Task(
                    entry["name"],
                    entry["notebook"],
                    lang,
                    entry.get("title_key", entry["name"]),
                    dict(entry.get("parameters") or {}),
                    as_of,
                    timeout,
                    report_reads(entry),
                )
            )
    if problems:
        raise PlanError("\n".join(problems))
    return tasks


def check_as_of(as_of: int | None) -> None:
    """``--as-of`` must be a year the data can speak to: from the earliest figure to this year.

    Raises
    ------
    PlanError
        Naming the allowed range.
    """
    import csv
    import datetime as dt

    if not as_of:
        return
    this_year = dt.date.today().year
    earliest = 1990
    indicators = config.processed_dir() / "indicators.csv"
    if indicators.exists():
        with indicators.open(encoding="utf-8") as stream:
            years = [row.get("year") for row in csv.DictReader(stream)]
        found = [int(float(y)) for y in years if y]
        earliest = min(found, default=earliest)
    if not earliest <= as_of <= this_year:
        raise PlanError(f"--as-of {as_of}: expected a year from {earliest} (the earliest figure) to {this_year}")
