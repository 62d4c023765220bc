"""Every processed table has a schema and a data dictionary; the assessment plan is checked like the run plan."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from analysis import tables
from analysis.__main__ import main
from analysis.data.schemas import SCHEMAS as DATA_SCHEMAS
from analysis.errors import PlanError, TableError
from analysis.models.assessment_plan import parse_assessment_plan
from analysis.models.schemas import SCHEMAS as MODEL_SCHEMAS

ALL_SCHEMAS = {**DATA_SCHEMAS, **MODEL_SCHEMAS}


@pytest.mark.parametrize("name", sorted(ALL_SCHEMAS))
def test_every_column_has_a_title_and_a_description(name):
    schema = ALL_SCHEMAS[name]
    assert schema.title and schema.description and schema.strict is True
    for column_name, column in schema.columns.items():
        assert column.title and column.description and len(column.description) > 10, (name, column_name)


def test_clean_and_assess_publish_a_data_dictionary_beside_every_table(project):
    from analysis.models.stage import publish_changes

    assert main(["clean"]) == 0
    assert main(["assess", "--paths", "200"]) == 0
    assert main(["track-record", "--paths", "200"]) == 0
    publish_changes(project / "reports" / "editions")
    folder = project / "data" / "processed"
    for name, schema in ALL_SCHEMAS.items():
        frame = pd.read_csv(folder / f"{name}.csv")
        assert list(frame.columns) == tables.columns(schema)
        dictionary = yaml.safe_load((folder / f"{name}.meta.yml").read_text(encoding="utf-8"))
        assert dictionary["rows"] == len(frame)
        assert list(dictionary["columns"]) == list(frame.columns)
        assert all(entry["description"] for entry in dictionary["columns"].values())
        assert dictionary["inputs"]  # provenance: the files the table was made from, with sha256
        assert all(len(digest) == 64 for digest in dictionary["inputs"].values())
        # each check is stated as data (name and bounds or values), and the table keeps to what it states
        for column, entry in dictionary["columns"].items():
            values = frame[column].dropna()
            for check in entry.get("checks", []):
                ((kind, stated),) = check.items()
                if kind == "isin":
                    assert set(values.astype(str)) <= set(map(str, stated["allowed_values"])), (name, column)
                elif kind == "in_range":
                    assert values.between(stated["min_value"], stated["max_value"]).all(), (name, column)
                else:
                    assert isinstance(stated, dict | str) and stated, (name, column, check)


def test_a_table_that_breaks_its_schema_is_not_published(tmp_path):
    bad = pd.DataFrame(
        {
            "source_id": ["not-an-id"],
            "publisher": ["X"],
            "title": ["T"],
            "url": ["u"],
            "published_date": [None],
            "is_mirror": [False],
        }
    )
    with pytest.raises(TableError) as caught:
        tables.publish(tmp_path, {"sources": (bad, DATA_SCHEMAS["sources"])}, produced_by="test")
    assert "sources.csv (processed):2:source_id" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "document, message",
    [
        (
            {"assessments": [{"indicator": "x", "boundary": "y", "target_years": [2030], "colour": "red"}]},
            "unknown key(s) colour",
        ),
        ({"assessments": [{"indicator": "x", "boundary": "y", "target_years": "2030"}]}, "should be a list of years"),
        ({"assessments": [{"indicator": "x", "boundary": "y"}]}, "give target_years or annual_target_years"),
        ({"assessments": [{"boundary": "y", "target_years": [2030]}]}, "'indicator' is missing"),
        ({"assessments": [{"indicator": "x", "boundary": "y", "target_years": [2030]}] * 2}, "appear twice"),
        ({"assessments": {"indicator": "x"}}, "expected a list under 'assessments'"),
    ],
)
def test_assessment_plan_mistakes_name_the_entry(document, message):
    with pytest.raises(PlanError) as caught:
        parse_assessment_plan(document, "assessment_plan.yml")
    assert message in str(caught.value) and "assessment_plan.yml" in str(caught.value)


def _edit_plan(project, edit) -> None:
    plan = project / "data" / "assessment_plan.yml"
    document = yaml.safe_load(plan.read_text(encoding="utf-8"))
    edit(document["assessments"])
    plan.write_text(yaml.safe_dump(document), encoding="utf-8")


def test_adding_a_target_year_is_a_line_in_the_assessment_plan(project, capsys):
    _edit_plan(project, lambda entries: entries[2].update(target_years=[2024, 2025, 2030]))
    assert main(["clean"]) == 0 and main(["assess", "--paths", "200"]) == 0
    assessments = pd.read_csv(project / "data" / "processed" / "assessments.csv")
    vietnam = assessments[assessments.boundary == "vietnam"]
    targets = set(zip(vietnam.target_year, vietnam.target_value, strict=True))
    assert {(2024, 17.5), (2025, 20.0), (2030, 30.0)} <= targets


def test_a_planned_target_the_data_does_not_hold_is_named(project, capsys):
    _edit_plan(
        project,
        lambda entries: entries.append(
            {"indicator": "digital_economy_share_GRDP", "boundary": "da_nang", "target_years": [2025]}
        ),
    )
    assert main(["clean"]) == 0
    assert main(["assess", "--paths", "200"]) == 2
    err = capsys.readouterr().err
    assert "digital_economy_share_GRDP @ da_nang" in err and "no target for 2025" in err


def test_a_broken_assessment_plan_stops_assess_with_exit_2(project, capsys):
    (project / "data" / "assessment_plan.yml").write_text("assessments: [\n", encoding="utf-8")
    assert main(["clean"]) == 0
    assert main(["assess"]) == 2
    assert "assessment_plan.yml: not valid YAML" in capsys.readouterr().err


def test_a_notebook_gets_the_tables_its_parameters_need_computed_on_demand(project):
    # An analyst sets as_of = 2024 in JupyterLab with nothing computed yet: the tables are made in the kernel.
    from analysis.reports.loading import load_report

    report = load_report("en", 2024)
    assert set(report.assessments.as_of.dropna()) == {2024}
    assert (project / "data" / "processed" / "assessments-as-of-2024.csv").exists()
    # Tables made from other raw files than those on disk now are stale: the next report cleans again.
    record = project / "data" / "processed" / ".pipeline.json"
    records = json.loads(record.read_text(encoding="utf-8"))
    raw = "data/raw/seed_articles_indicators.csv"
    records["clean"][raw] = "0" * 64
    record.write_text(json.dumps(records), encoding="utf-8")
    assert len(load_report("en").indicators) > 0
    from analysis.data.provenance import sha256_of

    assert json.loads(record.read_text(encoding="utf-8"))["clean"][raw] == sha256_of(project / raw)
