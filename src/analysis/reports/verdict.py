"""Page one: one block per assessed series, one status line per target, and under it the evidence of the other
estimators for the same year.

A target line reads: symbol, status word, the target, then what decides it: the published figure (a passed
year), the probability with its calibrated words, or, where the signals disagree, the probability and what
disagrees (a future year), the nowcast (a passed year without its figure), or why it cannot be judged.  Under
it, each other estimator's figure or nowcast for the same year, with the year of the figure that decides it,
and the plan published for that year.  Every status comes from ``assessments.csv`` (``status``): page one,
the detail reports, the index and the "what changed" box show the same one.
"""

from __future__ import annotations

import pandas as pd

from analysis.data.registry import load_registry
from analysis.i18n import fmt_number, fmt_probability, fmt_share, t
from analysis.models.assessment_plan import PlanEntry
from analysis.models.judging import FORECAST_STATUSES, OUTCOMES, disagreeing_signals, likelihood_label
from analysis.reports import labels

#: Data statuses of series that say something about a target year beyond a single figure.
INFORMATIVE = ("ok", "too_few_points_for_forecast")


def page_one_targets(rows: pd.DataFrame, entry: PlanEntry, reference_year: int) -> pd.DataFrame:
    """The targets of one series shown on page one: those of the last passed year and later.

    For an annual target ("2% a year") only the first and the last of those years are shown.
    """
    recent = rows[rows["target_year"] >= reference_year - 1]
    if recent.empty:
        recent = rows
    if entry.annual_target_years:
        years = sorted(recent["target_year"].unique())
        recent = recent[recent["target_year"].isin([years[0], years[-1]])]
    return recent


def key_of(row: pd.Series) -> str:
    """The id a status is shown under in the HTML (``data-key``): indicator, boundary, estimator and year."""
    return f"{row['indicator']}|{row['boundary']}|{row['estimator']}|{int(row['target_year'])}"


def target_line(row: pd.Series, lang: str) -> str:
    """'✔ Đã đạt — 25% năm 2025: 25,3% năm 2025 (số chính thức).' for one target of the primary estimator."""
    head = f"{labels.status(row['status'], lang)} — " + t(
        "p1.line", lang, target=labels.target_value(row["target_value"], lang), year=int(row["target_year"])
    )
    return f"{head}: {reason(row, lang)}"


def _latest(row: pd.Series, lang: str) -> dict[str, str]:
    if labels.missing(row.get("latest_value")):
        return {}
    return {"latest": fmt_share(row["latest_value"], lang), "latest_year": str(int(row["latest_year"]))}


def figure_text(row: pd.Series, lang: str) -> str:
    """The figure that decided a passed year: 'khoảng 25% năm 2025 (số ước tính)', naming the place when it
    is the successor's."""
    value = labels.value(row["outcome_value"], labels.unit_of(row["indicator"]), lang, row.get("outcome_qualifier"))
    text = t(
        "p1.figure", lang, value=value, year=int(row["target_year"]), kind=t(f"outcome.{row['outcome_kind']}", lang)
    )
    if isinstance(row.get("outcome_boundary"), str) and row["outcome_boundary"]:
        text = t("p1.figure_of", lang, figure=text, place=labels.place(row["outcome_boundary"], lang))
    return text


def outcome_reason(row: pd.Series, lang: str) -> str:
    """Why a passed year has its status: the deciding figure, its precision, who reported it."""
    status = row["status"]
    if status == "boundary_ended":
        text = t("p1.ended", lang, successor=_successor_text(row, lang))
        if not labels.missing(row.get("median_projection_value")):
            text += " " + t("p1.ended_nowcast", lang, year=int(row["target_year"]), **labels.nowcast(row, lang))
        return text
    sentences = [figure_text(row, lang) + "."]
    if status == "reported_reached":
        margin = fmt_number(row["outcome_precision"], lang, 1 if row["outcome_precision"] < 1 else 0)
        sentences.append(t("p1.within_precision", lang, margin=margin))
    if not labels.missing(row.get("outcome_self_reported")) and bool(row["outcome_self_reported"]):
        sentences.append(t("p1.self_reported", lang))
    return " ".join(sentences)


