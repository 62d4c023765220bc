"""Parsers for figures as published in Vietnamese and English sources.

Every function here is pure: it takes the text of one cell (plus, where needed, a hint
from the same row) and returns a typed result or raises :class:`analysis.errors.ParseError`
with what would have been accepted.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from analysis.data.registry import Place, Registry
from analysis.errors import ParseError

# --- numbers ---------------------------------------------------------------------------

#: Qualifier words, longest first so that "more than" wins over "more".
QUALIFIER_WORDS: list[tuple[str, str]] = [
    ("approximately", "approx"),
    ("xấp xỉ", "approx"),
    ("khoảng", "approx"),
    ("about", "approx"),
    ("around", "approx"),
    ("cơ bản", "approx"),  # "basically 100%"
    ("c.", "approx"),
    ("~", "approx"),
    ("約", "approx"),  # Japanese digest of a Vietnamese article
    ("vượt mốc", "more_than"),  # "vượt mốc 14%": past the 14% mark
    ("vượt", "more_than"),
    ("more than", "more_than"),
    ("exceed", "more_than"),
    ("above", "more_than"),
    ("over", "more_than"),
    ("hơn", "more_than"),
    ("trên", "more_than"),
    ("a minimum of", "at_least"),
    ("tối thiểu", "at_least"),
    ("ít nhất", "at_least"),
    ("at least", "at_least"),
    ("only", "exact"),  # "only 5.24%/year": emphasis, the figure itself is exact
    ("nearly", "nearly"),
    ("almost", "nearly"),
    ("gần", "nearly"),
]
QUALIFIERS = ("exact", "approx", "more_than", "at_least", "nearly")

#: Words that flip the sign ("giảm 5,06" = fell by 5.06).
NEGATION_WORDS = ["giảm sâu", "giảm"]

#: Words that mean "all" of something; valid only for shares. "Phổ cập" (universal) is read as all; how
#: close to 100% counts as universal is the assessment plan's decision, not the parser's.
ALL_WORDS = ["tất cả", "toàn bộ", "all", "phổ cập", "universal"]

#: Words that only say the figure is a rise ("tăng 40%": up 40%); the sign stays.
RISE_WORDS = ["tăng"]

#: Scale words and their multipliers, longest first.
SCALE_WORDS: list[tuple[str, float]] = [
    ("triệu tỷ", 1e15),
    ("triệu tỉ", 1e15),
    ("nghìn tỷ", 1e12),
    ("ngàn tỷ", 1e12),
    ("nghìn tỉ", 1e12),
    ("quadrillion", 1e15),
    ("trillion", 1e12),
    ("billion", 1e9),
    ("million", 1e6),
    ("thousand", 1e3),
    ("triệu", 1e6),
    ("tỷ", 1e9),
    ("tỉ", 1e9),
    ("nghìn", 1e3),
    ("ngàn", 1e3),
]

ORDINAL_WORDS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
}

#: Vietnamese ordinals after "thứ" ("thứ tư" = fourth; "nhất"/"nhì" are the forms for first and second).
VIETNAMESE_ORDINALS = {
    "nhất": 1,
    "nhì": 2,
    "hai": 2,
    "ba": 3,
    "tư": 4,
    "năm": 5,
    "sáu": 6,
    "bảy": 7,
    "tám": 8,
    "chín": 9,
    "mười": 10,
}

#: Small numbers written as words ("ít nhất một khu": at least one park).
CARDINAL_WORDS = {"một": 1, "hai": 2, "ba": 3, "bốn": 4, "năm": 5, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}

#: "Nth among N ...", "1st of 63", "4 out of 34": a rank and the size of its ranking group.
_RANK_AMONG = re.compile(r"(\w+)\s+(?:out of|among|of|trên|trong số)\s+(\d+)\b.*")

#: Words that put a place first of its group ("dẫn đầu nhóm 63 tỉnh": leads the group of 63).
LEADS_WORDS = ("dẫn đầu", "đứng đầu", "leads", "ranked first", "top of")

_CURRENCY = re.compile(r"(us\$|vnđ|vnd|usd|\$)", re.IGNORECASE)
_PERCENT = re.compile(r"\s*(%|per\s*cent|percent)\s*", re.IGNORECASE)
_NUMBER = r"[+-]?\d[\d.,]*"
_VIETNAMESE_LETTERS = re.compile(
    r"[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]", re.IGNORECASE
)

ACCEPTED_NUMBER_FORMS = (
    "a number such as '18,66', '18.66', '1.621.191', '5.879,5', a range '13,71-15,72', "
    "an optional qualifier (khoảng, hơn, trên, tối thiểu, ít nhất, gần, about, more than, "
    "at least, nearly) and scale word (triệu, tỷ, nghìn tỷ, triệu tỷ, million, billion, "
    "trillion, quadrillion)"
)


@dataclass(frozen=True)
class ParsedValue:
    """A figure read from text.

    ``value`` is the number times the scale word (a range gives its midpoint); units are
    applied later.  ``value_type`` is one of point, range, bound, rank, top_k.
    """

    value: float
    low: float | None = None
    high: float | None = None
    qualifier: str = "exact"
    value_type: str = "point"
    rank_group_size: int | None = None
    is_all_word: bool = False
    note: str | None = None
    has_percent_sign: bool = False
    scale: float = 1.0


def detect_convention(*texts: str) -> str:
    """Return ``"vi"`` when any text has Vietnamese letters, else ``"en"``.

    The convention decides how a lone separator followed by three digits is read:
    "191.768" is 191768 in Vietnamese and 191.768 in English; "2,513" the reverse.
    """
    return "vi" if any(_VIETNAMESE_LETTERS.search(t or "") for t in texts) else "en"


#: More digits than this is not a figure anyone published (float would round it, or give inf).
MAX_DIGITS = 20


#: Characters that change how a text displays or compares without being seen: bidi marks, embeddings,
#: overrides and isolates, zero-width spaces and joiners, the word joiner, a byte-order mark inside a cell.
_INVISIBLE = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def visible_text_only(text: str) -> None:
    """Reject bidi and zero-width control characters and other control codes (tab and newline pass).

    Raises
    ------
    ParseError
        Naming the first such character and where it is.
    """
    for position, ch in enumerate(text or "", 1):
        if _INVISIBLE.match(ch) or (unicodedata.category(ch) == "Cc" and ch not in "\t\n\r"):
            name = unicodedata.name(ch, "control character")
            raise ParseError(
                f"invisible control character U+{ord(ch):04X} ({name}) at character {position}",
                "plain text (retype the cell, or paste it as plain text)",
            )


def ascii_digits_only(text: str) -> None:
    """Reject digits other than 0-9 (Arabic-Indic, full-width, Devanagari...): Python would read them.

    Raises
    ------
    ParseError
        Naming the characters.
    """
    foreign = sorted({ch for ch in text or "" if ch.isdigit() and not ch.isascii()})
    if foreign:
        raise ParseError(f"'{text}' has digits other than 0-9 ({''.join(foreign)})", "digits 0-9")


def parse_number(token: str, convention: str = "vi") -> float:
    """Parse one number written with Vietnamese or English separators.

    Parameters
    ----------
    token : str
        Digits with ``.`` and ``,`` separators, e.g. "1.621.191", "5.879,5", "18.66".
    convention : {"vi", "en"}
        Which reading to give a single separator followed by exactly three digits.

    Returns
    -------
    float
        The number, unitless.
    """
    text = token.strip()
    ascii_digits_only(text)
    sign = -1.0 if text.startswith("-") else 1.0
    text = text.lstrip("+-")
    if not re.fullmatch(r"\d[\d.,]*", text) or text[-1] in ".,":
        raise ParseError(f"'{token}' is not a number", ACCEPTED_NUMBER_FORMS)
    if sum(ch.isdigit() for ch in text) > MAX_DIGITS:
        raise ParseError(f"'{token[:30]}...' has more than {MAX_DIGITS} digits", "a published figure")
    dots, commas = text.count("."), text.count(",")
    if dots and commas:
        decimal = "." if text.rfind(".") > text.rfind(",") else ","
        thousands = "," if decimal == "." else "."
        integer, _, fraction = text.rpartition(decimal)
        if integer.count(decimal) or not _valid_grouping(integer, thousands):
            raise ParseError(f"'{token}' mixes separators inconsistently", ACCEPTED_NUMBER_FORMS)
        return sign * float(integer.replace(thousands, "") + "." + fraction)
    separator = "." if dots else "," if commas else None
    if separator is None:
        return sign * float(text)
    if text.count(separator) > 1:
        if not _valid_grouping(text, separator):
            raise ParseError(f"'{token}' has thousands groups that are not three digits", ACCEPTED_NUMBER_FORMS)
        return sign * float(text.replace(separator, ""))
    integer, fraction = text.split(separator)
    thousands_reading = len(fraction) == 3 and not integer.startswith("0") and len(integer) <= 3
    vietnamese_thousands = separator == "." and convention == "vi"
    english_thousands = separator == "," and convention == "en"
    if thousands_reading and (vietnamese_thousands or english_thousands):
        return sign * float(integer + fraction)
    return sign * float(integer + "." + fraction)


def _valid_grouping(text: str, separator: str) -> bool:
    groups = text.split(separator)
    return 1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])


def _strip_prefixes(text: str) -> tuple[str, str, float]:
    """Remove qualifier and negation words from the front; return (rest, qualifier, sign)."""
    qualifier, sign = "exact", 1.0
    changed = True
    while changed:
        changed = False
        lowered = text.lower()
        for word in NEGATION_WORDS:
            if lowered.startswith(word + " "):
                text, sign, changed = text[len(word) :].strip(), -sign, True
                break
        for word in RISE_WORDS:
            if not changed and lowered.startswith(word + " "):
                text, changed = text[len(word) :].strip(), True
                break
        if changed:
            continue
        for word, name in QUALIFIER_WORDS:
            if lowered.startswith(word) and (
                not word[-1].isalpha() or len(text) == len(word) or not text[len(word)].isalpha()
            ):
                text, qualifier, changed = text[len(word) :].strip(), name, True
                break
    return text, qualifier, sign


def _split_scale(text: str) -> tuple[str, float]:
    lowered = text.lower().rstrip()
    for word, factor in SCALE_WORDS:
        if lowered.endswith(" " + word) or (lowered.endswith(word) and lowered[: -len(word)][-1:].isdigit()):
            return text[: len(lowered) - len(word)].strip(), factor
    return text.strip(), 1.0


def parse_value(text: str, convention: str = "vi", rank_context: bool = False) -> ParsedValue:
    """Parse a figure as published: qualifiers, ranges, scale words, ranks and "all".

    Parameters
    ----------
    text : str
        The cell as published, e.g. "khoảng 25", "13,71-15,72", "2,74 triệu", "thứ 53".
    convention : {"vi", "en"}
        Separator convention of the row (see :func:`detect_convention`).
    rank_context : bool
        True when the unit is a rank: then "3/63" is rank 3 of 63 and "05" is rank 5.

    Returns
    -------
    ParsedValue
        Value in the scale of the unit text (scale words applied), with qualifier.
    """
    ascii_digits_only(text)
    if text is None or not str(text).strip():
        raise ParseError("empty value", ACCEPTED_NUMBER_FORMS)
    original = unicodedata.normalize("NFC", str(text).strip())
    main, note = original, None
    paren = re.fullmatch(r"(.+?)\s*\((.*)\)\s*", original)
    if paren:
        main, note = paren.group(1).strip(), paren.group(2).strip()
    main = re.sub(r"(\d)\s+([.,])(?=\d)", r"\1\2", main)  # "69 ,55%" printed with a stray space
    has_percent = bool(_PERCENT.search(main))
    main = _PERCENT.sub(" ", main).strip()
    main = re.sub(r"\s+GRDP$|\s+GDP$", "", main, flags=re.IGNORECASE).strip()
    # what the percent is of, or per what, belongs to the unit: "95 per cent of the population", "5.24%/year"
    main = re.sub(r"\s*(?:/\s*(?:year|năm)|per year|a year|mỗi năm)$", "", main, flags=re.IGNORECASE).strip()
    if has_percent:
        main = re.sub(r"\s+of (?:the )?(?:population|households|adults)$", "", main, flags=re.IGNORECASE).strip()
    main, qualifier, sign = _strip_prefixes(main)
    lowered = main.lower()

    if lowered in ALL_WORDS:
        return ParsedValue(100.0, qualifier=qualifier, is_all_word=True, note=note, has_percent_sign=True)

    if lowered in CARDINAL_WORDS:
        return ParsedValue(
            float(CARDINAL_WORDS[lowered]),
            qualifier=qualifier,
            value_type="bound" if qualifier in ("more_than", "at_least") else "point",
            note=note,
        )

    rank = _parse_rank(lowered, rank_context)
    if rank is not None:
        value, value_type, group = rank
        return ParsedValue(float(value), qualifier=qualifier, value_type=value_type, rank_group_size=group, note=note)

    main = _CURRENCY.sub(" ", main).strip()
    main, scale = _split_scale(main)
    main = re.sub(r"\s+(?:đến|to)\s+", " - ", main.replace("–", "-"))  # "10% đến 11%", "10 to 11"
    range_match = re.fullmatch(rf"({_NUMBER})\s*-\s*({_NUMBER})", main)
    if range_match:
        low = parse_number(range_match.group(1), convention) * scale
        high = parse_number(range_match.group(2), convention) * scale
        if high < low:
            raise ParseError(f"range '{original}' has its high end below its low end", "low-high")
        return ParsedValue(
            (low + high) / 2, low, high, qualifier, "range", note=note, has_percent_sign=has_percent, scale=scale
        )
    if not re.fullmatch(_NUMBER, main):
        raise ParseError(f"cannot read '{original}' as a figure", ACCEPTED_NUMBER_FORMS)
    value = sign * parse_number(main, convention) * scale
    value_type = "bound" if qualifier in ("more_than", "at_least") else "point"
    return ParsedValue(
        value, qualifier=qualifier, value_type=value_type, note=note, has_percent_sign=has_percent, scale=scale
    )


def _parse_rank(lowered: str, rank_context: bool) -> tuple[int, str, int | None] | None:
    """Return (value, value_type, group size) for rank phrases, or None.

    Reads "thứ 53", "vị trí thứ 2", "thứ tư", "dẫn đầu nhóm 63 tỉnh" (first of 63), "71st among 193
    countries", "fourth out of 34", "nhóm 5" / "top 5" (within the top k), and with a rank unit "3/63".
    """
    lowered = re.sub(r"^(?:vị trí|xếp|xếp hạng|đứng|hạng)\s+", "", lowered.strip())
    patterns = [
        (r"thứ\s+(\d+)", "rank"),
        (r"peringkat ke-?\s*(\d+)", "rank"),  # Indonesian translation: "rank 7"
        (r"(?:nhóm|top)\s+(\d+)\b.*", "top_k"),
        (r"một trong\s+(\d+)\b.*", "top_k"),
    ]
    for pattern, kind in patterns:
        match = re.fullmatch(pattern, lowered)
        if match:
            return int(match.group(1)), kind, None
    ordinal = re.fullmatch(r"thứ\s+(\w+)", lowered)
    if ordinal and ordinal.group(1) in VIETNAMESE_ORDINALS:
        return VIETNAMESE_ORDINALS[ordinal.group(1)], "rank", None
    for word in LEADS_WORDS:
        if lowered == word or lowered.startswith(word + " "):
            group = re.search(r"(\d+)", lowered[len(word) :])
            return 1, "rank", int(group.group(1)) if group else None
    among = _RANK_AMONG.fullmatch(lowered)
    if among:
        head = among.group(1)
        digits = re.fullmatch(r"(\d+)(?:st|nd|rd|th)?", head)
        position = ORDINAL_WORDS.get(head) or (int(digits.group(1)) if digits else None)
        if position:
            return position, "rank", int(among.group(2))
    if lowered in ORDINAL_WORDS:
        return ORDINAL_WORDS[lowered], "rank", None
    if rank_context:
        slash = re.fullmatch(r"(\d+)\s*/\s*(\d+)", lowered)
        if slash:
            return int(slash.group(1)), "rank", int(slash.group(2))
        if re.fullmatch(r"\d+", lowered):
            return int(lowered), "rank", None
    return None


def rank_group_from_text(*texts: str) -> int | None:
    """The size of a ranking group stated beside a rank: "rank among 63 provinces", "(group of 34)", "rank 4/34".

    Returns
    -------
    int or None
        The number of places ranked, or None when no text states it.
    """
    for text in texts:
        match = re.search(r"(?:among|group of|out of|nhóm|trên|/)\s*(\d+)\b", str(text or ""), re.IGNORECASE)
        if match:
            return int(match.group(1))
    return None


# --- units -----------------------------------------------------------------------------

ACCEPTED_UNITS = (
    "a unit such as '% GRDP', '% GDP', '% tổng chi ngân sách', '%', '%/năm', 'tỷ đồng', "
    "'tỷ USD', 'USD', 'rank ...', '... (0-1)', 'points', or a count noun (hồ sơ, dịch vụ công, doanh nghiệp)"
)


def normalize_unit(unit_text: str, indicator: str, value_text: str = "") -> tuple[str, float]:
    """Map a published unit to a canonical unit and a factor.

    Parameters
    ----------
    unit_text : str
        The unit as published, e.g. "% GRDP", "tỉ đồng", "per cent of its budget".
    indicator : str
        The indicator name (snake case), used where the unit text alone is ambiguous.
    value_text : str
        The value as published; some rows carry the unit there ("0.4 per cent", "VND1.78 quadrillion").

    Returns
    -------
    tuple of (str, float)
        Canonical unit (a key of :data:`analysis.data.units.CANONICAL_UNITS`) and the factor that turns
        ``ParsedValue.value`` into that unit.
    """
    unit = unicodedata.normalize("NFC", unit_text or "").lower()
    value = (value_text or "").lower()
    name = indicator.lower()
    both = unit + " " + value
    if "rank" in name or unit.startswith("rank") or unit.startswith("hạng"):
        return "rank", 1.0
    if (
        "(0-1)" in unit
        or "sub-index" in unit
        or "dti" in unit
        or name.startswith(("dti_score", "dti_subindex", "dti_pillar_score", "ict_index"))
    ):
        return "index_0_1", 1.0
    if unit.startswith(("points", "điểm")):
        return "points", 1.0
    assumed = _assumed_unit(unit)
    if assumed:
        unit = assumed
    # Scale words inside parentheses explain the unit ("đồng (nghìn tỷ đồng)"): the value carries the scale.
    main_unit = re.sub(r"\(.*?\)", "", unit).strip()
    money_prefixes = ("tỷ usd", "tỉ usd", "us$", "usd", "tỷ đồng", "tỉ đồng", "triệu đồng", "đồng", "vnd", "vnđ")
    if main_unit.startswith(money_prefixes) and "/lao động" not in unit:
        if "usd" in main_unit or "us$" in main_unit:
            return _usd(main_unit, value)
        return "VND_billion", _dong_factor(main_unit)
    if "/lao động" in unit or "per labourer" in unit or "per worker" in unit:
        in_millions = "triệu" in unit
        return "VND_million_per_worker", 1.0 if in_millions else 1e-6
    if "/1.000 dân" in unit or "per 1,000" in unit:
        return "per_1000_population", 1.0
    percent = (
        "%" in both or "percent" in both or "per cent" in both or unit.strip() in ("/grdp", "grdp") or "(grdp)" in unit
    )
    if percent:
        if "growth" in name or "%/năm" in unit or "per year" in unit or "tăng trưởng" in unit:
            return "percent_change", 1.0
        if (
            "grdp" in unit
            or "regional" in unit
            or "city's gdp" in unit
            or "gross regional" in unit
            or "its gdp" in unit
            or "share_grdp" in name
        ):
            return "percent_of_GRDP", 1.0
        if "gdp" in unit:
            return "percent_of_GDP", 1.0
        if any(w in unit for w in ("ngân sách", "budget", "expenditure", "nguồn lực chi", "tổng chi")):
            return "percent_of_budget", 1.0
        return "percent", 1.0
    if "usd" in unit or "us$" in unit:
        return _usd(unit, value)
    if "đồng" in unit or "vnd" in unit or "vnđ" in unit:
        return "VND_billion", _dong_factor(main_unit)
    count_nouns = (
        "doanh nghiệp",
        "dịch vụ công",
        "nền tảng",
        "hồ sơ",
        "documents",
        "services",
        "chỉ tiêu",
        "khu công nghệ",
    )
    if any(noun in unit for noun in count_nouns):
        return "count", 1.0
    raise ParseError(f"unknown unit '{unit_text}'", ACCEPTED_UNITS)


#: Unit columns that say the unit was not printed, and the unit the note names instead.
_NOT_PRINTED = ("unit not shown", "unit not printed", "không ghi đơn vị")
_NAMED_UNITS = ("triệu đồng", "tỷ đồng", "tỉ đồng", "nghìn đồng", "tỷ usd", "usd")


def _assumed_unit(unit: str) -> str | None:
    """For a unit column saying the unit was not printed, the unit its note names ("normally in triệu đồng")."""
    if not any(phrase in unit for phrase in _NOT_PRINTED):
        return None
    return next((named for named in _NAMED_UNITS if named in unit), None)


def assumed_unit_note(unit_text: str) -> str | None:
    """A note for a figure whose unit was not printed and was taken from the unit column's note, else None."""
    assumed = _assumed_unit(unicodedata.normalize("NFC", unit_text or "").lower())
    return f"unit not printed; {assumed} assumed, as the unit column notes" if assumed else None


