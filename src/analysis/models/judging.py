"""How a target is judged: one function per rule, and the one status of every assessment.

A target whose year has passed is judged on the figure published for that year, of the target's own
boundary and estimator (:func:`judge_outcome`):

=====================================================================  ======================
case                                                                   status
=====================================================================  ======================
a figure clears the target by more than its own precision              ``met``
a final figure, printed exactly, at or above the target                ``met``
a figure below the target                                              ``not_met``
a floor ("hơn 90", "over 90") below the target: it cannot decide        ``awaiting_figure``
"nearly X" ("gần") at or below the target                              ``not_met``
an approximate, bounded or not-yet-final figure at the target, within  ``reported_reached``
its own precision ("khoảng 25" against 25%, "22 (ước đạt)" against 22%)
the target's boundary no longer existed in its year, and no figure of  ``boundary_ended``
that boundary was published (the successor's figure is shown beside)
no figure yet                                                          ``awaiting_figure``
=====================================================================  ======================

A figure's precision (:func:`precision_margin`) is half a unit of its last printed digit when printed
exactly, a whole unit when the source qualifies it ("khoảng", "about", "hơn", "gần"): "khoảng 25" is
25 ± 1.  A target the government's own figure reports as met (any estimator family but the
statistics office, see ``independent`` in ``data/registry/estimators.yml``) is flagged until an
independent figure confirms it (:func:`self_reported`).

A target ahead is judged on the forecast (:func:`status_for`): ``on_track`` when it is likely to be
met (probability 66% or more), ``uncertain`` when it is about as likely as not (33-66%), ``off_track``
when it is unlikely (below 33%); the bands are those of the calibrated words of
:func:`likelihood_label`, so that a status and its words never contradict each other.  With two
figures only (no forecast) the observed pace against the pace required decides; with fewer the
target is ``not_measurable``.  :func:`disagreeing_signals` names the evidence that points the other
way (the past pace, compound growth, the single models), which the reports then state.
"""

from __future__ import annotations

import math

from analysis.data.cleaning import decimals

#: Every status, in the order a reader meets them (the reports' symbols and words follow it).
STATUSES = (
    "met",
    "reported_reached",
    "not_met",
    "boundary_ended",
    "awaiting_figure",
    "on_track",
    "uncertain",
    "off_track",
    "not_measurable",
)
#: Statuses of a passed target year judged on a published figure.
OUTCOMES = ("met", "reported_reached", "not_met", "boundary_ended")
#: Statuses of a target ahead.
FORECAST_STATUSES = ("on_track", "uncertain", "off_track")
#: A target ahead is on track from this probability (IPCC "likely") ...
ON_TRACK_PROBABILITY = 0.66
#: ... and off track below this one (IPCC "unlikely"); in between it is uncertain.
OFF_TRACK_PROBABILITY = 0.33
#: Qualifiers that say a figure is approximate or a bound, not an exact measurement.
APPROXIMATE_QUALIFIERS = ("approx", "more_than", "at_least", "nearly")
#: Kinds of figure that are final measurements (an estimate or a preliminary figure may still move).
FINAL_KINDS = ("actual",)

#: The judging rules as a table of cases (the method appendix prints it; the texts are ``judging.case.<id>``).
RULE_CASES = (
    ("clears", "met"),
    ("final_at_target", "met"),
    ("below", "not_met"),
    ("floor_below", "awaiting_figure"),
    ("nearly", "not_met"),
    ("within_precision", "reported_reached"),
    ("boundary_ended", "boundary_ended"),
    ("no_figure", "awaiting_figure"),
    ("likely", "on_track"),
    ("as_likely_as_not", "uncertain"),
    ("unlikely", "off_track"),
    ("two_figures", "on_track"),
    ("too_few", "not_measurable"),
)

