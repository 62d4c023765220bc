"""Charts for the reports: fan charts, the peers' dot chart, calibration and the track record.

One matplotlib style ships in the package (``styles/report.mplstyle``).  Estimators differ by
marker shape as well as colour so that the charts read when printed in grey; numbers on the
axes follow the report's language (decimal commas in Vietnamese).  Charts are SVG, their text drawn as
outlines (``svg.fonttype: path``), so that the page needs no font and keeps every diacritic; they are drawn
narrow (:data:`WIDTH`) with text of at least :data:`MIN_TEXT_PT`, so that on a 390 px phone, where the
chart is scaled to the screen, no text renders below 10 px.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
from io import BytesIO
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, MaxNLocator

from analysis.data.registry import estimator_name, load_registry, registry_files
from analysis.i18n import fmt_number, fmt_percent, fmt_share, t

STYLE = Path(__file__).with_name("styles") / "report.mplstyle"
#: A fan chart's vertical axis shows the observations, the targets and the 80% band with this headroom;
#: a 95% band reaching far beyond is cut at the edge (the table gives its value).
HEADROOM = 1.15
#: Width of every chart, in inches: at 390 px a chart is scaled to about 375 px, so a 9.5 pt text of a
#: 4.6 in (331 pt) chart renders at 9.5 x 4/3 x 375 / 441 = 10.8 px.
WIDTH = 4.6
#: The smallest text on a chart (tick labels, annotations, legends), in points.
MIN_TEXT_PT = 9.5
#: Legend lines and long labels are wrapped at this many characters (a legend wider than the chart would
#: widen the SVG and shrink everything on a phone).
WRAP = 46


# --- the chart cache ---------------------------------------------------------------------
#
# In a batch run (``ANALYSIS_CHART_CACHE`` names a folder) a chart is drawn once for the inputs it is given:
# its SVG is kept under a hash of the chart function, its arguments and the package code, so that a report
# rebuilt because other data changed redraws only the charts whose data changed.  In JupyterLab, where the
# code may change under a running kernel, every chart is drawn.


class CachedChart:
    """A chart whose SVG was drawn before for the same inputs (stands in for its figure)."""

    def __init__(self, svg: bytes):
        self.svg = svg


def family_style(estimator_id: str) -> tuple[str, str]:
    """The colour (hex) and marker an estimator family's points are drawn with (registry, ``chart``)."""
    entry = load_registry().estimator(estimator_id)
    return (entry.colour, entry.marker) if entry else ("#444444", "o")


@functools.cache
def _package_key() -> str:
    from analysis.data.provenance import package_fingerprint

    return package_fingerprint() + matplotlib.__version__


def _code_key() -> str:
    """What every chart depends on beyond its arguments: the package's code and matplotlib (hashed once per
    process), and the registry (the families' names, colours and markers; three small files, read each time)."""
    from analysis.data.provenance import hash_files

    return _package_key() + hash_files([p for p in registry_files() if p.exists()])


def _feed(digest, value) -> None:
    """Everything a chart argument holds, into ``digest`` (frames and series by their values and labels)."""
    if isinstance(value, pd.DataFrame):
        digest.update(repr(("frame", list(value.columns), list(value.dtypes))).encode())
        digest.update(pd.util.hash_pandas_object(value, index=True).values.tobytes())
    elif isinstance(value, pd.Series):
        digest.update(repr(("series", value.name, value.dtype)).encode())
        digest.update(pd.util.hash_pandas_object(value, index=True).values.tobytes())
    elif isinstance(value, dict):
        for key in sorted(value, key=repr):
            digest.update(repr(key).encode())
            _feed(digest, value[key])
    elif isinstance(value, list | tuple):
        digest.update(f"[{len(value)}".encode())
        for item in value:
            _feed(digest, item)
    else:
        digest.update(repr(value).encode())


