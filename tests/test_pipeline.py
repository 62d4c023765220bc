"""The pipeline: one rule says what is stale; the notebooks and the batch ask it and agree."""

from __future__ import annotations

import csv
import json

import pytest
import yaml

from analysis import pipeline
from analysis.batch.run import RunOptions, run
from analysis.pipeline.rule import why_stale
from analysis.pipeline.steps import DATA_STAGE
from conftest import copy_project, project_root
from test_batch import PLAN


def test_the_rule_names_what_changed(tmp_path):
    output = tmp_path / "out.csv"
    recorded = {"data/curation.yml": "a", "data/raw/x.csv": "b", "code": "c"}
    assert why_stale(recorded, recorded, [output]) == "not made yet: out.csv"
    output.write_text("x")
    assert why_stale(recorded, recorded, [output]) is None
    assert why_stale(recorded, recorded, [output], force=True) == "--force"
    assert why_stale(recorded, None, [output]) == "no record of what it was made from"
    now = {**recorded, "data/curation.yml": "z", "data/raw/y.csv": "d"}
    assert why_stale(now, recorded, [output]) == "data/curation.yml changed; data/raw/y.csv added"
    assert why_stale({**recorded, "code": "other"}, recorded, [output]) == "the code it runs changed"
    assert "clean" in why_stale(recorded, recorded, [output], stale_upstream=["clean"])


def test_every_step_reads_only_what_steps_before_it_write():
    ctx = pipeline.Context(as_of=2024)
    written: set = set()
    for step in pipeline.STEPS:
        processed = {p for p in step.reads(ctx) if p.suffix in (".csv", ".json") and "processed" in p.parts}
        assert processed <= written, (step.name, processed - written)
        written |= set(step.writes(ctx))


@pytest.fixture(scope="module")
def project(tmp_path_factory, track_record_cache):
    root = copy_project(tmp_path_factory.mktemp("pipeline"), notebooks=True, cache=track_record_cache)
    with project_root(root):
        (root / "plan.yml").write_text(yaml.safe_dump(PLAN), encoding="utf-8")
        pipeline.bring_up_to_date(DATA_STAGE)
        yield root


def _a_figure_of_this_year(root) -> dict:
    """A kept figure first published this year (no past year's restatement saw it: the test stays quick)."""
    rows = csv.DictReader((root / "data" / "processed" / "indicators.csv").open(encoding="utf-8"))
    return next(r for r in rows if r["published_date"].startswith("2026") and r["geography"] == "hanoi")


def _exclusion(row: dict) -> str:
    return (
        f"  - {{file: {row['raw_file']}, row: {row['raw_row']}, value: {json.dumps(row['value_as_published'])}, "
        'reason: "set aside for a test", reason_vi: "bỏ ra để kiểm thử"}\n'
    )


def _has(frame, row: dict) -> bool:
    return bool(((frame.raw_file == row["raw_file"]) & (frame.raw_row == int(row["raw_row"]))).any())


@pytest.mark.slow
def test_a_curation_edit_reaches_the_batch_and_the_notebook_alike(project):
    from analysis.data.stage import load_table
    from analysis.reports.loading import load_report

    assert not any(pipeline.staleness().values())
    row = _a_figure_of_this_year(project)
    assert _has(load_report("en").indicators, row)
    curation = project / "data" / "curation.yml"
    original = curation.read_text(encoding="utf-8")
    curation.write_text(original.replace("exclusions:\n", "exclusions:\n" + _exclusion(row), 1), encoding="utf-8")
    # one rule for both: the curation list is an input of the clean, and what reads the clean follows it
    stale = pipeline.staleness(["clean", "assess"])
    assert stale["clean"] == "data/curation.yml changed" and "clean" in stale["assess"]
    dry: list[str] = []
    assert run(RunOptions(plan=project / "plan.yml", dry_run=True), log=dry.append) == 0
    assert any(m.startswith("data stage: would run (clean: data/curation.yml changed") for m in dry), dry
    # the batch drops the figure
    messages: list[str] = []
    assert run(RunOptions(plan=project / "plan.yml", jobs=1), log=messages.append) == 0
    assert any(m.startswith("data: clean, assess") for m in messages), messages
    assert not _has(load_table("indicators"), row) and _has(load_table("exclusions"), row)
    # an analyst takes the exclusion back and reruns a notebook in JupyterLab: its tables hold the figure again
    curation.write_text(original, encoding="utf-8")
    report = load_report("en")
    assert _has(report.indicators, row) and not _has(report.exclusions, row)
    assert len(report.assessments) > 0
    assert pipeline.staleness(["assess"]) == {"clean": None, "assess": None}
    # and the batch, asked next, finds nothing to clean (the notebook did)
    dry = []
    assert run(RunOptions(plan=project / "plan.yml", dry_run=True), log=dry.append) == 0
    assert "  clean: up to date" in dry, dry


def test_an_assessment_plan_edit_reruns_the_models_not_the_clean(project):
    plan = project / "data" / "assessment_plan.yml"
    plan.write_text(plan.read_text(encoding="utf-8") + "\n# a comment\n", encoding="utf-8")
    stale = pipeline.staleness()
    assert stale["clean"] is None
    assert stale["assess"] == "data/assessment_plan.yml changed"
    ran = pipeline.bring_up_to_date(["assess"])
    assert list(ran) == ["assess"]
    assert not pipeline.staleness(["assess"])["assess"]


