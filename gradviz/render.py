"""`gradviz render`: run a session or script headless and export its graph as PNG, SVG, GIF or APNG.

The program runs in the engine worker (the same call the app makes), the graph is laid out and
drawn by the canvas scene offscreen, and the image comes from ``gradviz.ui.export``. By default
the picture is the last backward call after it finished; ``--step`` shows an animation step; a
GIF or APNG holds the whole pass (the start, then one frame per step). Same input, same bytes.

Exit codes: 0 written; 1 the program failed (the message on stderr; the graph up to the error is
still written when there is one); 2 unusable arguments or files (one line on stderr).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from gradviz.core.collector import collector_paused
from gradviz.core.i18n import t
from gradviz.core.language_option import add_language_option, apply_language_option
from gradviz.core.request import add_limit_options, limits_from_options

FORMATS = {".png": "png", ".svg": "svg", ".gif": "gif", ".apng": "apng"}
MAX_SCALE = 8.0


class RenderError(Exception):
    """An unusable argument or file: exit code 2, ``str(error)`` is the one-line message."""


def add_render_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``gradviz render`` to ``parser``."""
    parser.add_argument("path", help="a .gradviz session or a .py script")
    parser.add_argument("path_b", nargs="?", default=None, metavar="B",
                        help="with --compare: the second session or script, drawn beside the first")
    parser.add_argument("-o", "--output", required=True, metavar="OUT",
                        help="the file to write: .png, .svg, .gif or .apng (the extension picks the format)")
    parser.add_argument("--call", type=int, default=None, metavar="K",
                        help="which backward call to show, 1 = the first (default: the last)")
    parser.add_argument("--step", type=int, default=None, metavar="N",
                        help="show the animation after N steps, 0 = before the first (default: the end); "
                             "PNG and SVG only")
    parser.add_argument("--scale", type=float, default=1.0, metavar="S",
                        help=f"pixels per canvas unit for PNG, GIF and APNG, up to {MAX_SCALE:g} (default 1)")
    parser.add_argument("--theme", choices=("light", "dark"), default=None,
                        help="colour theme (default: the session's, else light)")
    parser.add_argument("--root-at", choices=("top", "bottom"), default=None,
                        help="where the root goes (default: the session's, else top)")
    parser.add_argument("--font-scale", type=float, default=None, metavar="F",
                        help="larger fonts, e.g. 1.5 for slides (default: 1, or the session's presentation size)")
    parser.add_argument("--transparent", action="store_true", help="no background (PNG, SVG and APNG)")
    parser.add_argument("--caption", action="store_true",
                        help="draw the lesson title, the backward statement and the step above the graph")
    parser.add_argument("--compare", action="store_true",
                        help="draw two runs side by side, differences marked: PATH and B, or a session "
                             "with a second program (a GIF steps both together)")
    parser.add_argument("--trust", action="store_true",
                        help="run the program even where the system cannot contain the engine (see gradviz doctor)")
    add_limit_options(parser)


def _fail(message: str) -> int:
    print(f"gradviz render: {message}", file=sys.stderr)
    return 2


def _check_args(args: argparse.Namespace) -> str:
    fmt = FORMATS.get(Path(args.output).suffix.lower())
    if fmt is None:
        raise RenderError(t("cannot tell the format of {path}: use .png, .svg, .gif or .apng",
                            path=repr(args.output)))
    if not (0 < args.scale <= MAX_SCALE):
        raise RenderError(t("--scale must be above 0 and at most {most}, not {value}",
                            most=f"{MAX_SCALE:g}", value=f"{args.scale:g}"))
    if args.font_scale is not None and not (0.5 <= args.font_scale <= 4):
        raise RenderError(t("--font-scale must be between 0.5 and 4, not {value}", value=f"{args.font_scale:g}"))
    if args.call is not None and args.call < 1:
        raise RenderError(t("--call counts from 1 (the first backward call), not {value}", value=args.call))
    if args.step is not None:
        if args.step < 0:
            raise RenderError(t("--step must be 0 or more, not {value}", value=args.step))
        if fmt in ("gif", "apng"):
            raise RenderError(t("--step picks one picture; a GIF or APNG always holds the whole pass"))
    if args.transparent and fmt == "gif":
        raise RenderError(t("--transparent needs PNG, SVG or APNG (GIF has no alpha channel)"))
    out_dir = Path(args.output).resolve().parent
    if not out_dir.is_dir():
        raise RenderError(t("the folder {folder} does not exist", folder=repr(str(out_dir))))
    return fmt


