"""The `gradviz` command: the app (default), `inspect` (run headless, report) and `render` (export a figure)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from gradviz import HEADLESS, __version__
from gradviz.core.i18n import t
from gradviz.core.language_option import add_language_option, apply_language_option
from gradviz.core.plain import to_plain
from gradviz.core.request import add_limit_options, limits_from_options
from gradviz.core.result import ACCUMULATE, GraphData, RunResult, TensorValue


def load_source(path: str):
    """A Session from a .gradviz file or a .py script; SessionError with a one-line reason otherwise."""
    from gradviz.core.session import load_path

    return load_path(path)


def run_session(session, worker=None, trusted: bool = False, only_call: int | None = None) -> RunResult:
    """Run a session's program through the engine worker, exactly as the app does.

    ``worker``: one already started (``gradviz.engine.process.start_worker``), else a new one;
    ``trusted``: run it even where the system cannot contain the engine; ``only_call``: run it
    only until that backward call, recorded step by step (``RunRequest.only_call``).
    """
    from gradviz.engine.client import EngineClient

    client = EngineClient(started=worker, ahead=False)
    try:
        return client.run(session.request(only_call=only_call), trusted=trusted)
    finally:
        client.close()


# --- inspect ------------------------------------------------------------------------------------
def _value(v: TensorValue | None) -> Any:
    """Nested lists when the whole tensor was kept, else its shape and statistics."""
    if v is None:
        return None
    if v.data is not None:
        return v.data
    return {"shape": list(v.shape), "summary": to_plain(v.stats) if v.stats else None}


def _graph_json(graph: GraphData) -> dict:
    return {
        "nodes": [
            {"id": n.id, "kind": n.kind, "op": n.op, "shape": list(n.shape) if n.shape is not None else None,
             "names": list(n.names), "line": n.line,
             "saved": [{"name": s.name, "shape": list(s.shape), "freed": s.freed} for s in n.saved],
             "made_by": None if n.made_by is None else
             {"call": n.made_by.call, "op": n.made_by.op, "line": n.made_by.line, "node": n.made_by.node,
              "here": n.made_by.here}}
            for n in graph.nodes
        ],
        "edges": [{"src": e.src, "dst": e.dst, "index": e.index} for e in graph.edges],
        "roots": list(graph.roots),
    }


def inspect_json(result: RunResult) -> dict:
    """The document `gradviz inspect --json` prints."""
    error = result.error
    return {
        "stdout": result.stdout,
        "error": None if error is None else
        {"line": error.line, "type": error.type, "message": error.message, "hint": error.hint},
        "variables": {
            v.name: {"shape": list(v.shape), "dtype": v.dtype, "requires_grad": v.requires_grad,
                     "is_leaf": v.is_leaf, "value": _value(v.value), "grad": _value(v.grad)}
            for v in result.variables
        },
        "backward_calls": [
            {
                "line": call.line,
                "kind": call.kind,
                "recorded": call.recorded,
                "steps": [
                    {"node": st.node_id, "op": st.op,
                     "grad_in": [_value(g) for g in st.grad_in], "grad_out": [_value(g) for g in st.grad_out]}
                    for st in call.steps
                ],
                "leaves": {lg.name: {"before": _value(lg.before), "after": _value(lg.after)} for lg in call.leaves},
                "error": None if call.error is None else {"type": call.error.type, "message": call.error.message},
            }
            for call in result.backward_calls
        ],
        "graph": _graph_json(result.default_graph_data() or GraphData()),
        "notes": list(result.notes),
    }


def _short(v: TensorValue | None) -> str:
    if v is None:
        return "None"
    if v.data is not None:
        text = json.dumps(to_plain(v.data))
        return text if len(text) <= 70 else text[:67] + "..."
    s = v.stats
    return t("shape {shape}", shape=list(v.shape)) + (
        t(", norm {norm}, mean {mean}", norm=f"{s.norm:.4g}", mean=f"{s.mean:.4g}") if s else "")


def _step_node(graph: GraphData, node_id: str, op: str) -> str:
    """A step's op with what tells it apart from another of the same op: its node id (as in
    ``--json``), the line that made it and the names that hold its output."""
    node = graph.by_id.get(node_id)
    where = [node_id]
    if node is not None and node.line is not None:
        where.append(t("line {line}", line=node.line))
    if node is not None and node.names:
        where.append(", ".join(node.names))
    elif node is not None and node.kind == ACCUMULATE:  # the leaf whose .grad it writes
        leaves = [graph.by_id[e.dst] for e in graph.out_edges.get(node_id, ()) if e.dst in graph.by_id]
        where.extend(f"{', '.join(leaf.names)}.grad" for leaf in leaves if leaf.names)
    if node is not None and node.made_by is not None:  # built by a create_graph=True backward
        made = node.made_by
        where.append(t("∂ of {op}, line {line}, call {call}", op=made.op, line=made.line, call=made.call + 1)
                     if made.line is not None else t("∂ of {op}, call {call}", op=made.op, call=made.call + 1))
    return f"{op} ({'; '.join(where)})"


def _pad(text: str, width: int) -> str:
    """``text`` padded with spaces to ``width`` terminal columns (a CJK character takes two)."""
    import unicodedata

    columns = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - columns)


def inspect_report(result: RunResult) -> str:
    """A readable report of a run, in the current language (``gradviz.core.i18n``); the program's
    output, torch's messages and Python's names stay as they are."""
    lines = []
    if result.stdout:
        lines += [t("Output:"), *("  " + line for line in result.stdout.rstrip("\n").split("\n")), ""]
    last = result.last_value()
    if last is not None:
        lines += [t("Value of line {line}:", line=last.line), *("  " + line for line in last.value.split("\n")), ""]
    if result.variables:
        lines.append(t("Tensors:"))
        for v in result.variables:
            flags = (t("leaf") if v.is_leaf else f"grad_fn={v.grad_fn}") + (
                ", requires_grad" if v.requires_grad else "")
            lines.append(f"  {v.name}: {v.dtype}{list(v.shape)} ({flags}) = {_short(v.value)}")
            if v.grad is not None:
                lines.append(f"    .grad = {_short(v.grad)}")
        lines.append("")
    light = [call for call in result.backward_calls if not call.recorded]
    for call in result.backward_calls:
        if not call.recorded:
            continue
        count = len(call.steps)
        steps = t("{count} steps", count=count) if count != 1 else t("{count} step", count=count)
        lines.append(t("Backward call {number} ({kind}, line {line}): {steps}",
                       number=call.index + 1, kind=call.kind, line=call.line, steps=steps))
        number = {id(st): st.order + 1 for st in call.steps}
        for k, st in enumerate(call.steps):
            lines.append(f"  {st.order + 1:>4}. {_pad(_step_node(call.graph, st.node_id, st.op), 40)} "
                         + t("in {values}", values=", ".join(_short(g) for g in st.grad_in)))
            incoming = call.incoming(st.node_id, k)
            if len(incoming) > 1:  # a fan-in: the engine summed these parts into the gradient above
                lines.append("        " + t("fan-in: the sum of {count} parts", count=len(incoming)))
                lines.extend("          " + t("from step {step}: {value}", step=number[id(i.step)],
                                              value=_short(i.value)) for i in incoming)
        for lg in call.leaves:
            lines.append(f"  {lg.name}.grad: {_short(lg.before)} -> {_short(lg.after)}")
        lines.append("")
    if light:
        lines += [t("Backward calls {first} to {last}: recorded lightly (their .grad history); the app records "
                    "any of them step by step when you pick it.",
                    first=light[0].index + 1, last=light[-1].index + 1), ""]
    if result.error is not None:
        e = result.error
        lines.append(t("Error on line {line}: {type}: {message}", line=e.line, type=e.type, message=e.message)
                     if e.line else t("Error: {type}: {message}", type=e.type, message=e.message))
        if e.hint:
            lines.append(t("Hint: {hint}", hint=e.hint))
    else:
        lines.append(t("The program ran without errors."))
    lines.extend(t("Note: {note}", note=note) for note in result.notes)
    return "\n".join(lines) + "\n"


def write_graphml(graph: GraphData, path: str) -> None:
    """Write ``graph`` as GraphML (yEd and Gephi read it): the MultiDiGraph the layout runs on,
    with the attributes of ``GraphData.to_networkx``; edges are numbered ``e0``, ``e1``, ... in
    the order networkx yields them (GraphML wants edge ids unique in the file; keys repeat)."""
    import networkx as nx

    g = graph.to_networkx()
    for number, (_, _, data) in enumerate(g.edges(data=True)):
        data["id"] = f"e{number}"
    nx.write_graphml(g, path, edge_id_from_attribute="id")


def cmd_inspect(args: argparse.Namespace, worker=None) -> int:
    from gradviz.core.session import SessionError

    if args.graphml is not None:
        folder = Path(args.graphml).resolve().parent
        if not folder.is_dir():
            print("gradviz inspect: " + t("the folder {folder} does not exist", folder=repr(str(folder))),
                  file=sys.stderr)
            return 2
    try:
        session = load_source(args.path)
        session = replace(session, limits=limits_from_options(args, session.limits))
    except (SessionError, ValueError) as exc:
        print(f"gradviz inspect: {exc}", file=sys.stderr)
        return 2
    from gradviz.core.trust import is_trusted

    trusted = is_trusted(args.path, session.program, args.trust)
    result = run_session(session, worker, trusted)
    if args.json:
        sys.stdout.write(json.dumps(to_plain(inspect_json(result)), allow_nan=False) + "\n")
    else:
        sys.stdout.write(inspect_report(result))
    if args.graphml is not None:
        graph = result.default_graph_data() or GraphData()
        choice = result.default_graph()
        if choice is not None and choice[0] == "call" and not result.backward_calls[int(choice[1])].recorded:
            # The last call of a long training loop was recorded lightly, without its graph: the
            # app records it when it is shown, and so does this (one more run, up to that call).
            index = result.backward_calls[int(choice[1])].index
            again = run_session(session, None, trusted, only_call=index)
            graph = next((c.graph for c in again.backward_calls if c.index == index and c.recorded), graph)
        try:
            write_graphml(graph, args.graphml)
        except OSError as exc:
            print("gradviz inspect: " + t("cannot write {path}: {reason}", path=repr(args.graphml),
                                          reason=exc.strerror or exc), file=sys.stderr)
            return 2
    return 0 if result.ok else 1


# --- doctor -------------------------------------------------------------------------------------
def cmd_doctor(args: argparse.Namespace, worker=None) -> int:
    """Start an engine worker and print how the operating system holds it; 0 when contained."""
    import platform

    from gradviz.core.trust import TrustStore
    from gradviz.engine.client import EngineClient

    client = EngineClient(started=worker, ahead=False)
    try:
        ready = client.wait_ready()
        containment = client.containment
    finally:
        client.close()
    print(f"gradviz {__version__}, Python {platform.python_version()}, {platform.system()} {platform.release()} "
          f"({platform.machine()}), torch {client.torch_version or '?'}")
    if not ready or containment is None:
        print("The engine did not start, so nothing could be checked.")
        return 2
    print(containment.report())
    if containment.contained:
        print("Every program runs inside these walls, lessons from elsewhere included.")
        return 0
    print("Programs typed in gradviz and the shipped lessons run; a program from elsewhere runs only once "
          f"you trust it (in the app, or `--trust` here). Trusted programs: {TrustStore().path}")
    return 1


# --- entry point --------------------------------------------------------------------------------
def language_code(value: str) -> str:
    """``--lang``: a language gradviz speaks, normalized (``zh``, ``zh-CN`` -> ``zh_CN``); argparse's
    error for any other, naming the choices."""
    from gradviz.core import i18n

    found = i18n.normalize(value)
    if found is None:
        raise argparse.ArgumentTypeError(f"unknown language {value!r}: choose one of {', '.join(i18n.LANGUAGES)}")
    return found


class _Parser(argparse.ArgumentParser):
    """Exit code 2 with a one-line message for unusable arguments (argparse's own convention)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message}\n")


def build_parser(command: str) -> argparse.ArgumentParser:
    if command == "inspect":
        p = _Parser(prog="gradviz inspect", description="Run a session or script headless and report.")
        p.add_argument("path", help="a .gradviz session or a .py script")
        p.add_argument("--json", action="store_true", help="print one JSON document")
        p.add_argument("--graphml", metavar="OUT",
                       help="also write the graph shown first (the last backward call's) as GraphML, for yEd or Gephi")
        p.add_argument("--trust", action="store_true",
                       help="run the program even where the system cannot contain the engine (see gradviz doctor)")
        add_limit_options(p)
        add_language_option(p)
        return p
    if command == "doctor":
        return _Parser(prog="gradviz doctor",
                       description="Start the engine and show how the operating system contains it.")
    if command == "render":
        from gradviz.render import add_render_arguments

        p = _Parser(prog="gradviz render", description="Render the autograd graph of a session or script.")
        add_render_arguments(p)
        add_language_option(p)
        return p
    p = _Parser(prog="gradviz", description="See PyTorch autograd: run code, draw the graph, animate backward.",
                epilog="Headless commands: gradviz inspect PATH [--json] [--graphml OUT]; gradviz render PATH -o OUT; "
                       "gradviz doctor (how the engine is contained)")
    p.add_argument("path", nargs="?", help="a .gradviz session or .py script to open")
    p.add_argument("--version", action="version", version=f"gradviz {__version__}")
    p.add_argument("--lang", metavar="LANG", type=language_code,
                   help="the window's language: zh_CN or en (default: the one chosen in View > Language, "
                        "else the system's)")
    return p


def main(argv: Sequence[str] | None = None, exiting: bool = False, worker=None) -> int:
    """Run the command in ``argv``. From ``gradviz.launch``: ``exiting``, the process ends right
    after; ``worker``, an engine worker already started for a headless command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in HEADLESS else "app"
    parser = build_parser(command)
    # render's second file may come after the options (`render A -o OUT B --compare`): intermixed.
    parse = parser.parse_intermixed_args if command == "render" else parser.parse_args
    args = parse(argv[1:] if command != "app" else argv)
    if command in ("inspect", "render"):
        apply_language_option(args)
    if command == "inspect":
        return cmd_inspect(args, worker)
    if command == "doctor":
        return cmd_doctor(args, worker)
    if command == "render":
        from gradviz.render import run_render

        return run_render(args, exiting=exiting, worker=worker)
    from gradviz.ui.app import run_app

    return run_app(args.path, lang=args.lang)
