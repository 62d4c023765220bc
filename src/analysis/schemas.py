"""Schemas of the processed tables, checked with pandera before anything is published."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from analysis.errors import Problem
from analysis.parsing import CANONICAL_UNITS, ESTIMATORS, QUALIFIERS, SHARE_UNITS

_KINDS = ["actual", "estimate", "projection"]
_PERIOD = r"^(Y|H1|H2|9M|6M|Q[1-4]|M(0[1-9]|1[0-2])|avg|annual|span)$"


def _share_in_bounds(frame: pd.DataFrame) -> pd.Series:
    is_share = frame["unit"].isin(list(SHARE_UNITS))
    return ~is_share | frame["value"].between(0, 100)


def _range_consistent(frame: pd.DataFrame) -> pd.Series:
    has_range = frame["value_low"].notna()
    return ~has_range | ((frame["value_low"] <= frame["value"]) & (frame["value"] <= frame["value_high"]))


INDICATORS = pa.DataFrameSchema(
    {
        "indicator": pa.Column(str, pa.Check.str_matches(r"^[A-Za-z0-9_]+$")),
        "geography": pa.Column(str),
        "boundary": pa.Column(str),
        "level": pa.Column(str, pa.Check.isin(["national", "province", "city", "district", "ward"])),
        "year": pa.Column("Int64", pa.Check.in_range(1990, 2060), nullable=True),
        "period": pa.Column(str, pa.Check.str_matches(_PERIOD)),
        "span_start": pa.Column("Int64", nullable=True),
        "span_end": pa.Column("Int64", nullable=True),
        "value": pa.Column(float),
        "value_low": pa.Column(float, nullable=True),
        "value_high": pa.Column(float, nullable=True),
        "qualifier": pa.Column(str, pa.Check.isin(list(QUALIFIERS))),
        "value_type": pa.Column(str, pa.Check.isin(["point", "range", "bound", "rank", "top_k"])),
        "unit": pa.Column(str, pa.Check.isin(list(CANONICAL_UNITS))),
        "kind": pa.Column(str, pa.Check.isin(_KINDS)),
        "estimator": pa.Column(str, pa.Check.isin(list(ESTIMATORS))),
        "source_id": pa.Column(str, pa.Check.str_matches(r"^S[0-9a-f]{8}$")),
        "citations": pa.Column(str),
        "n_citations": pa.Column(int, pa.Check.ge(1)),
        "published_date": pa.Column(str, nullable=True),
        "conflict_id": pa.Column(str, nullable=True),
        "raw_file": pa.Column(str),
        "raw_row": pa.Column(int, pa.Check.ge(2)),
    },
    checks=[
        pa.Check(_share_in_bounds, error="a share lies outside 0-100"),
        pa.Check(_range_consistent, error="value is not between value_low and value_high"),
    ],
    unique=["indicator", "geography", "boundary", "level", "year", "period", "span_start", "span_end",
            "kind", "estimator", "value_type", "unit"],
    strict=False,
    coerce=True,
)

TARGETS = pa.DataFrameSchema(
    {
        "target_id": pa.Column(str, unique=True),
        "indicator": pa.Column(str),
        "geography": pa.Column(str),
        "boundary": pa.Column(str),
        "target_year": pa.Column("Int64", pa.Check.in_range(1990, 2060), nullable=True),
        "comparator": pa.Column(str, pa.Check.isin(["at_least", "at_most", "top_k", "between"])),
        "value": pa.Column(float),
        "unit": pa.Column(str, pa.Check.isin(list(CANONICAL_UNITS))),
        "legal_basis": pa.Column(str),
        "source_id": pa.Column(str),
        "preferred": pa.Column(bool),
    },
    strict=False,
    coerce=True,
)

CONFLICTS = pa.DataFrameSchema(
    {
        "conflict_id": pa.Column(str),
        "chosen": pa.Column(bool),
        "rule": pa.Column(str),
        "explanation": pa.Column(str),
        "raw_file": pa.Column(str),
        "raw_row": pa.Column(int),
    },
    strict=False,
    coerce=True,
)

EXCLUSIONS = pa.DataFrameSchema(
    {"raw_file": pa.Column(str), "raw_row": pa.Column(int), "rule": pa.Column(str), "reason": pa.Column(str, pa.Check.str_length(min_value=5))},
    strict=False,
    coerce=True,
)

SCHEMAS = {"indicators": INDICATORS, "targets": TARGETS, "conflicts": CONFLICTS, "exclusions": EXCLUSIONS}


def validate_tables(tables: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """Validate (and coerce) each processed table against its schema.

    Returns
    -------
    (dict of DataFrame, list of Problem)
        The coerced tables and every schema failure, named by table, row and column.
    """
    validated, problems = {}, []
    for name, frame in tables.items():
        schema = SCHEMAS.get(name)
        if schema is None:
            validated[name] = frame
            continue
        try:
            validated[name] = schema.validate(frame, lazy=True)
        except pa.errors.SchemaErrors as exc:
            for _, failure in exc.failure_cases.head(50).iterrows():
                row = failure.get("index")
                problems.append(Problem(f"{name}.csv (processed)", None if pd.isna(row) else int(row) + 2,
                                        failure.get("column"), f"failed {failure.get('check')}: {failure.get('failure_case')}"))
    return validated, problems