def cached(draw):
    """Decorate a chart function: in a batch run, return the SVG drawn before for the same arguments."""

    @functools.wraps(draw)
    def chart(*args, **kwargs):
        folder = os.environ.get("ANALYSIS_CHART_CACHE")
        if not folder:
            return draw(*args, **kwargs)
        digest = hashlib.sha256(f"{draw.__name__}\x1f{_code_key()}".encode())
        _feed(digest, (args, kwargs))
        path = Path(folder) / f"{draw.__name__}-{digest.hexdigest()[:32]}.svg"
        try:
            chart = CachedChart(path.read_bytes())
            os.utime(path)  # used: kept by the batch's pruning
            return chart
        except OSError:
            figure = draw(*args, **kwargs)
            figure.cache_path = path
            return figure

    return chart


def svg_of(figure) -> bytes:
    """A chart as a standalone SVG document (the figure is closed); a drawn chart whose inputs are keyed is kept
    for the next run.  The SVG carries no date, and its ids are salted by the style, so the same chart is the
    same bytes."""
    if isinstance(figure, CachedChart):
        return figure.svg
    buffer = BytesIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(figure)
    data = buffer.getvalue()
    path = getattr(figure, "cache_path", None)
    if path is not None:
        from analysis.storage import atomic_write_bytes

        with contextlib.suppress(OSError):  # a cache that cannot be written is only slower
            atomic_write_bytes(path, data)
    return data


def use_style() -> None:
    """Apply the package's chart style."""
    plt.style.use(str(STYLE))


def wrapped(text: str, width: int = WRAP) -> str:
    """A label on several lines of at most ``width`` characters (a legend entry, a tick label)."""
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


def number_axis(axis, lang: str, percent: bool = False) -> None:
    """Tick labels in the report's language: '2,5' (or '2,5%') in Vietnamese, '2.5' in English."""

    def label(value, _position):
        digits = 0 if float(value).is_integer() else 1
        return fmt_percent(value, lang, digits) if percent else fmt_number(value, lang, digits)

    axis.set_major_formatter(FuncFormatter(label))


def target_groups(targets: list[dict]) -> list[list[dict]]:
    """Targets in runs of consecutive years with the same value ('2% each year 2025–2030' is one run)."""
    groups: list[list[dict]] = []
    for target in sorted(targets, key=lambda item: item["year"]):
        previous = groups[-1][-1] if groups else None
        if previous and previous["value"] == target["value"] and target["year"] == previous["year"] + 1:
            groups[-1].append(target)
        else:
            groups.append([target])
    return groups


#: Points kept between a label and another label or line, and between a label and the plot's left edge.
LABEL_GAP_PT = 2.0
#: At most this much taller a chart grows so that each line's label fits between it and the line above.
MAX_GROWTH = 1.5


