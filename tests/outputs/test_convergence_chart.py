"""The briefing's convergence chart: a withheld or missing month is a gap (the line is not
bridged across it), negative values are drawn below a zero line, and its text is at least 11 px
at the briefing's column width."""

from __future__ import annotations

import re

from hybridwatch.outputs.briefing.charts import convergence_chart, monthly_gaps
from hybridwatch.store import EventStore
from hybridwatch.store.findings_store import items_of, save_run

ACCENT = "stroke: #1f4e79"   # the index, and the first component below it
#: the narrowest column the briefing draws a chart in (A4 at 170 mm), in CSS px
COLUMN_PX = 170 / 25.4 * 96


def _row(period, index, low, high):
    return {"period": period, "index": index, "low": low, "high": high,
            "components": {"hostility": index}, "confidence": "medium"}


def _index_segments(svg: str, points: int) -> list[int]:
    """The pieces of each line drawn in the accent colour through ``points`` points (the
    index; the legend's sample has 3 points)."""
    out = []
    for d, style in re.findall(r'<g id="conv-line2d_\d+">\s*<path d="([^"]+)"[^>]*style="([^"]*)"',
                               svg):
        if ACCENT in style and d.count("M") + d.count("L") == points:
            out.append(d.count("M"))
    return out


def test_monthly_gaps_fill_missing_months_with_no_values():
    rows = [_row("2023-11", 0.1, 0, 0.2), _row("2024-02", 0.3, 0.2, 0.4)]
    filled = monthly_gaps(rows)
    assert [r["period"] for r in filled] == ["2023-11", "2023-12", "2024-01", "2024-02"]
    assert [r["index"] for r in filled] == [0.1, None, None, 0.3]


def test_a_missing_month_breaks_the_line_and_negatives_are_drawn():
    rows = [_row("2024-01", 0.2, 0.1, 0.3), _row("2024-02", -0.4, -0.6, -0.1),
            _row("2024-04", 0.5, 0.3, 0.6), _row("2024-05", 0.1, -0.1, 0.3)]
    svg = convergence_chart(rows, ["hostility"])
    # the index and its first component (same colour): Jan–Feb, then Apr–May; March a gap
    assert _index_segments(svg, 4) == [2, 2]
    whole = convergence_chart(rows[:2] + [_row("2024-03", 0.0, -0.1, 0.1)], ["hostility"])
    assert set(_index_segments(whole, 3)) == {1}        # (legend samples have 3 points too)
    # the y axis reaches the negative values, with a label below zero
    ticks = re.findall(r">(−[\d.]+)</text>", svg)
    assert ticks and min(-float(t[1:]) for t in ticks) <= -0.5
    # every text at least 11 px at the narrowest column width
    width = float(re.search(r'viewBox="0 0 ([\d.]+) ', svg).group(1))
    sizes = [float(s) for s in re.findall(r"font-size: ([\d.]+)px", svg)]
    assert len(sizes) == svg.count("<text")
    assert sizes and min(sizes) * COLUMN_PX / width >= 11, (min(sizes), width)


def test_a_month_withheld_from_the_reader_is_a_gap_in_the_briefing(tmp_path):
    from hybridwatch.outputs.briefing import render_briefing_html

    items = [_row("2024-01", 0.2, 0.1, 0.3), _row("2024-02", 0.6, 0.4, 0.7),
             _row("2024-03", 0.1, -0.1, 0.2)]
    with EventStore(tmp_path / "conv.duckdb") as store:
        save_run(store, "convergence", {"a": "RUS", "b": "CHN", "freq": "month",
                                        "components": ["hostility"]},
                 items_of("convergence", items, ["clear", "red", "clear"]))
        red = render_briefing_html(store, tlp="red")
        amber = render_briefing_html(store, tlp="amber")
    conv = re.compile(r'<svg[^>]*class="chart".*?</svg>', re.DOTALL)
    red_svg = next(s for s in conv.findall(red) if "conv-" in s)
    amber_svg = next(s for s in conv.findall(amber) if "conv-" in s)
    assert set(_index_segments(red_svg, 3)) == {1}
    assert _index_segments(amber_svg, 2) == [2, 2]      # February withheld: not bridged
