"""What changed since the previous edition: new and revised figures, new targets, moved probabilities and statuses,
and the programme's targets whose status in the scorecard moved.

An *edition* is what one publishing run put out (``reports/editions/<id>/``: the indicators and
assessments it used, ``edition.json``).  :func:`diff` compares the current tables with the
latest edition's and says, per change, whether new data or a change of method moved it.
:func:`pending_changes` is what the next edition will say: the diff against the latest edition,
or, when nothing changed since, that edition's own changes.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis import __version__
from analysis.data.observations import observations
from analysis.data.registry import load_registry
from analysis.models.assessment_plan import PlanEntry
from analysis.models.schemas import CHANGES

#: A probability that moves less than this (1 percentage point) is not reported as a change.
PROBABILITY_STEP = 0.01

COLUMNS = list(CHANGES.columns)


@dataclass
class Edition:
    """A published edition: its id, record (``edition.json``) and the tables it used."""

    id: str
    record: dict
    indicators: pd.DataFrame
    assessments: pd.DataFrame
    changes: pd.DataFrame
    #: the programme's scorecard it published (empty for an edition made before the scorecard)
    scorecard: pd.DataFrame = field(default_factory=pd.DataFrame)


def content_fingerprint(folder: Path) -> str:
    """Hash of what an edition says: its figures (``indicators.csv``), its assessments, the programme's scorecard
    and the package version."""
    digest = hashlib.sha256(__version__.encode())
    for name in ("indicators.csv", "assessments.csv", "scorecard.csv"):
        path = folder / name
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()


def latest_edition(editions: Path) -> Edition | None:
    """The newest edition under ``editions`` (``reports/editions``), or None before the first."""
    # an edition still being recorded (.pending-<id>, see analysis.batch.editions) is not one yet
    records = sorted(p for p in editions.glob("[!.]*/edition.json")) if editions.exists() else []
    for record_path in reversed(records):
        folder = record_path.parent
        try:
            record = json.loads(record_path.read_text(encoding="utf-8"))
            tables = {name: pd.read_csv(folder / f"{name}.csv") for name in ("indicators", "assessments", "changes")}
            card = folder / "scorecard.csv"
            scorecard = pd.read_csv(card) if card.exists() else pd.DataFrame()
        except (OSError, ValueError):
            continue  # a damaged edition is skipped, the one before it counts
        return Edition(folder.name, record, tables["indicators"], tables["assessments"], tables["changes"], scorecard)
    return None


def _text(value) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return f"{value:g}" if isinstance(value, float) else str(value)


def _observed(indicators: pd.DataFrame, plan: tuple[PlanEntry, ...]) -> pd.DataFrame:
    """Yearly figures of the assessed indicators (every place), one per indicator x boundary x estimator x year."""
    assessed = {entry.indicator for entry in plan}
    frame = observations(indicators)
    frame = frame[frame["indicator"].isin(assessed)]
    frame = frame.assign(year=frame["year"].astype("Int64"), _point=(frame["value_type"] == "point").astype(int))
    index = ["indicator", "boundary", "estimator", "year"]
    return frame.sort_values([*index, "_point"]).drop_duplicates(index, keep="last").set_index(index)


def _source(row: pd.Series) -> str:
    date = row.get("first_published") if isinstance(row.get("first_published"), str) else row.get("published_date")
    return f"{row['source_id']}" + (f", published {date}" if isinstance(date, str) and date else "")


def _figure_changes(before: pd.DataFrame, after: pd.DataFrame) -> list[dict]:
    rows = []
    for key, new in after.iterrows():
        indicator, boundary, estimator, year = key
        base = {
            "indicator": indicator,
            "geography": new["geography"],
            "boundary": boundary,
            "estimator": estimator,
            "year": year,
            "after": _text(float(new["value"])),
            "source_id": new["source_id"],
        }
        if key not in before.index:
            rows.append(
                {
                    **base,
                    "change": "new_figure",
                    "cause": "data",
                    "reason": f"new figure ({new['kind']}) from {_source(new)}",
                }
            )
        elif abs(float(before.loc[key, "value"]) - float(new["value"])) > 1e-9:
            rows.append(
                {
                    **base,
                    "change": "revised_figure",
                    "cause": "data",
                    "before": _text(float(before.loc[key, "value"])),
                    "reason": f"revised figure ({new['kind']}) from {_source(new)}",
                }
            )
    return rows


def _series(observed: pd.DataFrame, indicator: str, boundary: str, estimator: str) -> dict:
    try:
        part = observed.loc[(indicator, boundary, estimator)]
    except KeyError:
        return {}
    return {int(year): float(value) for year, value in part["value"].items()}


def _cause(then: pd.Series, new: pd.Series, series_moved: bool, old_version: str | None) -> tuple[str, str]:
    """Why an assessment moved: new data for its series, the reference year moving on, or the method."""
    then_year = int(then.get("reference_year", 0) or 0)
    if series_moved:
        return "data", "new data for this series"
    if then_year != int(new["reference_year"]):
        return "time", f"the year moved on ({then_year} to {int(new['reference_year'])})"
    if old_version != __version__:
        return "method", f"method change (package {old_version} to {__version__})"
    return "method", "method change"


def _outcome_change(base: dict, new: pd.Series) -> dict:
    """The change row of a target year whose figure was published: its outcome, the figure, its kind."""
    return {
        **base,
        "change": "outcome",
        "after": f"{new['outcome']} ({_text(float(new['outcome_value']))}, {new['outcome_kind']})",
        "reason": f"the figure for {int(new['target_year'])} was published",
        "source_id": new.get("outcome_source"),
        "cause": "data",
    }


def _assessment_changes(
    previous: Edition, assessments: pd.DataFrame, before_obs: pd.DataFrame, after_obs: pd.DataFrame
) -> list[dict]:
    key = ["indicator", "boundary", "estimator", "target_year"]
    old = previous.assessments.set_index(key)
    known_targets = set(
        zip(
            previous.assessments["indicator"],
            previous.assessments["boundary"],
            previous.assessments["target_year"],
            strict=True,
        )
    )
    rows = []
    for _, new in assessments.iterrows():
        index = tuple(new[c] for c in key)
        base = {
            "indicator": new["indicator"],
            "geography": new["geography"],
            "boundary": new["boundary"],
            "estimator": new["estimator"],
            "target_year": int(new["target_year"]),
        }
        if index not in old.index:
            if not pd.isna(new.get("outcome_value")) and isinstance(new.get("outcome"), str):
                # a series new to this target (an estimator's first figure) whose figure already decides its year
                rows.append(_outcome_change(base, new))
            if (new["indicator"], new["boundary"], new["target_year"]) not in known_targets:
                known_targets.add((new["indicator"], new["boundary"], new["target_year"]))
                rows.append(
                    {
                        **base,
                        "change": "new_target",
                        "cause": "plan",
                        "after": _text(float(new["target_value"])),
                        "reason": f"target {new['target_id']} assessed for the first time",
                    }
                )
            continue
        then = old.loc[index]
        # an outcome is news when a figure decides it (a boundary that ended has none of its own)
        has_outcome = not pd.isna(new.get("outcome_value")) and isinstance(new.get("outcome"), str)
        had_outcome = not pd.isna(then.get("outcome_value")) and isinstance(then.get("outcome"), str)
        moved = _series(before_obs, *index[:3]) != _series(after_obs, *index[:3]) or has_outcome != had_outcome
        cause, reason = _cause(then, new, moved, previous.record.get("package_version"))
        if has_outcome and not had_outcome:
            rows.append({**_outcome_change(base, new), "before": _text(then.get("p_meet_in_year"))})
        if str(then.get("status")) != str(new["status"]):
            rows.append(
                {
                    **base,
                    "change": "status",
                    "before": _text(then.get("status")),
                    "after": new["status"],
                    "reason": reason,
                    "cause": cause,
                }
            )
        p_old, p_new = then.get("p_meet_in_year"), new["p_meet_in_year"]
        if not (pd.isna(p_old) or pd.isna(p_new)) and abs(float(p_old) - float(p_new)) >= PROBABILITY_STEP:
            rows.append(
                {
                    **base,
                    "change": "probability",
                    "before": f"{float(p_old):.2f}",
                    "after": f"{float(p_new):.2f}",
                    "reason": reason,
                    "cause": cause,
                }
            )
    return rows


def _programme_changes(previous: Edition, scorecard: pd.DataFrame) -> list[dict]:
    """The programme's targets whose status moved, for those not judged by an assessment (an assessed share
    target's status is its assessment's, said once by the assessment's own change)."""
    if previous.scorecard.empty or scorecard.empty:
        return []  # an edition before the scorecard: nothing to compare with
    old = previous.scorecard.set_index("number")
    registry = load_registry()
    rows = []
    for _, new in scorecard.sort_values("number").iterrows():
        number = int(new["number"])
        if number not in old.index or new["basis"] == "assessment":
            continue
        then = old.loc[number]
        if str(then["status"]) == str(new["status"]):
            continue
        figure = ["figure_value", "figure_year", "figure_period", "figure_source"]
        moved = [_text(then.get(c)) for c in figure] != [_text(new.get(c)) for c in figure]
        cause = "data" if moved else ("time" if str(new["basis"]) in ("no_figure", "boundary_ended") else "method")
        rows.append(
            {
                "change": "programme_status",
                "indicator": new["indicator"],
                "geography": None if pd.isna(new.get("boundary")) else registry.geography_of(new["boundary"]),
                "boundary": new["boundary"],
                "target_year": None if pd.isna(new.get("target_year")) else int(new["target_year"]),
                "programme_target": number,
                "before": str(then["status"]),
                "after": str(new["status"]),
                "reason": f"programme target {number}: {then['status']} -> {new['status']} (basis {new['basis']})",
                "cause": cause,
            }
        )
    return rows


