"""Editions: a run with new content records what it published and what changed; the track record scores."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from analysis.models.assessment_plan import PlanEntry
from analysis.models.changes import Edition, diff, pending_changes
from analysis.models.track_record import restate, scores, track_record

PLAN = (PlanEntry("digital_economy_share_GRDP", "hcmc-pre-2025-07", (2025, 2030), (), "mic"),)


def _figure(year: int, value: float, estimator: str = "mic", source: str = "S00000001") -> dict:
    return {
        "indicator": "digital_economy_share_GRDP",
        "geography": "hcmc",
        "boundary": "hcmc-pre-2025-07",
        "estimator": estimator,
        "year": year,
        "period": "Y",
        "kind": "estimate",
        "value_type": "point",
        "value": value,
        "source_id": source,
        "published_date": f"{year + 1}-02-01",
        "first_published": f"{year + 1}-02-01",
    }


def _assessment(year: int, p: float, status: str, reference: int = 2025, **extra) -> dict:
    return {
        "indicator": "digital_economy_share_GRDP",
        "geography": "hcmc",
        "boundary": "hcmc-pre-2025-07",
        "estimator": "mic",
        "target_id": f"t{year}",
        "target_year": year,
        "target_value": 25.0 if year == 2025 else 40.0,
        "status": status,
        "p_meet_in_year": p,
        "reference_year": reference,
        "outcome": None,
        **extra,
    }


def test_a_constructed_two_edition_case_names_every_change_and_its_cause():
    before = Edition(
        "E1",
        {"package_version": "0.1.0"},
        pd.DataFrame([_figure(2022, 18.66), _figure(2023, 21.5)]),
        pd.DataFrame([_assessment(2025, 0.47, "off_track"), _assessment(2030, 0.32, "off_track")]),
        pd.DataFrame(),
    )
    indicators = pd.DataFrame([_figure(2022, 18.7), _figure(2023, 21.5), _figure(2024, 22.0, source="S00000022")])
    assessments = pd.DataFrame(
        [
            _assessment(
                2025,
                float("nan"),
                "met",
                2026,
                outcome="met",
                outcome_value=25.0,
                outcome_kind="estimate",
                outcome_source="S00000025",
            ),
            _assessment(2030, 0.11, "off_track", 2026),
        ]
    )
    changes = diff(before, indicators, assessments, PLAN)
    by_change = {change: group for change, group in changes.groupby("change")}
    assert by_change["new_figure"].iloc[0][["year", "after", "source_id", "cause"]].tolist() == [
        2024,
        "22",
        "S00000022",
        "data",
    ]
    assert by_change["revised_figure"].iloc[0][["year", "before", "after"]].tolist() == [2022, "18.66", "18.7"]
    assert by_change["outcome"].iloc[0]["after"] == "met (25, estimate)"
    assert by_change["status"].iloc[0][["target_year", "before", "after", "cause"]].tolist() == [
        2025,
        "off_track",
        "met",
        "data",
    ]
    probability = by_change["probability"].iloc[0]
    assert probability[["target_year", "before", "after", "cause"]].tolist() == [2030, "0.32", "0.11", "data"]


def test_a_probability_that_moved_without_new_data_is_put_down_to_the_method():
    figures = pd.DataFrame([_figure(2022, 18.66), _figure(2023, 21.5)])
    before = Edition(
        "E1",
        {"package_version": "0.0.9"},
        figures,
        pd.DataFrame([_assessment(2030, 0.32, "off_track")]),
        pd.DataFrame(),
    )
    changes = diff(before, figures, pd.DataFrame([_assessment(2030, 0.40, "off_track")]), PLAN)
    assert changes[["change", "cause"]].values.tolist() == [["probability", "method"]]
    assert "0.0.9" in changes.iloc[0]["reason"]


def _card(number: int, status: str, basis: str, **extra) -> dict:
    return {
        "number": number,
        "indicator": "dti_rank",
        "boundary": "hcmc-merged-2025-07",
        "target_year": 2025,
        "status": status,
        "basis": basis,
        **extra,
    }


def test_a_programme_target_whose_status_moved_is_a_change_said_in_both_languages():
    from analysis.i18n import t
    from analysis.models.assessment_plan import load_programme
    from analysis.reports.content import change_lines

    figures = pd.DataFrame([_figure(2023, 21.5)])
    assessments = pd.DataFrame([_assessment(2030, 0.32, "off_track", data_status="ok")])
    before = Edition(
        "E1",
        {"package_version": "0.1.0"},
        figures,
        assessments,
        pd.DataFrame(),
        pd.DataFrame(
            [_card(2, "awaiting_figure", "no_figure"), _card(1, "on_track", "assessment"), _card(9, "met", "figure")]
        ),
    )
    after = pd.DataFrame(
        [
            _card(2, "met", "figure", figure_value=3, figure_year=2025, figure_source="S000000aa"),
            _card(1, "off_track", "assessment"),  # an assessment's status: that assessment's change says it
            _card(9, "met", "figure"),
        ]
    )
    changes = diff(before, figures, assessments, PLAN, after)
    programme = changes[changes["change"] == "programme_status"]
    assert programme[["programme_target", "before", "after", "cause"]].values.tolist() == [
        [2, "awaiting_figure", "met", "data"]
    ]
    assert programme[["geography", "boundary"]].values.tolist() == [["hcmc", "hcmc-merged-2025-07"]]  # the registry's
    # an edition made before the scorecard has nothing to compare with: no programme change, no error
    older = Edition("E0", {}, figures, assessments, pd.DataFrame())
    assert not (diff(older, figures, assessments, PLAN, after)["change"] == "programme_status").any()
    name = {target.number: target for target in load_programme().targets}[2].name
    for lang in ("vi", "en"):
        lines = [line["text"] for line in change_lines(changes, assessments, lang)]
        said = [text for text in lines if name[lang] in text]
        assert len(said) == 1 and t("status.met", lang) in said[0] and t("status.awaiting_figure", lang) in said[0]


def test_the_first_edition_says_so_and_an_unchanged_rerun_repeats_the_last_editions_changes(tmp_path):
    processed = tmp_path / "processed"
    processed.mkdir()
    pd.DataFrame([_figure(2023, 21.5)]).to_csv(processed / "indicators.csv", index=False)
    pd.DataFrame([_assessment(2030, 0.32, "off_track")]).to_csv(processed / "assessments.csv", index=False)
    changes, previous = pending_changes(tmp_path / "editions", processed, PLAN)
    assert changes["change"].tolist() == ["first_edition"] and previous is None
    from analysis.models.changes import content_fingerprint

    edition = tmp_path / "editions" / "E1"
    edition.mkdir(parents=True)
    for name in ("indicators.csv", "assessments.csv"):
        (edition / name).write_bytes((processed / name).read_bytes())
    changes.to_csv(edition / "changes.csv", index=False)
    (edition / "edition.json").write_text(
        json.dumps({"content": content_fingerprint(processed), "previous": None}), encoding="utf-8"
    )
    again, previous = pending_changes(tmp_path / "editions", processed, PLAN)
    assert again["change"].tolist() == ["first_edition"]


def test_the_track_record_scores_statements_whose_outcome_is_out():
    figures = pd.DataFrame([_figure(2020, 12.0), _figure(2021, 15.0), _figure(2022, 18.0), _figure(2023, 21.0)])
    figures = figures.assign(value_low=float("nan"), value_high=float("nan"), qualifier="exact", unit="percent_of_GRDP")
    targets = pd.DataFrame(
        [
            {
                "target_id": "t2025",
                "indicator": "digital_economy_share_GRDP",
                "boundary": "hcmc-pre-2025-07",
                "target_year": 2025,
                "value": 25.0,
                "comparator": "at_least",
                "unit": "percent_of_GRDP",
                "period": "Y",
                "span_start": pd.NA,
                "span_end": pd.NA,
                "preferred": True,
            }
        ]
    )
    plan = (PlanEntry("digital_economy_share_GRDP", "hcmc-pre-2025-07", (2025,), (), "mic"),)
    outcomes = pd.DataFrame(
        [
            {
                "indicator": "digital_economy_share_GRDP",
                "boundary": "hcmc-pre-2025-07",
                "estimator": "mic",
                "target_year": 2025,
                "outcome": "met",
                "outcome_value": 25.5,
            }
        ]
    )

    def as_of(year):
        return figures[figures.year < year], targets  # a figure for year Y is published in Y + 1

    record, _ = track_record(lambda year: restate(*as_of(year), plan, year, n_paths=500), outcomes, reference_year=2026)
    # Three figures are needed for a probability (from 2023 on); at the end of 2025 the year 2025 is no forecast.
    assert list(record.as_of) == [2023, 2024]
    assert record.brier.notna().all()
    assert record.brier.tolist() == pytest.approx(((record.p_meet_in_year - 1.0) ** 2).tolist())
    assert record.inside95.all()
    summary = scores(record)
    assert summary["scored"] == 2 and summary["as_of_years"] == [2023, 2024]


@pytest.mark.slow
def test_a_new_figure_added_and_run_records_an_edition_naming_it(tmp_path, track_record_cache):
    from analysis.__main__ import main
    from analysis.batch.run import RunOptions, run
    from conftest import copy_project, project_root

    root = copy_project(tmp_path / "project", notebooks=True, cache=track_record_cache)
    plan = root / "plan.yml"
    plan.write_text(
        yaml.safe_dump(
            {
                "languages": ["vi"],
                "reports": [
                    {
                        "name": "summary",
                        "notebook": "00-executive-summary.ipynb",
                        "title_key": "report.summary",
                        "parameters": {},
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    with project_root(root):
        assert run(RunOptions(plan=plan, jobs=1), log=lambda *_: None) == 0
        first = sorted((root / "reports" / "editions").iterdir())
        assert len(first) == 1
        assert json.loads((first[0] / "edition.json").read_text())["previous"] is None
        assert (
            main(
                [
                    "add",
                    "--indicator",
                    "dt_budget_share",
                    "--geography",
                    "HCMC",
                    "--period",
                    "2025",
                    "--value",
                    "1,5",
                    "--unit",
                    "% tổng chi ngân sách",
                    "--kind",
                    "estimate",
                    "--estimator",
                    "Sở Tài chính TP.HCM",
                    "--publisher",
                    "SGGP",
                    "--url",
                    "https://www.sggp.org.vn/chi-chuyen-doi-so-2025.html",
                    "--published-date",
                    "2026-03-01",
                ]
            )
            == 0
        )
        messages: list[str] = []
        assert run(RunOptions(plan=plan, jobs=1), log=messages.append) == 0
    editions = sorted((root / "reports" / "editions").iterdir())
    assert len(editions) == 2 and any("edition" in m and "recorded" in m for m in messages)
    record = json.loads((editions[1] / "edition.json").read_text())
    assert record["previous"] == editions[0].name and any(name.startswith("analyst-") for name in record["raw_files"])
    changes = pd.read_csv(editions[1] / "changes.csv")
    new = changes[changes.change == "new_figure"]
    # A full-year 2025 figure for the city is the merged city's: the former city's 2025 target is not judged on
    # it (its boundary ended), but the figure is the news, shown beside the target.
    assert new[["indicator", "boundary", "year", "after"]].values.tolist() == [
        ["dt_budget_share", "hcmc-merged-2025-07", 2025, "1.5"]
    ]
    outcome = changes[(changes.change == "outcome") & (changes.target_year == 2025)]
    assert outcome.after.tolist() == ["boundary_ended (1.5, estimate)"] and set(outcome.cause) == {"data"}
    assert changes[changes.change == "status"].empty  # the status was "boundary changed" before and after
    page = (root / "reports" / "vi" / "summary.html").read_text(encoding="utf-8")
    assert "Số liệu mới" in page and "1,5%" in page  # the summary says what changed, in Vietnamese, as printed


def test_the_track_record_restates_only_the_years_a_new_figure_was_public_in(project, monkeypatch):
    import analysis.models.track_record as track_record_module
    from analysis import pipeline
    from analysis.batch.timings import NEW_FIGURE
    from analysis.data import stage as data_stage
    from analysis.data.intake import add_figure
    from analysis.models import stage as model_stage

    def publish() -> tuple[list[int], str]:
        restated: list[int] = []
        original = track_record_module.restate

        def counting(indicators, targets, plan, as_of, **kwargs):
            restated.append(as_of)
            return original(indicators, targets, plan, as_of, **kwargs)

        monkeypatch.setattr(track_record_module, "restate", counting)
        key = pipeline.cache_key("track_record")
        path = model_stage.publish_track_record(key, n_paths=300, reference_year=2026)
        return restated, path.read_text(encoding="utf-8")

    data_stage.clean()  # the outcomes that score the statements; the restatements read the raw files
    model_stage.assess(n_paths=500)
    first, _ = publish()
    assert first == [2021, 2022, 2023, 2024, 2025]
    again, _ = publish()
    assert again == []
    add_figure({**NEW_FIGURE, "published_date": "2026-11-01"})
    after_this_year, _ = publish()
    assert after_this_year == []  # public in 2026: no past year could have seen it
    add_figure({**NEW_FIGURE, "period": "2024", "value_as_published": "23", "published_date": "2024-06-01"})
    after_2024, cached = publish()
    assert after_2024 == [2024, 2025]
    # the cached statements are those a fresh restatement gives
    for stale in (project / "data" / "processed" / ".cache").glob("*.csv"):
        stale.unlink()
    fresh, recomputed = publish()
    assert fresh == [2021, 2022, 2023, 2024, 2025] and recomputed == cached
