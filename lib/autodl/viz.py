"""Drawings of cells: an NB201 cell (from its string) or a NASNet normal/reduction cell, as SVG or PNG;
and the history of a search's architecture distribution, as a PNG of one line chart per edge.

No Graphviz: nodes get a fixed left-to-right layout, edges are quadratic curves labelled with their
op.  SVG is written as plain text, PNG is rasterised with OpenCV.

Architectures know nothing of drawings: notebooks show them inline through :func:`show`, and,
once this module is imported inside IPython, an ``Arch`` or ``Genotype`` displays as its drawing
by itself (see :func:`enable_notebook_display`).
"""
from __future__ import annotations

import math
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence
from xml.sax.saxutils import escape

import cv2
import numpy as np

from .errors import AutoDLError
from .spaces.nasnet import Genotype
from .spaces.nb201 import EDGES, NUM_NODES, Arch, ArchLike, as_arch
from .utils import atomic_write, atomic_write_text

FORMATS = (".svg", ".png")
FONT_PX = 14  # label font size in the SVG; the PNG uses the OpenCV font of about the same height
CHAR_PX = 8.4  # average glyph width at FONT_PX, used to size boxes and label backgrounds
BOX_HEIGHT = 34
MARGIN = 30
NODE_COLOURS = {"input": "#cfe2f3", "node": "#ffffff", "output": "#d9ead3"}
EDGE_COLOURS = {"op": "#1f3b73", "concat": "#8c8c8c"}
REPEAT_BEND = 100.0  # bend between the curves of a NASNet node's two edges from one input


class DrawingError(AutoDLError):
    """A cell or history cannot be drawn (unknown file type, malformed architecture or probabilities)."""


@dataclass
class _Node:
    key: str
    label: str
    x: float
    y: float
    kind: str  # input | node | output

    @property
    def half_width(self) -> float:
        return max(56.0, CHAR_PX * len(self.label) + 24) / 2


@dataclass
class _Edge:
    source: str
    target: str
    label: str
    bend: float = 0.0  # offset of the curve's control point from the chord, along the chord's normal
    kind: str = "op"  # op | concat
    label_t: float = 0.5  # where along the curve the label sits


@dataclass
class CellDrawing:
    """A laid-out cell graph, independent of the output format."""

    title: str
    nodes: list[_Node] = field(default_factory=list)
    edges: list[_Edge] = field(default_factory=list)


def layout_nb201(arch: ArchLike, title: str | None = None) -> CellDrawing:
    """Nodes 0 (input) to 3 (output) in a row; longer edges arc above or below; ``none`` edges are left out."""
    arch = as_arch(arch)
    drawing = CellDrawing(title if title is not None else "NAS-Bench-201 cell")
    last = NUM_NODES - 1
    for i in range(NUM_NODES):
        label = f"{i} (input)" if i == 0 else f"{i} (output)" if i == last else str(i)
        drawing.nodes.append(_Node(str(i), label, i * 260.0, 0.0,
                                   "input" if i == 0 else "output" if i == last else "node"))
    for (target, source), op in zip(EDGES, arch.to_ops()):
        if op == "none":
            continue
        sign = -1 if source % 2 == 0 else 1
        drawing.edges.append(_Edge(str(source), str(target), op, bend=sign * 70.0 * (target - source - 1)))
    return drawing


def state_name(state: int) -> str:
    """A NASNet cell's state as the drawings name it: the inputs ``c_{k-2}`` and ``c_{k-1}`` (states 0 and 1),
    then the nodes ``0, 1, ...`` (states 2, 3, ...)."""
    return ("c_{k-2}", "c_{k-1}")[state] if state < 2 else str(state - 2)


def cell_text(genotype: Genotype, reduction: bool = False) -> str:
    """One line for a cell of ``genotype``, named as its drawing: ``node = op(input) + op(input)`` per node,
    then the concatenated output."""
    nodes, concat = genotype.cell(reduction)
    parts = [f"{i} = " + " + ".join(f"{op}({state_name(source)})" for op, source in node) for i, node in enumerate(nodes)]
    return "; ".join(parts + [f"c_{{k}} = concat({', '.join(state_name(state) for state in concat)})"])


def arch_text(arch: Any) -> str:
    """An architecture for people: a Genotype as two lines (``normal cell: ...``, ``reduce cell: ...``, see
    :func:`cell_text`), anything else (an NB201 cell) as its string."""
    if isinstance(arch, Genotype):
        return "\n".join(f"{kind} cell: {cell_text(arch, kind == 'reduce')}" for kind in ("normal", "reduce"))
    return str(arch)


