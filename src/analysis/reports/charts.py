"""Charts for the reports: fan charts with observations by estimator, the target and the required path.

One matplotlib style ships in the package (``styles/report.mplstyle``).  Estimators differ
by marker shape as well as colour so that the charts read when printed in grey.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from analysis.i18n import fmt_percent, t

STYLE = Path(__file__).with_name("styles") / "report.mplstyle"
MARKERS = {"mic": "o", "gso": "s", "hids": "D", "ptit": "^", "city": "v", "unknown": "x", "reported": "o"}
COLOURS = {
    "mic": "#1b4f8a",
    "gso": "#b5402a",
    "hids": "#5d8a3a",
    "ptit": "#8a5d9e",
    "city": "#7a7a7a",
    "unknown": "#444444",
    "reported": "#1b4f8a",
}


def use_style() -> None:
    """Apply the package's chart style."""
    plt.style.use(str(STYLE))


def fan_chart(
    forecasts: pd.DataFrame,
    observations: dict[str, pd.Series],
    targets: list[dict],
    lang: str,
    estimator: str,
    title: str,
    unit_label: str | None = None,
) -> plt.Figure:
    """Fan chart (50/80/95% bands) for one estimator, with every estimator's observations marked.

    Parameters
    ----------
    forecasts : DataFrame
        Rows of ``forecasts.csv`` for one indicator x boundary x estimator.
    observations : dict
        Estimator -> observed series (all shown, each with its own marker).
    targets : list of dict
        ``{"year", "value"}``; each drawn and labelled, with the straight required path
        from the latest value of ``estimator``.
    """
    use_style()
    fig, ax = plt.subplots(figsize=(7.2, 4.6))
    future = forecasts[forecasts["lo95"].notna()].sort_values("year")
    if not future.empty:
        observed = observations.get(estimator)
        anchor_year = int(observed.index[-1]) if observed is not None else int(future["year"].min()) - 1
        anchor_value = float(observed.iloc[-1]) if observed is not None else float(future["median"].iloc[0])
        years = np.concatenate([[anchor_year], future["year"].to_numpy()])
        for level, (lo, hi), shade in (
            (95, ("lo95", "hi95"), 0.15),
            (80, ("lo80", "hi80"), 0.25),
            (50, ("lo50", "hi50"), 0.38),
        ):
            ax.fill_between(
                years,
                np.concatenate([[anchor_value], future[lo]]),
                np.concatenate([[anchor_value], future[hi]]),
                color=COLOURS.get(estimator, "#1b4f8a"),
                alpha=shade,
                linewidth=0,
                label=t("chart.band", lang, level=level),
            )
        ax.plot(
            years,
            np.concatenate([[anchor_value], future["median"]]),
            color=COLOURS.get(estimator, "#1b4f8a"),
            linestyle="--",
            label=t("chart.median", lang),
        )
        for target in targets:
            ax.plot(
                [anchor_year, target["year"]],
                [anchor_value, target["value"]],
                color="black",
                linestyle=":",
                linewidth=1.2,
                label=t("chart.required", lang) if target is targets[0] else None,
            )
    for name, series in observations.items():
        ax.plot(
            series.index,
            series.values,
            marker=MARKERS.get(name, "o"),
            color=COLOURS.get(name, "#444444"),
            linestyle="-" if name == estimator else "none",
            label=f"{t('chart.observed', lang)}: {t('estimator.' + name, lang)}",
        )
    for target in targets:
        ax.axhline(target["value"], color="black", linewidth=0.9)
        ax.annotate(
            t("chart.target", lang, value=fmt_percent(target["value"], lang, 0), year=target["year"]),
            xy=(target["year"], target["value"]),
            xytext=(-4, 4),
            textcoords="offset points",
            ha="right",
            fontsize=8.5,
        )
        ax.plot([target["year"]], [target["value"]], marker="*", color="black", markersize=11)
    ax.set_title(title, loc="left")
    ax.set_ylabel(unit_label or t("chart.percent", lang))
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3)
    fig.tight_layout()
    return fig


def calibration_chart(bins: pd.DataFrame, lang: str) -> plt.Figure:
    """Reliability diagram: mean forecast probability against observed frequency per bin."""
    use_style()
    fig, ax = plt.subplots(figsize=(4.8, 4.0))
    ax.plot([0, 1], [0, 1], color="#999999", linestyle=":", label=t("chart.perfect", lang))
    ax.plot(bins["mean_probability"], bins["observed_frequency"], marker="o", color="#1b4f8a")
    for _, row in bins.iterrows():
        ax.annotate(
            str(int(row["count"])),
            (row["mean_probability"], row["observed_frequency"]),
            xytext=(4, -10),
            textcoords="offset points",
            fontsize=7,
            color="#555555",
        )
    ax.set_xlabel(t("chart.forecast_prob", lang))
    ax.set_ylabel(t("chart.observed_freq", lang))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left")
    fig.tight_layout()
    return fig


def track_record_chart(record: pd.DataFrame, lang: str) -> plt.Figure:
    """Each target's probability as it stood at the end of each earlier year; filled marker: met, hollow: not met."""
    from analysis.reports import labels

    use_style()
    fig, ax = plt.subplots(figsize=(7.2, 3.8))
    markers = ["o", "s", "D", "^", "v", "P", "X"]
    for index, ((_indicator, boundary, _year, estimator), group) in enumerate(
        record.groupby(["indicator", "boundary", "target_year", "estimator"], sort=True)
    ):
        group = group.sort_values("as_of")
        outcome = group["outcome"].dropna()
        filled = not outcome.empty and outcome.iloc[0] == "met"
        place, source = labels.place(boundary, lang), labels.estimator(estimator, lang)
        label = f"{labels.target(group.iloc[0], lang)} — {place} ({source})"
        ax.plot(
            group["as_of"],
            group["p_meet_in_year"],
            marker=markers[index % len(markers)],
            linestyle="-",
            markerfacecolor=None if filled else "white",
            label=label,
        )
    ax.set_ylim(0, 1)
    ax.set_ylabel(t("chart.track_probability", lang))
    ax.yaxis.set_major_formatter(lambda value, _: fmt_percent(100 * value, lang, 0))
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel(t("col.as_of", lang))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1, fontsize=7.5)
    fig.tight_layout()
    return fig
