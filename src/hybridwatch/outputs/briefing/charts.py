"""The briefing's charts as inline SVG (matplotlib's SVG backend, no pyplot, no files).

Every chart is self-contained markup: no external references, ids prefixed per chart so several
charts can share one HTML page, text kept as text (searchable in the PDF), and the output is
deterministic for the same data (fixed hash salt, no date stamp).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

#: Colours: one accent for the estimate, a pale fill for its band, muted greys around it.
ACCENT, BAND, GREY = "#1f4e79", "#c9d9ea", "#777777"
COMPONENT_COLOURS = ("#1f4e79", "#c0504d", "#9bbb59", "#8064a2", "#f79646", "#4bacc6")
_RC = {"svg.fonttype": "none", "svg.hashsalt": "hybridwatch", "font.size": 7.5,
       "font.family": ["DejaVu Sans"], "axes.spines.top": False, "axes.spines.right": False,
       "axes.titlesize": 8.5, "axes.titleweight": "bold", "axes.titlelocation": "left"}


#: Legends outside the plot on the right: they never hide a line.
_LEGEND_RIGHT = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0), "frameon": False,
                 "fontsize": 6.5}


def _figure(width_in: float, height_in: float, rows: int = 1, **kwargs: Any):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), layout="constrained")
    axes = fig.subplots(rows, 1, squeeze=False, **kwargs)[:, 0]
    return fig, axes


def to_svg(fig, prefix: str) -> str:
    """The figure as an ``<svg>`` element that scales with its container."""
    import matplotlib as mpl

    buffer = io.StringIO()
    with mpl.rc_context(_RC):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.DOTALL)
    svg = re.sub(r'\sid="([^"]+)"', rf' id="{prefix}-\1"', svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", svg)
    svg = re.sub(r'<svg([^>]*?) width="[^"]+" height="[^"]+"',
                 r'<svg\1 class="chart" preserveAspectRatio="xMidYMid meet"', svg, count=1)
    return svg


def _with_rc(func):
    """Build the figure under the chart style too (fonts and spines are set at draw time)."""
    def wrapper(*args: Any, **kwargs: Any) -> str:
        import matplotlib as mpl

        with mpl.rc_context(_RC):
            return func(*args, **kwargs)
    wrapper.__doc__, wrapper.__name__ = func.__doc__, func.__name__
    return wrapper


def _months(labels: Sequence[str]) -> list[date]:
    """Dates of period labels: ``YYYY-MM-DD``, ``YYYY-Www`` (ISO week), ``YYYY-MM``, ``YYYY``."""
    out = []
    for label in labels:
        if len(label) >= 10:
            out.append(date.fromisoformat(label[:10]))
        elif "-W" in label:
            year, week = label.split("-W")
            out.append(date.fromisocalendar(int(year), int(week), 1))
        elif len(label) == 7:
            out.append(date.fromisoformat(f"{label}-01"))
        else:
            out.append(date(int(label[:4]), 1, 1))
    return out


def _date_axis(ax) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


#: Text of the convergence chart, in points of the figure: at the briefing's column width
#: (≥ 6.6 in) a point is at least 4/3 px, so 8.5 pt is at least 11 px on screen.
CHART_TEXT_PT = 8.5


def monthly_gaps(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` (by ``YYYY-MM`` period) with a row of no values for every month missing between
    the first and the last (a month withheld above the reader's clearance, or never computed),
    so a line breaks there instead of bridging it. Other period labels are left as they are."""
    months = [str(r["period"]) for r in rows]
    if not months or any(len(m) != 7 for m in months):
        return list(rows)
    have = {str(r["period"]): r for r in rows}
    out, (year, month) = [], map(int, min(months).split("-"))
    last = max(months)
    while f"{year:04d}-{month:02d}" <= last:
        label = f"{year:04d}-{month:02d}"
        out.append(have.get(label) or {"period": label, "index": None, "low": None,
                                       "high": None, "components": {}, "gap": True})
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


