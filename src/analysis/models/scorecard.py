"""The programme scorecard: every target of the city's programme, judged by the rule its kind needs.

One row per target of ``programme`` in ``data/assessment_plan.yml`` (:func:`scorecard`):

- a share target assessed above (``assessments.csv``) keeps the one status of its assessment;
- any other target whose year has passed is judged on the figure of its own indicator, boundary, level
  and year (or the boundary ``judged_on`` names) by the rule of its kind (:mod:`analysis.models.judging`);
  without one it is ``boundary_ended`` when its boundary no longer existed that year, else
  ``awaiting_figure``;
- a target ahead that no forecast covers is ``not_measurable``;
- a target that cannot be observed as set (``not_observable``) is ``not_measurable``.

A figure of another base, scope or boundary (``related``) never judges a target: it is shown beside it,
with what differs.  A target of several parts (three administrative levels, two years, 4G/5G and
smartphones) has the status of the first part not met, in the order of :data:`COMBINED_ORDER`.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from analysis.data.observations import FIGURE_TYPE_ORDER, observations, preferred_figure
from analysis.data.registry import Registry, load_registry
from analysis.errors import PlanError
from analysis.models.assessment_plan import Programme, ProgrammeTarget
from analysis.models.judging import (
    judge_growth_average,
    judge_growth_each_year,
    judge_outcome,
    judge_rank,
    precision_margin,
)

#: How a target's status was reached (the reports' texts are ``scorecard.basis.<id>``).
BASES = (
    "assessment",  # the status of its assessment (assessments.csv)
    "figure",  # judged on a figure of its own indicator, boundary and year
    "floor_below",  # the only figure is a floor ("over 90") below the target: it cannot decide
    "other_group",  # the rank was published for another ranking group than the target's
    "years_missing",  # a growth target with figures for some of its years only
    "boundary_ended",  # the target's boundary no longer existed in its year, and no figure of it was published
    "no_figure",  # the year has passed and no figure of the target's own base was published
    "not_observable",  # the target cannot be observed as set (a tier that no longer exists)
    "ahead",  # the target year is ahead and no forecast covers it
    "no_year",  # the target states no year
)

#: Which part of a composite target speaks for it: the first that is not met, in this order of statuses.
COMBINED_ORDER = (
    "not_met",
    "off_track",
    "boundary_ended",
    "awaiting_figure",
    "reported_reached",
    "uncertain",
    "not_measurable",
    "on_track",
    "met",
)


def _figures(indicators: pd.DataFrame, indicator: str, boundary: str, level: str | None = None) -> pd.DataFrame:
    """Published figures (final, estimated, preliminary; no plan, no projection) of one indicator at one boundary."""
    rows = observations(
        indicators,
        indicator,
        boundary,
        # a rank, a floor ("over 90") and any period (a quarter, an average) count: the target's rule, not
        # the filter, decides what a figure proves
        periods=indicators["period"].dropna().unique(),
        value_types=FIGURE_TYPE_ORDER,
    )
    if level is not None and "level" in rows:
        rows = rows[rows["level"] == level]
    return rows


def latest_figure(indicators: pd.DataFrame, indicator: str, boundary: str) -> pd.Series | None:
    """The latest published figure of an indicator at a boundary, any period (None when there is none)."""
    rows = _figures(indicators, indicator, boundary)
    rows = rows[rows["year"].notna()]
    if rows.empty:
        return None
    return preferred_figure(rows[rows["year"] == rows["year"].max()])


def judge_part(
    entry: ProgrammeTarget,
    target: pd.Series,
    indicators: pd.DataFrame,
    assessments: pd.DataFrame,
    registry: Registry,
    reference_year: int,
    universal_at_least: float,
) -> list[dict]:
    """The status of one target id of a programme target, with the figure that decided it.

    Returns
    -------
    list of dict
        One part per year judged (several for an open annual target assessed above), each with
        ``status``, ``basis`` (one of :data:`BASES`), the deciding figure's fields (``figure_*``) when
        there is one, and the assessment's probability and paces when it comes from an assessment.
    """
    target_id = target["target_id"]
    year = None if pd.isna(target["target_year"]) else int(target["target_year"])
    result = {"target_id": target_id, "target_year": year, "target_value": float(target["value"])}
    assessed = assessments[assessments["target_id"] == target_id] if not assessments.empty else assessments
    if not assessed.empty:
        return _assessed_parts(entry, assessed, result)
    return [result | _judged(entry, target, year, indicators, registry, reference_year, universal_at_least)]


def _judged(
    entry: ProgrammeTarget,
    target: pd.Series,
    year: int | None,
    indicators: pd.DataFrame,
    registry: Registry,
    reference_year: int,
    universal_at_least: float,
) -> dict:
    """A target no assessment covers, judged by its rule on the figure of its own base."""
    result: dict = {}
    if entry.not_observable:
        return result | {"status": "not_measurable", "basis": "not_observable"}
    if year is None:
        return result | {"status": "not_measurable", "basis": "no_year"}
    boundary = entry.judged_on or target["boundary"]
    level = target.get("level") if target.get("level") in ("district", "ward") else None
    figures = _figures(indicators, target["indicator"], boundary, level)
    if entry.rule in ("growth_each_year", "growth_average"):
        return result | _judge_growth(entry, target, figures, reference_year)
    passed = year < reference_year
    if not passed:
        return result | {"status": "not_measurable", "basis": "ahead"}
    figure = preferred_figure(figures[figures["year"] == year])
    if figure is None:
        ended = registry.boundary_ended(boundary, year)
        return result | {
            "status": "boundary_ended" if ended else "awaiting_figure",
            "basis": "boundary_ended" if ended else "no_figure",
        }
    result.update(_figure_fields(figure))
    threshold = universal_at_least if entry.rule == "universal" else float(target["value"])
    result["threshold"] = threshold
    if entry.rule == "top_k":
        group = None if pd.isna(figure.get("rank_group_size")) else int(figure["rank_group_size"])
        status = judge_rank(float(figure["value"]), threshold, group, entry.ranking_group)
        return result | (
            {"status": status, "basis": "figure"} if status else {"status": "awaiting_figure", "basis": "other_group"}
        )
    margin = precision_margin(figure["value_as_published"], figure["qualifier"])
    status = judge_outcome(float(figure["value"]), threshold, "at_least", margin, figure["qualifier"], figure["kind"])
    basis = "floor_below" if status == "awaiting_figure" else "figure"
    return result | {"status": status, "basis": basis}


def _assessed_parts(entry: ProgrammeTarget, assessed: pd.DataFrame, result: dict) -> list[dict]:
    """A share target assessed above: one part per assessed year (an open annual target has several)."""
    estimator = entry.estimator or "reported"
    primary = assessed[assessed["estimator"] == estimator]
    rows = primary if not primary.empty else assessed[assessed["estimator"] == assessed["estimator"].iloc[0]]
    parts = []
    for _, row in rows.sort_values("target_year").iterrows():
        part = result | {
            "target_year": int(row["target_year"]),
            "status": row["status"],
            "basis": "assessment",
            "estimator": row["estimator"],
            "p_meet_in_year": row.get("p_meet_in_year"),
            "required_pace_pp": row.get("required_pace_pp"),
            "observed_pace_pp": row.get("observed_pace_pp"),
            "latest_value": row.get("latest_value"),
            "latest_year": row.get("latest_year"),
        }
        if not pd.isna(row.get("outcome_value")):
            outcome_boundary = row.get("outcome_boundary")
            part.update(
                figure_value=row["outcome_value"],
                figure_year=int(row["target_year"]),
                figure_qualifier=row.get("outcome_qualifier"),
                figure_kind=row.get("outcome_kind"),
                figure_source=row.get("outcome_source"),
                figure_boundary=row["boundary"] if pd.isna(outcome_boundary) else outcome_boundary,
            )
        parts.append(part)
    return parts


def _judge_growth(entry: ProgrammeTarget, target: pd.Series, figures: pd.DataFrame, reference_year: int) -> dict:
    """A yearly growth rate at least X in every year of the target's span, or on its average (``growth_average``)."""
    end = int(target["target_year"])
    start = int(target["span_start"]) if not pd.isna(target.get("span_start")) else end
    years = tuple(range(start, end + 1))
    yearly = {
        int(row["year"]): float(row["value"])
        for _, row in figures[(figures["period"] == "Y") & figures["year"].isin(years)].iterrows()
    }
    if entry.rule == "growth_average":
        spans = figures[(figures["period"] == "avg") & (figures["span_start"] == start) & (figures["year"] == end)]
        published = float(spans["value"].iloc[0]) if not spans.empty else None
        status = judge_growth_average(yearly, float(target["value"]), years, published)
    else:
        status = judge_growth_each_year(yearly, float(target["value"]), years)
    fields = {"span_start": start}
    if yearly:
        last = max(yearly)
        fields.update(figure_value=yearly[last], figure_year=last)
    if status is not None:
        return fields | {"status": status, "basis": "figure"}
    if end >= reference_year:
        return fields | {"status": "not_measurable", "basis": "ahead"}
    return fields | {"status": "awaiting_figure", "basis": "years_missing" if yearly else "no_figure"}


