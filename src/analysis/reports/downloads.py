"""The data behind a chart or a table, as a reader downloads it: a CSV a spreadsheet can add up, and its note.

In the manner of Our World in Data's grapher downloads: numbers are numbers ('.' decimal point, no
thousands separators, no '%' signs, an empty cell for a missing value), dates are ISO dates, place,
estimator and indicator ids have their names in the report's language beside them, and a short note
(title, source, licence, when it was made, what each column holds) comes with every CSV.
"""

from __future__ import annotations

import math
import re

import pandas as pd

from analysis.i18n import fmt_time, t

#: What a formatted table prints for a missing value.
MISSING = frozenset({"", "–", "—", "-"})
#: Id columns and the column of their name in the report's language, written beside them.
NAMED_COLUMNS = {
    "indicator": "indicator_name",
    "boundary": "place_name",
    "component": "component_name",
    "estimator": "estimator_name",
    "eurostat_category": "eurostat_name",
}
#: Columns of a chart's or a table's data that the note describes (``data.col.<name>`` in the catalogue).
DESCRIBED = (
    "indicator",
    "indicator_name",
    "boundary",
    "place_name",
    "estimator",
    "estimator_name",
    "series",
    "year",
    "value",
    "median",
    "target_year",
    "target_value",
    "status",
    "status_name",
    "p_meet_in_year",
    "latest_year",
    "latest_value",
    "outcome_value",
    "observed_pace_pp",
    "required_pace_pp",
    "p_met_by_year",
    "p_meet_model_min",
    "p_meet_model_max",
    "eurostat_category",
    "eurostat_name",
    "component",
    "component_name",
)


#: The columns of ``assessments.csv`` a targets table shows, handed over unrounded (its data dictionary,
#: ``assessments.meta.yml``, published on the index, describes each).
ASSESSMENT_COLUMNS = (
    "indicator",
    "boundary",
    "estimator",
    "target_year",
    "target_value",
    "status",
    "latest_year",
    "latest_value",
    "outcome_value",
    "observed_pace_pp",
    "required_pace_pp",
    "p_meet_in_year",
    "p_met_by_year",
    "p_meet_model_min",
    "p_meet_model_max",
    "eurostat_category",
)


