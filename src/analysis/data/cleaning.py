"""Raw indicator rows -> tidy, validated tables (indicators, targets, conflicts, exclusions, sources).

Stages, in the spirit of OWID's etl:

1. :func:`read_raw_file` reads a raw CSV as text and checks its columns;
2. :func:`parse_rows` turns each row into a record, collecting every problem with its
   file, row and column;
3. :func:`apply_exclusion_rules` drops rows by documented rules (curation list, truncated
   text, a total-GRDP figure published as the digital economy);
4. :func:`consolidate` merges the same figure reported by several outlets and resolves
   conflicting figures by a fixed order of rules, writing every conflict down;
5. :func:`build_targets` gives targets their own table.

Everything here is pure (DataFrames in, DataFrames out) except :func:`read_raw_file`.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis import tables
from analysis.data import parsing
from analysis.data.curation import Curation
from analysis.data.registry import Registry
from analysis.data.schemas import CONFLICTS, EXCLUSIONS, INDICATOR_KEY, INDICATORS, OBSERVED_KINDS, SOURCES, TARGETS
from analysis.data.units import SHARE_UNITS
from analysis.errors import ParseError, Problem, RawDataError
from analysis.i18n import t

RAW_COLUMNS = [
    "indicator",
    "geography",
    "period",
    "value_as_published",
    "unit_as_published",
    "kind",
    "methodology_or_estimator",
    "source_publisher",
    "source_title",
    "source_url",
    "published_date",
]
#: actual (a final figure), estimate, preliminary (a first estimate, superseded by a later vintage),
#: projection (expected, not yet measured), plan (an allocation in a budget estimate: what is meant to be
#: spent, never an outcome) and target.
KINDS = ("actual", "estimate", "preliminary", "target", "projection", "plan")

#: Domains of scraped copies; a figure from one of these loses to the same figure at an original outlet.
MIRROR_DOMAINS = (
    "rgbet01.com",
    "marimbapop.com",
    "baomoi.net.vn",
    "tothethao.com",
    "wwwiso.com",
    "tintuc.vdong.vn",
    "yootek.vn",
    "dantrisoft.com",
    "quanghungmedia.com",
    "elmit.asia",
    "stockproxx.vn",
    "g-news247.com",
    "lite.baomoi.com",
)

INDICATOR_COLUMNS = tables.columns(INDICATORS)


def read_raw_file(path: Path) -> tuple[pd.DataFrame, list[Problem]]:
    """Read a raw CSV as text, one column per raw field, plus ``raw_file`` and ``raw_row``.

    Returns
    -------
    (DataFrame, list of Problem)
        The rows (all strings; empty cells are "") and the problems with the file's shape
        (missing columns, ragged rows).  An unreadable file gives an empty frame and a problem.
    """
    name = path.name
    problems: list[Problem] = []
    try:
        data = path.read_bytes()
    except OSError as exc:
        return pd.DataFrame(columns=RAW_COLUMNS), [
            Problem(name, None, None, f"cannot read file: {exc.strerror or exc}", "a readable UTF-8 CSV file")
        ]
    try:
        # utf-8-sig: a file saved by Excel starts with a byte-order mark that is not part of the first column's name
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return pd.DataFrame(columns=RAW_COLUMNS), [
            Problem(name, line, None, f"byte {data[exc.start]:#04x} is not UTF-8", "a file saved as UTF-8")
        ]
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, None)
        rows = list(reader)
    except csv.Error as exc:
        return pd.DataFrame(columns=RAW_COLUMNS), [
            Problem(name, reader.line_num, None, f"not a well-formed CSV row: {exc}", "quoted cells closed")
        ]
    if header is None:
        return pd.DataFrame(columns=RAW_COLUMNS), [
            Problem(name, 1, None, "file is empty", "a header row with " + ", ".join(RAW_COLUMNS))
        ]
    header = [h.strip() for h in header]
    repeated = sorted({h for h in header if h and header.count(h) > 1})
    for column in repeated:
        problems.append(Problem(name, 1, column, "column name appears more than once", "each column named once"))
    if repeated:
        return pd.DataFrame(columns=RAW_COLUMNS), problems
    for column in RAW_COLUMNS:
        if column not in header:
            problems.append(Problem(name, 1, column, "missing column", "a header row with " + ", ".join(RAW_COLUMNS)))
    records = []
    for offset, row in enumerate(rows):
        row_number = offset + 2
        if len(row) != len(header):
            problems.append(
                Problem(
                    name,
                    row_number,
                    None,
                    f"row has {len(row)} fields, header has {len(header)}",
                    f"{len(header)} comma-separated fields (quote cells that contain commas)",
                )
            )
            continue
        record = dict(zip(header, row, strict=True))
        record["raw_file"], record["raw_row"] = name, row_number
        records.append(record)
    frame = pd.DataFrame(records, columns=list(dict.fromkeys([*header, "raw_file", "raw_row"])))
    for column in RAW_COLUMNS:
        if column not in frame:
            frame[column] = ""
    return frame, problems


def source_id(publisher: str, title: str, url: str) -> str:
    """Stable short id of a source (publisher, title and URL)."""
    digest = hashlib.sha1(f"{publisher}\x1f{title}\x1f{url}".encode()).hexdigest()
    return "S" + digest[:8]


def is_mirror(publisher: str, url: str) -> bool:
    """True when the row comes from a scraped copy or aggregator rather than the original outlet."""
    text = f"{publisher} {url}".lower()
    return "mirror" in text or "scraped" in text or any(domain in text for domain in MIRROR_DOMAINS)


def _cell(problems: list[Problem], file: str, row: int, column: str, function, *args):
    try:
        return function(*args)
    except ParseError as exc:
        problems.append(Problem(file, row, column, exc.message, exc.expected))
        return None


def parse_row(raw: dict, registry: Registry, today: dt.date | None = None) -> tuple[dict | None, list[Problem]]:
    """Parse one raw row into a record of canonical fields.

    Parameters
    ----------
    raw : dict
        The row's cells as text, plus ``raw_file`` and ``raw_row``.
    registry : Registry
        Known indicators (units, bounds), places and estimator families.
    today : date, optional
        A publication date after this day is an error (default: the day it runs).

    Returns
    -------
    (dict or None, list of Problem)
        The record (None when any cell failed) and the problems, each naming its column.
    """
    file, row = raw["raw_file"], int(raw["raw_row"])
    problems: list[Problem] = []

    def problem(column: str, message: str, expected: str) -> None:
        problems.append(Problem(file, row, column, message, expected))

    for column in RAW_COLUMNS:
        _cell(problems, file, row, column, parsing.visible_text_only, raw[column])
    if problems:
        return None, problems

    indicator = raw["indicator"].strip()
    entry = registry.indicator(indicator)
    if not indicator:
        problem("indicator", "empty indicator name", "an indicator id of data/registry/indicators.yml")
    elif entry is None:
        nearest = registry.nearest_indicators(indicator)
        hint = f"; did you mean {' or '.join(nearest)}?" if nearest else ""
        problem(
            "indicator", f"unknown indicator '{indicator}'{hint}", "an indicator id of data/registry/indicators.yml"
        )
    kind = raw["kind"].strip()
    if kind not in KINDS:
        problem("kind", f"unknown kind '{kind}'", "one of " + ", ".join(KINDS))
    value_text = raw["value_as_published"]
    unit_text = raw["unit_as_published"]
    unit_and_factor = _cell(
        problems, file, row, "unit_as_published", parsing.normalize_unit, unit_text, indicator, value_text
    )
    convention = parsing.detect_convention(value_text, unit_text, raw["source_title"])
    rank_context = bool(unit_and_factor and unit_and_factor[0] == "rank")
    parsed = _cell(
        problems,
        file,
        row,
        "value_as_published",
        parsing.parse_value,
        parsing.without_unit(value_text, unit_text),
        convention,
        rank_context,
    )
    period = _cell(problems, file, row, "period", parsing.parse_period, raw["period"])
    geography = _cell(problems, file, row, "geography", parsing.parse_geography, raw["geography"], registry)
    published = _cell(problems, file, row, "published_date", parsing.parse_published_date, raw["published_date"])
    today_text = (today or dt.date.today()).isoformat()
    if published and published > today_text[: len(published)]:
        problem("published_date", f"'{published}' is after today ({today_text})", "a publication date that has passed")
    begins = parsing.period_start(period) if period and kind in OBSERVED_KINDS else None
    if published and begins and parsing.before(published, begins):
        problem(
            "published_date",
            f"'{published}' is before the period it reports ({raw['period'].strip()}) began"
            + ("" if begins == raw["period"].strip() else f" in {begins}"),
            "the date the figure was published, once its period had begun (only targets and projections come earlier)",
        )
    url = raw["source_url"].strip()
    if url and not re.match(r"https?://", url, re.IGNORECASE):
        problem(
            "source_url", f"'{url[:60]}' is not an http(s) address", "https://... (or empty when the source has none)"
        )
    if problems:
        return None, problems

    unit, factor = unit_and_factor
    if unit == "percent" and entry.units[0] in SHARE_UNITS:
        unit = entry.units[0]  # "% of total spending": the registry says what the percent is of
    if unit not in entry.units:
        problem(
            "unit_as_published",
            f"'{unit_text}' reads as {unit}, not a unit of {indicator}",
            f"{', '.join(entry.units)}",
        )
    if unit == "rank" and parsed.value_type not in ("rank", "top_k"):
        parsed = parsing.ParsedValue(parsed.value, qualifier=parsed.qualifier, value_type="rank", note=parsed.note)
    if parsed.value_type == "rank" and parsed.rank_group_size is None:
        group = parsing.rank_group_from_text(unit_text, raw["geography"])
        if group is not None:
            parsed = dataclasses.replace(parsed, rank_group_size=group)
    value, low, high = (_scaled(v, factor) for v in (parsed.value, parsed.low, parsed.high))
    if parsed.is_all_word and unit not in SHARE_UNITS:
        problem("value_as_published", f"'{value_text}' means 'all' but the unit is {unit}", "a share unit (percent)")
    low_bound = "-∞" if entry.lower is None else f"{entry.lower:g}"
    bounds = f"between {low_bound} and {'∞' if entry.upper is None else f'{entry.upper:g}'}"
    largest = max(v for v in (value, high) if v is not None)
    smallest = min(v for v in (value, low) if v is not None)
    if entry.upper is not None and largest > entry.upper:
        problem("value_as_published", f"{indicator} of {largest:g} is above {entry.upper:g}", f"a value {bounds}")
    if entry.lower is not None and smallest < entry.lower:
        problem("value_as_published", f"{indicator} of {smallest:g} is below {entry.lower:g}", f"a value {bounds}")
    if problems:
        return None, problems

    place = registry.places[geography.geography]
    boundary, basis = parsing.boundary_for(
        place, geography.stated_side, period.year, period.span_end, period.period, published
    )
    notes = [n for n in (parsed.note, period.note, geography.note, parsing.assumed_unit_note(unit_text)) if n]
    if period.approximate:
        notes.append("year approximate ('c.')")
    methodology = raw["methodology_or_estimator"]
    record = {
        "indicator": indicator,
        "geography": geography.geography,
        "boundary": boundary,
        "boundary_basis": basis,
        "level": geography.level,
        "year": period.year,
        "period": period.period,
        "span_start": period.span_start,
        "span_end": period.span_end,
        "value": value,
        "value_low": low,
        "value_high": high,
        "qualifier": parsed.qualifier,
        "value_type": parsed.value_type,
        "rank_group_size": parsed.rank_group_size,
        "unit": unit,
        "kind": kind,
        "estimator": parsing.estimator_family(methodology, registry) if entry.estimator_families else "reported",
        "methodology": methodology,
        "source_id": source_id(raw["source_publisher"], raw["source_title"], raw["source_url"]),
        "publisher": raw["source_publisher"],
        "title": raw["source_title"],
        "url": raw["source_url"],
        "is_mirror": is_mirror(raw["source_publisher"], raw["source_url"]),
        "published_date": published,
        "raw_file": file,
        "raw_row": row,
        "value_as_published": value_text,
        "geography_as_published": raw["geography"],
        "period_as_published": raw["period"],
        "note": "; ".join(notes) or None,
    }
    return record, []


def _scaled(value: float | None, factor: float) -> float | None:
    if value is None:
        return None
    # Round away binary noise from scale factors (110.4e6 * 1e-6 = 110.39999999999999).
    return float(f"{value * factor:.12g}")


def _guard(problems: list[Problem], entry, raw_row: dict) -> bool:
    """True when the raw row still holds the value a curation entry expects (else a problem is added)."""
    if raw_row["value_as_published"] == entry.value:
        return True
    message = f"curation entry expects '{entry.value}' but the raw row holds '{raw_row['value_as_published']}'"
    problems.append(
        Problem(
            entry.file,
            entry.row,
            "value_as_published",
            message,
            "the curation entry to match the raw row (update data/curation.yml)",
        )
    )
    return False


def parse_rows(
    raw: pd.DataFrame, curation: Curation, registry: Registry
) -> tuple[pd.DataFrame, pd.DataFrame, list[Problem]]:
    """Parse every raw row; rows excluded in the curation file are left out, attributed rows get their estimator.

    Returns
    -------
    (records, excluded, problems)
        Parsed records, curated exclusions (with reasons), and every problem found.
    """
    excluded_rows = {(e.file, e.row): e for e in curation.exclusions}
    attributed = {(a.file, a.row): a for a in curation.attributions}
    reclassified = {(k.file, k.row): k for k in curation.kinds}
    records, excluded, problems = [], [], []
    used = set()
    for raw_row in raw.to_dict("records"):
        key = (raw_row["raw_file"], int(raw_row["raw_row"]))
        if key in excluded_rows:
            entry = excluded_rows[key]
            used.add(key)
            if _guard(problems, entry, raw_row):
                excluded.append(_exclusion_row(raw_row, "curated", entry.reason, entry.reason_vi))
            continue
        kind_note = None
        if key in reclassified:
            entry = reclassified[key]
            used.add(key)
            if _guard(problems, entry, raw_row):
                # the raw file keeps the collection's kind; the record carries the corrected one
                kind_note = f"kind set by hand ({raw_row['kind'].strip()} -> {entry.kind}): {entry.reason}"
                raw_row = {**raw_row, "kind": entry.kind}
        record, row_problems = parse_row(raw_row, registry)
        problems.extend(row_problems)
        if record is not None and kind_note:
            record["note"] = "; ".join(n for n in (record["note"], kind_note) if n)
        if record is not None and key in attributed:
            entry = attributed[key]
            used.add(key)
            if entry.estimator not in registry.estimators:
                problems.append(
                    Problem(
                        entry.file,
                        entry.row,
                        "methodology_or_estimator",
                        f"curation attributes estimator '{entry.estimator}', which is not a family of the registry",
                        ", ".join(registry.estimators),
                    )
                )
            elif _guard(problems, entry, raw_row):
                record["estimator"] = entry.estimator
                record["note"] = "; ".join(
                    n for n in (record["note"], f"estimator attributed by hand: {entry.reason}") if n
                )
        if record is not None:
            records.append(record)
    files = set(raw["raw_file"]) if len(raw) else set()
    for key, entry in {**excluded_rows, **attributed, **reclassified}.items():
        if key not in used and entry.file in files:
            problems.append(
                Problem(
                    entry.file, entry.row, None, "curation entry points at a row that does not exist", "an existing row"
                )
            )
    return pd.DataFrame(records), pd.DataFrame(excluded, columns=EXCLUSION_COLUMNS), problems


EXCLUSION_COLUMNS = tables.columns(EXCLUSIONS)


def _exclusion_row(row: dict, rule: str, reason: str, reason_vi: str | None = None) -> dict:
    return {
        "raw_file": row["raw_file"],
        "raw_row": int(row["raw_row"]),
        "indicator": row["indicator"],
        "geography": row.get("geography", ""),
        "period": row.get("period", ""),
        "value_as_published": row["value_as_published"],
        "rule": rule,
        "reason": reason,
        "reason_vi": reason_vi,
    }


def drop_duplicate_rows(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows that repeat an earlier row cell for cell (in any raw file) are duplicates, not conflicts.

    A file pasted twice, or an import run twice, would otherwise turn every figure into a conflict
    between identical rows.

    Returns
    -------
    (kept, excluded)
        The first occurrence of each row; the repeats, as exclusions naming the row they repeat.
    """
    if raw.empty:
        return raw, pd.DataFrame(columns=EXCLUSION_COLUMNS)
    content = [c for c in raw.columns if c not in ("raw_file", "raw_row")]
    repeated = raw.duplicated(subset=content, keep="first")
    if not repeated.any():
        return raw, pd.DataFrame(columns=EXCLUSION_COLUMNS)
    first = raw[~repeated].drop_duplicates(subset=content).set_index(content)[["raw_file", "raw_row"]]
    excluded = []
    for _, row in raw[repeated].iterrows():
        original = first.loc[tuple(row[c] for c in content)]
        reason = f"repeats {original['raw_file']} row {int(original['raw_row'])} cell for cell"
        excluded.append(_exclusion_row(row.to_dict(), "duplicate_row", reason))
    return raw[~repeated], pd.DataFrame(excluded, columns=EXCLUSION_COLUMNS)


