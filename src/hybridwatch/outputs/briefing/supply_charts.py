"""The supply section's charts: flows before and after the break, and an origin → via →
destination diagram (Sankey-like), as inline SVG from the stored diversion run.

Both read only what the ``supply`` run stored: each candidate's mean monthly value of its two
legs (origin → via, via → destination) over the ``pre`` months before the break and the
``post`` months from it, and the direct origin → destination flow over the same windows.
Nothing is recomputed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hybridwatch.outputs.briefing.charts import ACCENT, BAND, GREY, _figure, _with_rc, to_svg

#: Transit countries drawn: the significant ones first, then the smallest p-values.
MAX_VIAS = 8
_MUTED = "#b9b9b9"


def chosen_vias(items: Sequence[dict[str, Any]], limit: int = MAX_VIAS) -> list[dict[str, Any]]:
    """The candidates worth drawing: significant first, then by p-value, at most ``limit``,
    only those whose evidence carries both legs."""
    usable = [i for i in items if _leg(i, "origin_to_via") and _leg(i, "via_to_destination")]
    return sorted(usable, key=lambda i: (not i.get("significant"), i.get("p_value") or 1.0,
                                         str(i.get("via"))))[:limit]


def _leg(item: dict[str, Any], name: str) -> dict[str, Any] | None:
    leg = (item.get("evidence") or {}).get(name)
    if not leg or leg.get("mean_monthly_usd_before") is None \
            or leg.get("mean_monthly_usd_after") is None:
        return None
    return leg


def usd(value: float) -> str:
    """A monthly USD amount, short: $1.2M, $830k, $95 (the dollar escaped: matplotlib would
    read a pair of them as mathematics)."""
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return rf"\${value / limit:.1f}{suffix}"
    return rf"\${value:.0f}"


def sankey_vias(items: Sequence[dict[str, Any]], limit: int = MAX_VIAS) -> list[dict[str, Any]]:
    """The diagram shows the finding: the significant transit countries (or, when none is,
    the three with the smallest p-values), so a large partner that is no lead does not
    dwarf them."""
    chosen = chosen_vias(items, limit)
    significant = [i for i in chosen if i.get("significant")]
    return significant or chosen[:3]


@_with_rc
def flows_before_after(items: Sequence[dict[str, Any]], *, origin: str, destination: str,
                       direct: dict[str, Any] | None, start: str) -> str:
    """Mean monthly value before and after the break: the direct flow, then each chosen
    transit country's two legs (paired bars, before grey and after dark)."""
    import numpy as np

    rows: list[tuple[str, float, float, bool]] = []
    if direct and direct.get("mean_monthly_usd_before") is not None:
        rows.append((f"{origin} → {destination} (direct)",
                     float(direct["mean_monthly_usd_before"]),
                     float(direct["mean_monthly_usd_after"]), False))
    for item in chosen_vias(items):
        a, b = _leg(item, "origin_to_via"), _leg(item, "via_to_destination")
        mark = " *" if item.get("significant") else ""
        rows.append((f"{origin} → {item['via']}{mark}", float(a["mean_monthly_usd_before"]),
                     float(a["mean_monthly_usd_after"]), bool(item.get("significant"))))
        rows.append((f"{item['via']} → {destination}{mark}",
                     float(b["mean_monthly_usd_before"]), float(b["mean_monthly_usd_after"]),
                     bool(item.get("significant"))))
    fig, (ax,) = _figure(6.6, 0.8 + 0.22 * max(len(rows), 1))
    y = np.arange(len(rows))
    before = np.array([r[1] for r in rows])
    after = np.array([r[2] for r in rows])
    top = float(max(before.max(initial=0), after.max(initial=0))) or 1.0
    positive = np.concatenate([before, after])
    positive = positive[positive > 0]
    # flows span orders of magnitude (a large partner beside small transit legs): a log axis
    # keeps the small legs readable; bars start at a floor below the smallest flow
    floor = float(positive.min()) / 3 if positive.size and top / positive.min() > 50 else 0.0
    ax.barh(y - 0.19, np.maximum(before, floor) - floor, left=floor, height=0.36,
            color=_MUTED, label=f"before {start}")
    ax.barh(y + 0.19, np.maximum(after, floor) - floor, left=floor, height=0.36,
            color=[ACCENT if r[3] else GREY for r in rows], label=f"from {start}")
    for k, (_, b_value, a_value, _) in enumerate(rows):
        ax.annotate(f"{usd(b_value)} → {usd(a_value)}", (max(b_value, a_value), k),
                    xytext=(3, 0), textcoords="offset points", va="center", fontsize=6,
                    annotation_clip=False).set_in_layout(False)
    ax.set_yticks(y, [r[0] for r in rows])
    ax.set_ylim(len(rows) - 0.5, -0.6)
    if floor > 0:
        ax.set_xscale("log")
        ax.set_xlim(floor, top * 6)
    else:
        ax.set_xlim(0, top * 1.3)
    ax.xaxis.set_major_formatter(lambda v, _: usd(v))
    ax.set_xlabel("mean monthly value (USD" + (", log scale)" if floor > 0 else ")"))
    ax.set_title("Flows before and after the break (* significant transit country)")
    ax.legend(loc="lower right", frameon=False, fontsize=6.5)
    return to_svg(fig, "supf")