def _dong_factor(unit: str) -> float:
    """Factor from a dong unit ("tỷ đồng", "triệu đồng", "đồng") to billion dong."""
    if "tỷ" in unit or "tỉ" in unit:
        return 1.0
    if "triệu" in unit:
        return 1e-3
    if "nghìn" in unit or "ngàn" in unit:
        return 1e-6
    return 1e-9


def _usd(unit: str, value: str) -> tuple[str, float]:
    """USD or billion USD; a plain "USD" column with "billion" in the value ("$43.8 billion") is billion USD."""
    if "tỷ" in unit or "tỉ" in unit or "billion" in unit:
        return "USD_billion", 1.0
    if "billion" in value or "tỷ" in value or "tỉ" in value:
        return "USD_billion", 1e-9
    return "USD", 1.0


def without_unit(value_text: str, unit_text: str) -> str:
    """The value without a unit it repeats ("trên 70 tỷ USD" in a "tỷ USD" column -> "trên 70").

    Only units with a scale word are stripped, so that the scale is not applied twice.
    """
    value, unit = (value_text or "").strip(), (unit_text or "").strip()
    scaled = any(word in unit.lower() for word, _ in SCALE_WORDS)
    if unit and scaled and value.lower().endswith(unit.lower()) and re.search(r"\d", value[: -len(unit)]):
        return value[: -len(unit)].strip()
    return value