def diff(
    previous: Edition | None,
    indicators: pd.DataFrame,
    assessments: pd.DataFrame,
    plan: tuple[PlanEntry, ...],
    scorecard: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every change from the previous edition to the current tables (see ``models/schemas.py``: CHANGES).

    A moved probability or status is put down to new data when the series behind it changed,
    to the target year passing when only the reference year moved, and to a change of method
    otherwise (the package version is named).  A programme target whose status in the scorecard moved is
    a change too, unless its status is an assessment's (said by that assessment's change).
    """
    if previous is None:
        first = {
            "change": "first_edition",
            "indicator": None,
            "geography": None,
            "boundary": None,
            "estimator": None,
            "reason": "the first edition: nothing to compare with",
            "cause": "first",
        }
        return pd.DataFrame([first], columns=COLUMNS)
    before_obs, after_obs = _observed(previous.indicators, plan), _observed(indicators, plan)
    rows = _figure_changes(before_obs, after_obs) + _assessment_changes(previous, assessments, before_obs, after_obs)
    rows += _programme_changes(previous, scorecard if scorecard is not None else pd.DataFrame())
    if not rows:
        rows = [
            {
                "change": "unchanged",
                "cause": "method",
                "reason": f"no figure, status or probability changed (republished by package {__version__})",
            }
        ]
    return pd.DataFrame(rows, columns=COLUMNS)


def pending_changes(editions: Path, processed: Path, plan: tuple[PlanEntry, ...]) -> tuple[pd.DataFrame, str | None]:
    """What the next edition says changed, and the id of the edition it is compared with.

    When the latest edition already holds the processed tables (nothing new since), its own
    changes are returned, so a rerun that publishes nothing new says the same as the edition it
    reproduces.
    """
    previous = latest_edition(editions)
    if previous is not None and previous.record.get("content") == content_fingerprint(processed):
        return previous.changes.reindex(columns=COLUMNS), previous.record.get("previous")
    indicators = pd.read_csv(processed / "indicators.csv")
    assessments = pd.read_csv(processed / "assessments.csv")
    card = processed / "scorecard.csv"
    scorecard = pd.read_csv(card) if card.exists() else pd.DataFrame()
    return diff(previous, indicators, assessments, plan, scorecard), previous.id if previous else None