@_with_rc
def diversion_sankey(items: Sequence[dict[str, Any]], *, origin: str, destination: str,
                     direct: dict[str, Any] | None, start: str) -> str:
    """Origin → transit countries → destination after the break: each band's width is a
    leg's mean monthly value from the break on; the direct flow arcs over the top with its
    value before and after. Significant transit countries in the accent colour."""
    from matplotlib.patches import PathPatch, Rectangle
    from matplotlib.path import Path as MplPath

    vias = sankey_vias(items)
    fig, (ax,) = _figure(6.6, 1.2 + 0.3 * max(len(vias), 2))
    ax.set_axis_off()
    legs_a = [float(_leg(i, "origin_to_via")["mean_monthly_usd_after"]) for i in vias]
    legs_b = [float(_leg(i, "via_to_destination")["mean_monthly_usd_after"]) for i in vias]
    direct_after = float(direct["mean_monthly_usd_after"]) if direct else 0.0
    total = max(sum(legs_a) + direct_after, sum(legs_b) + direct_after, 1.0)
    scale = 0.8 / total          # value → height in axis units (the column spans 0.1 … 0.9)
    x_origin, x_via, x_dest, w = 0.12, 0.5, 0.88, 0.025

    def band(x0: float, y0: float, x1: float, y1: float, height: float, colour: str) -> None:
        mid = (x0 + x1) / 2
        verts = [(x0, y0), (mid, y0), (mid, y1), (x1, y1), (x1, y1 - height),
                 (mid, y1 - height), (mid, y0 - height), (x0, y0 - height), (x0, y0)]
        codes = [MplPath.MOVETO, MplPath.CURVE4, MplPath.CURVE4, MplPath.CURVE4,
                 MplPath.LINETO, MplPath.CURVE4, MplPath.CURVE4, MplPath.CURVE4,
                 MplPath.CLOSEPOLY]
        ax.add_patch(PathPatch(MplPath(verts, codes), facecolor=colour, alpha=0.55,
                               edgecolor="none"))

    # origin and destination columns stack the via legs from the top; the direct flow last
    y_o, y_d = 0.9, 0.9
    slot = 0.8 / max(len(vias), 1)   # each transit country's row in the middle column
    for k, (item, a, b) in enumerate(zip(vias, legs_a, legs_b)):
        colour = ACCENT if item.get("significant") else GREY
        height_v = max(a, b) * scale
        y_v = 0.9 - k * slot - max(0.0, (slot - height_v) / 2)
        band(x_origin + w, y_o, x_via, y_v, a * scale, colour)
        band(x_via + w, y_v, x_dest, y_d, b * scale, colour)
        ax.add_patch(Rectangle((x_via, y_v - height_v), w, max(height_v, 0.004),
                               color=colour))
        ax.annotate(f"{item['via']}{' *' if item.get('significant') else ''}: "
                    f"in {usd(a)}, out {usd(b)} a month", (x_via + w, y_v - height_v / 2),
                    xytext=(3, 0), textcoords="offset points", ha="left", va="center",
                    fontsize=6, bbox={"boxstyle": "square,pad=0.1", "facecolor": "white",
                                      "edgecolor": "none", "alpha": 0.8}).set_in_layout(False)
        y_o -= a * scale
        y_d -= b * scale
    if direct_after > 0:
        band(x_origin + w, y_o, x_dest, y_d, direct_after * scale, BAND)
    for x, top, bottom, label, ha in ((x_origin, 0.9, y_o - direct_after * scale, origin,
                                       "right"),
                                      (x_dest, 0.9, y_d - direct_after * scale, destination,
                                       "left")):
        ax.add_patch(Rectangle((x, bottom), w, max(top - bottom, 0.004), color="#333333"))
        ax.annotate(label, (x if ha == "right" else x + w, (top + bottom) / 2),
                    xytext=(-3 if ha == "right" else 3, 0), textcoords="offset points",
                    ha=ha, va="center", fontsize=7, fontweight="bold").set_in_layout(False)
    if direct:
        ax.annotate(f"direct {origin} → {destination}: {usd(float(direct['mean_monthly_usd_before']))}"
                    f" a month before, {usd(direct_after)} after",
                    (0.5, 0.02), ha="center", va="bottom", fontsize=6.5, color=GREY)
    ax.set_xlim(0, 1)
    ax.set_ylim(min(0.0, y_o - direct_after * scale, y_d - direct_after * scale) - 0.02, 1.0)
    ax.set_title(f"{origin} → transit → {destination} from {start} (width: monthly value)")
    return to_svg(fig, "supk")
