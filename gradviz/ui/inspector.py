"""The inspector: everything about the selected node at the current animation step, and its rule."""

from __future__ import annotations

import html

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QUrl, Signal
from PySide6.QtWidgets import QTextBrowser, QVBoxLayout, QWidget

from gradviz.core.replay import Frame
from gradviz.core.result import (
    ACCUMULATE,
    LEAF,
    OP,
    PARAM,
    ROOT,
    BackwardCall,
    GraphData,
    GraphNode,
    MadeBy,
    SavedRef,
)
from gradviz.core.rules import UPSTREAM, rule_for
from gradviz.ui.canvas.made_by import SIGN, made_text
from gradviz.ui.numbers import format_block, format_shape, format_value

translate = QCoreApplication.translate  # pyside6-lupdate reads translate("Context", "literal")

#: What each kind of node is (English; shown through translate("Inspector", ...)).
KIND_TEXT = {
    ROOT: QT_TRANSLATE_NOOP("Inspector", "root tensor (where backward starts)"),
    OP: QT_TRANSLATE_NOOP("Inspector", "operation (grad_fn)"),
    ACCUMULATE: QT_TRANSLATE_NOOP("Inspector", "AccumulateGrad (writes .grad)"),
    LEAF: QT_TRANSLATE_NOOP("Inspector", "leaf tensor"),
    PARAM: QT_TRANSLATE_NOOP("Inspector", "parameter"),
}

COLORS = {
    "light": {"text": "#1f2328", "muted": "#6e7781", "faded": "#aeb6bf", "accent": "#0969da", "good": "#1a7f37",
              "bad": "#cf222e", "code_bg": "#f6f8fa", "rule": "#8250df", "border": "#d0d7de", "badge": "#ddf4ff"},
    "dark": {"text": "#d7dae0", "muted": "#8b949e", "faded": "#5c6370", "accent": "#58a6ff", "good": "#3fb950",
             "bad": "#ff7b72", "code_bg": "#262a31", "rule": "#d2a8ff", "border": "#3b4048", "badge": "#1f3a5f"},
}