def _figure_fields(figure: pd.Series) -> dict:
    group = figure.get("rank_group_size")
    return {
        "figure_value": float(figure["value"]),
        "figure_year": int(figure["year"]),
        "figure_period": figure["period"],
        "figure_qualifier": figure["qualifier"],
        "figure_kind": figure["kind"],
        "figure_boundary": figure["boundary"],
        "figure_rank_group": None if pd.isna(group) else int(group),
        "figure_source": figure["source_id"],
    }


def combined_status(statuses: list[str]) -> str:
    """The status of a target of several parts: the first part not met, in :data:`COMBINED_ORDER`."""
    return min(statuses, key=COMBINED_ORDER.index)


def scorecard(
    programme: Programme,
    indicators: pd.DataFrame,
    targets: pd.DataFrame,
    assessments: pd.DataFrame,
    registry: Registry | None = None,
    reference_year: int | None = None,
) -> pd.DataFrame:
    """Judge every target of the programme.

    Parameters
    ----------
    programme : Programme
        ``programme`` of the assessment plan (:func:`analysis.models.assessment_plan.load_programme`).
    indicators, targets : DataFrame
        The processed tables.
    assessments : DataFrame
        ``assessments.csv`` of the same data (the share targets it assesses keep their status).
    reference_year : int, optional
        A target year before this one has passed (default: this year).

    Returns
    -------
    DataFrame
        One row per programme target (see ``SCORECARD`` in ``models/schemas.py``); every part of a
        composite target is listed in ``parts`` as ``target_id=status``.

    Raises
    ------
    PlanError
        When the programme names a target id that ``targets`` does not hold.
    """
    registry = registry or load_registry()
    reference = reference_year or dt.date.today().year
    lookup = {row["target_id"]: row for _, row in targets.iterrows()}
    unknown = [(e.number, t) for e in programme.targets for t in e.targets if t not in lookup]
    if unknown:
        raise PlanError(
            "\n".join(
                f"assessment plan: programme target {number}: unknown target id '{target_id}' "
                "(expected a target_id of data/processed/targets.csv)"
                for number, target_id in unknown
            )
        )
    rows = []
    for entry in programme.targets:
        parts = [
            part
            for target_id in entry.targets
            for part in judge_part(
                entry, lookup[target_id], indicators, assessments, registry, reference, programme.universal_at_least
            )
        ]
        status = combined_status([p["status"] for p in parts])
        speaking = next(p for p in parts if p["status"] == status)
        first = lookup[entry.targets[0]]
        row = {
            "number": entry.number,
            "group": entry.group,
            "rule": entry.rule,
            "target_ids": ";".join(entry.targets),
            "indicator": first["indicator"],
            "boundary": entry.judged_on or first["boundary"],
            "status": status,
            "parts": ";".join(f"{p['target_id']}={p['target_year']}:{p['status']}" for p in parts),
            **{key: value for key, value in speaking.items() if key not in ("status", "target_id")},
        }
        related = _related(entry, indicators)
        rows.append(row | related)
    table = pd.DataFrame(rows)
    return table.reindex(columns=SCORECARD_COLUMNS)


