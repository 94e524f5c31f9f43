"""What the callouts beside the graph say and where they go: the badge at the current node, the error
banner and a node's tooltip."""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtCore import QPointF, QRectF

from gradviz.core.i18n import t
from gradviz.core.replay import EdgeKey, Frame, edge_key
from gradviz.core.result import (
    ACCUMULATE,
    LEAF,
    OP,
    PARAM,
    ROOT,
    BackwardCall,
    BackwardStep,
    ErrorInfo,
    GraphData,
    GraphNode,
    Incoming,
    TensorValue,
)
from gradviz.ui.canvas.items import BadgeRow
from gradviz.ui.canvas.made_by import SIGN, made_text
from gradviz.ui.numbers import compact_value, format_shape, split_op

#: How far the error banner stands off the root's box (or the graph's top without a root).
BANNER_GAP = 18


def badge_content(graph: GraphData, frame: Frame, call: BackwardCall | None,
                  parallel: Mapping[EdgeKey, object]) -> tuple[str, tuple[BadgeRow, ...]] | None:
    """Title and rows of the badge of ``frame``'s current node, or None when it needs none.

    An AccumulateGrad node shows ``.grad`` before + incoming = after; any other node receiving
    more than one gradient shows the fan-in sum. ``call`` gives the step's own record (``.grad``
    before and the sum the engine really computed); ``parallel`` holds the repeated edges, whose
    rows name their input index.
    """
    nid = frame.current
    node = graph.by_id.get(nid)
    if node is None:
        return None
    step = call.steps[frame.step - 1] if call is not None and 0 < frame.step <= len(call.steps) else None
    if step is not None and step.node_id != nid:
        step = None
    incoming = list(frame.incoming)

    captions = source_captions(graph, incoming, parallel)

    def source(inc: Incoming) -> str:
        return captions[edge_key(inc.edge)]

    if node.kind == ACCUMULATE:
        return _accumulate_badge(graph, frame, step, incoming, source)
    if len(incoming) > 1:
        rows = [BadgeRow("" if i == 0 else "+", source(inc), compact_value(inc.value))
                for i, inc in enumerate(incoming)]
        total = step.grad_in[0] if step is not None and step.grad_in else add_values([i.value for i in incoming])
        rows.append(BadgeRow("=", t("summed"), compact_value(total) if total is not None else "?"))
        return "\u03a3  " + t("fan-in: {count} gradients summed", count=len(incoming)), tuple(rows)
    return None


def source_captions(graph: GraphData, incoming: list[Incoming],
                    parallel: Mapping[EdgeKey, object]) -> dict[EdgeKey, str]:
    """The caption of each incoming gradient's row: "from Mul terms[3] · line 3".

    The op alone ("from Mul" ten times) cannot tell two sources apart: the source node's variable
    name and line do. A repeated edge (torch.dot(x, x)) names which input it is; rows still alike
    (one unnamed op on one line, in a loop) are numbered in the order they came.
    """
    out: dict[EdgeKey, str] = {}
    for inc in incoming:
        src = graph.by_id.get(inc.edge.src)
        if src is None:
            text = t("from {source}", source=inc.edge.src)
        else:
            text = t("from {source}", source=split_op(src.op)[0] + (" " + src.names[0] if src.names else ""))
            if src.line is not None:
                text += " \u00b7 " + t("line {line}", line=src.line)
        key = edge_key(inc.edge)
        out[key] = f"{text} #{inc.edge.index}" if key in parallel else text
    seen: dict[str, int] = {}
    for text in out.values():
        seen[text] = seen.get(text, 0) + 1
    count: dict[str, int] = {}
    for key, text in out.items():
        if seen[text] > 1:
            count[text] = count.get(text, 0) + 1
            out[key] = f"{text} ({count[text]})"
    return out


def _accumulate_badge(graph: GraphData, frame: Frame, step: BackwardStep | None, incoming: list[Incoming],
                      source) -> tuple[str, tuple[BadgeRow, ...]]:
    """An AccumulateGrad's badge: its leaf's ``.grad`` before, what came in (each term of a fan-in), after."""
    nid = frame.current
    leaf_id = next((e.dst for e in graph.out_edges.get(nid, ())), None)
    leaf = graph.by_id.get(leaf_id)
    name = leaf.names[0] if leaf is not None and leaf.names else t("leaf")
    after = frame.leaf_grads.get(leaf_id) if leaf_id else None
    if step is not None and step.leaf_after is not None:
        after = step.leaf_after
    # Without the call, .grad before is the leaf's .grad in the call's graph, which was
    # captured as the call started (an AccumulateGrad node runs once per call).
    before = step.leaf_before if step is not None else (leaf.grad if leaf is not None else None)
    rows = [BadgeRow("", t(".grad before"), compact_value(before))]
    if len(incoming) > 1:
        for inc in incoming:
            rows.append(BadgeRow("+", source(inc), compact_value(inc.value)))
    else:
        if step is not None and step.grad_in:
            value = step.grad_in[0]
        elif incoming:
            value = incoming[0].value
        else:  # straight from the root (x.backward() on a leaf's own graph)
            value = next((frame.edge_grads[edge_key(e)] for e in graph.in_edges.get(nid, ())
                          if edge_key(e) in frame.edge_grads), None)
        rows.append(BadgeRow("+", t("incoming"), compact_value(value)))
    rows.append(BadgeRow("=", t(".grad after"), compact_value(after)))
    title = f"{name}.grad \u2190 AccumulateGrad" + (" \u00b7 \u03a3 " + t("fan-in") if len(incoming) > 1 else "")
    return title, tuple(rows)