def test_the_track_record_cache_is_keyed_by_the_pipeline(project):
    before = pipeline.cache_key("track_record")
    registry = project / "data" / "registry" / "places.yml"
    text = registry.read_text(encoding="utf-8")
    registry.write_text(text + "\n# a comment\n", encoding="utf-8")
    try:
        assert pipeline.cache_key("track_record") != before
        assert pipeline.staleness(["clean"])["clean"] == "data/registry/places.yml changed"
    finally:
        registry.write_text(text, encoding="utf-8")
    assert pipeline.cache_key("track_record") == before


def test_a_plan_entry_takes_its_place_from_the_registry(tmp_path, monkeypatch):
    from analysis.models.assessment_plan import PlanEntry

    assert PlanEntry("x", "hcmc-merged-2025-07").geography == "hcmc"
    assert PlanEntry("x", "da_nang-pre-2025-07").geography == "da_nang"
    assert PlanEntry("x", "hanoi").geography == "hanoi"
    # a place added by a registry entry alone, merger and all
    copy_project(tmp_path)
    places = tmp_path / "data" / "registry" / "places.yml"
    places.write_text(
        places.read_text(encoding="utf-8")
        + "  can_tho:\n    aliases: [Can Tho, Cần Thơ]\n    level: province\n"
        + "    name: {vi: Cần Thơ, en: Can Tho}\n    merger: {date: 2025-07-01, with: [hau_giang]}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("ANALYSIS_ROOT", str(tmp_path))
    from analysis.data.registry import load_registry

    registry = load_registry()
    assert registry.predecessor("can_tho-merged-2025-07") == "can_tho-pre-2025-07"
    assert PlanEntry("x", "can_tho-pre-2025-07").geography == "can_tho"


#: A family and a place that the shipped registry lacks, as an analyst would add them (no Python).
NEW_FAMILY = (
    "  vnpt:\n    name: {vi: Ước tính của VNPT, en: VNPT estimate}\n"
    '    chart: {colour: "#c08a00", marker: P}\n    patterns: [vnpt]\n'
)
NEW_PLACE = "  can_tho:\n    aliases: [Can Tho, Cần Thơ]\n    level: province\n    name: {vi: Cần Thơ, en: Can Tho}\n"


@pytest.fixture()
def scratch(tmp_path, monkeypatch):
    """A project of its own (the module's project is shared by the tests above)."""
    copy_project(tmp_path)
    monkeypatch.setenv("ANALYSIS_ROOT", str(tmp_path))
    return tmp_path


def test_an_estimator_family_and_a_place_are_registry_entries_alone(scratch):
    import pandas as pd

    from analysis.__main__ import main
    from analysis.data.registry import load_registry
    from analysis.reports import charts, labels

    estimators = scratch / "data" / "registry" / "estimators.yml"
    estimators.write_text(
        estimators.read_text(encoding="utf-8").replace("estimators:\n", "estimators:\n" + NEW_FAMILY, 1),
        encoding="utf-8",
    )
    places = scratch / "data" / "registry" / "places.yml"
    places.write_text(places.read_text(encoding="utf-8") + NEW_PLACE, encoding="utf-8")
    figure = {
        "--indicator": "digital_economy_share_GRDP",
        "--geography": "Cần Thơ",
        "--period": "2025",
        "--value": "15,2",
        "--unit": "% GRDP",
        "--kind": "estimate",
        "--estimator": "VNPT econometric estimate",
        "--publisher": "VnExpress",
        "--title": "Kinh tế số Cần Thơ",
        "--url": "https://vnexpress.net/kinh-te-so-can-tho.html",
        "--published-date": "2026-10-02",
    }
    assert main(["add", *[part for pair in figure.items() for part in pair]]) == 0
    assert main(["clean"]) == 0
    indicators = pd.read_csv(scratch / "data" / "processed" / "indicators.csv")
    row = indicators[indicators["boundary"] == "can_tho"].iloc[0]
    assert (row["estimator"], row["value"], row["level"]) == ("vnpt", 15.2, "province")
    # the reports name and draw it from the same entries
    assert load_registry().estimator("vnpt").independent is False
    assert labels.estimator("vnpt", "vi") == "Ước tính của VNPT" and labels.place("can_tho", "en") == "Can Tho"
    peers = charts.peers_chart(
        indicators[indicators["boundary"] == "can_tho"][["boundary", "estimator", "value", "year"]],
        {"can_tho": [(2030, 30.0)]},
        {"can_tho": "Cần Thơ"},
        {"vnpt": labels.estimator("vnpt", "vi")},
        "vi",
    )
    assert "#c08a00" in charts.svg_of(peers).decode()


@pytest.mark.parametrize(
    "chart, message",
    [
        ('{colour: "#c08a00", marker: Q}', "chart marker should be one of"),
        ('{colour: "orange", marker: P}', "chart colour should be #rrggbb, got 'orange'"),
    ],
)
def test_a_family_drawn_with_an_unknown_style_is_named(scratch, chart, message):
    from analysis.data.registry import load_registry
    from analysis.errors import RegistryError

    estimators = scratch / "data" / "registry" / "estimators.yml"
    entry = NEW_FAMILY.replace('{colour: "#c08a00", marker: P}', chart)
    estimators.write_text(
        estimators.read_text(encoding="utf-8").replace("estimators:\n", "estimators:\n" + entry, 1), encoding="utf-8"
    )
    with pytest.raises(RegistryError, match=f"estimators.yml: vnpt: {message}"):
        load_registry()