def _ensure_app():
    """The QApplication, created offscreen when there is none (render never needs a display)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        app = QApplication(["gradviz-render"])
    return app


def _program_error(result) -> str | None:
    error = result.error
    if error is None:
        return None
    where = t("line {line}: ", line=error.line) if error.line else ""
    text = t("the program failed: {where}{type}: {message}", where=where, type=error.type, message=error.message)
    if error.hint:
        text += t(" (hint: {hint})", hint=error.hint)
    return " ".join(text.split())


def _statement(session, line: int | None) -> str:
    if not line:
        return ""
    lines = session.program.splitlines()
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


def _say_if_no_cjk_font(session) -> None:
    """One line on stderr when Chinese is to be drawn (the language, the program, the title) and no
    font on this system has its glyphs: the picture would show boxes."""
    from gradviz.ui import cjk_fonts

    if cjk_fonts.cjk_wanted(session.program, session.title) and not cjk_fonts.cjk_font_available():
        print("gradviz render: " + t("no CJK font is installed, so Chinese text is drawn as boxes; install one, "
                                     "e.g. sudo apt-get install fonts-noto-cjk"), file=sys.stderr)


#: The drawing and result of a render whose process ends right after it (``exiting``): freeing a
#: 5,000-node result and its plan object by object takes longer than painting it; ``os._exit`` skips it.
_left_to_exit: list = []


def run_render(args: argparse.Namespace, runner: Callable | None = None, exiting: bool = False,
               worker=None) -> int:
    """Carry out ``gradviz render`` for parsed ``args``; returns the exit code.

    ``runner(session) -> RunResult`` runs the program (default: the engine worker, ``worker`` if
    one was started already). ``exiting``: the process ends with ``os._exit`` next
    (``gradviz.launch``), so nothing is freed.
    """
    try:
        fmt = _check_args(args)
    except RenderError as exc:
        return _fail(str(exc))
    from gradviz.core.session import SessionError, load_path

    try:
        session = load_path(args.path)
        session = replace(session, limits=limits_from_options(args, session.limits))
    except (SessionError, ValueError) as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(t("cannot read {path}: {reason}", path=repr(args.path), reason=exc.strerror or exc))
    compare = getattr(args, "compare", False)
    path_b = getattr(args, "path_b", None)
    if path_b is not None and not compare:
        return _fail(t("a second file ({path}) is drawn only with --compare", path=repr(path_b)))
    if compare or session.compare is not None:
        from gradviz.render_compare import CompareError, load_other, render_compare

        try:
            other = load_other(args, session)
        except CompareError as exc:
            return _fail(str(exc))
        with collector_paused():
            return render_compare(args, fmt, session, other, runner, worker)
    # A one-shot command: the cyclic collector would only scan Qt's and the result's objects.
    with collector_paused():
        return _render(args, fmt, session, runner, exiting, worker)


def _with_last_call_recorded(client, session, result, drawing, trusted: bool):
    """``result`` whose last backward call, when it is the one drawn and was recorded lightly (a long
    training loop), is recorded step by step by running the program once more up to it."""
    from dataclasses import replace

    calls = result.backward_calls
    if drawing.args.call is not None or not calls or calls[-1].recorded:
        return result
    index = calls[-1].index
    fetched = client.run(session.request(only_call=index), on_graph=drawing.offer, trusted=trusted)
    call = next((c for c in fetched.backward_calls if c.index == index and c.recorded), None)
    return result if call is None else replace(result, backward_calls=calls[:-1] + (call,))


def _render(args: argparse.Namespace, fmt: str, session, runner: Callable | None, exiting: bool, worker) -> int:
    client = None
    if runner is None:
        from gradviz.engine.client import EngineClient

        client = EngineClient(started=worker, ahead=False)
        client.start()  # torch loads in the worker while this process sets up Qt and the drawing
    try:
        drawing = Drawing(session, args)
        _say_if_no_cjk_font(session)
        if client is not None:
            from gradviz.core.trust import is_trusted

            # The graph of each backward call comes ahead of the result: it is laid out here
            # while the engine still runs the backward pass and converts its numbers.
            trusted = is_trusted(args.path, session.program, args.trust)
            wanted = (args.call - 1,) if args.call is not None else ()
            result = client.run(session.request(detail_calls=wanted), on_graph=drawing.offer, trusted=trusted)
            result = _with_last_call_recorded(client, session, result, drawing, trusted)
        else:
            result = runner(session)
        if exiting:
            _left_to_exit.append((drawing, result))
        failure = _program_error(result)
        try:
            data = drawing.render(result, fmt)
        except RenderError as exc:
            if failure:
                print(f"gradviz render: {failure}", file=sys.stderr)
                return 1
            return _fail(str(exc))
        try:
            Path(args.output).write_bytes(data)
        except OSError as exc:
            return _fail(t("cannot write {path}: {reason}", path=repr(args.output), reason=exc.strerror or exc))
    finally:
        if client is not None:
            client.close(wait=False)
    if failure:
        print("gradviz render: " + t("{failure}; wrote {path} with the graph as it stood",
                                     failure=failure, path=args.output), file=sys.stderr)
        return 1
    for note in result.notes:  # e.g. a graph too big to record whole: the picture shows part of it
        print("gradviz render: " + t("note: {note}", note=note), file=sys.stderr)
    return 0


class Drawing:
    """The scene a render draws into, made before the program runs, and the plan of its graph.

    Made while the engine imports torch, so Qt, the drawing modules and the fonts load meanwhile.
    ``offer(index, graph)`` plans a backward call's graph (measure, layout, geometry) as soon as
    the engine sends it, while the backward pass runs; ``render`` then applies the frame and paints.
    """

    def __init__(self, session, args: argparse.Namespace):
        _ensure_app()
        # Imported now, while the engine starts: numpy (layout) and the canvas take a few tenths.
        import gradviz.core.replay  # noqa: F401
        import gradviz.ui.export  # noqa: F401
        from gradviz.ui.canvas.scene import GraphScene
        from gradviz.ui.theme import Theme

        view = session.view
        theme = args.theme or (view.theme if view.theme in ("light", "dark") else "light")
        font_scale = args.font_scale if args.font_scale is not None else (1.4 if view.presentation else 1.0)
        self.root_at = args.root_at or (view.root_at if view.root_at in ("top", "bottom") else "top")
        self.session = session
        self.args = args
        self.scene = GraphScene(Theme(theme, font_scale))
        self.scene.look.height("title")  # the font database loads now, not after the run
        self._planned: tuple[object, object] | None = None  # (graph, its ScenePlan)

    def offer(self, index: int, graph) -> None:
        """Plan ``graph``, of backward call ``index`` (from 0), if it may be the one drawn."""
        if self.args.call is None or self.args.call - 1 == index:
            self.plan(graph)

    def plan(self, graph):
        """The ScenePlan of ``graph`` (the last one planned is kept)."""
        if self._planned is not None and self._planned[0] is graph:
            return self._planned[1]
        from gradviz.ui.canvas.plan import plan_graph

        # Edge paths on first use: a big graph's export draws the overview's polylines only.
        plan = plan_graph(graph, self.scene.look, self.root_at, paths=False)
        self._planned = (graph, plan)
        return plan

    def render(self, result, fmt: str) -> bytes:
        """The bytes of the requested picture of ``result``; RenderError when there is nothing to draw."""
        from gradviz.core.replay import Replay
        from gradviz.ui import export

        args = self.args
        calls = result.backward_calls
        call = None
        if args.call is not None:
            if args.call > len(calls):
                message = f"--call {args.call}: " + t("the program made {count} backward call(s)", count=len(calls))
                if result.notes:  # more calls than are recorded step by step
                    message = f"--call {args.call}: {' '.join(result.notes)}"
                raise RenderError(message)
            call = calls[args.call - 1]
        elif calls:
            call = calls[-1]
        if call is not None:
            graph = call.graph
        else:
            if fmt in ("gif", "apng"):
                raise RenderError(t("the program made no backward call: there is no pass to animate"))
            graph = result.default_graph_data()
            if graph is None:
                raise RenderError(t("the program built no autograd graph to draw"))
        scene = self.scene
        # Items are made by the export when it needs them: a big graph exported at a scale where
        # no text is readable is drawn from the plan's overview and needs none.
        scene.begin_build(self.plan(graph))
        base_caption = None
        if args.caption:
            base_caption = export.Caption(self.session.title, _statement(self.session, call.line if call else None))
        if fmt in ("gif", "apng"):
            if fmt == "gif":
                return export.gif_bytes(scene, call, args.scale, base_caption)
            return export.apng_bytes(scene, call, args.scale, args.transparent, base_caption)
        caption = base_caption
        if call is not None:
            replay = Replay(call)
            total = len(replay) - 1
            step = total if args.step is None else args.step
            if step > total:
                raise RenderError(f"--step {step}: " + t("that backward call has {total} steps (0 to {total})",
                                                         total=total))
            scene.apply_frame(replay.frame(step), call)
            if caption is not None:
                caption = export.step_caption(call, step, caption)
        elif args.step is not None:
            raise RenderError(t("--step needs a backward call; the program made none"))
        if fmt == "svg":
            return export.svg_bytes(scene, caption, args.transparent)
        return export.png_bytes(scene, args.scale, args.transparent, caption)


def main(argv: list[str] | None = None) -> int:
    """``python -m gradviz.render`` (the lead's ``gradviz render`` calls the same functions)."""

    class Parser(argparse.ArgumentParser):
        def error(self, message: str):
            self.exit(2, f"gradviz render: {message}\n")

    parser = Parser(prog="gradviz render", description="Render the autograd graph of a session or script.")
    add_render_arguments(parser)
    add_language_option(parser)
    args = parser.parse_intermixed_args(argv)
    apply_language_option(args)
    return run_render(args)


if __name__ == "__main__":
    sys.exit(main())