def forecast_reason(row: pd.Series, lang: str) -> str:
    """A target ahead: the probability in calibrated words, or, where other signals disagree, the probability
    and what disagrees (never a strong word the other numbers contradict); then the paces."""
    values = {
        "required": fmt_number(row["required_pace_pp"], lang, 2),
        "observed": fmt_number(row["observed_pace_pp"], lang, 2),
        **_latest(row, lang),
    }
    probability = fmt_probability(row["p_meet_in_year"], lang)
    signals = disagreeing_signals(row)
    if not signals:
        likelihood = labels.capitalised(t(f"likelihood.{likelihood_label(row['p_meet_in_year'])}", lang))
        head = t("p1.probability", lang, likelihood=likelihood, probability=probability)
    else:
        head = t("p1.signals", lang, probability=probability, parts="; ".join(signal_parts(row, signals, lang)))
    return f"{head} {t('p1.paces', lang, **values)}"


def signal_parts(row: pd.Series, signals: tuple[str, ...], lang: str) -> list[str]:
    """One clause per disagreeing signal (see :func:`judging.disagreeing_signals`), then what the model expects."""
    ahead = row["status"] == "off_track"  # the other signals are more optimistic than the forecast
    parts = []
    if "pace" in signals and "compound" in signals:  # one clause: the past pace, read either way
        parts.append(t("p1.signal_both_ahead" if ahead else "p1.signal_both_behind", lang))
    elif "pace" in signals:
        parts.append(t("p1.signal_pace_ahead" if ahead else "p1.signal_pace_behind", lang))
    elif "compound" in signals:
        parts.append(t("p1.signal_compound_ahead" if ahead else "p1.signal_compound_behind", lang))
    if "models" in signals:
        parts.append(
            t(
                "p1.signal_models",
                lang,
                low=fmt_probability(row["p_meet_model_min"], lang),
                high=fmt_probability(row["p_meet_model_max"], lang),
            )
        )
    if ("pace" in signals or "compound" in signals) and not labels.missing(row.get("median_projection_value")):
        median = fmt_share(round(row["median_projection_value"], 1), lang)
        key = "p1.signal_model_slower" if ahead else "p1.signal_model_faster"
        parts.append(t(key, lang, year=int(row["target_year"]), median=median))
    return parts


def reason(row: pd.Series, lang: str) -> str:
    """What decides a target's status, in plain sentences."""
    status, data_status = row["status"], row["data_status"]
    latest = _latest(row, lang)
    if status in OUTCOMES:
        return outcome_reason(row, lang)
    if data_status == "no_observations":
        return t("p1.no_figure", lang)
    if status == "awaiting_figure":
        if labels.missing(row.get("median_projection_value")):
            return t("p1.awaiting_plain", lang, year=int(row["target_year"]), **latest)
        return t("p1.awaiting", lang, year=int(row["target_year"]), **labels.nowcast(row, lang))
    paces = {
        "required": fmt_number(row["required_pace_pp"], lang, 2),
        "observed": fmt_number(row["observed_pace_pp"], lang, 2),
    }
    if data_status == "plan_only" and not labels.missing(row.get("p_meet_in_year")):
        likelihood = labels.capitalised(t(f"likelihood.{likelihood_label(row['p_meet_in_year'])}", lang))
        return t(
            "p1.plan_only",
            lang,
            likelihood=likelihood,
            probability=fmt_probability(row["p_meet_in_year"], lang),
            year=int(row["target_year"]),
            plan=fmt_share(row["plan_value"], lang),
            **labels.nowcast(row, lang),
            **latest,
        )
    if data_status == "one_observation":
        return t("p1.one_figure", lang, required=paces["required"], **latest)
    if status in FORECAST_STATUSES and not labels.missing(row.get("p_meet_in_year")):
        return forecast_reason(row, lang)
    return t("p1.by_pace", lang, **paces, **latest)