# --- periods ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedPeriod:
    """A period: the year it ends in, a sub-annual marker or span, and a note.

    ``period`` is "Y" (a calendar year), "H1", "9M", "Q1".."Q4", "M01".."M12", "avg" (an
    average over a span), "annual" (a rate that applies every year of a span), "span", or
    "unstated" (the source did not say which year: never placed in a year's series).
    ``year`` is the last year the figure refers to; None for open annual targets, open spans and
    unstated years.
    """

    year: int | None
    period: str = "Y"
    span_start: int | None = None
    span_end: int | None = None
    approximate: bool = False
    note: str | None = None


MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}

ACCEPTED_PERIODS = (
    "a year '2023', '2024-9M', '2025-H1', '2024-Q1', '2025-09', '2016-2020 avg', '2021-2025 (average)', "
    "'2021-2025 (annual)', 'annual (from 2025)', '2026 onward', 'c. 2023', or such a period with a note in "
    "parentheses; a note saying 'year not stated' keeps the figure out of every year's series"
)


def parse_period(text: str) -> ParsedPeriod:
    """Parse a free-text period as found in the raw files.

    Returns
    -------
    ParsedPeriod
        Year, sub-annual marker or span, whether the year was approximate ("c. 2023"), and
        any parenthetical note kept verbatim.
    """
    ascii_digits_only(text)
    raw = (text or "").strip()
    if not raw:
        raise ParseError("empty period", ACCEPTED_PERIODS)
    main, note = raw, None
    paren = re.fullmatch(r"(.*?)\s*\((.*)\)\s*", raw)
    if paren and paren.group(1):
        main, note = paren.group(1).strip(), paren.group(2).strip()
    lowered = main.lower()
    approximate = False
    if lowered.startswith("c. "):
        approximate, lowered = True, lowered[3:].strip()
    unstated = _year_not_stated(raw, lowered, note)
    if unstated is not None:
        return unstated
    match = re.fullmatch(r"(\d{4}) onwards?", lowered)
    if match:
        return ParsedPeriod(None, "span", _year(match.group(1), raw), None, approximate, note)

    if re.fullmatch(r"\d{4}", lowered):
        year = _year(lowered, raw)
        note_lower = (note or "").lower()
        if note_lower.startswith("annual"):
            return ParsedPeriod(year, "annual", year, year, approximate, note)
        month = re.match(r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)", note_lower)
        if month:
            return ParsedPeriod(year, f"M{MONTHS[month.group(1)]:02d}", approximate=approximate, note=note)
        return ParsedPeriod(year, "Y", approximate=approximate, note=note)
    match = re.fullmatch(r"(\d{4})-(h[12]|9m|6m|q[1-4])", lowered)
    if match:
        return ParsedPeriod(_year(match.group(1), raw), match.group(2).upper(), approximate=approximate, note=note)
    match = re.fullmatch(r"(\d{4})-(\d{2})", lowered)
    if match and 1 <= int(match.group(2)) <= 12:
        return ParsedPeriod(_year(match.group(1), raw), f"M{match.group(2)}", approximate=approximate, note=note)
    match = re.fullmatch(r"(\d{4})-(\d{4})(?:\s+(avg|annual))?", lowered)
    if match:
        start, end = _year(match.group(1), raw), _year(match.group(2), raw)
        if end < start:
            raise ParseError(f"span '{raw}' ends before it starts", ACCEPTED_PERIODS)
        note_lower = (note or "").lower()
        kind = match.group(3) or ("annual" if note_lower.startswith("annual") else "span")
        if note_lower.startswith(("average", "avg")) or (kind == "annual" and "avg" in note_lower):
            kind = "avg"
        return ParsedPeriod(end, kind, start, end, approximate, note)
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2}) to (\d{4}-\d{2}-\d{2})", lowered)
    if match:
        start, end = int(match.group(1)[:4]), int(match.group(2)[:4])
        return ParsedPeriod(end, "span", start, end, approximate, f"{match.group(1)} to {match.group(2)}")
    if lowered == "annual":
        inner = (note or "").lower()
        since = re.fullmatch(r"from (\d{4})", inner)
        until = re.fullmatch(r"to (\d{4})", inner)
        if since:
            start = _year(since.group(1), raw)
            return ParsedPeriod(start, "annual", start, None, approximate, note)
        if until:
            end = _year(until.group(1), raw)
            return ParsedPeriod(end, "annual", None, end, approximate, note)
        return ParsedPeriod(None, "annual", approximate=approximate, note=note)
    raise ParseError(f"cannot read period '{raw}'", ACCEPTED_PERIODS)