def add_values(values: list[TensorValue | None]) -> TensorValue | None:
    """Elementwise sum of full values of one shape (None counts as zero); None when unknown.

    A fan-in badge's total when the step did not record the sum the engine computed.
    """
    present = [v for v in values if v is not None]
    if not present or any(v.data is None for v in present):
        return None
    shape = present[0].shape
    if any(v.shape != shape for v in present):
        return None
    total = [sum(col) for col in zip(*(v.flat() for v in present), strict=False)]

    def rebuild(dims: tuple[int, ...], flat: list[float]) -> Any:
        if not dims:
            return flat[0]
        step = len(flat) // dims[0] if dims[0] else 0
        return [rebuild(dims[1:], flat[i * step:(i + 1) * step]) for i in range(dims[0])]

    return TensorValue(shape, present[0].dtype, rebuild(shape, total) if shape else total[0])


def badge_side(box: QRectF, bounds: QRectF) -> int:
    """Which side of the node ``box`` the badge goes: the one with more room inside the graph's
    ``bounds`` (1: right, also when equal; -1: left)."""
    return 1 if bounds.right() - box.right() >= box.left() - bounds.left() - 1 else -1


#: What a callout covering each thing costs: a node box or a label hides what the lesson is
#: about; an edge under the card only hides a stretch of line.
COVER_NODE, COVER_LABEL, COVER_EDGE = 1000.0, 400.0, 20.0