def _related(entry: ProgrammeTarget, indicators: pd.DataFrame) -> dict:
    """The latest figure among the entry's related figures (another base, scope or boundary), if any."""
    for index, related in enumerate(entry.related):
        figure = latest_figure(indicators, related.indicator, related.boundary)
        if figure is not None:
            group = figure.get("rank_group_size")
            return {
                "related_index": index,
                "related_indicator": related.indicator,
                "related_boundary": related.boundary,
                "related_value": float(figure["value"]),
                "related_year": int(figure["year"]),
                "related_period": figure["period"],
                "related_span_start": None if pd.isna(figure.get("span_start")) else int(figure["span_start"]),
                "related_qualifier": figure["qualifier"],
                "related_rank_group": None if pd.isna(group) else int(group),
                "related_source": figure["source_id"],
            }
    return {}


#: The scorecard's columns, in order (their dictionary is ``SCORECARD`` in models/schemas.py).
SCORECARD_COLUMNS = [
    "number",
    "group",
    "rule",
    "target_ids",
    "indicator",
    "boundary",
    "target_year",
    "span_start",
    "target_value",
    "threshold",
    "status",
    "basis",
    "parts",
    "estimator",
    "figure_value",
    "figure_year",
    "figure_period",
    "figure_qualifier",
    "figure_kind",
    "figure_boundary",
    "figure_rank_group",
    "figure_source",
    "p_meet_in_year",
    "required_pace_pp",
    "observed_pace_pp",
    "latest_value",
    "latest_year",
    "related_index",
    "related_indicator",
    "related_boundary",
    "related_value",
    "related_year",
    "related_period",
    "related_span_start",
    "related_qualifier",
    "related_rank_group",
    "related_source",
]