#: Phrases saying that the source did not state which year a figure is for.
_YEAR_NOT_STATED = ("year not stated", "year/average not stated", "exact year", "data year not stated")


#: First month of a part of a year (a half, quarter or nine months starts in January unless listed).
_PART_START_MONTH = {"H2": 7, "Q2": 4, "Q3": 7, "Q4": 10}


def period_start(period: ParsedPeriod) -> str | None:
    """When a period begins, as 'YYYY' or 'YYYY-MM' (None when the source does not say, or only roughly)."""
    if period.approximate or period.period == "unstated":
        return None
    if period.span_start is not None:
        return str(period.span_start)
    if period.year is None or period.period == "annual":
        return None
    if re.fullmatch(r"M\d{2}", period.period):
        return f"{period.year}-{period.period[1:]}"
    month = _PART_START_MONTH.get(period.period)
    return f"{period.year}-{month:02d}" if month else str(period.year)


def before(date: str, other: str) -> bool:
    """True when the partial date ``date`` is certainly before ``other`` ('2019-01-01' before '2025'; '2025'
    is not before '2025-07')."""
    length = min(len(date), len(other))
    return date[:length] < other[:length]


def _year_not_stated(raw: str, main: str, note: str | None) -> ParsedPeriod | None:
    """A figure whose year the source did not state: period "unstated", never placed in a year's series.

    The span is the period the text mentions ("reported for 2021-2025", "covered 2020-2022"), else
    the year written before the note, else the year of "as published Dec 2023".
    """
    text = raw.lower()
    if not (any(phrase in text for phrase in _YEAR_NOT_STATED) or main.startswith("as published")):
        return None
    span = re.search(r"(\d{4})\s*[-–]\s*(\d{4})", note or "")
    if span:
        return ParsedPeriod(None, "unstated", _year(span.group(1), raw), _year(span.group(2), raw), note=note)
    years = re.findall(r"\d{4}", main)
    if not years:
        raise ParseError(f"cannot read period '{raw}'", ACCEPTED_PERIODS)
    return ParsedPeriod(None, "unstated", None, _year(years[-1], raw), note=note)