def assessment_rows(rows: pd.DataFrame, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """The rows of ``assessments.csv`` behind a targets table, with the columns it shows (unrounded) and ``extra``."""
    wanted = [column for column in (*ASSESSMENT_COLUMNS, *extra) if column in rows.columns]
    return rows[wanted].reset_index(drop=True)


def _separators(lang: str) -> tuple[str, str]:
    """The decimal and the thousands separator of a language ('.' and ',' in English)."""
    from babel.numbers import get_decimal_symbol, get_group_symbol

    from analysis.i18n import LOCALES

    return get_decimal_symbol(LOCALES[lang]), get_group_symbol(LOCALES[lang])


def as_number(text: str, lang: str) -> float | None:
    """A number printed for readers ('258.000', '2,21', '6%', '−0,5' in Vietnamese) as a float; None for other text.

    Examples
    --------
    >>> as_number("1.234,5%", "vi"), as_number("1,234.5", "en"), as_number("2030 (MIC)", "en")
    (1234.5, 1234.5, None)
    """
    decimal, group = _separators(lang)
    cleaned = str(text).strip().removesuffix("%").strip().replace("−", "-")
    g, d = re.escape(group), re.escape(decimal)
    if not re.fullmatch(rf"-?(\d{{1,3}}({g}\d{{3}})+|\d+)({d}\d+)?", cleaned):
        return None
    return float(cleaned.replace(group, "").replace(decimal, "."))


def numeric_column(values: pd.Series, lang: str) -> pd.Series | None:
    """A column of printed numbers as floats (missing marks empty); None when any cell is other text."""
    numbers = []
    for value in values:
        if value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() in MISSING:
            numbers.append(math.nan)
            continue
        number = value if isinstance(value, int | float) else as_number(str(value), lang)
        if number is None:
            return None
        numbers.append(float(number))
    return pd.Series(numbers, index=values.index, dtype=float)


def tidy(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A table formatted for readers, made for a spreadsheet: printed numbers back to numbers (a column of
    percentages gets ' (%)' in its name), the missing mark '–' an empty cell; text stays text."""
    columns = {}
    for name in frame.columns:
        values = frame[name]
        text = pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)
        numbers = numeric_column(values, lang) if text else None
        if numbers is not None and values.notna().any():
            percent = values.astype(str).str.strip().str.endswith("%").any()
            columns[f"{name} (%)" if percent else name] = numbers
        elif text:
            columns[name] = values.map(lambda v: None if isinstance(v, str) and v.strip() in MISSING else v)
        else:
            columns[name] = values
    return pd.DataFrame(columns)


def labelled(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Raw data with the name of each indicator, place and estimator (and status) in ``lang`` beside its id."""
    from analysis.reports import labels

    namers = {
        "indicator": labels.indicator,
        "boundary": labels.place,
        "component": labels.place,
        "estimator": labels.estimator,
        "status": lambda status, lang: labels.status(status, lang, symbol=False),
        "eurostat_category": lambda category, lang: t(f"eurostat.{category}", lang),
    }
    out = frame.copy()
    for column, namer in namers.items():
        if column in out.columns:
            names = out[column].map(lambda v, namer=namer: namer(v, lang) if isinstance(v, str) and v else None)
            out.insert(out.columns.get_loc(column) + 1, NAMED_COLUMNS.get(column, f"{column}_name"), names)
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A table as CSV bytes (UTF-8 with a byte-order mark so that Excel reads the diacritics, ISO dates,
    '.' decimal point, empty = missing)."""
    out = frame.copy()
    for name in out.columns:
        values = out[name]
        if pd.api.types.is_datetime64_any_dtype(values):
            out[name] = values.dt.strftime("%Y-%m-%d")
        elif pd.api.types.is_float_dtype(values) and values.notna().any() and (values.dropna() % 1 == 0).all():
            out[name] = values.astype("Int64")  # a year or a count: 2030, not 2030.0
    return out.to_csv(index=False, date_format="%Y-%m-%d").encode("utf-8-sig")


def column_description(name: str, lang: str) -> str:
    """': what the column holds' for a column the catalogue describes (a forecast band's bounds by their level),
    '' for another (its table's data dictionary describes it)."""
    band = re.fullmatch(r"(lo|hi)(\d\d)", name)
    if band:
        return ": " + t("data.col.band_low" if band[1] == "lo" else "data.col.band_high", lang, level=band[2])
    return f": {t('data.col.' + name, lang)}" if name in DESCRIBED else ""


def note(frame: pd.DataFrame, file_name: str, lang: str, title: str = "", source: str = "") -> str:
    """The companion note of a CSV: what it is, its source and licence, when it was made, and its columns.

    Parameters
    ----------
    frame : DataFrame
        The table as written to the CSV.
    title, source : str
        The chart's or the table's title and its source line, in ``lang`` ('' for the defaults).
    """
    lines = [
        f"# {title or file_name}",
        "",
        f"{t('data.file', lang)}: {file_name}",
        f"{t('data.source', lang)}: {source or t('data.source_default', lang)}",
        f"{t('data.licence', lang)}: {t('data.licence_text', lang)}",
        f"{t('data.made', lang)}: {fmt_time(None, lang)}",
        f"{t('data.format', lang)}: {t('data.format_text', lang)}",
        "",
        f"{t('data.columns', lang)}:",
    ]
    for name in frame.columns:
        kind = t("data.number", lang) if pd.api.types.is_numeric_dtype(frame[name]) else t("data.text", lang)
        lines.append(f"- {name} ({kind}){column_description(name, lang)}")
    return "\n".join(lines) + "\n"