def edge_title(name: str) -> str:
    """A supernet edge name (``"1<-0"`` on NB201, ``"normal 1<-2"`` on the NASNet space, whose rows name a node
    and a *state*) as ``source -> target`` in the drawings' names (NASNet: ``normal: 0 -> 1``)."""
    kind, _, key = name.rpartition(" ")
    target, arrow, source = key.partition("<-")
    if not (arrow and target.isdigit() and source.isdigit()):
        return name
    if not kind:
        return f"{source} -> {target}"
    return f"{kind}: {state_name(int(source))} -> {target}"


def layout_nasnet(genotype: Genotype, reduction: bool = False, title: str | None = None) -> CellDrawing:
    """Inputs c_{k-2} (top) and c_{k-1} (bottom) on the left, nodes in a row, the concatenated output c_{k} right."""
    nodes, concat = genotype.cell(reduction)
    kind = "reduction" if reduction else "normal"
    drawing = CellDrawing(title if title is not None else f"{kind} cell")
    step_x, input_y = 230.0, 150.0
    drawing.nodes += [_Node("0", state_name(0), 0.0, -input_y, "input"), _Node("1", state_name(1), 0.0, input_y, "input")]
    for i in range(len(nodes)):
        drawing.nodes.append(_Node(str(i + 2), state_name(i + 2), (i + 1) * step_x, 0.0, "node"))
    drawing.nodes.append(_Node("out", "c_{k}", (len(nodes) + 1) * step_x, 0.0, "output"))
    for i, node in enumerate(nodes):
        target = i + 2
        count = Counter(source for _, source in node)
        seen: Counter = Counter()
        for op, source in node:
            # an input used twice by a node: its two curves part symmetrically, far enough for a label between
            spread = REPEAT_BEND * (seen[source] - (count[source] - 1) / 2)
            seen[source] += 1
            if source < 2:  # arcs away from the row of nodes, the wider the farther the node: no two coincide
                bend, label_t = (-1 if source == 0 else 1) * 35.0 * i + spread, 0.6
            else:
                distance = target - source
                bend, label_t = (0.0 if distance == 1 else -50.0 * distance) + spread, 0.5
            drawing.edges.append(_Edge(str(source), str(target), op, bend, label_t=label_t))
    for state in concat:
        span = len(nodes) + 2 - state
        drawing.edges.append(_Edge(str(state), "out", "", bend=40.0 * (span - 1), kind="concat"))
    return drawing


# ----------------------------------------------------------------------------------------- geometry

def _curve(start: tuple[float, float], end: tuple[float, float], bend: float, samples: int = 64) -> np.ndarray:
    (x0, y0), (x1, y1) = start, end
    length = math.hypot(x1 - x0, y1 - y0) or 1.0
    cx = (x0 + x1) / 2 - bend * (y1 - y0) / length
    cy = (y0 + y1) / 2 + bend * (x1 - x0) / length
    t = np.linspace(0.0, 1.0, samples)[:, None]
    return (1 - t) ** 2 * np.array([x0, y0]) + 2 * (1 - t) * t * np.array([cx, cy]) + t ** 2 * np.array([x1, y1])


def _inside(points: np.ndarray, node: _Node, pad: float = 3.0) -> np.ndarray:
    return ((np.abs(points[:, 0] - node.x) <= node.half_width + pad)
            & (np.abs(points[:, 1] - node.y) <= BOX_HEIGHT / 2 + pad))


@dataclass
class _Placed:
    edge: _Edge
    points: np.ndarray  # the visible part of the curve, from the source box to the target box
    label_at: tuple[float, float]


def _label_box(label: str, x: float, y: float) -> tuple[float, float, float, float]:
    half = CHAR_PX * len(label) / 2 + 4
    return x - half, y - FONT_PX * 0.75, x + half, y + FONT_PX * 0.75


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    return max(0.0, width) * max(0.0, height)


def _points_in(box: tuple[float, ...], points: np.ndarray) -> int:
    return int(((points[:, 0] >= box[0]) & (points[:, 0] <= box[2])
                & (points[:, 1] >= box[1]) & (points[:, 1] <= box[3])).sum())