def _year(text: str, raw: str) -> int:
    year = int(text)
    if not 1990 <= year <= 2060:
        raise ParseError(f"year {year} in '{raw}' is outside 1990-2060", ACCEPTED_PERIODS)
    return year


# --- dates -----------------------------------------------------------------------------


def parse_published_date(text: str) -> str | None:
    """Validate a publication date: "YYYY", "YYYY-MM" or "YYYY-MM-DD", or empty.

    Returns
    -------
    str or None
        The date as given (its precision kept), or None when empty.
    """
    raw = (text or "").strip()
    if not raw:
        return None
    ascii_digits_only(raw)
    match = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", raw)
    if not match:
        raise ParseError(f"malformed date '{raw}'", "YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = match.group(1), match.group(2), match.group(3)
    if month and not 1 <= int(month) <= 12:
        raise ParseError(f"month {month} in '{raw}' is not 01-12", "YYYY-MM-DD")
    if day:
        import datetime

        try:
            datetime.date(int(year), int(month), int(day))
        except ValueError as exc:
            raise ParseError(f"'{raw}' is not a calendar date ({exc})", "YYYY-MM-DD") from None
    if not 1990 <= int(year) <= 2060:
        raise ParseError(f"year in '{raw}' is outside 1990-2060", "YYYY-MM-DD")
    return raw


def date_sort_key(date: str | None) -> str:
    """Sortable key for a partial date; unknown dates sort first (oldest)."""
    return date if isinstance(date, str) and date else "0000"


# --- geography and estimators ------------------------------------------------------------

ACCEPTED_GEOGRAPHY = (
    "a place listed in data/registry/places.yml, in either language (HCMC, TP.HCM, Vietnam, Hà Nội, Da Nang, ...), "
    "with an optional note such as '(merged)', '(pre-merger)', '(city level)'"
)
#: Months of a year that fall before a mid-year boundary change (2025-07-01): H1, Q1-Q2, M01-M06.
_FIRST_HALF = ("H1", "Q1", "Q2", "M01", "M02", "M03", "M04", "M05", "M06")


@dataclass(frozen=True)
class ParsedGeography:
    """Canonical place id, level, and the side of a boundary change the text states (pre / merged / None)."""

    geography: str
    level: str
    stated_side: str | None
    note: str | None


def parse_geography(text: str, places: Registry) -> ParsedGeography:
    """Parse a free-text geography such as "HCMC (merged, incl. Binh Duong & BR-VT)".

    Parameters
    ----------
    places : Registry
        The registry whose places (and their aliases) are known.

    A text naming two places ("Hai Phong / Da Nang") or two levels is rejected: one row holds one
    place at one level.
    """
    raw = (text or "").strip()
    match = re.fullmatch(r"([^()]+?)\s*(?:\((.*)\))?", raw)
    if not match:
        raise ParseError(f"cannot read geography '{raw}'", ACCEPTED_GEOGRAPHY)
    name, note = match.group(1).strip(), (match.group(2) or "").strip()
    if "/" in name:
        raise ParseError(f"'{raw}' names several places in one row", "one place per row")
    place = places.place_for(name)
    if place is None:
        nearest = places.nearest_places(name)
        hint = f"; did you mean {' or '.join(nearest)}?" if nearest else ""
        raise ParseError(f"unknown place '{name}'{hint}", ACCEPTED_GEOGRAPHY)
    lowered = note.lower()
    if "/" in lowered and "level" in lowered:
        raise ParseError(f"'{raw}' names several levels in one row", "one level per row")
    level = place.level
    for candidate in ("city", "district", "ward"):
        if f"{candidate} level" in lowered:
            level = candidate
    side = "pre" if "pre-merger" in lowered else "merged" if "merged" in lowered else None
    return ParsedGeography(place.id, level, side, note or None)


def boundary_for(
    place: Place, stated_side: str | None, year: int | None, span_end: int | None, period: str, published: str | None
) -> tuple[str, str]:
    """Decide which version of a place a figure describes: before or after its merger.

    A place that never merged has one boundary, its id.  For a merged place the text may say
    which side ("pre-merger", "merged"); otherwise the period decides (it ended before the merger),
    then the publication date.

    Returns
    -------
    tuple of (str, str)
        Boundary id and the basis of the decision (stated / period / publication date / assumed).
    """
    if not place.merger_date:
        return place.id, "no boundary change recorded"
    if stated_side:
        return (place.pre_boundary if stated_side == "pre" else place.merged_boundary), "stated"
    merger_year = int(place.merger_date[:4])
    last_year = span_end or year
    if last_year is not None and (last_year < merger_year or (last_year == merger_year and period in _FIRST_HALF)):
        return place.pre_boundary, "period before the merger"
    if published and published >= place.merger_date:
        return place.merged_boundary, "published after the merger"
    if published and published[:7] < place.merger_date[:7]:
        return place.pre_boundary, "published before the merger"
    return place.pre_boundary, "assumed (no date; pre-merger place named)"


def _mentions(text: str, pattern: str) -> list[int]:
    """Start positions where ``pattern`` occurs in ``text`` as whole words (letters, digits and & count as word)."""
    return [m.start() for m in re.finditer(rf"(?<![\w&]){re.escape(pattern)}(?![\w&])", text)]


def _negated(text: str, position: int, negations: tuple[str, ...]) -> bool:
    """True when the words just before ``position`` negate or contrast the name ("not GSO", "differs from MIC")."""
    words = re.findall(r"[\w&']+", text[max(0, position - 40) : position])
    tail = " " + " ".join(words[-3:])
    return any(tail.endswith(" " + word) for word in negations)


def estimator_family(methodology: str, registry: Registry) -> str:
    """Name the estimator family of a figure from its methodology text.

    A phrase naming a series explicitly ("MIC/MST-framework series") decides.  Otherwise the
    family named first wins, names matched as whole words ("socio-economic" does not name MIC),
    so that a text attributing a figure to one family while noting another keeps the attribution
    printed first.  Names in a negated phrase ("not GSO", "differs from MIC") do not count.

    Returns
    -------
    str
        A family id of the registry, or "unknown" when the text names none.
    """
    text = " " + (methodology or "").lower() + " "
    explicit, named = [], []
    for family in registry.estimators.values():
        for phrase in family.series:
            explicit.extend((position, family.id) for position in _mentions(text, phrase))
        for pattern in family.patterns:
            named.extend(
                (position, family.id)
                for position in _mentions(text, pattern)
                if not _negated(text, position, registry.negations)
            )
    if explicit:
        return min(explicit)[1]
    return min(named)[1] if named else "unknown"
