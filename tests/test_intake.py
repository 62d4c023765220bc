"""Intake: a new figure is one command, checked first; bad input writes nothing and exits 2."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml

from analysis.__main__ import main
from analysis.data.cleaning import RAW_COLUMNS
from analysis.data.provenance import check_checksum, sha256_of, sidecar_path

ROOT = Path(__file__).resolve().parents[1]
GOOD = [
    "--indicator",
    "digital_economy_share_GRDP",
    "--geography",
    "HCMC (merged)",
    "--period",
    "2026",
    "--value",
    "khoảng 27",
    "--unit",
    "% GRDP",
    "--kind",
    "estimate",
    "--estimator",
    "MIC/MST-framework series (Bộ KH&CN)",
    "--publisher",
    "VietNamNet",
    "--title",
    "Kinh tế số TP.HCM 2026",
    "--url",
    "https://vietnamnet.vn/kinh-te-so-2026.html",
    "--published-date",
    "2026-11-20",
]


def _with(option: str, value: str) -> list[str]:
    args = list(GOOD)
    args[args.index(option) + 1] = value
    return args


def _raw_snapshot(project: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (project / "data" / "raw").iterdir()}


@pytest.mark.parametrize(
    "option, value, message",
    [
        (
            "--indicator",
            "digital_economy_share_grdp",
            "unknown indicator 'digital_economy_share_grdp'; did you mean digital_economy_share_GRDP",
        ),
        ("--value", "hai mươi bảy", "cannot read 'hai mươi bảy'"),
        ("--url", "www.vietnamnet.vn/a", "is not an http(s) address"),
        ("--url", "javascript:alert(1)", "is not an http(s) address"),
        ("--url", "", "source address missing"),
        ("--published-date", "20/11/2026", "malformed date"),
        ("--published-date", "2059-12-31", "after today"),
        ("--kind", "rumour", "unknown kind 'rumour'"),
        ("--geography", "Atlantis", "unknown place 'Atlantis'"),
    ],
)
def test_a_bad_field_is_named_and_nothing_is_written(project, capsys, option, value, message):
    before = _raw_snapshot(project)
    assert main(["add", *_with(option, value)]) == 2
    err = capsys.readouterr().err
    assert f"error: {option}: " in err and message in err
    assert _raw_snapshot(project) == before


def test_a_figure_is_added_with_its_sidecar_and_extends_the_entry_file_until_published(project, capsys):
    assert main(["add", *GOOD]) == 0
    entries = sorted((project / "data" / "raw").glob("analyst-*.csv"))
    assert len(entries) == 1
    path = entries[0]
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert rows[0]["value_as_published"] == "khoảng 27" and rows[0]["source_url"].startswith("https://")
    meta = yaml.safe_load(sidecar_path(path).read_text(encoding="utf-8"))
    assert meta["outs"]["sha256"] == sha256_of(path) and meta["outs"]["rows"] == 1
    assert meta["meta"]["origin"]["producer"] and meta["meta"]["origin"]["sources"][0]["url"] == rows[0]["source_url"]
    assert check_checksum(path) == []
    # A second figure goes into the same, still unpublished, file.
    assert (
        main(
            [
                "add",
                *_with("--period", "2027"),
            ]
        )
        == 0
    )
    assert len(list(csv.DictReader(path.open(encoding="utf-8")))) == 2
    # Once an edition has published the file, it is immutable: the next figure starts a new file.
    edition = project / "reports" / "editions" / "20261126T000000Z"
    edition.mkdir(parents=True)
    (edition / "edition.json").write_text(json.dumps({"raw_files": {path.name: sha256_of(path)}}), encoding="utf-8")
    assert main(["add", *_with("--period", "2028")]) == 0
    assert len(list((project / "data" / "raw").glob("analyst-*.csv"))) == 2
    assert len(list(csv.DictReader(path.open(encoding="utf-8")))) == 2
    assert main(["clean"]) == 0  # the new rows clean like any raw row


def test_import_keeps_a_csv_byte_for_byte_and_refuses_a_bad_row(project, capsys, tmp_path):
    header = list(RAW_COLUMNS)
    good = [
        "dt_budget_share",
        "HCMC",
        "2025",
        "1,3",
        "% tổng chi ngân sách",
        "estimate",
        "Sở Tài chính TP.HCM",
        "SGGP",
        "Chi chuyển đổi số 2025",
        "https://www.sggp.org.vn/a.html",
        "2026-03-01",
    ]
    source = tmp_path / "budget_2026-03.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, good, [*good[:3], "??", *good[4:]]])
    before = _raw_snapshot(project)
    assert main(["import", str(source), "--producer", "Sở Tài chính"]) == 2
    assert "budget_2026-03.csv:3:value_as_published" in capsys.readouterr().err
    assert _raw_snapshot(project) == before
    with source.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, good])
    assert main(["import", str(source), "--producer", "Sở Tài chính"]) == 0
    imported = project / "data" / "raw" / "budget_2026-03.csv"
    assert imported.read_bytes() == source.read_bytes() and check_checksum(imported) == []
    assert main(["import", str(source)]) == 2  # never replaces a raw file


def test_excel_template_round_trips_through_import(project, capsys, tmp_path):
    import openpyxl

    template = tmp_path / "figures.xlsx"
    assert main(["template", str(template)]) == 0
    book = openpyxl.load_workbook(template)
    sheet = book["figures"]
    assert [cell.value for cell in sheet[1]][:3] == ["indicator", "geography", "period"]
    assert {str(v.sqref)[0] for v in sheet.data_validations.dataValidation} == {
        "A",
        "F",
        "G",
    }  # indicator, kind, estimator
    example = [cell.value for cell in sheet[2]]
    sheet.append([*example[:2], "2026", "khoảng 27", *example[4:]])  # an analyst's row, typed as text
    book.save(template)
    assert main(["import", str(template), "--name", "analyst-excel"]) == 0
    rows = list(csv.DictReader((project / "data" / "raw" / "analyst-excel.csv").open(encoding="utf-8")))
    assert [r["period"] for r in rows] == ["2025", "2026"] and rows[1]["value_as_published"] == "khoảng 27"


def test_a_sidecar_with_nothing_but_a_checksum_is_refused(project, capsys):
    raw = project / "data" / "raw" / "seed_articles_indicators.csv"
    sidecar_path(raw).write_text(yaml.safe_dump({"outs": {"sha256": sha256_of(raw)}}), encoding="utf-8")
    assert main(["clean"]) == 2
    err = capsys.readouterr().err
    assert "seed_articles_indicators.csv.meta.yml: sidecar lacks meta.origin.title, meta.origin.producer" in err


def test_the_november_collection_is_every_row_a_figure_or_an_exclusion(cleaned):
    import pandas as pd

    name = "press_indicators_2026-11.csv"
    raw = pd.read_csv(ROOT / "data" / "raw" / name, dtype=str, keep_default_na=False)
    excluded = cleaned["exclusions"][cleaned["exclusions"].raw_file == name]
    assert len(raw) == 106 and set(excluded.raw_row) == {13, 32}
    assert excluded.reason.str.len().gt(10).all()
    # Every other row became a figure or a target: kept (its source is cited) or a losing candidate of a conflict.
    from analysis.data.cleaning import source_id

    figures, targets, conflicts = cleaned["indicators"], cleaned["targets"], cleaned["conflicts"]
    cited = {source for frame in (figures, targets) for cell in frame["citations"] for source in cell.split(";")}
    losing = set(zip(conflicts.raw_file, conflicts.raw_row, strict=True))
    for number, row in raw.iterrows():
        if number + 2 in set(excluded.raw_row):
            continue
        source = source_id(row.source_publisher, row.source_title, row.source_url)
        assert source in cited or (name, number + 2) in losing, (number + 2, row.indicator, row.value_as_published)
    # A figure whose year is not stated never enters a yearly series.
    unstated = figures[(figures.raw_file == name) & (figures.period == "unstated")]
    assert {13.43, 17.34, 46.3, 22.28, 29.7} <= set(unstated.value) and unstated.year.isna().all()
