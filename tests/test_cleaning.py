"""The cleaned tables hold what the issue promises; bad raw input stops the run loudly."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from analysis.__main__ import main
from analysis.data.cleaning import RAW_COLUMNS
from analysis.data.provenance import check_checksum, sha256_of, sidecar_path

ROOT = Path(__file__).resolve().parents[1]


def _share(tables, year, estimator, value_type="point"):
    frame = tables["indicators"]
    rows = frame[
        (frame.indicator == "digital_economy_share_GRDP")
        & (frame.geography == "hcmc")
        & (frame.boundary == "hcmc-pre-2025-07")
        & (frame.year == year)
        & (frame.estimator == estimator)
        & (frame.value_type == value_type)
    ]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_rival_estimators_stay_separate_rows(cleaned):
    assert _share(cleaned, 2023, "mic")["value"] == 21.5
    assert _share(cleaned, 2023, "gso")["value"] == 14.65


def test_hids_range_keeps_low_high_and_midpoint(cleaned):
    row = _share(cleaned, 2021, "hids", "range")
    assert (row.value_low, row.value_high) == (13.71, 15.72)
    assert row.value == pytest.approx(14.715)


def test_same_figure_from_several_outlets_is_one_row_with_citations(cleaned):
    row = _share(cleaned, 2023, "mic")
    assert row.n_citations >= 3
    assert len(row.citations.split(";")) == row.n_citations


def test_conflicts_table_records_every_candidate_and_the_rule(cleaned):
    conflicts = cleaned["conflicts"]
    assert not conflicts.empty
    hids = conflicts[(conflicts.indicator == "digital_economy_share_GRDP") & (conflicts.estimator == "hids")]
    assert set(hids.value) >= {14.41, 15.38}
    assert hids[hids.value == 15.38].chosen.tolist() == [False]
    assert (conflicts.groupby("conflict_id").chosen.any()).all()


def test_later_vintage_wins_for_revised_statistics(cleaned):
    frame = cleaned["indicators"]
    row = frame[(frame.indicator == "digital_economy_share_GDP") & (frame.year == 2022) & (frame.estimator == "gso")]
    assert row.value.tolist() == [12.83]  # Jan 2025 vintage, not 12.67 (Dec 2023) or 12.63


def test_total_grdp_misreported_as_digital_economy_is_excluded(cleaned):
    excluded = cleaned["exclusions"]
    rule = excluded[excluded.rule == "equals_total_grdp"]
    assert rule.indicator.tolist() == ["digital_economy_value"]
    frame = cleaned["indicators"]
    hcmc_values = frame[(frame.indicator == "digital_economy_value") & (frame.geography == "hcmc")]
    assert not (hcmc_values.value > 1e6).any()  # the city's whole GRDP is about 1.5 million billion dong


def test_merged_city_is_a_separate_boundary(cleaned):
    targets = cleaned["targets"]
    merged = targets[(targets.indicator == "digital_economy_share_GRDP") & (targets.boundary == "hcmc-merged-2025-07")]
    pre = targets[(targets.indicator == "digital_economy_share_GRDP") & (targets.boundary == "hcmc-pre-2025-07")]
    assert 2030 in set(merged.target_year)
    preferred = pre[pre.preferred]
    assert {(2025, 25.0), (2030, 40.0)} <= set(zip(preferred.target_year, preferred.value, strict=True))


def test_targets_keep_disagreeing_values_with_legal_basis(cleaned):
    targets = cleaned["targets"]
    hcmc_2025 = targets[
        (targets.indicator == "digital_economy_share_GRDP")
        & (targets.boundary == "hcmc-pre-2025-07")
        & (targets.target_year == 2025)
    ]
    assert set(hcmc_2025.value) == {20.0, 25.0}
    assert hcmc_2025[hcmc_2025.value == 25].legal_basis.iloc[0].count("|") >= 2
    budget = targets[
        (targets.indicator == "dt_budget_share") & (targets.geography == "hcmc") & (targets.period == "annual")
    ]
    assert 2.0 in set(budget.value) and set(budget.comparator) == {"at_least"}


def test_shipped_checksums_match_sidecars():
    for path in sorted((ROOT / "data" / "raw").glob("*.csv")):
        assert check_checksum(path) == [], path


# --- bad input --------------------------------------------------------------------------


def _rewrite(path: Path, mutate) -> None:
    """Write a modified copy of a raw file and refresh its sidecar checksum (a deliberate new vintage)."""
    rows = list(csv.reader(path.open(encoding="utf-8")))
    mutate(rows)
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    meta = sidecar_path(path)
    text = meta.read_text(encoding="utf-8")
    old = next(line for line in text.splitlines() if line.strip().startswith("sha256:"))
    meta.write_text(text.replace(old, f"  sha256: {sha256_of(path)}"), encoding="utf-8")


def _set(row_number: int, column: str, value: str):
    def mutate(rows):
        rows[row_number - 1][rows[0].index(column)] = value

    return mutate


def _run_clean(capsys) -> tuple[int, str]:
    code = main(["clean"])
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    "column, value, message",
    [
        ("value_as_published", "mười tám", "cannot read"),
        ("unit_as_published", "furlongs", "unknown unit"),
        ("value_as_published", "180,5", "above 100"),
        ("published_date", "2023-31-12", "month 31"),
        ("period", "sometime", "cannot read period"),
        ("value_as_published", "١٢", "digits other than 0-9"),
        ("value_as_published", "１２", "digits other than 0-9"),
        ("period", "٢٠١٩", "digits other than 0-9"),
        ("value_as_published", "1" * 400, "more than 20 digits"),
        ("source_title", "Kinh tế số \u202e2025", "U+202E (RIGHT-TO-LEFT OVERRIDE) at character 12"),
        ("methodology_or_estimator", "GSO\u200b", "U+200B (ZERO WIDTH SPACE)"),
        ("source_publisher", "Vietstock\u2066", "U+2066 (LEFT-TO-RIGHT ISOLATE)"),
        ("published_date", "2019-01-01", "'2019-01-01' is before the period it reports (2022) began"),
    ],
)
def test_bad_cell_names_file_row_column_and_writes_nothing(project, capsys, column, value, message):
    raw = project / "data" / "raw" / "press_indicators.csv"
    _rewrite(raw, _set(12, column, value))
    code, err = _run_clean(capsys)
    assert code != 0
    assert f"press_indicators.csv:12:{column}" in err
    assert message in err
    assert "expected" in err
    assert not list((project / "data" / "processed").glob("*.csv"))


def test_missing_column_is_an_error(project, capsys):
    raw = project / "data" / "raw" / "seed_articles_indicators.csv"

    def drop_kind(rows):
        index = rows[0].index("kind")
        for row in rows:
            del row[index]

    _rewrite(raw, drop_kind)
    code, err = _run_clean(capsys)
    assert code != 0 and "seed_articles_indicators.csv:1:kind: missing column" in err


def test_edited_raw_file_fails_its_checksum(project, capsys):
    raw = project / "data" / "raw" / "press_indicators.csv"
    raw.write_bytes(raw.read_bytes().replace(b"21,5", b"22,5", 1))
    code, err = _run_clean(capsys)
    assert code != 0 and "does not match the sidecar" in err


def test_failed_clean_leaves_published_tables_untouched(project, capsys):
    assert main(["clean"]) == 0
    before = {p.name: p.read_bytes() for p in (project / "data" / "processed").iterdir()}
    _rewrite(project / "data" / "raw" / "press_indicators.csv", _set(5, "value_as_published", "??"))
    code, _ = _run_clean(capsys)
    assert code != 0
    after = {p.name: p.read_bytes() for p in (project / "data" / "processed").iterdir()}
    assert after == before


def test_validate_lists_every_problem_of_a_candidate_file(tmp_path, capsys):
    candidate = tmp_path / "new_figures.csv"
    header = list(RAW_COLUMNS)
    rows = [
        [
            "digital_economy_share_GRDP",
            "HCMC",
            "2024",
            "23,4",
            "% GRDP",
            "estimate",
            "MIC (Bộ TT&TT)",
            "X",
            "T",
            "https://example.vn/a",
            "2025-03-01",
        ],
        [
            "digital_economy_share_GRDP",
            "HCMC",
            "2024",
            "abc",
            "% GRDP",
            "estimate",
            "MIC",
            "X",
            "T",
            "https://example.vn/a",
            "2025-03-01",
        ],
        [
            "dt_budget_share",
            "Atlantis",
            "2024",
            "1,5",
            "% ngân sách",
            "actual",
            "",
            "X",
            "T",
            "https://example.vn/a",
            "2025/03/01",
        ],
    ]
    with candidate.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *rows])
    code = main(["validate", str(candidate)])
    out = capsys.readouterr().out
    assert code == 2
    assert "new_figures.csv:3:value_as_published" in out
    assert "new_figures.csv:4:geography" in out
    assert "new_figures.csv:4:published_date" in out
    assert ":2:" not in out


def test_validate_cli_exit_code_on_shipped_data():
    result = subprocess.run([sys.executable, "-m", "analysis", "validate"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


# --- hostile input that looks valid --------------------------------------------------------


def _raw_bytes(project: Path, data: bytes) -> None:
    """Replace the main raw file's bytes (and its sidecar checksum, as a new vintage would)."""
    raw = project / "data" / "raw" / "press_indicators.csv"
    raw.write_bytes(data)
    meta = sidecar_path(raw)
    text = meta.read_text(encoding="utf-8")
    old = next(line for line in text.splitlines() if line.strip().startswith("sha256:"))
    meta.write_text(text.replace(old, f"  sha256: {sha256_of(raw)}"), encoding="utf-8")