LIKELIHOOD_SCALE = (
    (0.99, "virtually_certain"),
    (0.90, "very_likely"),
    (ON_TRACK_PROBABILITY, "likely"),
    (OFF_TRACK_PROBABILITY, "about_as_likely_as_not"),
    (0.10, "unlikely"),
    (0.01, "very_unlikely"),
    (0.0, "exceptionally_unlikely"),
)


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def meets(value: float, target: float, comparator: str) -> bool:
    """Whether a value meets a target as printed: at or above it (at_least, between: its low end), at or
    below it (at_most, top_k: a rank)."""
    return value <= target if comparator in ("at_most", "top_k") else value >= target


def precision_margin(value_as_published: str, qualifier: str | None) -> float:
    """How far a printed figure may lie from the true value, in its unit.

    Half a unit of the last printed digit for an exact figure ("22" -> 0.5, "14,65" -> 0.005); a whole
    unit for a qualified one ("khoảng 25" -> 1).
    """
    unit = 10.0 ** (-decimals(value_as_published or ""))
    return unit if qualifier in APPROXIMATE_QUALIFIERS else unit / 2


def judge_outcome(value: float, target: float, comparator: str, margin: float, qualifier: str | None, kind: str) -> str:
    """The status of a passed target year on a figure of its own boundary and estimator (table above).

    Parameters
    ----------
    value, target : float
        The figure and the target, in the indicator's unit.
    margin : float
        The figure's precision (:func:`precision_margin`).
    qualifier : str
        exact, approx, more_than, at_least or nearly.
    kind : str
        actual (final), estimate or preliminary.

    Returns
    -------
    str
        ``met``, ``reported_reached``, ``not_met``, or ``awaiting_figure`` for a floor below the target.
    """
    if comparator in ("at_most", "top_k"):  # ranks are whole numbers: no rounding to weigh
        return "met" if value <= target else "not_met"
    if value < target and qualifier in ("more_than", "at_least"):
        return "awaiting_figure"  # "over 90" against 95: the true value may lie on either side
    if value < target or (qualifier == "nearly" and value <= target):
        return "not_met"
    if value - margin >= target:
        return "met"
    if kind in FINAL_KINDS and qualifier in (None, "exact"):
        return "met"
    return "reported_reached"


def judge_rank(rank: float, top_k: float, group_size: int | None, required_group: int | None) -> str | None:
    """A rank target ("among the top k"): ``met`` when the rank is k or better, else ``not_met``.

    Parameters
    ----------
    rank : float
        The published rank (1 is first).
    group_size, required_group : int, optional
        How many places the published ranking had, and how many the target's ranking must have
        (63 provinces before the 2025 mergers, 34 after).

    Returns
    -------
    str or None
        None when the rank belongs to another ranking group than the target's (it cannot decide).
    """
    if group_size is not None and required_group is not None and group_size != required_group:
        return None
    return "met" if rank <= top_k else "not_met"


def judge_growth_each_year(yearly: dict[int, float], threshold: float, years: tuple[int, ...]) -> str | None:
    """A growth target for every year of a span ("at least 7% a year, 2021-2025").

    Parameters
    ----------
    yearly : dict of int to float
        The growth rate published for each year (percent a year); years without a figure are absent.
    threshold : float
        The rate each year must reach, percent.
    years : tuple of int
        The years of the target's span.

    Returns
    -------
    str or None
        ``not_met`` as soon as one year falls short, ``met`` when every year has a figure at or above the
        threshold, None while years are missing and none fell short.
    """
    if any(yearly[year] < threshold for year in years if year in yearly):
        return "not_met"
    if all(year in yearly for year in years):
        return "met"
    return None


def compound_average_growth(yearly: dict[int, float], years: tuple[int, ...]) -> float | None:
    """The average yearly growth over ``years`` compounded from each year's rate, percent; None if a year is missing."""
    if not all(year in yearly for year in years):
        return None
    product = 1.0
    for year in years:
        product *= 1 + yearly[year] / 100
    return (product ** (1 / len(years)) - 1) * 100


