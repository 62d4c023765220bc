"""Names a reader sees for the ids in the tables: indicators, places, estimators, statuses, targets.

Indicator, place and estimator names come from the registry (``data/registry/``), every other word from the
text catalogues; a Vietnamese report never shows an id.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
from babel.dates import format_date

from analysis.data.registry import estimator_name, indicator_name, load_registry
from analysis.i18n import LOCALES, fmt_number, fmt_percent, fmt_share, t

#: Status symbols that print in black and white, in the order of ``judging.STATUSES``.
STATUS_SYMBOLS = {
    "met": "✔",
    "reported_reached": "≈",
    "not_met": "✘",
    "boundary_ended": "◇",
    "awaiting_figure": "◷",
    "on_track": "▲",
    "uncertain": "◐",
    "off_track": "▼",
    "not_measurable": "?",
}


def missing(value) -> bool:
    """True for None, NaN and pandas' NA."""
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def nowcast(row: pd.Series, lang: str) -> dict[str, str]:
    """A row's median projection and its 80% band as printed percentages (``median``, ``low``, ``high``)."""
    return {
        "median": fmt_percent(row["median_projection_value"], lang, 1),
        "low": fmt_percent(row["projection_lo80"], lang, 1),
        "high": fmt_percent(row["projection_hi80"], lang, 1),
    }


def indicator(indicator_id: str, lang: str) -> str:
    """The indicator's short name (registry)."""
    return indicator_name(indicator_id, lang)


def place(boundary: str, lang: str) -> str:
    """A boundary as a reader names it: 'TP.HCM (trước sáp nhập)', 'Cả nước', 'Hà Nội'."""
    registry = load_registry()
    found = registry.place_of_boundary(boundary)
    if found is None:
        return boundary
    name = found.name[lang]
    if not found.merger_date:
        return name
    if boundary == found.pre_boundary:
        return t("boundary.pre", lang, place=name)
    day = format_date(dt.date.fromisoformat(found.merger_date), format=t("format.day", lang), locale=LOCALES[lang])
    return t("boundary.merged", lang, place=name, date=day)


def estimator(estimator_id: str, lang: str) -> str:
    """An estimator family's name (registry)."""
    return estimator_name(estimator_id, lang)


def capitalised(text: str) -> str:
    """The text with its first letter upper-case (a name used as a column heading)."""
    return text[:1].upper() + text[1:]


def status(status_id: str, lang: str, symbol: bool = True) -> str:
    """'✔ Đã đạt': the status word, with its black-and-white symbol."""
    word = t(f"status.{status_id}", lang)
    return f"{STATUS_SYMBOLS[status_id]} {word}" if symbol else word


def unit_of(indicator_id: str) -> str:
    """An indicator's usual unit (registry); 'percent' for one the registry lacks."""
    entry = load_registry().indicator(indicator_id)
    return entry.units[0] if entry else "percent"


def value(number: float, unit: str, lang: str, qualifier: str | None = None, digits: int = 2) -> str:
    """A figure in its unit ('21,50%', '305.607 tỷ đồng'), with the source's qualifier ('khoảng 25%')."""
    text = fmt_share(number, lang, digits) if unit.startswith("percent") else fmt_number(number, lang, digits)
    if qualifier and qualifier != "exact":
        text = f"{t('qualifier.' + qualifier, lang)} {text}"
    return text


def target_value(number: float, lang: str) -> str:
    """A target as stated: '25%', '17,5%', '4,16%' (no more decimals than it has)."""
    return fmt_share(number, lang)


def target(row: pd.Series, lang: str) -> str:
    """'Kinh tế số / GRDP ≥ 25% năm 2025', in the report's language."""
    return t(
        "target.share",
        lang,
        indicator=indicator(row["indicator"], lang),
        value=target_value(row["target_value"], lang),
        year=int(row["target_year"]),
    )