def _visible(curve: np.ndarray, source: _Node, target: _Node) -> np.ndarray:
    """The part of ``curve`` outside its two boxes."""
    indices = np.flatnonzero(~_inside(curve, source) & ~_inside(curve, target))
    return curve[indices[0]:indices[-1] + 1] if len(indices) >= 2 else curve


def _free_spot(edge: _Edge, curve: np.ndarray, others: list[np.ndarray],
               taken: list[tuple[float, ...]]) -> tuple[tuple[float, int, float], tuple[float, float]]:
    """The point along ``curve`` for the label of ``edge`` and its cost: the least overlap with ``taken`` boxes
    (nodes, placed labels), then the fewest points of ``others`` (the other edges' lines) under it, then the
    nearest to ``edge.label_t``."""
    def cost(t: float) -> tuple[float, int, float]:
        box = _label_box(edge.label, *curve[int(round(t * (len(curve) - 1)))])
        return (sum(_overlap(box, other) for other in taken), sum(_points_in(box, line) for line in others),
                abs(t - edge.label_t))

    best = min(np.linspace(0.2, 0.8, 25), key=cost)
    spot = curve[int(round(best * (len(curve) - 1)))]
    return cost(best), (float(spot[0]), float(spot[1]))


BEND_STEPS = (0.0, 40.0, -40.0, 80.0, -80.0)
"""Changes of a labelled edge's bend tried, in this order, while its label has another line under it."""


def _place(drawing: CellDrawing) -> tuple[list[_Placed], tuple[float, float, float, float]]:
    """Clip every edge to its boxes, put every label where no other line runs under it (where possible: the
    edge's own bend first, then the bends of :data:`BEND_STEPS` whose line runs under no placed label), and
    compute the drawing's bounding box (x0, y0, x1, y1)."""
    nodes = {node.key: node for node in drawing.nodes}
    taken = [(n.x - n.half_width - 4, n.y - BOX_HEIGHT / 2 - 4, n.x + n.half_width + 4, n.y + BOX_HEIGHT / 2 + 4)
             for n in drawing.nodes]
    ends = [(nodes[edge.source], nodes[edge.target]) for edge in drawing.edges]
    curves = [_curve((a.x, a.y), (b.x, b.y), edge.bend) for edge, (a, b) in zip(drawing.edges, ends)]
    visible_parts = [_visible(curve, a, b) for curve, (a, b) in zip(curves, ends)]
    placed = []
    for k, edge in enumerate(drawing.edges):
        label_at = tuple(curves[k][int(round(edge.label_t * (len(curves[k]) - 1)))])
        if edge.label:
            labels = taken[len(drawing.nodes):]
            others = visible_parts[:k] + visible_parts[k + 1:]
            (a, b), best = ends[k], None
            for step in BEND_STEPS:
                curve = curves[k] if step == 0 else _curve((a.x, a.y), (b.x, b.y), edge.bend + step)
                part = visible_parts[k] if step == 0 else _visible(curve, a, b)
                if step and any(_points_in(box, part) for box in labels):
                    continue  # the new line would run under a label placed before
                cost, spot = _free_spot(edge, curve, others, taken)
                if best is None or cost < best[0]:
                    best = (cost, spot, curve, part)
                if best[0][1] == 0:  # no other line under the label
                    break
            _, label_at, curves[k], visible_parts[k] = best
            taken.append(_label_box(edge.label, *label_at))
        placed.append(_Placed(edge, visible_parts[k], label_at))
    xs = [n.x - n.half_width for n in drawing.nodes] + [n.x + n.half_width for n in drawing.nodes]
    ys = [n.y - BOX_HEIGHT for n in drawing.nodes] + [n.y + BOX_HEIGHT for n in drawing.nodes]
    for item in placed:
        xs += list(item.points[:, 0])
        ys += list(item.points[:, 1])
        half = CHAR_PX * len(item.edge.label) / 2 + 6
        xs += [item.label_at[0] - half, item.label_at[0] + half]
        ys += [item.label_at[1] - FONT_PX, item.label_at[1] + FONT_PX]
    top = min(ys) - MARGIN - 2 * FONT_PX  # room for the title
    return placed, (min(xs) - MARGIN, top, max(xs) + MARGIN, max(ys) + MARGIN)


# -------------------------------------------------------------------------------------------- SVG