def separate_labels(fig: plt.Figure, ax, labels: list) -> None:
    """Place line labels (annotations in offset points, drawn above their own horizontal line, left of the
    marker they label) so that none touches another label, crosses another labelled line or covers a marker.

    Where two lines are too close for a label between them, the chart grows taller (at most
    :data:`MAX_GROWTH` times). Each label, from the highest line down, takes the first place that is clear:
    above its line; centred between its line and the next one up; above its own marker; below its line;
    below its marker. Where none is clear of the markers too, the one clear of the other labels and lines
    covering least of them is taken; where none is, it goes below its line, lowered until it is clear of the
    labels above. A label may reach left over the axis line but not over the tick labels: it moves right.
    """
    ax.get_xlim()  # settles the autoscaled limits the labels are placed by
    renderer = fig.canvas.get_renderer()
    pixels_per_point = fig.dpi / 72.0
    gap = LABEL_GAP_PT * pixels_per_point

    def lines() -> list[float]:
        return [float(ax.transData.transform((0, label.xy[1]))[1]) for label in labels]

    def room_above(line: float, all_lines: list[float]) -> float:
        above = [y for y in all_lines if y > line]
        return min(above) - line if above else float("inf")

    # a label that does not fit above its line at its offset fits centred in a room of its height and two gaps
    now = lines()
    heights = [label.get_window_extent(renderer).height for label in labels]
    squeezed = [
        (height + 2 * gap) / room_above(line, now)
        for label, line, height in zip(labels, now, heights, strict=True)
        if room_above(line, now) < height + label.xyann[1] * pixels_per_point + gap
    ]
    growth = min(max(squeezed, default=1.0), MAX_GROWTH)
    if growth > 1.0:
        fig.set_figheight(fig.get_figheight() * growth)
    # a label may reach left over the axis line, not over the tick labels
    ticks = [tick.get_window_extent(renderer).x1 for tick in ax.get_yticklabels() if tick.get_text()]
    left_edge = max(ticks) if ticks else ax.get_window_extent(renderer).x0
    now = lines()
    markers = marker_boxes(ax, pixels_per_point)

    def box_at(label, offset, alignment):
        label.xyann = offset
        label.set_verticalalignment(alignment)
        return label.get_window_extent(renderer)

    def clear(box, own_line: float, placed) -> bool:
        crosses = any(box.y0 - gap < y < box.y1 + gap for y in now if y != own_line)
        return not crosses and not any(box.padded(gap).overlaps(other) for other in placed)

    placed = []
    for label, line in sorted(zip(labels, now, strict=True), key=lambda pair: -pair[1]):
        dx, dy = label.xyann
        box = label.get_window_extent(renderer)
        if box.x0 < left_edge + gap:
            dx += (left_edge - box.x0 + gap) / pixels_per_point
        height, room = box.height, room_above(line, now)
        anchor = ax.transData.transform(label.xy)
        own = [m for m in markers if m.x0 <= anchor[0] <= m.x1 and m.y0 <= anchor[1] <= m.y1]
        marker_half = (max(m.height for m in own) / 2 + gap) / pixels_per_point if own else dy
        candidates = [((dx, dy), "baseline")]
        if np.isfinite(room) and room >= height + 2 * gap:
            candidates.append(((dx, (room - height) / 2 / pixels_per_point), "bottom"))
        candidates += [((dx, marker_half), "bottom"), ((dx, -dy), "top"), ((dx, -marker_half), "top")]
        boxes = [(candidate, box_at(label, *candidate)) for candidate in candidates]
        free = [(c, b) for c, b in boxes if clear(b, line, placed)]
        if free:  # the first place that covers no marker, else the one that covers least
            candidate, box = min(free, key=lambda pair: _covered_area(pair[1], markers))
            box = box_at(label, *candidate)
        else:
            box = box_at(label, (dx, -dy), "top")
            for other in placed:
                if box.padded(gap).overlaps(other):
                    lower = label.xyann[1] - (box.y1 - other.y0 + gap) / pixels_per_point
                    box = box_at(label, (dx, lower), "top")
        placed.append(box)


def _covered_area(box, markers: list) -> float:
    """How much of the markers' boxes a label's box covers (pixels squared)."""
    from matplotlib.transforms import Bbox

    overlaps = (Bbox.intersection(box, marker) for marker in markers)
    return sum(overlap.width * overlap.height for overlap in overlaps if overlap is not None)


def marker_boxes(ax, pixels_per_point: float) -> list:
    """The boxes (pixels) of every marker drawn in the axes: what a label must not cover."""
    from matplotlib.transforms import Bbox

    boxes = []
    for line in ax.lines:
        if line.get_marker() in (None, "None", "", " ") or not line.get_visible():
            continue
        half = line.get_markersize() / 2 * pixels_per_point
        for x, y in ax.transData.transform(line.get_xydata()):
            if np.isfinite(x) and np.isfinite(y):
                boxes.append(Bbox([[x - half, y - half], [x + half, y + half]]))
    return boxes