class Obstacles:
    """The plan's node boxes and edges in horizontal bands, to find those near a callout fast.

    A 5,000-node graph has a callout on most steps: looking through every box and edge each
    step doubled a step's time; a band holds a few dozen.
    """

    BAND = 200.0

    def __init__(self, node_rects: Mapping[str, QRectF], edges: list[Any]):
        self.nodes: dict[int, list[QRectF]] = defaultdict(list)
        self.edges: dict[int, list[Any]] = defaultdict(list)
        for table, things in ((self.nodes, [(r, r) for r in node_rects.values()]),
                              (self.edges, [(g.rect, g) for g in edges])):
            for rect, thing in things:
                for band in range(int(rect.top() // self.BAND), int(rect.bottom() // self.BAND) + 1):
                    table[band].append(thing)

    def near(self, region: QRectF) -> tuple[list[QRectF], list[Any]]:
        """The node boxes and the edges (EdgeGeometry) whose rects meet ``region``, each once."""
        bands = range(int(region.top() // self.BAND), int(region.bottom() // self.BAND) + 1)
        nodes = {id(r): r for b in bands for r in self.nodes.get(b, ()) if r.intersects(region)}
        edges = {id(g): g for b in bands for g in self.edges.get(b, ()) if g.rect.intersects(region)}
        return list(nodes.values()), list(edges.values())


def badge_place(card: QRectF, box: QRectF, side: int, obstacles: Obstacles,
                labels: Callable[[QRectF], list[QRectF]]) -> tuple[int, tuple[float, float]]:
    """Where a callout of ``card``'s size goes beside the node ``box``: (side, (away, down)).

    ``card`` is the callout placed plainly on ``side`` (level with the node, 16 px off it).
    Candidates: either side, slid up or down as far as its pointer still meets the card, and
    moved farther out; the one covering least wins (node boxes worst, then labels, then edges,
    then the distance from the plain place). The
    candidates and their order are fixed, so a render is the same bytes every time.
    ``obstacles`` (the plan's boxes and edges) and ``labels`` (region -> the rects of the labels
    and tags shown near it) are what must stay visible.
    """
    w, h = card.width(), card.height()
    gap = card.left() - box.right() if side > 0 else box.left() - card.right()
    scale = gap / 16.0  # the font scale: the plain gap is 16 px
    slide = max(0.0, h / 2 - 12.0 * scale)  # the pointer still meets the card
    downs = [0.0]
    for k in (1, 2, 3, 4):
        downs.extend((slide * k / 4, -slide * k / 4))
    aways = tuple(a * scale for a in (0.0, 40.0, 100.0, 180.0))
    reach = aways[-1] + gap + w
    region = box.adjusted(-reach, -h, reach, h)
    near_nodes, near_edges = obstacles.near(region)
    near_nodes = [r for r in near_nodes if r != box]
    near_labels = [r for r in labels(region) if r.intersects(region)]
    top = box.center().y() - h / 2
    best: tuple[float, int, tuple[float, float]] | None = None
    for away in aways:
        for s in (side, -side):
            x = box.right() + gap + away if s > 0 else box.left() - gap - away - w
            for down in downs:
                rect = QRectF(x, top + down, w, h)
                # Nearer wins among equals; moving 100 px out is worth uncovering one edge.
                cost = _cover(rect, box, s, near_nodes, near_labels, near_edges) + away / 8 + abs(down) / 100
                if cost == 0.0:
                    return s, (away, down)
                if best is None or cost < best[0]:
                    best = (cost, s, (away, down))
    assert best is not None
    return best[1], best[2]


def _cover(rect: QRectF, box: QRectF, side: int, nodes: list[QRectF], labels: list[QRectF],
           edges: list[Any]) -> float:
    """What the callout ``rect`` pointing at ``box`` from ``side`` hides (see badge_place)."""
    room = rect.adjusted(-4, -4, 4, 4)
    # The pointer's stretch between the node and the card hides what it crosses too.
    x0, x1 = (box.right(), rect.left()) if side > 0 else (rect.right(), box.left())
    stem = QRectF(x0, box.center().y() - 7, max(0.0, x1 - x0), 14)
    cost = 0.0
    for r in nodes:
        if r.intersects(room) or (stem.width() > 20 and r.intersects(stem)):
            cost += COVER_NODE
    for r in labels:
        if r.intersects(room):
            cost += COVER_LABEL
    for g in edges:
        if g.rect.intersects(room) and g.curve.intersects(room):
            cost += COVER_EDGE
    return cost


def banner_anchor(roots: list[str], node_rects: Mapping[str, QRectF], bounds: QRectF) -> tuple[QPointF, bool]:
    """Where the error banner points and whether it stands above that point (else below).

    At the first root placed: above it when it is in the upper half of the graph's ``bounds``,
    else below; without a root, above the middle of the graph's top.
    """
    box = next((node_rects[r] for r in roots if r in node_rects), None)
    if box is None:
        return QPointF(bounds.center().x(), bounds.top() - BANNER_GAP), True
    above = box.center().y() <= bounds.center().y()
    return QPointF(box.center().x(), box.top() - BANNER_GAP if above else box.bottom() + BANNER_GAP), above


def banner_title(error: ErrorInfo) -> str:
    """The banner's first line: the exception's type and the line it came from."""
    return error.type + (" (" + t("line {line}", line=error.line) + ")" if error.line else "")


def node_tooltip(node: GraphNode, freed: frozenset[str] = frozenset()) -> str:
    """Rich text describing a node: full op, shape, dtype, names, line, saved tensors (struck out
    when ``freed`` or freed by the call), attributes, hooks, small values and ``.grad``."""
    kind_words = {ROOT: t("root tensor"), OP: t("grad_fn node"), ACCUMULATE: t("AccumulateGrad (writes .grad)"),
                  LEAF: t("leaf tensor"), PARAM: t("parameter")}
    esc = html.escape
    lines = [f"<b>{esc(node.op)}</b> <span style='color:gray'>{kind_words.get(node.kind, node.kind)}</span>"]
    if node.shape is not None:
        lines.append(t("shape {shape}", shape=esc(format_shape(node.shape)))
                     + (f" · {esc(node.dtype)}" if node.dtype else ""))
    if node.names:
        lines.append(t("names: {names}", names=esc(", ".join(node.names))))
    if node.line is not None:
        lines.append(t("line {line}", line=node.line))
    if node.saved:
        parts = []
        for s in node.saved:
            shape = format_shape(s.shape, unknown="")
            text = f"{esc(s.name)} {esc(shape)} {esc(s.dtype)}"
            parts.append(f"<s>{text}</s> " + t("(freed)") if s.freed or s.name in freed else text)
        lines.append(t("saved: {tensors}", tensors="; ".join(parts)))
    if node.attrs:
        lines.append(esc(", ".join(f"{k}={v}" for k, v in node.attrs)))
    lines.extend(esc(h.text) for h in node.hooks)
    if node.value is not None and node.value.data is not None and node.value.numel <= 6:
        lines.append(t("value {value}", value=esc(compact_value(node.value))))
    if node.grad is not None:
        lines.append(".grad " + esc(compact_value(node.grad)))
    if node.made_by is not None:
        lines.append(f"<b>{SIGN}</b> " + esc(made_text(node.made_by)))
    return "<br>".join(lines)
