"""Intake: a new figure is one command, checked first; bad input writes nothing and exits 2."""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import threading
import time
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
                *_with("--period", "2025"),
            ]
        )
        == 0
    )
    assert len(list(csv.DictReader(path.open(encoding="utf-8")))) == 2
    # Once an edition has published the file, it is immutable: the next figure starts a new file.
    edition = project / "reports" / "editions" / "20261126T000000Z"
    edition.mkdir(parents=True)
    (edition / "edition.json").write_text(json.dumps({"raw_files": {path.name: sha256_of(path)}}), encoding="utf-8")
    assert main(["add", *_with("--period", "2024")]) == 0
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
    assert sheet.cell(2, 1).comment is not None and sheet.cell(2, 1).font.italic  # the example row is marked
    assert main(["import", str(template), "--name", "only-the-example"]) == 2  # left as it is, it is no figure
    assert "no figures to import" in capsys.readouterr().err
    # an analyst's row typed as text below the example, a blank row, and a mistake in sheet row 5
    for row, values in ((3, [*example[:2], "2026", "khoảng 27", *example[4:]]), (5, [*example[:2], "2026-H9"])):
        for column, value in enumerate(values, 1):
            sheet.cell(row, column).value = value
    book.save(template)
    assert main(["import", str(template), "--name", "analyst-excel"]) == 2
    assert "figures.xlsx:5:period" in capsys.readouterr().err  # the row the analyst sees in Excel
    for column in range(1, len(example) + 1):
        sheet.cell(5, column).value = None
    book.save(template)
    assert main(["import", str(template), "--name", "analyst-excel"]) == 0
    rows = list(csv.DictReader((project / "data" / "raw" / "analyst-excel.csv").open(encoding="utf-8")))
    assert [r["period"] for r in rows] == ["2026"] and rows[0]["value_as_published"] == "khoảng 27"


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


# --- the analyst's commands ----------------------------------------------------------------


def test_every_command_has_a_working_help():
    from analysis.__main__ import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    assert {"add", "import", "run", "validate", "clean"} <= set(commands)
    for name in ["", *commands]:
        shown = subprocess.run(
            [sys.executable, "-m", "analysis", *([name] if name else []), "--help"], capture_output=True, text=True
        )
        assert shown.returncode == 0 and shown.stdout.startswith("usage:") and not shown.stderr, (name, shown.stderr)
    assert (
        "% GRDP"
        in subprocess.run([sys.executable, "-m", "analysis", "add", "--help"], capture_output=True, text=True).stdout
    )


@pytest.mark.parametrize("place", ["Hà Nội", "ha noi", "TP.HCM", "Thành phố Hồ Chí Minh", "TP. Hồ Chí Minh (merged)"])
def test_a_place_is_accepted_in_either_language_with_diacritics(project, capsys, place):
    assert main(["add", *_with("--geography", place)]) == 0, capsys.readouterr().err


def test_a_near_miss_place_gets_a_did_you_mean(project, capsys):
    assert main(["add", *_with("--geography", "Ha Noii")]) == 2
    assert "unknown place 'Ha Noii'; did you mean Hà Nội (Hanoi)?" in capsys.readouterr().err


def test_a_bad_address_is_reported_once(project, capsys):
    assert main(["add", *_with("--url", "www.vietnamnet.vn/a")]) == 2
    err = capsys.readouterr().err
    assert err.count("--url") == 1 and "1 problem(s)" in err


def test_a_figure_already_in_the_raw_files_is_not_added_again(project, capsys):
    assert main(["add", *GOOD]) == 0
    assert main(["add", *GOOD]) == 2
    assert "the figure is already in data/raw: it repeats analyst-" in capsys.readouterr().err


def test_add_and_import_wait_for_the_data_lock_or_write_nothing(project):
    """A real `add` against a lock held by another process: exit 3 and nothing written, or --wait and it lands."""
    from analysis.data.files import lock

    env = {**os.environ, "ANALYSIS_ROOT": str(project)}
    before = _raw_snapshot(project)
    with lock():
        refused = subprocess.run(
            [sys.executable, "-m", "analysis", "add", *GOOD], env=env, capture_output=True, text=True
        )
        assert refused.returncode == 3 and "pass --wait SECONDS" in refused.stderr
        assert _raw_snapshot(project) == before
        waiting = subprocess.Popen(
            [sys.executable, "-m", "analysis", "add", *GOOD, "--wait", "60"], env=env, stderr=subprocess.PIPE
        )
        time.sleep(3)
        assert waiting.poll() is None and _raw_snapshot(project) == before  # it waits, and writes nothing yet
    assert waiting.wait(timeout=60) == 0
    assert len(_raw_snapshot(project)) == len(before) + 2  # the entry file and its sidecar


