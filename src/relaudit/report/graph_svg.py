"""A workload's drawing (graph_layout) as inline SVG markup, and the legend beside it.

Rendered by a Jinja2 template with autoescape on: every name, ARN and check id from the account is
escaped there, never pasted into markup here. Edges are styled by mode with the convention of
`relaudit graph --format dot`: sync solid, async dashed, poll dotted, data thick.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from relaudit.report.graph_layout import BOX_HEIGHT, BOX_WIDTH

if TYPE_CHECKING:
    from relaudit.report.graph_layout import Drawing

TEMPLATE = "workload_graph.svg.j2"
LEGEND_TEMPLATE = "workload_legend.svg.j2"


@dataclass(frozen=True)
class EdgeStyle:
    """How an edge of one mode is stroked."""

    colour: str
    width: float
    dasharray: str | None  # None: solid


# By mode; a mode the graph adds later is drawn as OTHER until it gets a style of its own.
EDGE_STYLES = {
    "sync": EdgeStyle("#37474f", 1.6, None),  # the caller waits
    "async": EdgeStyle("#3949ab", 1.6, "7 4"),  # fire and forget
    "poll": EdgeStyle("#00796b", 1.8, "2 3"),  # a poller reads the source
    "data": EdgeStyle("#6d4c41", 3.6, None),  # reads or writes a store
}
OTHER = EdgeStyle("#9e9e9e", 1.4, "1 2")


@dataclass(frozen=True)
class NodeStyle:
    """How a resource's box is filled and outlined."""

    fill: str
    stroke: str
    width: float


FAILING = NodeStyle("#ffebee", "#c62828", 2.6)
UNKNOWN = NodeStyle("#fff3e0", "#ef8f00", 2.0)
PLAIN = NodeStyle("#ffffff", "#90a4ae", 1.2)


def style_key(mode: str) -> str:
    """The marker and style name of ``mode`` (``other`` for a mode without a style)."""
    return mode if mode in EDGE_STYLES else "other"


def edge_style(mode: str) -> EdgeStyle:
    """The stroke of an edge of ``mode``."""
    return EDGE_STYLES.get(mode, OTHER)


def node_style(failing: bool, unknown: bool) -> NodeStyle:
    """A failing resource is red; one only an UNKNOWN finding is on, orange; the rest plain."""
    return FAILING if failing else UNKNOWN if unknown else PLAIN


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("relaudit.report", "templates"),
        autoescape=True,  # names come from the audited account
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        edge_style=edge_style,
        node_style=node_style,
        style_key=style_key,
        styles={**EDGE_STYLES, "other": OTHER},
        box_width=BOX_WIDTH,
        box_height=BOX_HEIGHT,
    )
    return env


def svg(drawing: Drawing) -> Markup:
    """The ``<svg>`` element of ``drawing`` (ids suffixed by its number: unique on the page)."""
    # Markup: the template escaped every value it was given, so the result is safe to insert as is.
    return Markup(_environment().get_template(TEMPLATE).render(d=drawing))


def legend() -> Markup:
    """A small ``<svg>`` naming the edge styles and the failing mark."""
    modes = [(mode, EDGE_STYLES[mode]) for mode in EDGE_STYLES]
    return Markup(_environment().get_template(LEGEND_TEMPLATE).render(modes=modes, failing=FAILING, plain=PLAIN))