def repeated_across_files(raw: pd.DataFrame, age=None) -> list[Problem]:
    """Rows that repeat, cell for cell, a row of another raw file: one problem each, at the newer file's row.

    A figure copied into a second file would be counted twice, or (when the copy is kept and the first
    row is the one set aside) blame the curation of the file it came from.

    Parameters
    ----------
    age : callable, optional
        File name -> sort key, oldest first (a file an edition published before one none has); default:
        the name.

    Returns
    -------
    list of Problem
        One per repeating row, naming the file and row it repeats.
    """
    if raw.empty:
        return []
    age = age or (lambda name: name)
    repeated = raw[raw.duplicated(subset=RAW_COLUMNS, keep=False)]
    problems = []
    for _, group in repeated.groupby(RAW_COLUMNS, sort=False, dropna=False):
        if group["raw_file"].nunique() < 2:
            continue  # repeats inside one file are set aside by drop_duplicate_rows
        rows = sorted(zip(group["raw_file"], group["raw_row"], strict=True), key=lambda fr: (age(fr[0]), int(fr[1])))
        first_file, first_row = rows[0]
        problems.extend(
            Problem(
                file,
                int(row),
                None,
                f"repeats {first_file} row {int(first_row)} cell for cell",
                f"each figure in one raw file (delete this row; it is in {first_file})",
            )
            for file, row in rows[1:]
            if file != first_file
        )
    return sorted(problems, key=lambda p: (p.file, p.row))