def evidence(row: pd.Series, lang: str, former: bool = False) -> str:
    """Another estimator's word on the same target year, on its own line, with the year of what decides it.

    'Cục Thống kê (GSO): ✘ không đạt — 14,9% năm 2025 (số ước tính)'.  With ``former`` the row is the
    boundary's before the merger, shown beside the merged city's target: its numbers only, not the status of
    the former city's own target.
    """
    year = int(row["target_year"])
    latest = _latest(row, lang)
    nowcast = not labels.missing(row.get("median_projection_value"))
    probability = not labels.missing(row.get("p_meet_in_year"))
    if row["status"] == "boundary_ended" and not former:
        detail = _successor_text(row, lang)
        if nowcast:
            detail += "; " + t("p1.evidence_former_nowcast", lang, year=year, **labels.nowcast(row, lang))
    elif row["status"] in OUTCOMES and not former:
        detail = outcome_reason(row, lang)
    elif nowcast and (row["status"] in ("awaiting_figure", "boundary_ended")):
        detail = t("p1.evidence_nowcast", lang, year=year, **labels.nowcast(row, lang), **latest)
    elif row["status"] in FORECAST_STATUSES and probability:
        detail = t("p1.evidence_probability", lang, probability=fmt_probability(row["p_meet_in_year"], lang), **latest)
    elif row["status"] in FORECAST_STATUSES:
        detail = t("p1.evidence_pace", lang, n=int(row["n_obs"]), **latest)
    else:
        detail = t("p1.evidence_latest", lang, **latest) if latest else t("p1.no_figure", lang)
    name = labels.estimator(row["estimator"], lang)
    if former:
        return t("p1.evidence_former", lang, estimator=name, detail=detail)
    status = f"{labels.STATUS_SYMBOLS[row['status']]} {t('status_short.' + row['status'], lang)}"
    return t("p1.evidence", lang, estimator=name, status=status, detail=detail)


def _successor_text(row: pd.Series, lang: str) -> str:
    """What the place after the merger published for a year the former boundary did not see ('' parts kept short)."""
    if not labels.missing(row.get("outcome_value")):
        return figure_text(row, lang)
    successor = load_registry().successor(row["boundary"])
    return t("p1.successor_missing", lang, place=labels.place(successor, lang), year=int(row["target_year"]))


def plan_line(row: pd.Series, lang: str) -> str:
    """'Dự toán năm 2026 bố trí 4,16% (kế hoạch chi, chưa phải số đã chi).' ('' without a plan)."""
    if labels.missing(row.get("plan_value")):
        return ""
    return t("p1.plan", lang, year=int(row["target_year"]), plan=fmt_share(row["plan_value"], lang))


def informative(row: pd.Series) -> bool:
    """A row that says something about its year: an outcome, a nowcast, a probability or a pace."""
    if row["status"] in OUTCOMES:
        return row["status"] != "boundary_ended" or not (
            labels.missing(row.get("outcome_value")) and labels.missing(row.get("median_projection_value"))
        )
    return row["data_status"] in INFORMATIVE


def evidence_rows(assessments: pd.DataFrame, target: pd.Series) -> list[tuple[pd.Series, bool]]:
    """The other estimators' rows for one target: same indicator, boundary and year; for a merged city, also the
    estimators it lacks, from the boundary before the merger (same target).  ``(row, former)`` pairs, by
    estimator; independent estimators first."""
    registry = load_registry()
    same = assessments[
        (assessments["indicator"] == target["indicator"])
        & (assessments["target_year"] == target["target_year"])
        & (assessments["estimator"] != target["estimator"])
    ]
    own = same[same["boundary"] == target["boundary"]]
    found = [(row, False) for _, row in own.iterrows() if informative(row)]
    before = registry.predecessor(target["boundary"])
    if before:
        present = {row["estimator"] for row, _ in found} | {target["estimator"]}
        former = same[(same["boundary"] == before) & (same["target_value"] == target["target_value"])]
        found += [(row, True) for _, row in former.iterrows() if row["estimator"] not in present and informative(row)]
    return sorted(found, key=lambda pair: (not registry.is_independent(pair[0]["estimator"]), pair[0]["estimator"]))