@_with_rc
def convergence_chart(rows: Sequence[dict[str, Any]], components: Sequence[str]) -> str:
    """The convergence index by period with its uncertainty band, and its components below.

    ``rows``: {period, index, low, high, components {name: value}} with None for no data (a
    gap in the line, never a zero); months missing between two rows are gaps too
    (``monthly_gaps``). Negative values are drawn below a dashed zero line."""
    import numpy as np

    rows = monthly_gaps(rows)
    x = _months([r["period"] for r in rows])
    fig, (top, bottom) = _figure(6.6, 4.0, rows=2, sharex=True)
    text = {"fontsize": CHART_TEXT_PT}
    legend = {**_LEGEND_RIGHT, **text}

    def values(key: str) -> np.ndarray:
        return np.array([np.nan if r.get(key) is None else float(r[key]) for r in rows])

    index, low, high = values("index"), values("low"), values("high")
    top.fill_between(x, low, high, color=BAND, linewidth=0, label="uncertainty band")
    top.plot(x, index, color=ACCENT, marker="o", markersize=2.5, linewidth=1.4, label="index")
    top.axhline(0, color=GREY, linewidth=0.6, linestyle="--", zorder=0)
    top.set_title("Convergence index", **text)
    top.legend(**legend)
    for k, name in enumerate(components):
        series = np.array([np.nan if (r.get("components") or {}).get(name) is None
                           else float(r["components"][name]) for r in rows])
        bottom.plot(x, series, color=COMPONENT_COLOURS[k % len(COMPONENT_COLOURS)],
                    linewidth=1.1, marker=".", markersize=3, label=name.replace("_", " "))
    bottom.axhline(0, color=GREY, linewidth=0.6, linestyle="--", zorder=0)
    bottom.set_title("Components", **text)
    if components:
        bottom.legend(**legend)
    for ax in (top, bottom):
        ax.tick_params(labelsize=CHART_TEXT_PT)
    # the whole span, so periods without data show as gaps rather than vanish
    bottom.set_xlim(x[0] - timedelta(days=10), x[-1] + timedelta(days=10))
    _date_axis(bottom)
    for label in bottom.xaxis.get_offset_text(), top.yaxis.get_offset_text():
        label.set_fontsize(CHART_TEXT_PT)
    return to_svg(fig, "conv")


@_with_rc
def narrative_convergence_chart(rows: Sequence[dict[str, Any]], a: str, b: str) -> str:
    """Monthly share of narratives two actor groups share, with its interval and the control's."""
    import numpy as np

    x = _months([r["period"] for r in rows])
    fig, (ax,) = _figure(6.6, 2.1)
    value = np.array([np.nan if r.get("value") is None else r["value"] for r in rows], float)
    low = np.array([np.nan if r.get("low") is None else r["low"] for r in rows], float)
    high = np.array([np.nan if r.get("high") is None else r["high"] for r in rows], float)
    control = np.array([np.nan if r.get("control_value") is None else r["control_value"]
                        for r in rows], float)
    ax.fill_between(x, low, high, color=BAND, linewidth=0)
    ax.plot(x, value, color=ACCENT, marker="o", markersize=2.5, label=f"{a} and {b}")
    ax.plot(x, control, color=GREY, linestyle="--", linewidth=1, label="control outlets")
    ax.set_title(f"Narrative convergence of {a} and {b}, by month")
    ax.legend(**_LEGEND_RIGHT)
    _date_axis(ax)
    return to_svg(fig, "narr")


@_with_rc
def episodes_timeline(episodes: Sequence[dict[str, Any]], first: date, last: date) -> str:
    """Episodes as bars on a time axis, one row each, shaded by their p-value."""
    import matplotlib.dates as mdates
    import numpy as np

    height = 0.5 + 0.24 * max(len(episodes), 1)
    fig, (ax,) = _figure(6.6, min(height, 8.5))
    left, right = mdates.date2num(first), mdates.date2num(last) + 1
    for row, episode in enumerate(episodes):
        start = mdates.date2num(date.fromisoformat(episode["start"]))
        end = mdates.date2num(date.fromisoformat(episode["end"])) + 1  # inclusive last day
        strength = min(1.0, -np.log10(max(float(episode["p_value"]), 1e-4)) / 4)
        ax.barh(row, max(end - start, 2), left=start, height=0.62,
                color=(0.12, 0.31, 0.47, 0.35 + 0.65 * strength), edgecolor=ACCENT,
                linewidth=0.5)
        # the label goes on the side with room, so it stays inside the figure
        late = (start - left) > 0.55 * (right - left)
        label = ax.annotate(f"{episode['number']}. {'/'.join(episode['targets'])}: "
                            f"{', '.join(episode['domains'])}", (start if late else end, row),
                            xytext=(-3 if late else 3, 0), textcoords="offset points",
                            ha="right" if late else "left", va="center", fontsize=6.5,
                            annotation_clip=False)
        label.set_in_layout(False)  # labels must not squeeze the axis
    ax.set_xlim(left, right)
    ax.set_ylim(len(episodes) - 0.5 if episodes else 0.5, -0.6)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    ax.set_title("Multi-domain episodes (darker: smaller p-value)")
    _date_axis(ax)
    return to_svg(fig, "epis")


@_with_rc
def reliability_chart(bins: Sequence[dict[str, Any]]) -> str:
    """Forecast probability against observed frequency per bin (the diagonal is calibrated)."""
    fig, (ax,) = _figure(2.8, 2.6)
    ax.plot([0, 1], [0, 1], color=GREY, linestyle="--", linewidth=0.8)
    used = [b for b in bins if b.get("n") and b.get("observed_rate") is not None]
    ax.plot([b["mean_forecast"] for b in used], [b["observed_rate"] for b in used],
            color=ACCENT, marker="o", markersize=3)
    for b in used:
        ax.annotate(str(b["n"]), (b["mean_forecast"], b["observed_rate"]), xytext=(3, -8),
                    textcoords="offset points", fontsize=5.5, color=GREY)
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="forecast probability", ylabel="observed frequency")
    ax.set_title("Reliability (n per bin)")
    return to_svg(fig, "reli")