def apply_exclusion_rules(records: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop rows by documented domain rules.

    Rules
    -----
    truncated_text
        The published text was cut off (a note says "truncated"): its denominator is unknown.
    equals_total_grdp
        A ``digital_economy_value`` within 0.5% of the same place's total GRDP for the same
        year: the outlet printed total GRDP as the digital economy.

    Returns
    -------
    (kept, excluded)
    """
    if records.empty:
        return records, pd.DataFrame(columns=EXCLUSION_COLUMNS)
    reasons: dict[int, tuple[str, str]] = {}
    for index, row in records.iterrows():
        if "truncated" in str(row["note"] or "").lower():
            reasons[index] = ("truncated_text", "the published text was cut off; the figure's denominator is unknown")
    grdp = records[(records["indicator"] == "grdp_current_prices") & (records["unit"] == "VND_billion")]
    candidates = records[(records["indicator"] == "digital_economy_value") & (records["unit"] == "VND_billion")]
    for index, row in candidates.iterrows():
        same = grdp[
            (grdp["geography"] == row["geography"])
            & (grdp["boundary"] == row["boundary"])
            & (grdp["year"] == row["year"])
        ]
        for _, total in same.iterrows():
            if abs(row["value"] - total["value"]) <= 0.005 * total["value"]:
                reasons[index] = (
                    "equals_total_grdp",
                    f"{row['value']:,.0f} VND billion equals the total GRDP of {int(row['year'])} "
                    f"({total['value']:,.0f}, {total['publisher']}); misattributed as the digital economy",
                )
                break
    excluded = []
    for index, (rule, reason) in reasons.items():
        row = records.loc[index]
        excluded.append(
            _exclusion_row(
                {**row.to_dict(), "geography": row["geography_as_published"], "period": row["period_as_published"]},
                rule,
                reason,
            )
        )
    return records.drop(index=list(reasons)), pd.DataFrame(excluded, columns=EXCLUSION_COLUMNS)


# --- consolidation -----------------------------------------------------------------------

GROUP_KEY = INDICATOR_KEY
CONFLICT_COLUMNS = tables.columns(CONFLICTS)


def decimals(value_text: str) -> int:
    """Number of decimals printed in a figure ("18,66" -> 2, "khoảng 19" -> 0)."""
    match = re.search(r"\d+[.,](\d+)(?!.*\d[.,]\d)", value_text or "")
    if not match:
        return 0
    fraction = match.group(1)
    return (
        0
        if len(fraction) == 3 and "." in value_text and "," not in value_text and value_text.count(".") > 1
        else len(fraction)
    )


def same_figure(a: float, a_decimals: int, b: float, b_decimals: int) -> bool:
    """True when two printed figures agree to the precision of the less precise one (14.4 ~ 14.41)."""
    tolerance = 0.5 * 10 ** (-min(a_decimals, b_decimals)) + 1e-9
    return abs(a - b) <= tolerance


def _cluster(group: pd.DataFrame) -> list[pd.DataFrame]:
    """The figures of one key that agree to printed precision, most precise first (``_decimals`` given)."""
    if len(group) == 1:  # most keys hold one figure: skip the pandas work below
        return [group]
    ordered = group.sort_values("_decimals", ascending=False, kind="stable")
    clusters: list[list[int]] = []
    for index, row in ordered.iterrows():
        for members in clusters:
            head = ordered.loc[members[0]]
            same_low = _same_optional(row["value_low"], head["value_low"])
            if same_figure(row["value"], row["_decimals"], head["value"], head["_decimals"]) and same_low:
                members.append(index)
                break
        else:
            clusters.append([index])
    return [ordered.loc[members] for members in clusters]


def _same_optional(a, b) -> bool:
    a_missing = a is None or (isinstance(a, float) and math.isnan(a))
    b_missing = b is None or (isinstance(b, float) and math.isnan(b))
    return a_missing == b_missing and (a_missing or abs(a - b) < 1e-9)


def _best_source(cluster: pd.DataFrame) -> pd.Series:
    """Representative row of one figure: most precise, then original outlet, then latest vintage."""
    if len(cluster) == 1:
        return cluster.iloc[0]
    ranked = cluster.assign(
        _original=~cluster["is_mirror"],
        _date=cluster["vintage_date"].map(parsing.date_sort_key),
        _exact=cluster["qualifier"] == "exact",
    ).sort_values(
        ["_decimals", "_exact", "_original", "_date", "raw_row"],
        ascending=[False, False, False, False, True],
        kind="stable",
    )
    return ranked.iloc[0]


#: Conflict rules, applied in this order; what each says is in the text catalogue (``rule.<id>``).
RESOLUTION_RULES = (
    "undisputed_attribution",
    "later_vintage",
    "original_over_mirror",
    "exact_over_qualified",
    "more_citations",
    "first_in_file",
)


def rule_explanation(rule: str) -> str:
    """What a conflict rule says, in English (the text catalogue is its one source)."""
    return t(f"rule.{rule}", "en")


def _other_attributions(cluster: pd.DataFrame, slot: list[tuple[str, float, int]]) -> list[str]:
    """Estimators other than the cluster's own that the same figure is credited to in ``slot``
    (its figures as ``(estimator, value, decimals)``)."""
    head = cluster.iloc[0]
    own, head_value, head_decimals = head["estimator"], head["value"], int(head["_decimals"])
    return sorted(
        {
            estimator
            for estimator, value, places in slot
            if estimator != own and same_figure(value, places, head_value, head_decimals)
        }
    )


def _resolve(clusters: list[pd.DataFrame], slot: list[tuple[str, float, int]]) -> tuple[int, str]:
    """Pick the winning cluster; return its index and the rule that decided.

    ``slot`` holds every figure (estimator, value, decimals) for the same indicator, place, period and
    kind across estimators, to tell whether a figure's attribution is disputed.
    """
    remaining = list(range(len(clusters)))
    tests = {
        "undisputed_attribution": lambda c: int(not _other_attributions(c, slot)),
        "later_vintage": lambda c: max(c["vintage_date"].map(parsing.date_sort_key)),
        "original_over_mirror": lambda c: int((~c["is_mirror"]).any()),
        "exact_over_qualified": lambda c: int((c["qualifier"] == "exact").any()),
        "more_citations": lambda c: len(c),
    }
    for rule in RESOLUTION_RULES[:-1]:
        scores = {i: tests[rule](clusters[i]) for i in remaining}
        best = max(scores.values())
        winners = [i for i in remaining if scores[i] == best]
        if len(winners) == 1:
            return winners[0], rule
        remaining = winners
    first = min(remaining, key=lambda i: (clusters[i]["raw_file"].min(), clusters[i]["raw_row"].min()))
    return first, "first_in_file"


def kind_group(kind: str) -> str:
    """Kinds that compete for one slot: actual, estimate and preliminary figures are all "observed"
    (a preliminary figure is superseded by a later vintage); a projection or a plan is never an observation."""
    return kind if kind in ("projection", "plan") else "observed"


def consolidate(records: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Merge repeated figures and resolve conflicts among observations (not targets).

    Rows share a key when indicator, place, boundary, level, period, kind group (observed or
    projection, see :func:`kind_group`), estimator, value type and unit agree.  Within a key,
    figures that agree to printed precision are one figure with several citations; different
    figures are a conflict, resolved by :data:`RESOLUTION_RULES` in order and written to the
    conflicts table.

    Returns
    -------
    (indicators, conflicts)
    """
    observations = records[records["kind"] != "target"]
    rows, conflicts = [], []
    keyed = observations.assign(
        **{
            c: observations[c].astype("object").where(observations[c].notna(), None)
            for c in ("year", "span_start", "span_end")
        },
        kind_group=observations["kind"].map(kind_group),
        _decimals=observations["value_as_published"].map(decimals),
    )
    group_key = [("kind_group" if c == "kind" else c) for c in GROUP_KEY]
    slot_key = ["indicator", "geography", "boundary", "level", "year", "period", "kind_group", "unit"]
    # Missing years (open spans, unstated years) must group together: key on text, not on NaN.
    keyed = keyed.assign(
        _slot=[" | ".join(str(v) for v in values) for values in keyed[slot_key].itertuples(index=False)]
    )
    slots = {
        k: list(zip(g["estimator"], g["value"], g["_decimals"], strict=True))
        for k, g in keyed.groupby("_slot", sort=False)
    }
    for key, group in keyed.groupby(group_key, dropna=False, sort=True):
        clusters = _cluster(group)
        slot = slots[group.iloc[0]["_slot"]]
        chosen_index, rule = (0, "") if len(clusters) == 1 else _resolve(clusters, slot)
        chosen = clusters[chosen_index]
        best = _best_source(chosen)
        conflict_id = None
        if len(clusters) > 1:
            conflict_id = "C" + hashlib.sha1(repr(key).encode()).hexdigest()[:6]
            explanation = rule_explanation(rule)
            for i, cluster in enumerate(clusters):
                for _, member in cluster.iterrows():
                    conflicts.append(
                        {
                            **{c: member[c] for c in CONFLICT_COLUMNS if c in member.index},
                            "conflict_id": conflict_id,
                            "chosen": i == chosen_index,
                            "rule": rule,
                            "explanation": explanation,
                        }
                    )
        citations = (
            [best["source_id"]] if len(chosen) == 1 else list(dict.fromkeys(chosen.sort_values("raw_row")["source_id"]))
        )
        row = {c: best[c] for c in INDICATOR_COLUMNS if c in best.index}
        disputed = _other_attributions(chosen, slot)
        if disputed:
            ambiguity = "the same figure is credited to " + ", ".join(disputed) + " by another source"
            row["note"] = "; ".join(n for n in (row.get("note"), ambiguity) if isinstance(n, str) and n)
        dated = [d for d in chosen["published_date"] if isinstance(d, str) and d]
        row.update(
            citations=";".join(citations),
            n_citations=len(citations),
            conflict_id=conflict_id,
            source_id=best["source_id"],
            first_published=min(dated) if dated else None,
        )
        rows.append(row)
    indicators = pd.DataFrame(rows, columns=INDICATOR_COLUMNS)
    return indicators, pd.DataFrame(conflicts, columns=CONFLICT_COLUMNS)


# --- targets -----------------------------------------------------------------------------

TARGET_COLUMNS = tables.columns(TARGETS)


def comparator_for(value_type: str, unit: str) -> str:
    """How a target is met: at_least (shares, levels), at_most (a rank), top_k, or between (a range)."""
    if value_type == "top_k":
        return "top_k"
    if unit == "rank":
        return "at_most"
    if value_type == "range":
        return "between"
    return "at_least"


def build_targets(records: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per distinct target (same value for the same place and year), with every legal basis.

    Several values for one indicator, place and year are all kept; the one cited by most
    sources (then the latest) is marked ``preferred`` and the disagreement is written to the
    conflicts table with rule ``targets_disagree``.

    Returns
    -------
    (targets, target_conflicts)
    """
    targets = records[records["kind"] == "target"].copy()
    if targets.empty:
        return pd.DataFrame(columns=TARGET_COLUMNS), pd.DataFrame(columns=CONFLICT_COLUMNS)
    targets["comparator"] = [comparator_for(v, u) for v, u in zip(targets["value_type"], targets["unit"], strict=True)]
    targets = targets.assign(_decimals=targets["value_as_published"].map(decimals))
    rows = []
    key = ["indicator", "geography", "boundary", "level", "year", "unit"]
    conflicts = []
    for group_key, group in targets.groupby(key, dropna=False, sort=True):
        distinct = []
        for _sub_key, same in group.groupby(
            ["value", "comparator", "period", "span_start", "span_end"], dropna=False, sort=False
        ):
            best = _best_source(same)
            citations = list(dict.fromkeys(same.sort_values("raw_row")["source_id"]))
            bases = list(dict.fromkeys(same["methodology"]))
            distinct.append(
                {
                    "indicator": best["indicator"],
                    "geography": best["geography"],
                    "boundary": best["boundary"],
                    "level": best["level"],
                    "target_year": best["year"],
                    "period": best["period"],
                    "span_start": best["span_start"],
                    "span_end": best["span_end"],
                    "comparator": best["comparator"],
                    # A target range ("35-40%", "at least 4-5%") is reached at its low end.
                    "value": best["value_low"] if best["value_type"] == "range" else best["value"],
                    "value_low": best["value_low"],
                    "value_high": best["value_high"],
                    "qualifier": best["qualifier"],
                    "unit": best["unit"],
                    "legal_basis": " | ".join(bases),
                    "source_id": best["source_id"],
                    "citations": ";".join(citations),
                    "n_citations": len(citations),
                    "published_date": max(
                        (d for d in same["published_date"] if isinstance(d, str) and d), default=None
                    ),
                    "estimator": best["estimator"],
                    "value_as_published": best["value_as_published"],
                    "_members": same,
                }
            )
        distinct.sort(key=lambda d: parsing.date_sort_key(d["published_date"]), reverse=True)
        distinct.sort(key=lambda d: d["n_citations"], reverse=True)
        for i, entry in enumerate(distinct):
            entry["preferred"] = i == 0
            year = (
                "open" if entry["target_year"] is None or pd.isna(entry["target_year"]) else int(entry["target_year"])
            )
            entry["target_id"] = (
                f"{entry['indicator']}@{entry['boundary']}@{entry['level']}@{year}@{entry['value']:g}@{entry['comparator']}"
            )
        if len(distinct) > 1:
            conflict_id = "T" + hashlib.sha1(repr(group_key).encode()).hexdigest()[:6]
            for i, entry in enumerate(distinct):
                for _, member in entry["_members"].iterrows():
                    conflicts.append(
                        {
                            **{c: member[c] for c in CONFLICT_COLUMNS if c in member.index},
                            "conflict_id": conflict_id,
                            "chosen": i == 0,
                            "rule": "targets_disagree",
                            "explanation": rule_explanation("targets_disagree"),
                        }
                    )
        rows.extend(distinct)
    table = pd.DataFrame([{k: v for k, v in r.items() if k != "_members"} for r in rows], columns=TARGET_COLUMNS)
    return table, pd.DataFrame(conflicts, columns=CONFLICT_COLUMNS)


def build_sources(records: pd.DataFrame) -> pd.DataFrame:
    """One row per source: publisher, title, URL, date and whether it is a mirror."""
    return records[tables.columns(SOURCES)].drop_duplicates("source_id").sort_values("source_id").reset_index(drop=True)


@dataclass
class CleanResult:
    """All tables the cleaning step produces."""

    indicators: pd.DataFrame
    targets: pd.DataFrame
    conflicts: pd.DataFrame
    exclusions: pd.DataFrame
    sources: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        """Table name -> table, in publishing order."""
        return {
            "indicators": self.indicators,
            "targets": self.targets,
            "conflicts": self.conflicts,
            "exclusions": self.exclusions,
            "sources": self.sources,
        }

    def vintage(self) -> str | None:
        """The data vintage: the latest publication date among the figures and targets kept (parsed dates only)."""
        dates = [
            d for frame in (self.indicators, self.targets) for d in frame["published_date"] if isinstance(d, str) and d
        ]
        return max(dates, key=parsing.date_sort_key) if dates else None


#: The earliest a figure for a period can be published: (months after the start of its year).
_PERIOD_END_MONTH = {"H1": 7, "6M": 7, "9M": 10, "Q1": 4, "Q2": 7, "Q3": 10, "Q4": 13, "H2": 13}


def earliest_publication(year, period: str) -> str | None:
    """The earliest date a figure for ``period`` of ``year`` can be public: 'YYYY' or 'YYYY-MM'.

    A yearly (or span) figure the year after; a half, quarter, nine months or month the month after it ends.
    """
    if year is None or pd.isna(year):
        return None
    year = int(year)
    month = _PERIOD_END_MONTH.get(period) or (int(period[1:]) + 1 if re.fullmatch(r"M\d{2}", period or "") else 13)
    return str(year + 1) if month > 12 else f"{year}-{month:02d}"


def with_vintage_dates(records: pd.DataFrame) -> pd.DataFrame:
    """Records with ``vintage_date``: when each figure became public, as well as the data tell.

    The printed publication date where there is one.  An undated figure was public at the earliest
    when the latest period its source reports was over (a source giving a 2020-2023 series appeared
    in 2024 at the earliest), so an undated row is not taken for older than it can be; where that
    earliest date is not after a dated rival's date, the dated figure still counts as the later one.
    """
    if records.empty:
        return records.assign(vintage_date=pd.Series(dtype=object))
    observed = records[records["kind"] != "target"]
    bounds = {}
    for source, year, period in zip(observed["source_id"], observed["year"], observed["period"], strict=True):
        earliest = earliest_publication(year, period)
        if earliest and parsing.date_sort_key(earliest) > parsing.date_sort_key(bounds.get(source)):
            bounds[source] = earliest
    dated = records["published_date"].notna() & (records["published_date"] != "")
    vintage = [
        date if has_date else bounds.get(source)
        for date, source, has_date in zip(records["published_date"], records["source_id"], dated, strict=True)
    ]
    return records.assign(vintage_date=vintage)


def publication_year(row: pd.Series) -> int | None:
    """Year a figure became public (its vintage date, see :func:`with_vintage_dates`)."""
    date = row.get("vintage_date")
    return int(date[:4]) if isinstance(date, str) and date else None


def published_by(records: pd.DataFrame, as_of: int) -> pd.DataFrame:
    """Observed figures public by the end of ``as_of`` (targets are kept whenever they were stated)."""
    if records.empty:
        return records
    years = records.apply(publication_year, axis=1)
    public = years.notna() & (years <= as_of)
    return records[(records["kind"] == "target") | public]


@dataclass
class Records:
    """Raw rows parsed once: the figures kept (with their vintage dates) and the rows set aside."""

    kept: pd.DataFrame
    excluded: pd.DataFrame


def prepare_records(raw: pd.DataFrame, curation: Curation, registry: Registry) -> Records:
    """Parse every raw row, apply the curation and the exclusion rules, date each figure's vintage.

    Raises
    ------
    RawDataError
        With every problem (file, row, column, expected) when any row cannot be read.
    """
    raw, duplicates = drop_duplicate_rows(raw)
    records, curated, problems = parse_rows(raw, curation, registry)
    if problems:
        raise RawDataError(problems)
    kept, ruled_out = apply_exclusion_rules(records)
    ruled_out = pd.concat([e for e in (duplicates, ruled_out) if not e.empty] or [ruled_out], ignore_index=True)
    excluded = pd.concat([e for e in (curated, ruled_out) if not e.empty] or [curated], ignore_index=True)
    return Records(with_vintage_dates(kept), excluded)


def resolve(kept: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Merge and resolve the kept figures into ``(indicators, targets, conflicts)``."""
    indicators, conflicts = consolidate(kept)
    targets, target_conflicts = build_targets(kept)
    all_conflicts = pd.concat(
        [c for c in (conflicts, target_conflicts) if not c.empty] or [conflicts], ignore_index=True
    )
    sort_keys = ["indicator", "geography", "boundary", "level", "year", "period", "estimator", "kind"]
    indicators = indicators.sort_values(sort_keys, kind="stable", na_position="first").reset_index(drop=True)
    return indicators, targets.reset_index(drop=True), all_conflicts.reset_index(drop=True)


def clean_frames(raw: pd.DataFrame, curation: Curation, registry: Registry, as_of: int | None = None) -> CleanResult:
    """Run every cleaning stage on raw rows already read; raise on any problem.

    Parameters
    ----------
    raw : DataFrame
        Raw rows as text (:func:`read_raw_file`), from every raw file.
    curation : Curation
        Rows excluded or attributed by hand (``data/curation.yml``).
    registry : Registry
        Known indicators, places and estimator families.
    as_of : int, optional
        Keep only the figures published by the end of this year before merging and resolving
        conflicts, so that the tables are those the data allowed then (vintage by vintage).

    Raises
    ------
    RawDataError
        With every problem (file, row, column, expected) when any row cannot be cleaned.
    """
    records = prepare_records(raw, curation, registry)
    kept = records.kept if as_of is None else published_by(records.kept, as_of)
    indicators, targets, conflicts = resolve(kept)
    return CleanResult(
        indicators,
        targets,
        conflicts,
        records.excluded.sort_values(["raw_file", "raw_row"]).reset_index(drop=True),
        build_sources(kept),
    )