def render_svg(drawing: CellDrawing) -> str:
    """The drawing as a standalone SVG document."""
    placed, (x0, y0, x1, y1) = _place(drawing)
    width, height = x1 - x0, y1 - y0
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
           f'viewBox="{x0:.1f} {y0:.1f} {width:.1f} {height:.1f}" font-family="Helvetica, Arial, sans-serif" '
           f'font-size="{FONT_PX}">',
           "<defs>"]
    for kind, colour in EDGE_COLOURS.items():
        out.append(f'<marker id="arrow-{kind}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" '
                   f'markerHeight="8" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>')
    out.append("</defs>")
    out.append(f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{width:.1f}" height="{height:.1f}" fill="white"/>')
    out.append(f'<text x="{(x0 + x1) / 2:.1f}" y="{y0 + MARGIN:.1f}" text-anchor="middle" font-weight="bold">'
               f"{escape(drawing.title)}</text>")
    for item in placed:
        colour = EDGE_COLOURS[item.edge.kind]
        path = " ".join(f"{'M' if k == 0 else 'L'}{x:.1f},{y:.1f}" for k, (x, y) in enumerate(item.points))
        dash = ' stroke-dasharray="6,4"' if item.edge.kind == "concat" else ""
        out.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="1.6"{dash} '
                   f'marker-end="url(#arrow-{item.edge.kind})"/>')
    for item in placed:
        if not item.edge.label:
            continue
        x, y = item.label_at
        half = CHAR_PX * len(item.edge.label) / 2 + 4
        out.append(f'<rect x="{x - half:.1f}" y="{y - FONT_PX * 0.75:.1f}" width="{2 * half:.1f}" '
                   f'height="{FONT_PX * 1.5:.1f}" fill="white" fill-opacity="0.9"/>')
        out.append(f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle" dominant-baseline="central" '
                   f'fill="{EDGE_COLOURS["op"]}">{escape(item.edge.label)}</text>')
    for node in drawing.nodes:
        out.append(f'<rect x="{node.x - node.half_width:.1f}" y="{node.y - BOX_HEIGHT / 2:.1f}" '
                   f'width="{2 * node.half_width:.1f}" height="{BOX_HEIGHT}" rx="6" '
                   f'fill="{NODE_COLOURS[node.kind]}" stroke="black" stroke-width="1.5"/>')
        out.append(f'<text x="{node.x:.1f}" y="{node.y:.1f}" text-anchor="middle" dominant-baseline="central">'
                   f"{escape(node.label)}</text>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


# -------------------------------------------------------------------------------------------- PNG

def _bgr(colour: str) -> tuple[int, int, int]:
    value = int(colour.lstrip("#"), 16)
    return value & 0xFF, (value >> 8) & 0xFF, (value >> 16) & 0xFF


def render_png(drawing: CellDrawing, scale: float = 1.5) -> np.ndarray:
    """The drawing as a BGR image (uint8), ``scale`` pixels per layout unit."""
    placed, (x0, y0, x1, y1) = _place(drawing)
    image = np.full((int(math.ceil((y1 - y0) * scale)), int(math.ceil((x1 - x0) * scale)), 3), 255, np.uint8)
    font, font_scale = cv2.FONT_HERSHEY_SIMPLEX, 0.5 * scale
    thickness = max(1, int(round(scale)))

    def pixel(x: float, y: float) -> tuple[int, int]:
        return int(round((x - x0) * scale)), int(round((y - y0) * scale))

    def text(label: str, x: float, y: float, colour: tuple[int, int, int], background: bool, weight: int = 1) -> None:
        (w, h), base = cv2.getTextSize(label, font, font_scale, weight)
        cx, cy = pixel(x, y)
        if background:
            cv2.rectangle(image, (cx - w // 2 - 3, cy - h // 2 - 4), (cx + w // 2 + 3, cy + h // 2 + base),
                          (255, 255, 255), -1)
        cv2.putText(image, label, (cx - w // 2, cy + h // 2), font, font_scale, colour, weight, cv2.LINE_AA)

    text(drawing.title, (x0 + x1) / 2, y0 + MARGIN - FONT_PX / 3, (0, 0, 0), False, thickness + 1)
    for item in placed:
        colour = _bgr(EDGE_COLOURS[item.edge.kind])
        points = np.array([pixel(x, y) for x, y in item.points], np.int32)
        if item.edge.kind == "concat":
            for k in range(0, len(points) - 1, 4):
                dash_end = points[min(k + 2, len(points) - 1)]
                cv2.line(image, tuple(points[k]), tuple(dash_end), colour, thickness, cv2.LINE_AA)
        else:
            cv2.polylines(image, [points], False, colour, thickness, cv2.LINE_AA)
        tip, back = points[-1].astype(float), points[max(0, len(points) - 4)].astype(float)
        direction = (tip - back) / (np.linalg.norm(tip - back) or 1.0)
        normal = np.array([-direction[1], direction[0]])
        size = 9 * scale
        triangle = np.array([tip, tip - size * direction + size * 0.45 * normal,
                             tip - size * direction - size * 0.45 * normal], np.int32)
        cv2.fillPoly(image, [triangle], colour, cv2.LINE_AA)
    for item in placed:
        if item.edge.label:
            text(item.edge.label, *item.label_at, _bgr(EDGE_COLOURS["op"]), True)
    for node in drawing.nodes:
        top_left = pixel(node.x - node.half_width, node.y - BOX_HEIGHT / 2)
        bottom_right = pixel(node.x + node.half_width, node.y + BOX_HEIGHT / 2)
        cv2.rectangle(image, top_left, bottom_right, _bgr(NODE_COLOURS[node.kind]), -1)
        cv2.rectangle(image, top_left, bottom_right, (0, 0, 0), thickness, cv2.LINE_AA)
        text(node.label, node.x, node.y, (0, 0, 0), False)
    return image


# ------------------------------------------------------------------------------------------ public

def layout_cell(arch: Any, cell: str = "normal", title: str | None = None) -> CellDrawing:
    """Lay out a Genotype's ``cell`` ("normal" or "reduce"), or an NB201 arch (string or object with that str())."""
    if isinstance(arch, Genotype):
        if cell not in ("normal", "reduce"):
            raise DrawingError(f"cell={cell!r} is invalid; expected 'normal' or 'reduce'")
        return layout_nasnet(arch, cell == "reduce", title)
    return layout_nb201(arch, title)


def draw_cell(arch: Any, path: str | os.PathLike, cell: str = "normal", title: str | None = None) -> Path:
    """Draw an NB201 arch or a Genotype's normal/reduce ``cell`` to ``path``; ``.svg`` or ``.png`` picks the format."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise DrawingError(f"cannot draw to {path.name!r}: unknown file type {suffix or '(none)'!r}; "
                           f"use a name ending in {' or '.join(FORMATS)}")
    drawing = layout_cell(arch, cell, title)
    if suffix == ".svg":
        atomic_write_text(path, render_svg(drawing))
    else:
        _write_png(path, render_png(drawing))
    return path


class SVGDrawing:
    """SVG text that notebooks display inline (``_repr_svg_``); ``str()`` gives the text."""

    def __init__(self, svg: str) -> None:
        self.svg = svg

    def _repr_svg_(self) -> str:
        return self.svg

    def __str__(self) -> str:
        return self.svg


def show(arch: Any, cell: str = "normal", title: str | None = None) -> SVGDrawing:
    """The drawing of ``arch`` (as :func:`draw_cell` takes it) for a notebook: the last line of a cell shows it."""
    return SVGDrawing(render_svg(layout_cell(arch, cell, title)))


def enable_notebook_display(shell: Any = None) -> bool:
    """Make IPython display every ``Arch`` and ``Genotype`` (its normal cell) as its SVG drawing.

    Runs when this module is imported; ``shell`` defaults to the running IPython shell.  Returns
    whether a shell was found (outside IPython nothing happens and IPython is not imported).
    """
    if shell is None:
        ipython = sys.modules.get("IPython")  # not imported: not inside IPython
        shell = getattr(ipython, "get_ipython", lambda: None)()
        if shell is None:
            return False
    formatter = shell.display_formatter.formatters["image/svg+xml"]
    formatter.for_type(Arch, lambda arch: render_svg(layout_nb201(arch)))
    formatter.for_type(Genotype, lambda genotype: render_svg(layout_nasnet(genotype)))
    return True


def _write_png(path: Path, image: np.ndarray) -> None:
    ok, encoded = cv2.imencode(".png", image)
    if not ok:
        raise DrawingError(f"OpenCV could not encode {path.name} as PNG; try a smaller drawing")

    def write(tmp: str) -> None:
        with open(tmp, "wb") as handle:
            handle.write(encoded.tobytes())

    atomic_write(path, write)


# ---------------------------------------------------------------------------- architecture history

# One colour per op (Tableau 10); more ops than colours get evenly spaced hues.
HISTORY_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                   "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
PANEL = (240, 150)  # plot area of one edge's panel, in pixels (width, height)
PANEL_PAD = (44, 26, 36, 16)  # room around a plot area: left (y ticks), top (edge name), bottom (x ticks, axis title), right


def op_colours(count: int) -> list[tuple[int, int, int]]:
    """``count`` distinct BGR colours, the ones ``draw_arch_history`` gives to the ops in order."""
    if count <= len(HISTORY_COLOURS):
        return [_bgr(colour) for colour in HISTORY_COLOURS[:count]]
    hues = np.array([[[int(180 * k / count), 200, 210] for k in range(count)]], np.uint8)
    return [tuple(int(c) for c in bgr) for bgr in cv2.cvtColor(hues, cv2.COLOR_HSV2BGR)[0]]


def _edge_op_names(op_names: Sequence[Any], edges: int) -> list[list[str]]:
    """The op names of each edge: ``op_names`` itself for every edge, or ``op_names[e]`` for edge ``e``."""
    if all(isinstance(name, str) for name in op_names):
        lists = [list(op_names)] * edges
    elif len(op_names) == edges and all(isinstance(ops, (list, tuple)) and all(isinstance(n, str) for n in ops)
                                        for ops in op_names):
        lists = [list(ops) for ops in op_names]
    else:
        raise DrawingError(f"op_names must be one list of op names shared by every edge or one list per edge "
                           f"({edges} edge names); got {len(op_names)} entries that are neither")
    if any(len(set(ops)) != len(ops) for ops in lists):
        raise DrawingError("an op name repeats within an edge's op names; name each op of an edge once")
    return lists


def _as_rows(probs: Any) -> list[np.ndarray] | None:
    """One epoch's probabilities as one float vector per edge (None: not a list of numeric vectors)."""
    try:
        rows = [np.asarray(row, dtype=np.float64) for row in probs]
    except (TypeError, ValueError):
        return None
    return rows if all(row.ndim == 1 for row in rows) else None


def _history_array(history: Sequence[Any], op_names: Sequence[Any],
                   edge_names: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """``history`` as an (epochs, edges, ops) float array over the legend's ops, NaN where an op is not
    one of the edge's, checked against the names; and the legend (every op name, first seen first)."""
    edge_ops = _edge_op_names(op_names, len(edge_names))
    widths = [len(ops) for ops in edge_ops]
    if len(history) == 0 or not widths or 0 in widths:
        raise DrawingError(f"nothing to draw: got {len(history)} epochs, {len(edge_names)} edge names and "
                           f"{min(widths, default=0)} op names; pass at least one epoch of an edges x ops array "
                           "and their names")
    if len(set(widths)) == 1:
        expected = f"({len(widths)}, {widths[0]}) ({len(widths)} edge names x {widths[0]} op names)"
    else:
        expected = f"rows of {', '.join(map(str, widths))} values (the op names of each edge)"
    legend = list(dict.fromkeys(name for ops in edge_ops for name in ops))
    present = np.zeros((len(widths), len(legend)), dtype=bool)
    for edge, ops in enumerate(edge_ops):
        present[edge, [legend.index(name) for name in ops]] = True
    values = np.full((len(history), *present.shape), np.nan)
    for epoch, probs in enumerate(history):
        rows = _as_rows(probs)
        if rows is None or [len(row) for row in rows] != widths:
            if rows is None:
                got = "a non-numeric array or one that is not edges x ops"
            elif len({len(row) for row in rows}) > 1:
                got = f"ragged rows of {', '.join(str(len(row)) for row in rows)} values"
            else:
                got = f"shape ({len(rows)}, {len(rows[0]) if rows else 0})"
            raise DrawingError(f"epoch {epoch} of the history has {got}, expected {expected}; "
                               "pass one edges x ops array of probabilities per epoch, matching the names")
        for edge, row in enumerate(rows):
            values[epoch, edge, present[edge]] = row
    given = values[:, present]
    if not np.isfinite(given).all() or given.min() < -1e-6 or given.max() > 1 + 1e-6:
        raise DrawingError("the history holds values outside [0, 1] (or NaN); "
                           "pass probabilities, e.g. the softmax of the architecture parameters")
    return np.clip(values, 0.0, 1.0), legend


@dataclass
class HistoryPanel:
    """One edge's chart: its title, axis titles, ticks (epochs counted from 1) and y-range, and one line per op
    of the edge (probability per epoch)."""

    title: str
    xlabel: str
    ylabel: str
    xticks: list[int]
    ylim: tuple[float, float]
    yticks: list[float]
    lines: dict[str, np.ndarray]


@dataclass
class HistoryFigure:
    """A laid-out architecture history, independent of the output format: the title, the legend (every op,
    in colour order), the number of epochs and one panel per edge."""

    title: str | None
    legend: list[str]
    epochs: int
    panels: list[HistoryPanel]


def _nice_step(span: float, most: int) -> float:
    """The smallest of 1, 2, 5 times a power of ten that divides ``span`` into at most ``most`` steps."""
    power = 10.0 ** math.floor(math.log10(span / most))
    return next(power * factor for factor in (1, 2, 5, 10) if span / (power * factor) <= most + 1e-9)


def epoch_ticks(epochs: int, most: int = 6) -> list[int]:
    """Epoch ticks (from 1): every epoch up to 8 epochs; otherwise 1, the multiples of a round step (at most
    ``most`` ticks) and the last epoch, each at least half a step from its neighbours."""
    if epochs <= 8:
        return list(range(1, epochs + 1))
    step = max(1, int(_nice_step(epochs - 1, most - 1)))
    ticks = [1] + [k for k in range(step, epochs + 1, step) if k - 1 >= step / 2]
    if epochs - ticks[-1] >= step / 2:
        ticks.append(epochs)
    return ticks


MIN_Y_SPAN = 0.02
"""The narrowest y-range of a history panel (flat lines near 1/ops still get a readable axis)."""


def probability_axis(values: np.ndarray, most: int = 4) -> tuple[tuple[float, float], list[float]]:
    """The y-range of a panel fitted to ``values`` (padded, at least ``MIN_Y_SPAN``, within [0, 1]) and its
    ticks at a round step."""
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    pad = max(0.08 * (high - low), (MIN_Y_SPAN - (high - low)) / 2, 0.0)
    low, high = max(0.0, low - pad), min(1.0, high + pad)
    if high - low < MIN_Y_SPAN - 1e-12:  # flat against 0 or 1
        low, high = (0.0, MIN_Y_SPAN) if low == 0.0 else (1.0 - MIN_Y_SPAN, 1.0)
    step = _nice_step(high - low, most)
    ticks = [round(k * step, 12) for k in range(math.ceil(low / step - 1e-9), math.floor(high / step + 1e-9) + 1)]
    return (low, high), ticks


def layout_arch_history(history: Sequence[Any], op_names: Sequence[Any], edge_names: Sequence[str],
                        title: str | None = None) -> HistoryFigure:
    """Lay out how a search's op probabilities evolved (see :func:`draw_arch_history` for the arguments): one
    panel per edge, titled ``edge_title(name)``, x = epoch, y = probability over the range of its own lines."""
    values, legend = _history_array(history, op_names, edge_names)
    epochs = values.shape[0]
    panels = []
    for edge, name in enumerate(edge_names):
        lines = {op: values[:, edge, k] for k, op in enumerate(legend) if not np.isnan(values[0, edge, k])}
        ylim, yticks = probability_axis(np.stack(list(lines.values())))
        panels.append(HistoryPanel(edge_title(str(name)), "epoch", "probability", epoch_ticks(epochs), ylim, yticks,
                                   lines))
    return HistoryFigure(title, legend, epochs, panels)


def _tick_text(value: float, step: float) -> str:
    return f"{value:.{max(0, -math.floor(math.log10(step) + 1e-9))}f}"


def render_history_png(figure: HistoryFigure) -> np.ndarray:
    """The history figure as a BGR image (uint8): panels in a grid under the title and the legend."""
    colours = dict(zip(figure.legend, op_colours(len(figure.legend))))
    font, small, grey = cv2.FONT_HERSHEY_SIMPLEX, 0.4, (110, 110, 110)
    (pw, ph), (left, top, bottom, right) = PANEL, PANEL_PAD
    cell_w, cell_h = left + pw + right, top + ph + bottom
    edges, epochs = len(figure.panels), figure.epochs
    columns = min(edges, max(3, math.ceil(math.sqrt(edges))))
    rows = math.ceil(edges / columns)
    # legend: a swatch and the op's name per entry, wrapped into lines as wide as the grid
    side = 10  # blank border left and right of the grid
    width = columns * cell_w + 2 * side
    entries = [(cv2.getTextSize(name, font, 0.5, 1)[0][0] + 34, name) for name in figure.legend]
    lines, line = [], []
    for entry in entries:
        if line and sum(w for w, _ in line) + entry[0] > width - 2 * side:
            lines.append(line)
            line = []
        line.append(entry)
    lines.append(line)
    head = (36 if figure.title else 10) + 22 * len(lines)
    image = np.full((head + rows * cell_h + 10, width, 3), 255, np.uint8)
    if figure.title:
        (tw, _), _ = cv2.getTextSize(figure.title, font, 0.7, 2)
        cv2.putText(image, figure.title, ((width - tw) // 2, 26), font, 0.7, (0, 0, 0), 2, cv2.LINE_AA)
    for number, line in enumerate(lines):
        x, y = (width - sum(w for w, _ in line)) // 2, head - 22 * (len(lines) - number) + 6
        for entry_width, name in line:
            cv2.rectangle(image, (x, y), (x + 22, y + 10), colours[name], -1)
            cv2.putText(image, name, (x + 28, y + 10), font, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
            x += entry_width

    def x_of(epoch: float) -> float:  # epochs from 1
        return x0 + (pw * (epoch - 1) / (epochs - 1) if epochs > 1 else pw / 2)

    for edge, panel in enumerate(figure.panels):
        x0 = side + (edge % columns) * cell_w + left
        y0 = head + (edge // columns) * cell_h + top
        high, span = panel.ylim[1], panel.ylim[1] - panel.ylim[0]
        cv2.putText(image, panel.title, (x0, y0 - 8), font, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
        ystep = panel.yticks[1] - panel.yticks[0] if len(panel.yticks) > 1 else span
        for level in panel.yticks:
            y = int(round(y0 + (high - level) / span * ph))
            cv2.line(image, (x0, y), (x0 + pw, y), (225, 225, 225), 1)
            label = _tick_text(level, ystep)
            (lw, _), _ = cv2.getTextSize(label, font, small, 1)
            cv2.putText(image, label, (x0 - lw - 4, y + 4), font, small, grey, 1, cv2.LINE_AA)
        cv2.rectangle(image, (x0, y0), (x0 + pw, y0 + ph), grey, 1)
        for epoch in panel.xticks:
            x = int(round(x_of(epoch)))
            label = str(epoch)
            cv2.line(image, (x, y0 + ph), (x, y0 + ph + 3), grey, 1)
            cv2.putText(image, label, (x - 4 * len(label), y0 + ph + 15), font, small, grey, 1, cv2.LINE_AA)
        (xw, _), _ = cv2.getTextSize(panel.xlabel, font, small, 1)
        cv2.putText(image, panel.xlabel, (x0 + pw - xw, y0 + ph + 28), font, small, (0, 0, 0), 1, cv2.LINE_AA)
        (yw, _), _ = cv2.getTextSize(panel.ylabel, font, small, 1)
        cv2.putText(image, panel.ylabel, (x0 + pw - yw - 2, y0 - 8), font, small, grey, 1, cv2.LINE_AA)
        xs = np.array([x_of(epoch) for epoch in range(1, epochs + 1)])
        for op, values in panel.lines.items():
            points = np.stack([xs, y0 + (high - values) / span * ph], axis=1).round().astype(np.int32)
            if epochs > 1:
                cv2.polylines(image, [points], False, colours[op], 2, cv2.LINE_AA)
            if epochs <= 30:  # markers while the epochs are few enough to tell apart
                for point in points:
                    cv2.circle(image, tuple(int(v) for v in point), 3, colours[op], -1, cv2.LINE_AA)
    return image


def draw_arch_history(history: Sequence[Any], path: str | os.PathLike, op_names: Sequence[Any],
                      edge_names: Sequence[str], title: str | None = None) -> Path:
    """Plot how a search's op probabilities evolved: one panel per edge (titled from ``edge_names``, see
    :func:`edge_title`), one line per op (a colour each, named in a shared legend), x = epoch (from 1),
    y = probability over the range of the panel's lines; writes a PNG (:func:`layout_arch_history` gives the
    figure's titles, ticks and ranges without drawing it).

    ``op_names`` names the ops of every edge, or gives one list per edge where the edges' ops differ
    (NASP(12ops): normal and reduction cells); ``history[epoch]`` holds one row of probabilities per
    edge over its ops (rows sum to 1), for example the softmax of the arch parameters.
    """
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise DrawingError(f"cannot draw the history to {path.name!r}: expected a .png file; "
                           "use a name ending in .png")
    _write_png(path, render_history_png(layout_arch_history(history, op_names, edge_names, title)))
    return path


enable_notebook_display()