@cached
def fan_chart(
    forecasts: pd.DataFrame,
    observations: dict[str, pd.Series],
    targets: list[dict],
    lang: str,
    estimator: str,
    unit_label: str | None = None,
) -> plt.Figure:
    """Fan chart (50/80/95% forecast intervals) for one estimator, with every estimator's observations marked.

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
    fig, ax = plt.subplots(figsize=(WIDTH, 3.4))
    colour = family_style(estimator)[0]
    future = forecasts[forecasts["lo95"].notna()].sort_values("year")
    top = max([float(s.max()) for s in observations.values() if len(s)] + [t_["value"] for t_ in targets] + [0.0])
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
                color=colour,
                alpha=shade,
                linewidth=0,
                label=t("chart.band", lang, level=level),
            )
        ax.plot(
            years,
            np.concatenate([[anchor_value], future["median"]]),
            color=colour,
            linestyle="--",
            label=t("chart.median", lang),
        )
        # the required path to the first year of each run: the one that binds
        ahead = [group[0] for group in target_groups(targets) if group[0]["year"] > anchor_year]
        for number, target in enumerate(ahead):
            ax.plot(
                [anchor_year, target["year"]],
                [anchor_value, target["value"]],
                color="black",
                linestyle=":",
                linewidth=1.2,
                label=t("chart.required", lang) if number == 0 else None,
            )
        top = max(top, float(future["hi80"].max()))
    # one figure is often credited to several estimators: the other series sit a little to the side
    # of their year so that every marker shows
    others = [name for name in observations if name != estimator]
    shifts = {name: 0.18 * (index // 2 + 1) * (1 if index % 2 == 0 else -1) for index, name in enumerate(others)}
    for name, series in observations.items():
        colour_of_family, marker = family_style(name)
        ax.plot(
            np.asarray(series.index, dtype=float) + shifts.get(name, 0.0),
            series.values,
            color=colour_of_family,
            marker=marker,
            linestyle="-" if name == estimator else "none",
            label=wrapped(f"{t('chart.observed', lang)}: {estimator_name(name, lang)}"),
        )
    target_labels = []
    for group in target_groups(targets):
        first, last = group[0], group[-1]
        ax.axhline(first["value"], color="black", linewidth=0.9)
        years = str(first["year"]) if first is last else f"{first['year']}–{last['year']}"
        label = t("chart.target", lang, value=fmt_share(first["value"], lang), year=years)
        # labelled left of the first star of a run, so that no star covers the text
        target_labels.append(
            ax.annotate(
                label,
                xy=(first["year"], first["value"]),
                xytext=(-8, 4),
                textcoords="offset points",
                ha="right",
                fontsize=MIN_TEXT_PT,
            )
        )
        ax.plot([g["year"] for g in group], [g["value"] for g in group], "*", color="black", markersize=11)
    ax.set_ylim(0, top * HEADROOM if top > 0 else 1)
    ax.set_ylabel(unit_label or t("chart.percent", lang))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    number_axis(ax.yaxis, lang)
    separate_labels(fig, ax, target_labels)
    # below the plot, which keeps its height: the saved picture grows to hold the legend (savefig.bbox: tight)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=1)
    return fig


@cached
def peers_chart(
    figures: pd.DataFrame, targets: dict, place_names: dict, family_names: dict, lang: str, target_year: int = 2030
) -> plt.Figure:
    """Dot chart: one panel per estimator family (stacked), each place's latest share (dot) and its target (star).

    Parameters
    ----------
    figures : DataFrame
        Latest figures (``boundary``, ``estimator``, ``value``) of the families to show.
    targets : dict
        Boundary -> [(year, value)], the preferred targets.
    place_names, family_names : dict
        Boundary -> label, estimator -> label, in the report's language.
    """
    use_style()
    families = list(dict.fromkeys(figures["estimator"]))
    counts = [int((figures["estimator"] == family).sum()) for family in families]
    fig, axes = plt.subplots(
        len(families),
        1,
        figsize=(WIDTH, 0.9 + 0.42 * sum(counts) + 0.5 * len(families)),
        gridspec_kw={"height_ratios": counts},
        squeeze=False,
    )
    limit = (
        max(float(figures["value"].max()), max((v for goals in targets.values() for _, v in goals), default=0)) * 1.08
    )
    for ax, family in zip(axes[:, 0], families, strict=True):
        rows = figures[figures["estimator"] == family].sort_values("value")
        positions = np.arange(len(rows))
        colour, marker = family_style(family)
        ax.scatter(
            rows["value"],
            positions,
            marker=marker,
            color=colour,
            zorder=3,
            label=family_names[family],
        )
        for position, value, year in zip(positions, rows["value"], rows["year"], strict=True):
            # the year beside each dot: the latest figures are of different years
            ax.annotate(
                str(int(year)), (value, position), xytext=(5, -3), textcoords="offset points", fontsize=MIN_TEXT_PT
            )
        for position, boundary in zip(positions, rows["boundary"], strict=True):
            goal = [value for year, value in targets.get(boundary, []) if year == target_year]
            if goal:
                ax.scatter(goal, [position], marker="*", color="black", s=70, zorder=3)
        ax.set_yticks(positions, [wrapped(place_names[b], 22) for b in rows["boundary"]], fontsize=MIN_TEXT_PT)
        # a panel's title starts above the plot, right of the place names: wrapped short, so that it stays
        # within the chart's width (a wider saved picture would shrink every text on a phone)
        ax.set_title(wrapped(family_names[family], 34), loc="left", fontsize=10)
        ax.set_xlim(0, limit)
        ax.set_ylim(-0.6, len(rows) - 0.4)
        number_axis(ax.xaxis, lang)
    axes[-1, 0].set_xlabel(t("chart.peer_share", lang), fontsize=MIN_TEXT_PT)
    star = plt.Line2D(
        [],
        [],
        marker="*",
        color="black",
        linestyle="none",
        markersize=9,
        label=t("chart.peer_target", lang, year=target_year),
    )
    fig.legend(handles=[star], loc="lower right", frameon=False, fontsize=MIN_TEXT_PT)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


@cached
def calibration_chart(bins: pd.DataFrame, lang: str) -> plt.Figure:
    """Reliability diagram: mean forecast probability against observed frequency per bin."""
    use_style()
    fig, ax = plt.subplots(figsize=(WIDTH, 3.8))
    ax.plot([0, 1], [0, 1], color="#999999", linestyle=":", label=t("chart.perfect", lang))
    ax.plot(bins["mean_probability"], bins["observed_frequency"], marker="o", color="#1b4f8a")
    for _, row in bins.iterrows():
        ax.annotate(
            str(int(row["count"])),
            (row["mean_probability"], row["observed_frequency"]),
            xytext=(4, -10),
            textcoords="offset points",
            fontsize=MIN_TEXT_PT,
            color="#555555",
        )
    ax.set_xlabel(t("chart.forecast_prob", lang))
    ax.set_ylabel(t("chart.observed_freq", lang))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    number_axis(ax.xaxis, lang)
    number_axis(ax.yaxis, lang)
    ax.legend(loc="upper left")
    fig.tight_layout()
    return fig


@cached
def track_record_chart(record: pd.DataFrame, lang: str) -> plt.Figure:
    """Each target's probability as it stood at the end of each earlier year; filled marker: met, hollow: not met."""
    from analysis.reports import labels

    use_style()
    groups = record.groupby(["indicator", "boundary", "target_year", "estimator"], sort=True)
    # the plot keeps its own height; the legend below it grows the picture (the style saves it whole)
    fig, ax = plt.subplots(figsize=(WIDTH, 3.0))
    markers = ["o", "s", "D", "^", "v", "P", "X"]
    for index, ((_indicator, boundary, _year, estimator), group) in enumerate(groups):
        group = group.sort_values("as_of")
        outcome = group["outcome"].dropna()
        filled = not outcome.empty and outcome.iloc[0] == "met"
        place, source = labels.place(boundary, lang), labels.estimator(estimator, lang)
        label = wrapped(f"{labels.target(group.iloc[0], lang)} — {place} ({source})")
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
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: fmt_percent(100 * value, lang, 0)))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(t("col.as_of", lang))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1, fontsize=MIN_TEXT_PT, frameon=False)
    return fig