def test_a_file_saved_with_a_byte_order_mark_is_read(project, capsys):
    raw = project / "data" / "raw" / "press_indicators.csv"
    _raw_bytes(project, b"\xef\xbb\xbf" + raw.read_bytes())
    assert main(["clean"]) == 0, capsys.readouterr().err


def test_an_encoding_error_names_the_row(project, capsys):
    raw = project / "data" / "raw" / "press_indicators.csv"
    lines = raw.read_bytes().split(b"\n")
    lines[6] = lines[6].replace(b",", b",\xff", 1)
    _raw_bytes(project, b"\n".join(lines))
    code, err = _run_clean(capsys)
    assert code == 2 and "press_indicators.csv:7: byte 0xff is not UTF-8" in err


def test_a_repeated_column_name_is_an_error_not_a_silent_overwrite(project, capsys):
    def repeat_title(rows):
        rows[0][rows[0].index("source_url")] = "source_title"

    _rewrite(project / "data" / "raw" / "press_indicators.csv", repeat_title)
    code, err = _run_clean(capsys)
    assert code == 2 and "press_indicators.csv:1:source_title: column name appears more than once" in err


def test_repeated_rows_are_duplicates_not_conflicts(project, capsys):
    raw = project / "data" / "raw" / "press_indicators.csv"
    rows = list(csv.reader(raw.open(encoding="utf-8")))
    _rewrite(raw, lambda rows_: rows_.extend(rows[1:] * 3))
    assert main(["clean"]) == 0, capsys.readouterr().err
    excluded = pd.read_csv(project / "data" / "processed" / "exclusions.csv")
    duplicates = excluded[excluded.rule == "duplicate_row"]
    assert len(duplicates) == 3 * (len(rows) - 1)
    assert duplicates.reason.str.match(r"repeats press_indicators.csv row \d+ cell for cell").all()
    conflicts = pd.read_csv(project / "data" / "processed" / "conflicts.csv")
    assert conflicts.groupby("conflict_id").size().max() < 10  # no conflict between identical copies


