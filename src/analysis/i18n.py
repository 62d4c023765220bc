"""Report text in Vietnamese (first) and English, and locale formatting through Babel.

Every string a reader sees comes from the text catalogues ``locale/<lang>.yml``: one file per
language, keyed the same way, that a translator edits without reading Python (as open-sdg's
translation files).  A test checks that every key exists in every language with the same
``{placeholders}``.  Numbers and dates are formatted with Babel (``18,66%`` in vi,
``18.66%`` in en).

This module is shared by every stage: the data stage writes the English rule explanations
into ``conflicts.csv`` from the same catalogue the reports read.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from pathlib import Path

from analysis.storage import parse_yaml

LANGUAGES = ("vi", "en")
LOCALES = {"vi": "vi_VN", "en": "en_GB"}
LOCALE_DIR = Path(__file__).with_name("locale")


@functools.cache
def catalogue(lang: str) -> dict[str, str]:
    """All texts of one language: key -> text with ``{placeholders}``.

    Raises
    ------
    ValueError
        For a language without a catalogue file.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {LANGUAGES}, got {lang!r}")
    path = LOCALE_DIR / f"{lang}.yml"
    texts = parse_yaml(path.read_text(encoding="utf-8")) or {}
    return {str(key): str(value) for key, value in texts.items()}


def t(key: str, lang: str, **values) -> str:
    """The text of ``key`` in ``lang``, with ``{placeholders}`` filled from ``values``."""
    text = catalogue(lang)[key]
    return text.format(**values) if values else text


def has_text(key: str, lang: str = "en") -> bool:
    """True when the catalogue has ``key`` (a processed table the index names, if it has a name for it)."""
    return key in catalogue(lang)


def fmt_number(value: float, lang: str, digits: int = 1) -> str:
    """A number in the locale (1.234,5 in vi, 1,234.5 in en); '–' when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float) and math.isinf(value):
        return "∞"
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    from babel.numbers import format_decimal  # Babel loads its locale data on first use: not for a run's check

    return format_decimal(value, format=pattern, locale=LOCALES[lang])


def fmt_percent(value: float, lang: str, digits: int = 1) -> str:
    """A value already in percent (18.66 -> '18,7%' in vi, '18.7%' in en)."""
    text = fmt_number(value, lang, digits)
    return text if text in ("–", "∞") else f"{text}%"


def fmt_share(value: float, lang: str, max_digits: int = 2) -> str:
    """A published share in percent with no more decimals than it has, up to ``max_digits``.

    25 -> '25%', 18.3 -> '18,3%', 14.65 -> '14,65%' (vi): a figure published as "about 25%" is not
    printed as '25,00%', which would claim a precision the source never gave.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    number = float(value)
    digits = next((d for d in range(max_digits + 1) if round(number, d) == round(number, 6)), max_digits)
    return fmt_percent(number, lang, digits)


def fmt_probability(probability: float, lang: str) -> str:
    """A probability (0-1) as a whole percent; below 1% and above 99% are shown as '<1%' / '>99%'."""
    if probability is None or (isinstance(probability, float) and math.isnan(probability)):
        return "–"
    if probability < 0.01:
        return "<" + fmt_percent(1, lang, 0)
    if probability > 0.99:
        return ">" + fmt_percent(99, lang, 0)
    return fmt_percent(100 * probability, lang, 0)


def fmt_date(date: dt.date | str, lang: str) -> str:
    """A date in the locale's long form (25 tháng 11 năm 2026 / 25 November 2026)."""
    if isinstance(date, str):
        parts = [int(p) for p in date.split("-")]
        if len(parts) < 3:
            return date
        date = dt.date(*parts)
    # the pattern is in the catalogue: Babel's long Vietnamese form puts an English-style comma
    from babel.dates import format_date

    return format_date(date, format=t("date.pattern", lang), locale=LOCALES[lang])


#: The readers' time zone: every time a report or the index prints is in it.
READERS_ZONE = "Asia/Ho_Chi_Minh"


def local_time(moment: dt.datetime | str | None = None) -> dt.datetime:
    """A moment (an aware datetime, an ISO string, or None for now; naive means UTC) in the readers' zone."""
    from zoneinfo import ZoneInfo

    if moment is None:
        moment = dt.datetime.now(dt.UTC)
    elif isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(ZoneInfo(READERS_ZONE))


def fmt_time(moment: dt.datetime | str | None, lang: str) -> str:
    """A moment as its date and time in Ho Chi Minh City ('26 tháng 11 năm 2026, 22:44 (giờ Việt Nam)');
    None is now."""
    local = local_time(moment)
    return t("time.pattern", lang, date=fmt_date(local.date(), lang), time=f"{local:%H:%M}")


def fmt_edition(edition_id: str, lang: str) -> str:
    """An edition id ('20261126T154420Z', in UTC) as its date and time in Ho Chi Minh City (:func:`fmt_time`)."""
    try:
        stamp = dt.datetime.strptime(edition_id, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    except (TypeError, ValueError):
        return str(edition_id)
    return fmt_time(stamp, lang)
