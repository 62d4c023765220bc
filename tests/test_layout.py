"""The code reads as the pipeline: stages import one way, notebooks stay thin, texts and templates are files."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "analysis"
STAGES = ["data", "models", "pipeline", "reports", "batch"]
SHARED = {"config", "errors", "storage", "tables", "i18n"}


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("analysis"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("analysis"))
    return found


@pytest.mark.parametrize("stage", STAGES)
def test_a_stage_imports_only_earlier_stages_and_shared_modules(stage):
    later = STAGES[STAGES.index(stage) + 1 :]
    for path in (PACKAGE / stage).rglob("*.py"):
        for module in _imported_modules(path):
            parts = module.split(".")
            assert len(parts) < 2 or parts[1] not in later, f"{path.relative_to(ROOT)} imports {module} (a later stage)"


def test_shared_modules_import_no_stage():
    for name in SHARED:
        for module in _imported_modules(PACKAGE / f"{name}.py"):
            parts = module.split(".")
            assert len(parts) < 2 or parts[1] not in STAGES, f"{name}.py imports {module}"


REPORT_NOTEBOOKS = [p for p in sorted((ROOT / "notebooks").glob("*.ipynb")) if p.name != "01-clean-indicators.ipynb"]


@pytest.mark.parametrize("path", REPORT_NOTEBOOKS, ids=lambda p: p.name)
def test_report_notebooks_are_thin_and_explain_themselves(path):
    notebook = nbformat.read(str(path), as_version=4)
    first = notebook.cells[0]
    assert first.cell_type == "markdown" and "analyst-note" in first.metadata.get("tags", [])
    assert "parameters" in first.source.lower()  # says which parameters to change
    code = [
        cell
        for cell in notebook.cells
        if cell.cell_type == "code" and "parameters" not in cell.metadata.get("tags", [])
    ]
    loading = [cell for cell in code if "load_report(" in cell.source]
    assert len(loading) == 1  # one helper loads the tables
    assert not any("read_csv" in cell.source or "load_table(" in cell.source for cell in code)
    assert all(max(len(line) for line in cell.source.splitlines()) <= 120 for cell in code)
    assert all(len(cell.source.splitlines()) <= 6 for cell in code)  # sections are calls, not code
    markdown_between = sum(1 for cell in notebook.cells[1:] if cell.cell_type == "markdown")
    assert markdown_between >= 2
    assert notebook.metadata["kernelspec"]["name"] == "hcmc-dx"


def test_page_skeleton_and_stylesheet_are_template_files():
    templates = PACKAGE / "reports" / "templates"
    assert (templates / "report.html.j2").exists() and (templates / "report.css").exists()
    for path in (PACKAGE / "reports").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "<!DOCTYPE" not in text and "@page" not in text, path.name


def test_texts_are_one_file_per_language():
    assert sorted(p.name for p in (PACKAGE / "locale").glob("*.yml")) == ["en.yml", "vi.yml"]
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r'"vi":\s*"[^"]{12,}"', text), f"{path.name} holds report text"