#: One colour per status for the scorecard (greys for what the data cannot answer), with its symbol in the legend.
STATUS_COLOURS = {
    "met": "#1a7f37",
    "reported_reached": "#7fbf7b",
    "not_met": "#b2182b",
    "boundary_ended": "#8c6bb1",
    "awaiting_figure": "#bdbdbd",
    "on_track": "#4393c3",
    "uncertain": "#f4a582",
    "off_track": "#d6604d",
    "not_measurable": "#e0e0e0",
}


@cached
def scorecard_chart(counts: pd.DataFrame, group_names: dict, status_names: dict, lang: str) -> plt.Figure:
    """Stacked bars: how many targets of each group have each status.

    Parameters
    ----------
    counts : DataFrame
        One row per group (index, in order), one column per status (in order), counts of targets.
    group_names, status_names : dict
        Group id -> label, status id -> label (with its symbol), in the report's language.
    """
    use_style()
    fig, ax = plt.subplots(figsize=(WIDTH, 0.6 + 0.55 * len(counts)))
    positions = np.arange(len(counts))[::-1]
    left = np.zeros(len(counts))
    for status in counts.columns:
        widths = counts[status].to_numpy(dtype=float)
        if not widths.any():
            continue
        ax.barh(
            positions, widths, left=left, color=STATUS_COLOURS[status], edgecolor="white", label=status_names[status]
        )
        for position, start, width in zip(positions, left, widths, strict=True):
            if width:
                ax.text(start + width / 2, position, str(int(width)), ha="center", va="center", fontsize=MIN_TEXT_PT)
        left += widths
    ax.set_yticks(positions, [wrapped(group_names[g], 14) for g in counts.index], fontsize=MIN_TEXT_PT)
    ax.set_xlabel(t("chart.scorecard_count", lang), fontsize=MIN_TEXT_PT)
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax.legend(loc="upper left", bbox_to_anchor=(0, -0.45), ncol=1, frameon=False, fontsize=MIN_TEXT_PT)
    return fig  # no tight_layout: the picture grows to hold the legend below, the plot keeps its height


