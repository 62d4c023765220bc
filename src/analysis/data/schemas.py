"""Schemas of the tables the data stage publishes, checked with pandera before anything is written.

Each column has a title and a description: :func:`analysis.tables.publish` turns them into the
``<table>.meta.yml`` data dictionary beside every CSV, and the column lists used in code come
from here (``tables.columns(INDICATORS)``).
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from analysis.data.parsing import QUALIFIERS
from analysis.data.registry import load_registry
from analysis.data.units import CANONICAL_UNITS, SHARE_UNITS

OBSERVATION_KINDS = ["actual", "estimate", "preliminary", "projection", "plan"]
#: Kinds of figure that measure what happened (a projection expects, a plan allocates): the one filter.
OBSERVED_KINDS = ("actual", "estimate", "preliminary")
PERIOD_PATTERN = r"^(Y|H1|H2|9M|6M|Q[1-4]|M(0[1-9]|1[0-2])|avg|annual|span|unstated)$"
LEVELS = ["national", "province", "city", "district", "ward"]
VALUE_TYPES = ["point", "range", "bound", "rank", "top_k"]
COMPARATORS = ["at_least", "at_most", "top_k", "between"]


def column(dtype, title: str, description: str, checks=None, nullable: bool = False, unique: bool = False) -> pa.Column:
    """A documented column (title and description are required: they become the data dictionary)."""
    return pa.Column(dtype, checks, nullable=nullable, unique=unique, title=title, description=description)


def _share_in_bounds(frame: pd.DataFrame) -> pd.Series:
    is_share = frame["unit"].isin(list(SHARE_UNITS))
    return ~is_share | frame["value"].between(0, 100)


def _range_consistent(frame: pd.DataFrame) -> pd.Series:
    has_range = frame["value_low"].notna()
    return ~has_range | ((frame["value_low"] <= frame["value"]) & (frame["value"] <= frame["value_high"]))


# Columns shared by several tables, described once.
INDICATOR = column(
    str,
    "Indicator",
    "Indicator id (snake_case), e.g. digital_economy_share_GRDP",
    pa.Check.str_matches(r"^[A-Za-z0-9_]+$"),
)
GEOGRAPHY = column(str, "Place", "Place id: hcmc, vietnam, hanoi, da_nang, binh_duong, ...")
BOUNDARY = column(
    str,
    "Boundary",
    "The place within its borders at the time: hcmc-pre-2025-07 (Ho Chi Minh City before the "
    "1 July 2025 merger), hcmc-merged-2025-07 (the merged city), or the place id where borders did not change",
)
LEVEL = column(str, "Level", "Administrative level the figure describes", pa.Check.isin(LEVELS))
PERIOD = column(
    str,
    "Period",
    "Y (calendar year), H1/H2, 9M/6M, Q1-Q4, M01-M12 (month), avg (average over a span), "
    "annual (a rate that applies every year of a span), span, unstated (the source did not say which year)",
    pa.Check.str_matches(PERIOD_PATTERN),
)
SPAN_START = column(
    "Int64", "Span start", "First year of a span or of an annual target; empty for a single year", nullable=True
)
SPAN_END = column(
    "Int64", "Span end", "Last year of a span; empty for a single year or an open annual target", nullable=True
)
UNIT = column(str, "Unit", "Canonical unit: " + ", ".join(CANONICAL_UNITS), pa.Check.isin(list(CANONICAL_UNITS)))
QUALIFIER = column(
    str,
    "Qualifier",
    "How the source qualified the figure: exact, approx (khoảng, about), more_than (hơn, over), "
    "at_least (tối thiểu, ít nhất), nearly (gần)",
    pa.Check.isin(list(QUALIFIERS)),
)


def _known_estimator(values: pd.Series) -> pd.Series:
    return values.isin(load_registry().estimator_ids())


ESTIMATOR = column(
    str,
    "Estimator",
    "Estimator family of a digital-economy figure (an id of data/registry/estimators.yml: gso statistics office, "
    "mic ministry framework, hids city institute, ptit, city, ...; 'unknown' when the text names none); "
    "'reported' for every other indicator",
    pa.Check(_known_estimator, name="estimator_in_registry", error="an estimator id of data/registry/estimators.yml"),
)
SOURCE_ID = column(
    str,
    "Source",
    "Id of the source in sources.csv (S + 8 hex digits of a hash of publisher, title and URL)",
    pa.Check.str_matches(r"^S[0-9a-f]{8}$"),
)
PUBLISHED_DATE = column(str, "Published", "Publication date as printed: YYYY, YYYY-MM or YYYY-MM-DD", nullable=True)
RAW_FILE = column(str, "Raw file", "File in data/raw/ the row comes from")
RAW_ROW = column(int, "Raw row", "Row in the raw file, counted like a spreadsheet (header = row 1)", pa.Check.ge(2))
VALUE_AS_PUBLISHED = column(str, "Value as published", "The value exactly as printed by the source")
VALUE_LOW = column(
    float, "Low end", "Low end of a published range, in the unit; empty for a single figure", nullable=True
)
VALUE_HIGH = column(
    float, "High end", "High end of a published range, in the unit; empty for a single figure", nullable=True
)

#: One row of indicators.csv per value of this key (the slot a figure fills).
INDICATOR_KEY = [
    "indicator",
    "geography",
    "boundary",
    "level",
    "year",
    "period",
    "span_start",
    "span_end",
    "kind",
    "estimator",
    "value_type",
    "unit",
]

INDICATORS = pa.DataFrameSchema(
    {
        "indicator": INDICATOR,
        "geography": GEOGRAPHY,
        "boundary": BOUNDARY,
        "level": LEVEL,
        "year": column(
            "Int64", "Year", "Last calendar year the figure refers to", pa.Check.in_range(1990, 2060), nullable=True
        ),
        "period": PERIOD,
        "span_start": SPAN_START,
        "span_end": SPAN_END,
        "value": column(
            float, "Value", "The figure in its unit (a range gives its midpoint; scale words such as tỷ applied)"
        ),
        "value_low": VALUE_LOW,
        "value_high": VALUE_HIGH,
        "qualifier": QUALIFIER,
        "value_type": column(
            str, "Value type", "point, range, bound (more than / at least), rank or top_k", pa.Check.isin(VALUE_TYPES)
        ),
        "rank_group_size": column(
            "Int64",
            "Ranking group",
            "For a rank: how many places were ranked (63 provinces before the 2025 mergers, 34 after)",
            pa.Check.ge(1),
            nullable=True,
        ),
        "unit": UNIT,
        "kind": column(
            str,
            "Kind",
            "actual, estimate, preliminary (a first estimate) or projection",
            pa.Check.isin(OBSERVATION_KINDS),
        ),
        "estimator": ESTIMATOR,
        "source_id": SOURCE_ID,
        "citations": column(str, "Citations", "Every source printing this figure, ';'-separated source ids"),
        "n_citations": column(int, "Number of citations", "How many sources print this figure", pa.Check.ge(1)),
        "published_date": PUBLISHED_DATE,
        "first_published": column(
            str, "First published", "Earliest publication date among the citations", nullable=True
        ),
        "conflict_id": column(
            str,
            "Conflict",
            "Id of the conflict group in conflicts.csv when other figures competed for this slot",
            nullable=True,
        ),
        "methodology": column(
            str, "Methodology", "Who estimated the figure and how, as stated by the source", nullable=True
        ),
        "boundary_basis": column(
            str,
            "Boundary basis",
            "How the boundary was decided: stated, period before the merger, published after the merger, assumed",
        ),
        "raw_file": RAW_FILE,
        "raw_row": RAW_ROW,
        "value_as_published": VALUE_AS_PUBLISHED,
        "note": column(str, "Note", "Notes printed with the figure and notes added by cleaning", nullable=True),
    },
    checks=[
        pa.Check(_share_in_bounds, error="a share lies outside 0-100"),
        pa.Check(_range_consistent, error="value is not between value_low and value_high"),
    ],
    unique=INDICATOR_KEY,
    strict=True,
    coerce=True,
    title="Indicators",
    description="One row per indicator x place x boundary x period x kind x estimator: the figure kept after merging "
    "repeated citations and resolving conflicts (see conflicts.csv).",
)

TARGETS = pa.DataFrameSchema(
    {
        "target_id": column(str, "Target id", "indicator@boundary@level@year@value@comparator", unique=True),
        "indicator": INDICATOR,
        "geography": GEOGRAPHY,
        "boundary": BOUNDARY,
        "level": LEVEL,
        "target_year": column(
            "Int64",
            "Target year",
            "Year by which the target is to be met; for an annual target the first year",
            pa.Check.in_range(1990, 2060),
            nullable=True,
        ),
        "period": PERIOD,
        "span_start": SPAN_START,
        "span_end": SPAN_END,
        "comparator": column(
            str,
            "Comparator",
            "How the target is met: at_least, at_most (a rank), top_k, between (a range)",
            pa.Check.isin(COMPARATORS),
        ),
        "value": column(float, "Target value", "The target in its unit (a range gives its midpoint)"),
        "value_low": VALUE_LOW,
        "value_high": VALUE_HIGH,
        "qualifier": QUALIFIER,
        "unit": UNIT,
        "legal_basis": column(str, "Legal basis", "Every document stating this target, ' | '-separated"),
        "source_id": SOURCE_ID,
        "citations": column(str, "Citations", "Every source stating this target, ';'-separated source ids"),
        "n_citations": column(int, "Number of citations", "How many sources state this target", pa.Check.ge(1)),
        "published_date": PUBLISHED_DATE,
        "preferred": column(
            bool,
            "Preferred",
            "True for the value used when several targets exist for one place and year "
            "(the most cited, then the latest)",
        ),
        "estimator": ESTIMATOR,
        "value_as_published": VALUE_AS_PUBLISHED,
    },
    strict=True,
    coerce=True,
    title="Targets",
    description="Every distinct target value for an indicator, place and year, with its legal basis; "
    "disagreeing values are all "
    "kept and one is marked preferred.",
)

CONFLICTS = pa.DataFrameSchema(
    {
        "conflict_id": column(str, "Conflict", "C + hash for observations, T + hash for targets"),
        "indicator": INDICATOR,
        "geography": GEOGRAPHY,
        "boundary": BOUNDARY,
        "year": column("Int64", "Year", "Year of the competing figures", nullable=True),
        "period": PERIOD,
        "kind": column(str, "Kind", "Kind of the competing figures"),
        "estimator": ESTIMATOR,
        "value": column(float, "Value", "This candidate figure in the unit"),
        "value_as_published": VALUE_AS_PUBLISHED,
        "source_id": SOURCE_ID,
        "publisher": column(str, "Publisher", "Outlet that printed this candidate", nullable=True),
        "is_mirror": column(bool, "Mirror", "True when the outlet is a scraped copy of another article"),
        "published_date": PUBLISHED_DATE,
        "raw_file": RAW_FILE,
        "raw_row": RAW_ROW,
        "chosen": column(bool, "Chosen", "True for the candidate kept in indicators.csv (or the preferred target)"),
        "rule": column(str, "Rule", "Id of the rule that decided (see explanation)"),
        "explanation": column(str, "Explanation", "What the rule says, in English"),
    },
    strict=True,
    coerce=True,
    title="Conflicts",
    description="Every figure that competed with another for the same indicator, place, period, kind and estimator, "
    "the one chosen and the rule that chose it.",
)

EXCLUSIONS = pa.DataFrameSchema(
    {
        "raw_file": RAW_FILE,
        "raw_row": RAW_ROW,
        "indicator": column(str, "Indicator", "Indicator id as written in the raw row"),
        "geography": column(str, "Place as published", "Place as written in the raw row", nullable=True),
        "period": column(str, "Period as published", "Period as written in the raw row", nullable=True),
        "value_as_published": VALUE_AS_PUBLISHED,
        "rule": column(str, "Rule", "curated (listed in data/curation.yml) or the id of the exclusion rule"),
        "reason": column(str, "Reason", "Why the row was left out, in English", pa.Check.str_length(min_value=5)),
        "reason_vi": column(
            str, "Reason (Vietnamese)", "The same reason in Vietnamese, where curation gives it", nullable=True
        ),
    },
    strict=True,
    coerce=True,
    title="Exclusions",
    description="Every raw row left out of the indicators and targets, with the reason.",
)

SOURCES = pa.DataFrameSchema(
    {
        "source_id": column(
            str,
            "Source",
            "S + 8 hex digits of a hash of publisher, title and URL",
            pa.Check.str_matches(r"^S[0-9a-f]{8}$"),
            unique=True,
        ),
        "publisher": column(
            str, "Publisher", "Outlet as named in the raw file (mirrors name the original)", nullable=True
        ),
        "title": column(str, "Title", "Title of the article or document", nullable=True),
        "url": column(str, "Address", "Address of the page the figures were read from", nullable=True),
        "published_date": PUBLISHED_DATE,
        "is_mirror": column(bool, "Mirror", "True when the outlet is a scraped copy or aggregator of another article"),
    },
    strict=True,
    coerce=True,
    title="Sources",
    description="One row per source cited by a kept figure or target.",
)

SCHEMAS = {
    "indicators": INDICATORS,
    "targets": TARGETS,
    "conflicts": CONFLICTS,
    "exclusions": EXCLUSIONS,
    "sources": SOURCES,
}