def block_items(assessments: pd.DataFrame, shown: pd.DataFrame, lang: str) -> list[dict]:
    """Page-one items of one series: per target its line, status and key, and the evidence lines under it."""
    items = []
    for _, row in shown.iterrows():
        details = [
            {"text": evidence(other, lang, former), "status": other["status"], "key": key_of(other)}
            for other, former in evidence_rows(assessments, row)
        ]
        plan = plan_line(row, lang) if row["data_status"] != "plan_only" else ""  # its reason names the plan
        if plan:
            details.append({"text": plan, "status": "", "key": ""})
        items.append({"text": target_line(row, lang), "status": row["status"], "key": key_of(row), "details": details})
    return items


def block_note(shown: pd.DataFrame, entry: PlanEntry, lang: str) -> str:
    """The note under a pre-merger series whose targets lie after the merger: it extends the former city's series."""
    registry = load_registry()
    successor = registry.successor(entry.boundary)
    ahead = shown[~shown["target_passed"].astype(bool)]
    if (
        not successor
        or ahead.empty
        or not any(registry.boundary_ended(entry.boundary, int(y)) for y in ahead["target_year"])
    ):
        return ""
    return t("p1.former_series", lang, place=labels.place(successor, lang))


def block_title(entry: PlanEntry, lang: str) -> str:
    """'Kinh tế số / GRDP — TP.HCM (trước sáp nhập), theo khung của Bộ KH&CN'."""
    values = {"indicator": labels.indicator(entry.indicator, lang), "place": labels.place(entry.boundary, lang)}
    if entry.primary_estimator:
        return t("p1.block", lang, estimator=labels.estimator(entry.primary_estimator, lang), **values)
    return t("p1.block_reported", lang, **values)


def primary_rows(rows: pd.DataFrame, entry: PlanEntry) -> pd.DataFrame:
    """The rows of the estimator the series is tied to (or the only / most informative one)."""
    if entry.primary_estimator and (rows["estimator"] == entry.primary_estimator).any():
        return rows[rows["estimator"] == entry.primary_estimator]
    informative = rows["data_status"].map({"ok": 0, "too_few_points_for_forecast": 1, "one_observation": 2}).fillna(3)
    best = rows.assign(_rank=informative).sort_values("_rank").iloc[0]["estimator"]
    return rows[rows["estimator"] == best]


def shown_rows(rows: pd.DataFrame, entry: PlanEntry) -> pd.DataFrame:
    """The page-one rows of one series: its primary estimator's targets of the last passed year and later."""
    primary = primary_rows(rows, entry)
    return page_one_targets(primary, entry, int(primary["reference_year"].iloc[0])).sort_values("target_year")


def status_line(assessments: pd.DataFrame, entries: list[PlanEntry], lang: str) -> list[dict]:
    """What a reader scans in a list of reports: each page-one target's status, or counts when many.

    Items ``{"text", "status", "key"}``: '✔ Đã đạt 25% (2025)' per target for one series, each series named
    by its place when there are two; '✔ 2 đã đạt' per status beyond six targets; [] when nothing is assessed.
    """
    shown = []
    for entry in entries:
        rows = assessments[(assessments["indicator"] == entry.indicator) & (assessments["boundary"] == entry.boundary)]
        if not rows.empty:
            shown.append((entry, shown_rows(rows, entry)))
    if not shown:
        return []
    targets = pd.concat([rows for _, rows in shown], ignore_index=True)
    if len(targets) > 6:
        counts = targets["status"].value_counts()
        order = [s for s in labels.STATUS_SYMBOLS if s in counts.index]
        return [
            {"text": f"{labels.STATUS_SYMBOLS[s]} {counts[s]} {t('status_short.' + s, lang)}", "status": s, "key": ""}
            for s in order
        ]
    items = []
    for entry, rows in shown:
        for _, row in rows.iterrows():
            target = f"{labels.target_value(row['target_value'], lang)} ({int(row['target_year'])})"
            text = f"{labels.status(row['status'], lang)} {target}"
            if len(shown) > 1:
                text = f"{labels.place(entry.boundary, lang)}: {text}"
            items.append({"text": text, "status": row["status"], "key": key_of(row)})
    return items