@cached
def rank_chart(
    ranks: pd.DataFrame, goals: list[dict], series_names: dict, lang: str, highlight: list[str] | None = None
) -> plt.Figure:
    """Ranks over the years, one line per ranking group (1 at the top), with the rank targets as stars.

    Parameters
    ----------
    ranks : DataFrame
        ``series`` (a ranking group's key), ``year``, ``rank``.
    goals : list of dict
        ``year`` and ``rank`` of each target ("top k" drawn at k).
    series_names : dict
        Series key -> label in the report's language ("of 63 provinces", ...).
    highlight : list of str, optional
        The series drawn in colour (the city's); the others are peers, drawn in grey.
    """
    use_style()
    fig, ax = plt.subplots(figsize=(WIDTH, 2.8))
    markers = ["o", "s", "^", "D"]
    for index, (key, rows) in enumerate(ranks.groupby("series", sort=False)):
        rows = rows.sort_values("year")
        peer = highlight is not None and key not in highlight
        style = {"color": "#9e9e9e", "markersize": 5, "linewidth": 0.8} if peer else {"linewidth": 1.8}
        ax.plot(rows["year"], rows["rank"], marker=markers[index % len(markers)], label=series_names[key], **style)
        for year, rank in zip(rows["year"], rows["rank"], strict=True):
            ax.annotate(str(int(rank)), (year, rank), xytext=(4, 4), textcoords="offset points", fontsize=MIN_TEXT_PT)
    for goal in goals:
        ax.scatter([goal["year"] + 0.12], [goal["rank"]], marker="*", color="black", s=80, zorder=3)
    star = plt.Line2D(
        [], [], marker="*", color="black", linestyle="none", markersize=9, label=t("chart.rank_goal", lang)
    )
    handles, _ = ax.get_legend_handles_labels()
    ax.legend(
        handles=[*handles, star],
        frameon=False,
        fontsize=MIN_TEXT_PT,
        loc="upper left",
        bbox_to_anchor=(0, -0.14),
        ncol=1,
    )
    ax.invert_yaxis()
    ax.set_ylabel(t("chart.rank", lang), fontsize=MIN_TEXT_PT)
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(plt.MaxNLocator(integer=True))
    return fig  # no tight_layout: the picture grows to hold the legend below, the plot keeps its height