class Inspector(QWidget):
    """Details of one graph node: op, shape, dtype, names, line, saved tensors, gradients, rule.

    Signals
    -------
    line_clicked(int)
        The source line link was clicked.
    origin_clicked(int, str)
        The origin of a node a backward pass made was clicked: the index of the backward call
        that made it and the id of its node of origin in that call's graph ("" when unknown).
    """

    line_clicked = Signal(int)
    origin_clicked = Signal(int, str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("inspector")
        self._theme = "light"
        self._font_scale = 1.0
        self._graph: GraphData | None = None
        self._call: BackwardCall | None = None
        self._frame: Frame | None = None
        self._node_id: str | None = None
        self._html: str | None = None  # what the browser shows (unchanged text is not set again)
        self._style: str | None = None
        # Per backward call: where each node ran and what reached it (a step of a 5,000-node
        # pass must not scan every step again).
        self._steps_call: BackwardCall | None = None
        self._steps: dict[str, tuple[int, object]] = {}
        self._incoming: dict[str, list] = {}
        self.browser = QTextBrowser(self)
        self.browser.setObjectName("inspectorText")
        self.browser.setOpenLinks(False)
        self.browser.anchorClicked.connect(self._anchor)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.browser)
        self._render()

    @property
    def node_id(self) -> str | None:
        return self._node_id

    def text(self) -> str:
        """What the inspector shows, as plain text (for tests)."""
        return self.browser.toPlainText()

    def set_theme(self, theme: str) -> None:
        self._theme = theme if theme in COLORS else "light"
        self._render()

    def set_font_scale(self, scale: float) -> None:
        self._font_scale = scale
        self._render()

    def set_graph(self, graph: GraphData | None, call: BackwardCall | None = None) -> None:
        """The graph on the canvas and the backward call being replayed (None if none)."""
        self._graph = graph
        self._call = call
        if graph is None or self._node_id not in graph.by_id:
            self._node_id = None
        self._render()

    def set_frame(self, frame: Frame | None) -> None:
        self._frame = frame
        self._render()

    def set_call(self, call: BackwardCall | None) -> None:
        self._call = call
        self._render()

    def show_node(self, node_id: str | None) -> None:
        self._node_id = node_id if (self._graph is not None and node_id in self._graph.by_id) else None
        self._render()

    def set_state(self, call: BackwardCall | None, frame: Frame | None, node_id: str | None) -> None:
        """``set_call``, ``set_frame`` and ``show_node`` at once, rendered once (one animation step)."""
        self._call = call
        self._frame = frame
        self._node_id = node_id if (self._graph is not None and node_id in self._graph.by_id) else None
        self._render()

    def _anchor(self, url: QUrl) -> None:
        if url.scheme() == "origin":
            call, _, node = (url.path() or url.toString().split(":", 1)[1]).partition("/")
            if call.isdigit():
                self.origin_clicked.emit(int(call), node)
            return
        if url.scheme() == "line":
            try:
                self.line_clicked.emit(int(url.path() or url.toString().split(":", 1)[1]))
            except ValueError:
                pass

    # -- rendering -----------------------------------------------------------------------------

    def _render(self) -> None:
        c = COLORS[self._theme]
        size = 10 * self._font_scale
        style = (
            f"<style>body {{ color: {c['text']}; font-size: {size:.1f}pt; }}"
            f" h2 {{ margin: 0 0 2px 0; font-size: {size * 1.35:.1f}pt; }}"
            f" h3 {{ margin: 12px 0 4px 0; font-size: {size * 0.92:.1f}pt; color: {c['muted']};"
            f" text-transform: uppercase; letter-spacing: 1px; }}"
            f" .muted {{ color: {c['muted']}; }} .faded {{ color: {c['faded']}; }}"
            f" .accent {{ color: {c['accent']}; }} .good {{ color: {c['good']}; }} .bad {{ color: {c['bad']}; }}"
            f" pre, .mono {{ font-family: monospace; }}"
            f" pre {{ background: {c['code_bg']}; margin: 2px 0; padding: 6px; white-space: pre-wrap; }}"
            f" .rule {{ color: {c['rule']}; font-family: monospace; font-size: {size * 1.05:.1f}pt; }}"
            f" td {{ padding: 1px 8px 1px 0; vertical-align: top; }}"
            f" a {{ color: {c['accent']}; text-decoration: none; }}</style>"
        )
        # Blocks wrap (pre-wrap): a narrow dock cut the ends of the step's lines off, with no scroll bar.
        style = style.removeprefix("<style>").removesuffix("</style>")
        body = self._body()
        if style == self._style and body == self._html:
            return  # setHtml costs milliseconds; an animation step often leaves the text as it was
        self._style, self._html = style, body
        self.browser.document().setDefaultStyleSheet(style)
        self.browser.setHtml(body)

    def _body(self) -> str:
        if self._graph is None or not self._graph.nodes:
            return "<p class='muted'>{}</p>".format(html.escape(
                translate("Inspector", "Run a program, then click a node of the graph to inspect it.")))
        if self._node_id is None:
            return "<p class='muted'>{}</p>".format(html.escape(translate(
                "Inspector", "Click a node of the graph to see its op, shape, saved tensors, the gradients "
                "flowing through it at the current step, and its derivative rule.")))
        node = self._graph.node(self._node_id)
        parts = [self._header(node), self._facts(node)]
        if node.made_by is not None:
            parts.append(self._made_by(node.made_by))
        parts.append(self._gradients(node))
        if node.saved or node.attrs:
            parts.append(self._saved(node))
        if node.hooks:
            parts.append(self._hooks(node))
        parts.append(self._rule(node))
        return "".join(p for p in parts if p)

    def _header(self, node: GraphNode) -> str:
        title = node.op if node.kind in (OP, ACCUMULATE) else (", ".join(node.names) or node.op)
        sub = html.escape(translate("Inspector", KIND_TEXT[node.kind]) if node.kind in KIND_TEXT else node.kind)
        if node.kind in (OP, ACCUMULATE) and node.names:
            sub += " · " + html.escape(translate("Inspector", "output held by {names}")).format(
                names=f"<b>{html.escape(', '.join(node.names))}</b>")
        elif node.kind in (ROOT, LEAF, PARAM) and node.op and node.op != "Tensor":
            sub += f" · {html.escape(node.op)}"
        return f"<h2>{html.escape(title)}</h2><div class='muted'>{sub}</div>"

    def _facts(self, node: GraphNode) -> str:
        rows = [("shape", format_shape(node.shape)), ("dtype", node.dtype or "?")]
        if node.names:
            rows.append(("names", ", ".join(node.names)))
        if node.line is not None:
            link = html.escape(translate("Inspector", "line {line}").format(line=node.line))
            rows.append(("line", f"<a href='line:{node.line}'>{link}</a>"))
        if node.sequence_nr is not None:
            rows.append(("sequence_nr", str(node.sequence_nr)))
        if node.value is not None and node.kind in (ROOT, LEAF, PARAM):
            rows.append(("value", f"<span class='mono'>{html.escape(format_value(node.value, 60))}</span>"))
        words = {"shape": translate("Inspector", "shape"), "names": translate("Inspector", "names"),
                 "line": translate("Inspector", "line"), "value": translate("Inspector", "value")}
        cells = "".join(
            f"<tr><td class='muted'>{html.escape(words.get(k, k))}</td>"
            f"<td>{v if k in ('line', 'value') else html.escape(v)}</td></tr>"
            for k, v in rows
        )
        title = translate("Inspector",
                          "Tensor") if node.kind in (ROOT, LEAF, PARAM) else translate("Inspector", "Output")
        return f"<h3>{title}</h3><table>{cells}</table>"

    def _made_by(self, made: MadeBy) -> str:
        """Where a node a backward pass made comes from, with a link that shows it."""
        title = self.tr("Made by a backward pass")
        text = html.escape(made_text(made))
        link = f"<a href='origin:{made.call}/{html.escape(made.node or '')}'>{text}</a>"
        note = self.tr("create_graph=True: the backward pass built this node while it ran its origin, so "
                       "the gradient has a graph of its own and can be differentiated again.")
        return f"<h3>{html.escape(title)}</h3><p><b>{SIGN}</b> {link}</p><p class='muted'>{html.escape(note)}</p>"

    def _step_of(self, node_id: str):
        call = self._call
        if call is None:
            return None, None
        if call is not self._steps_call:
            self._steps_call = call
            self._steps = {}
            self._incoming = {}
            for i, st in enumerate(call.steps):
                self._steps.setdefault(st.node_id, (i, st))
        return self._steps.get(node_id, (None, None))

    def _incoming_of(self, node_id: str, index: int) -> list:
        self._step_of(node_id)  # makes sure the caches belong to this call
        found = self._incoming.get(node_id)
        if found is None:
            found = self._incoming[node_id] = self._call.incoming(node_id, index)
        return found

    def _gradients(self, node: GraphNode) -> str:
        call, frame = self._call, self._frame
        if call is None:
            if node.grad is not None:
                return f"<h3>.grad</h3><pre>{html.escape(format_block(node.grad))}</pre>"
            return "<h3>{}</h3><p class='muted'>{}</p>".format(
                html.escape(translate("Inspector", "Gradient")),
                html.escape(translate("Inspector", "No backward call has run through this graph.")))
        if node.id not in call.graph.by_id:
            return "<h3>{}</h3><p class='muted'>{}</p>".format(html.escape(translate("Inspector", "Gradient")),
                                                               html.escape(
                translate("Inspector", "This node is not part of the graph of the backward call being replayed "
                          "(call {call}, line {line}).").format(call=call.index + 1, line=call.line)))
        step = frame.step if frame is not None else len(call.steps)
        index, st = self._step_of(node.id)
        head = "<h3>{}</h3>".format(html.escape(
            translate("Inspector", "Gradient · step {step} of {steps}").format(step=step, steps=len(call.steps))))
        if node.kind in (LEAF, PARAM):
            value = frame.leaf_grads.get(node.id) if frame is not None else None
            if frame is None or node.id not in frame.leaf_grads:
                lg = next((lg for lg in call.leaves if lg.node_id == node.id), None)
                value = lg.after if lg else node.grad
            now = html.escape(translate("Inspector", ".grad now"))
            return head + f"<div class='muted'>{now}</div><pre>{html.escape(format_block(value))}</pre>"
        if node.kind == ROOT and index is None:
            seed = None
            for e in call.graph.out_edges.get(node.id, ()):
                _i, child = self._step_of(e.dst)
                if child is not None and child.grad_in:
                    seed = child.grad_in[0]
            text = format_block(seed) if seed is not None else "1"
            starts = html.escape(translate("Inspector", "backward starts here with ∂L/∂{name} =").format(
                name=node.label))
            return head + f"<div class='muted'>{starts}</div><pre>{html.escape(text)}</pre>"
        if st is None:
            return head + "<p class='muted'>{}</p>".format(html.escape(translate(
                "Inspector", "The engine did not run this node in this call (no gradient reached it).")))
        if step <= index:
            return head + "<p class='muted'>{}</p>".format(html.escape(translate(
                "Inspector", "Not run yet: the engine runs it at step {step}.").format(step=index + 1)))
        current = frame is not None and frame.current == node.id
        parts = [head]
        if current:
            parts.append("<p class='accent'><b>{}</b></p>".format(html.escape(translate("Inspector", "▶ running now"))))
        # What came in: one contribution per consumer edge; several are summed (fan-in).
        incoming = self._incoming_of(node.id, index)
        if len(incoming) > 1:
            terms = " + ".join(html.escape(format_value(i.value, 40)) for i in incoming)
            fan_in = html.escape(translate("Inspector", "fan-in: {count} gradients arrive and are summed").format(
                count=len(incoming)))
            parts.append(f"<div class='muted'>{fan_in}</div><pre>{terms}</pre>")
        grad_in = st.grad_in[0] if len(st.grad_in) == 1 else None
        if len(st.grad_in) == 1:
            gradient_in = html.escape(translate("Inspector", "gradient in (∂L/∂output)"))
            parts.append(f"<div class='muted'>{gradient_in}</div>"
                         + f"<pre>{html.escape(format_block(grad_in))}</pre>")
        elif st.grad_in:
            lines = "\n".join(f"[{k}] {format_value(v, 60)}" for k, v in enumerate(st.grad_in))
            parts.append("<div class='muted'>{}</div>".format(html.escape(translate("Inspector", "gradients in")))
                         + f"<pre>{html.escape(lines)}</pre>")
        if node.kind == ACCUMULATE:
            before = format_value(st.leaf_before, 50)
            after = format_value(st.leaf_after, 50)
            summed = format_value(st.grad_in[0] if st.grad_in else None, 50)
            parts.append(
                "<div class='muted'>{}</div>".format(html.escape(translate("Inspector",
                                                                           ".grad before + incoming = after")))
                + f"<pre>{html.escape(before)}\n+ {html.escape(summed)}\n= {html.escape(after)}</pre>"
            )
            return "".join(parts)
        outs = []
        for e in call.graph.out_edges.get(node.id, ()):
            value = st.grad_out[e.index] if e.index < len(st.grad_out) else None
            dst = call.graph.by_id.get(e.dst)
            target = dst.label if dst else e.dst
            if dst is not None and dst.kind == ACCUMULATE:
                leaf = next((call.graph.by_id.get(x.dst) for x in call.graph.out_edges.get(dst.id, ())), None)
                target = f"{leaf.label}.grad" if leaf else target
            outs.append(translate("Inspector", "→ {target} [input {index}]: {value}").format(
                target=target, index=e.index, value=format_value(value, 60)))
        if outs:
            parts.append("<div class='muted'>{}</div>".format(html.escape(translate("Inspector",
                                                                               "gradients out, one per input")))
                         + f"<pre>{html.escape(chr(10).join(outs))}</pre>")
        return "".join(parts)

    def _saved(self, node: GraphNode) -> str:
        freed_now = self._frame.freed if self._frame is not None else frozenset()
        rows = []
        for s in node.saved:
            freed = s.freed or SavedRef(node.id, s.name) in freed_now
            value = format_value(s.value, 40) if s.value is not None else ""
            cls = "faded" if freed else ""
            note = " <i>{}</i>".format(html.escape(translate("Inspector", "(freed)"))) if freed else ""
            rows.append(
                f"<tr class='{cls}'><td class='{cls or 'mono'}'>{html.escape(s.name)}</td>"
                f"<td class='{cls}'>{html.escape(format_shape(s.shape))}</td>"
                f"<td class='{cls or 'mono'}'>{html.escape(value)}{note}</td></tr>"
            )
        for k, v in node.attrs:
            rows.append(f"<tr><td class='mono'>{html.escape(k)}</td>"
                        f"<td colspan='2' class='mono'>{html.escape(v)}</td></tr>")
        freed_any = any(s.freed or SavedRef(node.id, s.name) in freed_now for s in node.saved)
        tail = "<p class='muted'>{}</p>".format(html.escape(translate(
            "Inspector", "Freed saved tensors are gone: a second backward through this node needs {code} on the "
            "first.")).format(code="<span class='mono'>retain_graph=True</span>")) if freed_any else ""
        title = html.escape(translate("Inspector", "Saved for backward"))
        return f"<h3>{title}</h3><table>{''.join(rows)}</table>{tail}"

    def _hooks(self, node: GraphNode) -> str:
        """The program's hooks that run at this node, each with the line that registered it."""
        where = {
            "forward hook": translate("Inspector", "ran after the module's forward made this node"),
            "backward hook": translate("Inspector", "runs here, as the gradient passes on to the module's inputs"),
            "tensor hook": translate("Inspector", "runs on the gradient arriving here (and may change it)"),
        }
        kinds = {"forward hook": translate("Inspector", "forward hook"),
                 "backward hook": translate("Inspector", "backward hook"),
                 "tensor hook": translate("Inspector", "tensor hook")}
        rows = []
        for h in node.hooks:
            link = html.escape(translate("Inspector", "line {line}").format(line=h.line))
            line = f" <a href='line:{h.line}'>{link}</a>" if h.line else ""
            kind = html.escape(kinds.get(h.kind, h.kind))
            rows.append(f"<tr><td class='mono'>{html.escape(h.name)}</td><td>{kind}{line}</td>"
                        f"<td class='muted'>{html.escape(where.get(h.kind, ''))}</td></tr>")
        title = html.escape(translate("Inspector", "Hooks"))
        return f"<h3>{title}</h3><table>{''.join(rows)}</table>"

    def _rule(self, node: GraphNode) -> str:
        if node.kind in (LEAF, PARAM):
            return "<h3>{}</h3><p class='muted'>{}</p>".format(html.escape(translate("Inspector", "Rule")), html.escape(
                translate("Inspector", "A leaf has no grad_fn: gradients end here, added into {grad} by its "
                          "AccumulateGrad node.")).format(grad="<span class='mono'>.grad</span>"))
        if node.kind == ROOT:
            return ""
        rule = rule_for(node.op, dict(node.attrs))
        if rule is None:
            return "<h3>{}</h3><p class='muted'>{}</p>".format(
                html.escape(translate("Inspector", "Local derivative")),
                html.escape(translate("Inspector", "No formula written for {op} yet.").format(op=node.op)))
        lines = "<br>".join(html.escape(g) for g in rule.grads)
        note = f"<p class='muted'>{html.escape(rule.note)}</p>" if rule.note else ""
        return (
            "<h3>{} · {}</h3>".format(html.escape(translate("Inspector", "Local derivative")), html.escape(rule.name))
            + f"<div class='rule'>{html.escape(rule.forward)}<br>{lines}</div>"
            f"<p class='muted'>{html.escape(UPSTREAM)}.</p>{note}"
        )
