"""The self-contained HTML report: one file with its styles and SVG pictures inline, and nothing to
fetch (no script, stylesheet, font or image from elsewhere), rendered from a Jinja2 template.

It holds the summary, the services x regions heat map of the failed share, the per-workload
scorecards and each workload's graph (when a graph check ran), the failed and unknown findings
grouped by check with remediation and references, the passed checks counted, the coverage gaps, and
the trend (runs chart, mean time to resolve per check) when one is given.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from relaudit import __version__
from relaudit.report import graph_svg
from relaudit.report.graph_layout import MAX_NODES
from relaudit.report.grouping import (
    ATTENTION,
    FAILED,
    NOT_APPLICABLE,
    PASSED,
    UNKNOWN,
    HeatMap,
    group_by_check,
    heat_map,
    status_rank,
    suppression_note,
)
from relaudit.report.trend import human_duration
from relaudit.report.workload_section import MAX_DRAWINGS, workload_section

if TYPE_CHECKING:
    from collections.abc import Mapping

    from relaudit.models.finding import AuditResult
    from relaudit.report.trend import Trend

TEMPLATE = "report.html.j2"
STATUS_COLOUR = {FAILED: "#c62828", UNKNOWN: "#ef8f00", PASSED: "#2e7d32", NOT_APPLICABLE: "#757575"}
OTHER_COLOUR = "#5c6bc0"
EMPTY_CELL = "#eeeeee"
_GOOD, _BAD = (232, 245, 233), (198, 40, 40)  # failed share 0 and 1


def heat_fill(share: float | None) -> str:
    """The cell colour of a failed share (pale green at 0 to red at 1; grey when nothing was judged)."""
    if share is None:
        return EMPTY_CELL
    red, green, blue = (round(a + (b - a) * share) for a, b in zip(_GOOD, _BAD, strict=True))
    return f"#{red:02x}{green:02x}{blue:02x}"


def ink_on(share: float | None) -> str:
    """Text colour readable on :func:`heat_fill`'s colour."""
    return "#ffffff" if share is not None and share >= 0.5 else "#212121"


@dataclass(frozen=True)
class HeatLayout:
    """Geometry of the heat map SVG."""

    label_width: int = 150
    header_height: int = 90
    cell_width: int = 84
    cell_height: int = 30

    def width(self, heat: HeatMap) -> int:
        """The SVG's width."""
        return self.label_width + self.cell_width * max(1, len(heat.regions)) + 10

    def height(self, heat: HeatMap) -> int:
        """The SVG's height."""
        return self.header_height + self.cell_height * max(1, len(heat.services)) + 10


@dataclass(frozen=True)
class Series:
    """One status's counts across runs, as a polyline."""

    status: str
    colour: str
    points: list[tuple[float, float, int]]  # x, y, count

    @property
    def polyline(self) -> str:
        """The SVG points attribute."""
        return " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in self.points)


@dataclass(frozen=True)
class TrendChart:
    """Geometry of the trend chart: one line per status, opened/resolved bars per run."""

    width: int
    height: int
    left: int
    top: int
    plot_height: int
    bar_top: int
    bar_height: int
    y_max: int
    bar_max: int
    series: list[Series]
    xs: list[float]
    step: float


def trend_chart(trend: Trend, width: int = 860) -> TrendChart:
    """Lay out the runs chart of ``trend`` (oldest run left)."""
    left, top, plot_height, bar_height = 56, 20, 220, 80
    runs = trend.runs
    step = (width - left - 20) / max(1, len(runs))
    xs = [left + step * (index + 0.5) for index in range(len(runs))]
    y_max = max([1, *(count for run in runs for count in run.findings.values())])
    bar_max = max([1, *(max(run.opened, run.resolved) for run in runs)])
    series = []
    for status in trend.statuses:
        if status == NOT_APPLICABLE:
            continue  # not a judgement; it would flatten the lines that matter
        counts = [run.findings.get(status, 0) for run in runs]
        points = [(x, top + plot_height * (1 - count / y_max), count) for x, count in zip(xs, counts, strict=True)]
        series.append(Series(status, STATUS_COLOUR.get(status, OTHER_COLOUR), points))
    bar_top = top + plot_height + 40
    return TrendChart(
        width=width,
        height=bar_top + bar_height + 40,
        left=left,
        top=top,
        plot_height=plot_height,
        bar_top=bar_top,
        bar_height=bar_height,
        y_max=y_max,
        bar_max=bar_max,
        series=series,
        xs=xs,
        step=step,
    )


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("relaudit.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(heat_fill=heat_fill, ink_on=ink_on, duration=human_duration, suppression=suppression_note)
    env.globals.update(
        status_colour=lambda s: STATUS_COLOUR.get(s, OTHER_COLOUR),
        graph_svg=graph_svg.svg,
        graph_legend=graph_svg.legend,
        max_nodes=MAX_NODES,
        max_drawings=MAX_DRAWINGS,
    )
    return env


def _result_context(result: AuditResult, graph: Mapping[str, Any] | None) -> dict[str, Any]:
    groups = group_by_check(result.findings)
    attention = [g for g in groups if g.status in ATTENTION]
    passed = [g for g in groups if g.status == PASSED]
    summary = result.summary
    statuses = sorted(summary.findings, key=lambda s: (status_rank(s), s))
    return {
        "summary": summary,
        "statuses": statuses,
        "several_accounts": len(summary.accounts) > 1,
        "attention": attention,
        "passed": passed,
        "heat": heat_map(result.findings),
        "heat_layout": HeatLayout(),
        "gaps": result.coverage_gaps,
        "workloads": workload_section(graph, result),
    }


def render(
    result: AuditResult | None = None,
    trend: Trend | None = None,
    generated_at: dt.datetime | None = None,
    graph: Mapping[str, Any] | None = None,
) -> str:
    """The HTML report of ``result`` and/or ``trend`` as one self-contained document.

    Args:
        result: An audit's result (None for a trend-only report, ``relaudit report``).
        trend: The runs recorded in the findings table (None: no trend section).
        generated_at: When the report was made (default now).
        graph: The run's workload graph as `relaudit graph` prints it (``nodes``, ``edges``,
            ``workloads``; see relaudit.report.graph_capture), or None when no graph check was
            selected: the page then says so instead of drawing scorecards and graphs.
    """
    context: dict[str, Any] = {
        "version": __version__,
        "generated_at": (generated_at or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        "result": result,
        "trend": trend,
        "chart": trend_chart(trend) if trend is not None and trend.runs else None,
    }
    if result is not None:
        context.update(_result_context(result, graph))
    return _environment().get_template(TEMPLATE).render(context)
