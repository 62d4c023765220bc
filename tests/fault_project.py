"""The project the batch-fault tests share (one per test module): the shipped data, a published budget
report, and notebooks that leak state, kill their kernel, sleep, show no target, print huge or hostile
output; with helpers to write plans and read what a run recorded."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_notebook

from analysis.batch.run import RunOptions, run
from conftest import copy_project, project_root

BUDGET = {
    "name": "hcmc-dx-budget",
    "notebook": "03-budget.ipynb",
    "title_key": "report.budget",
    "parameters": {"indicator": "dt_budget_share", "boundary": "hcmc-pre-2025-07"},
}


def write_notebook(path: Path, *sources: str) -> None:
    notebook = new_notebook()
    parameters = new_code_cell('lang: str = "vi"  # language\nas_of: int = 0  # year (0: all)')
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [parameters, *(new_code_cell(source) for source in sources)]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, str(path))


def plan_entry(name: str, notebook: str | None = None) -> dict:
    """A plan entry; a new name is a report never published, so it is built without --force."""
    return {"name": name, "notebook": f"{notebook or name}.ipynb", "title_key": "report.budget", "parameters": {}}


def write_plan(root: Path, name: str, entries: list[dict]) -> Path:
    path = root / f"{name}.yml"
    path.write_text(yaml.safe_dump({"languages": ["vi"], "reports": entries}), encoding="utf-8")
    return path


@pytest.fixture(scope="module", name="project")
def fault_project(tmp_path_factory, track_record_cache):
    """The shared project, made once per test module that imports this fixture (as ``project``)."""
    root = copy_project(tmp_path_factory.mktemp("faults"), notebooks=True, cache=track_record_cache)
    notebooks = root / "notebooks"
    write_notebook(
        notebooks / "leaks.ipynb",
        "import os, pandas as pd\nleaked = 42",
        "pd.set_option('display.max_rows', 3)\nos.chdir('/')",
    )
    write_notebook(
        notebooks / "checks.ipynb",
        "import os, pandas as pd\nassert 'leaked' not in globals(), 'state leaked from the previous report'\n"
        "assert pd.get_option('display.max_rows') == 60\nassert os.getcwd().endswith('notebooks')",
    )
    write_notebook(notebooks / "killed.ipynb", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    write_notebook(notebooks / "sleeps.ipynb", "import time\ntime.sleep(120)")
    write_notebook(
        notebooks / "no-target.ipynb",
        "from analysis.reports.html import heading, show, status_block\n"
        "show(heading('h.verdict', lang), status_block('A series without targets', []))",
    )
    write_notebook(
        notebooks / "huge.ipynb",
        "from IPython.display import HTML, display\n"
        "display(HTML('<table>' + ''.join(f'<tr><td>{i}</td><td>row</td></tr>' for i in range(60000)) + '</table>'))",
    )
    write_notebook(
        notebooks / "hostile.ipynb",
        "from IPython.display import HTML, display\n"
        'display(HTML(\'<link rel="stylesheet" href="http://127.0.0.1:9/x.css">'
        '<a rel="attachment" href="file:///etc/hostname">attached</a><p>hostile</p>\'))',
    )
    with project_root(root):
        assert run(RunOptions(plan=write_plan(root, "plan", [BUDGET]), jobs=1), log=lambda *_: None) == 0
        yield root


def last_record(root: Path, output: str = "reports") -> dict:
    return json.loads((root / output / "_runs" / "latest.json").read_text(encoding="utf-8"))


def run_state(root: Path, output: str = "reports") -> dict:
    return json.loads((root / output / ".state.json").read_text(encoding="utf-8"))
