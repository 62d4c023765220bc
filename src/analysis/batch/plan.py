"""The run plan: which notebooks the batch runs, with which parameters, in which languages.

``notebooks/plan.yml`` is data; :func:`plan_tasks` checks every entry (notebook exists,
parameters declared in the notebook's ``parameters`` cell with the right type) before
anything runs, and names the entry of every mistake.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from analysis import config
from analysis.errors import PlanError


@dataclass
class Task:
    """One report to build: a notebook with parameters in one language."""

    name: str
    notebook: str
    lang: str
    title_key: str
    parameters: dict = field(default_factory=dict)
    as_of: int = 0
    timeout: int = 600

    @property
    def key(self) -> str:
        return f"{self.lang}/{self.name}" + (f"-as-of-{self.as_of}" if self.as_of else "")


def load_plan(path: Path | None = None) -> dict:
    """Read the run plan (``notebooks/plan.yml``)."""
    plan_path = path or config.run_plan_file()
    document = yaml.safe_load(plan_path.read_text(encoding="utf-8")) or {}
    if not isinstance(document.get("reports"), list):
        raise PlanError(f"{plan_path}: expected a list under 'reports'")
    return document


def notebook_parameters(notebook: Path) -> dict[str, str]:
    """Declared parameters of a notebook: name -> type name, from its ``parameters`` cell (papermill)."""
    import papermill

    declared = papermill.inspect_notebook(str(notebook))
    return {name: (info.get("inferred_type_name") or "None") for name, info in declared.items()}


_TYPES = {"str": str, "int": int, "float": (int, float), "bool": bool}


def check_parameters(entry: dict, notebook: Path) -> list[str]:
    """Problems with one plan entry's parameters: unknown names and wrong types, naming the entry."""
    declared = notebook_parameters(notebook)
    problems = []
    for name, value in (entry.get("parameters") or {}).items():
        if name not in declared:
            problems.append(
                f"plan entry '{entry['name']}': parameter '{name}' is not declared in {notebook.name} "
                f"(declared: {', '.join(sorted(declared))})"
            )
            continue
        expected = _TYPES.get(declared[name])
        if expected is not None and (not isinstance(value, expected) or (expected is int and isinstance(value, bool))):
            problems.append(
                f"plan entry '{entry['name']}': parameter '{name}' should be {declared[name]}, "
                f"got {type(value).__name__} {value!r}"
            )
    return problems


def plan_tasks(
    plan: dict, only: list[str] | None = None, langs: list[str] | None = None, as_of: int = 0, timeout: int = 600
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
        problems.extend(check_parameters(entry, notebook))
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
                )
            )
    if problems:
        raise PlanError("\n".join(problems))
    return tasks