def judge_growth_average(
    yearly: dict[int, float], threshold: float, years: tuple[int, ...], published_average: float | None = None
) -> str | None:
    """A growth target on the average of a span ("7% a year on average, 2021-2025").

    The average published for exactly the span decides; without one, the average compounded from every
    year's rate (:func:`compound_average_growth`).

    Returns
    -------
    str or None
        ``met`` or ``not_met``; None while a year is missing and no average for the span was published.
    """
    average = published_average if published_average is not None else compound_average_growth(yearly, years)
    if average is None:
        return None
    return "met" if average >= threshold else "not_met"


def self_reported(estimator: str, independent: bool, outcome: str, confirmed: bool) -> bool:
    """True when a target is reported as met (or as reached) by the government's own figure only.

    ``independent`` says whether ``estimator`` is a family of official statistics; ``confirmed``
    whether an independent figure for the same year and boundary also meets the target.
    """
    return outcome in ("met", "reported_reached") and not independent and not confirmed


def status_for(row: dict) -> str:
    """The one status of an assessment row (see the module docstring).

    Reads ``outcome``, ``target_passed``, ``n_obs``, ``p_meet_in_year``, ``observed_pace_pp`` and
    ``required_pace_pp``.
    """
    if isinstance(row.get("outcome"), str) and row["outcome"]:
        return row["outcome"]
    if row.get("target_passed"):
        return "awaiting_figure" if row["n_obs"] > 0 else "not_measurable"
    probability = row.get("p_meet_in_year")
    if not _missing(probability):
        return forecast_status(probability)
    observed, required = row.get("observed_pace_pp"), row.get("required_pace_pp")
    if not (_missing(observed) or _missing(required)):
        return "on_track" if observed >= required else "off_track"
    return "not_measurable"


def printed(probability: float) -> float:
    """A probability as the reports print it (a whole percent): the status and its words follow what is read."""
    return round(100 * probability) / 100


def forecast_status(probability: float) -> str:
    """on_track, uncertain or off_track for a probability of meeting the target (0-1), as printed."""
    if printed(probability) >= ON_TRACK_PROBABILITY:
        return "on_track"
    return "uncertain" if printed(probability) >= OFF_TRACK_PROBABILITY else "off_track"


def likelihood_label(probability: float) -> str | None:
    """IPCC-style calibrated language for a probability (likely = 66-100%, unlikely = 0-33%, ...)."""
    if _missing(probability):
        return None
    for threshold, label in LIKELIHOOD_SCALE:
        if printed(probability) >= threshold:
            return label
    return "exceptionally_unlikely"


def disagreeing_signals(row: dict) -> tuple[str, ...]:
    """The evidence that points away from a forecast status (empty when everything agrees).

    ``pace``: the past pace in percentage points already suffices (off track) or falls short (on
    track); ``compound``: the compound-growth rule (Eurostat) says significant progress beside off
    track, or insufficient progress beside on track; ``models``: the single models' probabilities
    lie on both sides of 50% while the pooled forecast is on or off track.
    """
    status = row.get("status")
    if status not in FORECAST_STATUSES or _missing(row.get("p_meet_in_year")):
        return ()
    found = []
    observed, required = row.get("observed_pace_pp"), row.get("required_pace_pp")
    known = not (_missing(observed) or _missing(required))
    if known and ((status == "off_track" and observed >= required) or (status == "on_track" and observed < required)):
        found.append("pace")
    category = row.get("eurostat_category")
    if (status == "off_track" and category == "significant_progress") or (
        status == "on_track" and category in ("insufficient_progress", "moving_away")
    ):
        found.append("compound")
    low, high = row.get("p_meet_model_min"), row.get("p_meet_model_max")
    if status != "uncertain" and not (_missing(low) or _missing(high)) and low < 0.5 <= high:
        found.append("models")
    return tuple(found)