# --- limits on what is imported ------------------------------------------------------------


def _padded_sheet(path: Path, rows: int) -> Path:
    """A small xlsx whose rows each hold a cell in the last column (XFD): tiny on disk, huge when read naively."""
    import io
    import zipfile

    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "figures"
    buffer = io.BytesIO()
    book.save(buffer)
    header = "".join(f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>{c}</t></is></c>' for i, c in enumerate(RAW_COLUMNS))
    body = "".join(f'<row r="{r}"><c r="A{r}"><v>1</v></c><c r="XFD{r}"><v>1</v></c></row>' for r in range(2, rows + 2))
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="A1:XFD{rows + 1}"/><sheetData><row r="1">{header}</row>{body}</sheetData></worksheet>'
    )
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = sheet.encode() if item.filename == "xl/worksheets/sheet1.xml" else source.read(item.filename)
            target.writestr(item.filename, data)
    return path


# The peak is read by a small Python parent of the command: a child's ru_maxrss starts from its parent's
# resident size when it forks (Linux), and a pytest worker holds several hundred MB by then.
_MEASURING_PARENT = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(code)
"""


def _run_measured(args: list[str], env: dict) -> tuple[int, str, float]:
    """Run a command to the end; its exit code, its error output and its own peak memory in MB."""
    process = subprocess.Popen(
        [sys.executable, "-c", _MEASURING_PARENT, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    timer = threading.Timer(120, os.killpg, (process.pid, 9))  # a safety net for the command too, not a measure
    timer.start()
    out, err = process.communicate()
    timer.cancel()
    assert out.strip(), f"killed after 120 s, or no peak printed: {err[-2000:]}"
    return process.returncode, err, int(out.split()[-1]) / 1024


def test_a_padded_excel_sheet_is_refused_before_it_is_read_in_full(project, tmp_path):
    bomb = _padded_sheet(tmp_path / "padded.xlsx", 20_000)
    assert bomb.stat().st_size < 200_000
    env = {**os.environ, "ANALYSIS_ROOT": str(project)}
    code, err, peak_mb = _run_measured([sys.executable, "-m", "analysis", "import", str(bomb)], env)
    assert code == 2 and "padded.xlsx: it has more than 5,000 rows" in err and err.count("error:") == 1, err
    assert peak_mb < 250  # about 100 MB when streamed; read naively, this sheet takes 2.6 GB
    assert not (project / "data" / "raw" / "padded.csv").exists()


@pytest.mark.parametrize(
    "rows, columns, message",
    [(6_000, 11, "more than 5,000 rows"), (1_000, 200, "more than 100,000 cells")],
)
def test_a_csv_over_the_limits_is_refused(project, tmp_path, capsys, rows, columns, message):
    source = tmp_path / "big.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*RAW_COLUMNS, *(f"extra{i}" for i in range(columns - len(RAW_COLUMNS)))])
        writer.writerows([["x"] * columns] * rows)
    assert main(["import", str(source)]) == 2
    assert f"big.csv: it has {message}" in capsys.readouterr().err


def test_an_oversized_file_is_refused_by_its_size(project, tmp_path, capsys, monkeypatch):
    from analysis.data import intake

    monkeypatch.setattr(intake, "MAX_IMPORT_BYTES", 1000)
    source = tmp_path / "large.csv"
    source.write_text(",".join(RAW_COLUMNS) + "\n" + "x," * 600, encoding="utf-8")
    assert main(["import", str(source)]) == 2
    expected = f"large.csv: the file is {source.stat().st_size:,} bytes; import takes at most 1,000 bytes"
    assert expected in capsys.readouterr().err


def test_a_seed_article_is_cited_by_its_file_and_any_other_source_needs_an_address(project, capsys):
    seed = _with("--url", "")
    seed[seed.index("--title") + 1] = "TP HCM duyệt chương trình chuyển đổi số (seeds/001_16d5859d300168a7.txt)"
    assert main(["add", *seed]) == 0
    assert main(["add", *_with("--url", "")]) == 2
    assert "source address missing" in capsys.readouterr().err
