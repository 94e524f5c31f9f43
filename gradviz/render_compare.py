"""`gradviz render A B --compare`: two runs drawn side by side, differences marked, or one GIF of both.

A and B are sessions or scripts; a session with a ``compare`` program is a pair on its own
(``gradviz render LESSON`` draws both). Both programs run in the engine worker one after the
other; the backward calls compared are each run's last (``--call K``: the K-th of both). A still
picture shows paired frame ``--step`` (default: the end); a GIF or APNG has one frame per paired
step (``Comparison.frames``), the shorter pass holding its last frame.

Exit codes as ``gradviz render``: 0 written; 1 a program failed (which side is named; the pair
is still drawn when both made the backward call); 2 unusable arguments or files.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from gradviz.core.session import Session, SessionError, load_path


class CompareError(Exception):
    """An unusable argument or file for a compare render (exit code 2)."""


def load_other(args: argparse.Namespace, session: Session) -> tuple[Session, str]:
    """The second program (from ``B``, else the session's ``compare``) and the path its trust goes by."""
    from gradviz.core.request import limits_from_options

    if args.path_b is not None:
        try:
            other = load_path(args.path_b)
        except SessionError as exc:
            raise CompareError(f"B: {exc}") from None
        if not other.title:
            other = replace(other, title=Path(args.path_b).stem)
        try:
            other = replace(other, limits=limits_from_options(args, other.limits), compare=None)
        except ValueError as exc:
            raise CompareError(str(exc)) from None
        return other, args.path_b
    compared = session.compared()
    if compared is None:
        raise CompareError(f"--compare needs a second file B (gradviz render A B --compare -o OUT), or a "
                           f"session with a \"compare\" program; {args.path!r} has none")
    return compared, args.path


def _side_error(side: str, title: str, result) -> str | None:
    from gradviz.render import _program_error

    failure = _program_error(result)
    return None if failure is None else f"{side} ({title}): {failure}"


def render_compare(args: argparse.Namespace, fmt: str, session: Session, other: tuple[Session, str],
                   runner=None, worker=None) -> int:
    """Run both programs and write the picture of the pair; returns the exit code.

    ``runner(session) -> RunResult`` runs a program (tests); default: the engine worker.
    """
    from gradviz.render import Drawing, RenderError, _fail

    session_b, path_b = other
    session_a = replace(session, compare=None)
    # One look for both: B is drawn with A's theme and root placement whatever its own file says.
    session_b = replace(session_b, view=session_a.view)
    title_a = (session.compare.title_a if session.compare is not None and args.path_b is None else "") \
        or session_a.title or Path(args.path).stem or "A"
    title_b = session_b.title or "B"
    try:
        left, right = Drawing(session_a, args), Drawing(session_b, args)
        results = _run_both(args, (session_a, session_b), (args.path, path_b), runner, worker)
    except RenderError as exc:
        return _fail(str(exc))
    failures = [f for f in (_side_error("A", title_a, results[0]), _side_error("B", title_b, results[1])) if f]
    try:
        data = _draw(args, fmt, (left, right), results, (title_a, title_b))
    except RenderError as exc:
        for failure in failures:
            print(f"gradviz render: {failure}", file=sys.stderr)
        if failures:
            return 1
        return _fail(str(exc))
    try:
        Path(args.output).write_bytes(data)
    except OSError as exc:
        return _fail(f"cannot write {args.output!r}: {exc.strerror or exc}")
    for failure in failures:
        print(f"gradviz render: {failure}; wrote {args.output} with the graphs as they stood", file=sys.stderr)
    return 1 if failures else 0


def _run_both(args, sessions, paths, runner, worker):
    if runner is not None:
        return tuple(runner(s) for s in sessions)
    from gradviz.core.trust import is_trusted
    from gradviz.engine.client import EngineClient

    # Two programs: B's worker starts (and imports torch) while A runs.
    client = EngineClient(started=worker, ahead=True)
    client.start()
    try:
        results = []
        for session, path in zip(sessions, paths, strict=True):
            trusted = is_trusted(path, session.program, args.trust)
            wanted = (args.call - 1,) if args.call is not None else ()
            result = client.run(session.request(detail_calls=wanted), trusted=trusted)
            calls = result.backward_calls
            index = args.call - 1 if args.call is not None else len(calls) - 1
            if 0 <= index < len(calls) and not calls[index].recorded:  # past the first calls of a long loop
                fetched = client.run(session.request(only_call=calls[index].index), trusted=trusted)
                call = next((c for c in fetched.backward_calls if c.index == calls[index].index and c.recorded), None)
                if call is not None:
                    result = replace(result, backward_calls=calls[:index] + (call,) + calls[index + 1:])
            results.append(result)
        return tuple(results)
    finally:
        client.close(wait=False)


def _draw(args, fmt: str, drawings, results, titles) -> bytes:
    from gradviz.core.compare import pair_runs
    from gradviz.core.replay import Replay
    from gradviz.render import RenderError, _statement
    from gradviz.ui import compare_export, export
    from gradviz.ui.canvas.compare_marks import add_marks

    index = args.call - 1 if args.call is not None else None
    pair = pair_runs(results[0], results[1], titles[0], titles[1], index, index)
    for side, result, call_index in (("A", results[0], pair.call_a), ("B", results[1], pair.call_b)):
        if call_index is None:
            if args.call is not None and result.backward_calls:
                raise RenderError(f"--call {args.call}: {side} made {len(result.backward_calls)} backward call(s)")
            raise RenderError(f"{side} made no backward call: there is nothing to compare")
    comparison = pair.comparison
    sides = []
    for drawing, call, title, which in ((drawings[0], pair.backward_a(), titles[0], "a"),
                                        (drawings[1], pair.backward_b(), titles[1], "b")):
        scene = drawing.scene
        scene.begin_build(drawing.plan(call.graph))
        add_marks(scene, comparison.differing_nodes(which))
        statement = _statement(drawing.session, call.line) if args.caption else ""
        sides.append(compare_export.Side(scene, call, export.Caption(title, statement)))
    if fmt == "gif":
        return compare_export.gif_pair(sides[0], sides[1], comparison, args.scale)
    if fmt == "apng":
        return compare_export.apng_pair(sides[0], sides[1], comparison, args.scale, args.transparent)
    last = comparison.frames - 1
    step = last if args.step is None else args.step
    if step > last:
        raise RenderError(f"--step {step}: the longer backward call has {last} steps (0 to {last})")
    for side, k in zip(sides, comparison.pair(step), strict=True):
        side.scene.apply_frame(Replay(side.call).frame(k), side.call)
        side.caption = export.step_caption(side.call, k, side.caption)
    if fmt == "svg":
        return compare_export.svg_pair(sides[0], sides[1], comparison, args.transparent)
    return compare_export.png_pair(sides[0], sides[1], comparison, args.scale, args.transparent)