def test_formulas_are_neutralised_in_processed_csvs(project, capsys):
    _rewrite(project / "data" / "raw" / "press_indicators.csv", _set(12, "source_title", '=HYPERLINK("http://x","y")'))
    assert main(["clean"]) == 0, capsys.readouterr().err
    sources = (project / "data" / "processed" / "sources.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK(" in sources and ",=HYPERLINK(" not in sources and '"=HYPERLINK(' not in sources


def test_a_flood_of_problems_prints_a_capped_list(project, capsys):
    def break_every_value(rows):
        column = rows[0].index("value_as_published")
        for row in rows[1:]:
            row[column] = "mười tám"

    _rewrite(project / "data" / "raw" / "press_indicators.csv", break_every_value)
    code, err = _run_clean(capsys)
    assert code == 2
    assert err.count("\nerror: ") <= 50 and "more problem(s) of the same kinds" in err
    assert str(project) not in err  # files are named as the operator knows them, not by absolute path


def test_a_row_repeated_from_another_file_is_an_error_at_validate_and_clean_naming_the_newer_file(project, capsys):
    """A copy of published rows in a new raw file (sorting before the original, and holding a curated row)."""
    from analysis.data.provenance import sidecar_text

    press = project / "data" / "raw" / "press_indicators.csv"
    lines = press.read_text(encoding="utf-8").splitlines(keepends=True)
    copy = project / "data" / "raw" / "a-copy.csv"
    copy.write_text(lines[0] + "".join(lines[29:34]), encoding="utf-8")  # press rows 30-34 (33 is curated)
    origin = {"title": "copy", "producer": "x", "collection": "by hand", "date_accessed": "2026-12-01"}
    sidecar_path(copy).write_text(sidecar_text(copy, origin), encoding="utf-8")
    assert main(["validate"]) == 2
    out = capsys.readouterr().out
    assert "a-copy.csv:2: repeats press_indicators.csv row 30 cell for cell" in out
    assert "press_indicators.csv:3" not in out and "curation entry" not in out
    code, err = _run_clean(capsys)
    assert code == 2 and "a-copy.csv:6: repeats press_indicators.csv row 34 cell for cell" in err
    assert "press_indicators.csv:" not in err.replace("repeats press_indicators.csv", "")


def test_a_published_file_that_changed_is_an_error_whatever_its_sidecar_says(project, capsys):
    import json

    raw = project / "data" / "raw" / "press_indicators.csv"
    edition = project / "reports" / "editions" / "20261126T000000Z"
    edition.mkdir(parents=True)
    (edition / "edition.json").write_text(json.dumps({"raw_files": {raw.name: sha256_of(raw)}}), encoding="utf-8")
    assert main(["validate"]) == 0
    capsys.readouterr()
    _rewrite(raw, _set(12, "value_as_published", "9,9"))  # the value edited, the sidecar's sha256 updated
    assert check_checksum(raw) == []
    code, err = _run_clean(capsys)
    assert code == 2 and "press_indicators.csv: changed since edition 20261126T000000Z published it" in err
    assert main(["validate"]) == 2
    assert "a published entry file is immutable" in capsys.readouterr().out
