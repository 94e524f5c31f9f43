"""Export: PNG follows the scale, SVG keeps labels as text, GIF/APNG have a frame per step, bytes repeat."""

from __future__ import annotations

import io
import math
import xml.etree.ElementTree as ET

import pytest
from PIL import Image
from PySide6.QtGui import QColor, QImage

from gradviz.core.replay import Replay
from gradviz.ui import export
from gradviz.ui.canvas import GraphView
from gradviz.ui.theme import palette
from tests.ui.canvas_data import mlp_call, second_backward_call

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def view(qtbot):
    v = GraphView()
    qtbot.addWidget(v)
    v.resize(800, 600)
    return v


def dot_scene(view, call, step=None):
    """``call`` (the engine's 2xᵀx) on the canvas, at ``step`` or as the plain graph."""
    view.show_graph(call.graph)
    if step is not None:
        view.show_frame(Replay(call).frame(step), call)
    return view.scene(), call


def png_size(data: bytes) -> tuple[int, int]:
    image = QImage.fromData(data, "PNG")
    return image.width(), image.height()


def test_png_size_follows_the_scale(view, two_x):
    scene, _ = dot_scene(view, two_x.call, 3)
    rect = export.export_rect(scene)
    w1, h1 = png_size(export.png_bytes(scene, 1))
    assert (w1, h1) == (int(-(-rect.width() // 1)), int(-(-rect.height() // 1)))
    for scale in (2, 4):
        w, h = png_size(export.png_bytes(scene, scale))
        assert abs(w - w1 * scale) <= scale and abs(h - h1 * scale) <= scale


def test_png_background_themed_or_transparent(view, two_x):
    scene, _ = dot_scene(view, two_x.call)
    themed = QImage.fromData(export.png_bytes(scene, 1), "PNG")
    assert QColor(themed.pixel(2, 2)) == QColor(palette("light").background)
    clear = QImage.fromData(export.png_bytes(scene, 1, transparent=True), "PNG")
    assert clear.hasAlphaChannel() and QColor.fromRgba(clear.pixel(2, 2)).alpha() == 0
    view.set_theme("dark")
    dark = QImage.fromData(export.png_bytes(scene, 1), "PNG")
    assert QColor(dark.pixel(2, 2)) == QColor(palette("dark").background)


def test_export_crops_to_the_graph_with_a_margin(view, two_x):
    scene, _ = dot_scene(view, two_x.call, 3)
    rect = export.export_rect(scene)
    graph = scene.graph_rect()
    assert rect.width() == pytest.approx(graph.width() + 2 * export.MARGIN)
    assert scene.sceneRect().width() > rect.width()  # the scene itself has more room around it


def test_svg_keeps_labels_as_text(view, two_x):
    scene, _ = dot_scene(view, two_x.call, 3)
    svg = export.svg_bytes(scene)
    root = ET.fromstring(svg)
    texts = {(t.text or "").strip() for t in root.iter(f"{SVG}text")}
    for label in ("Mul", "Backward0", "Dot", "Accumulate", "x", "y", "self [4]", "[0, 4, 8, 12]",
                  "#0  [0, 2, 4, 6]", ".grad = [0, 4, 8, 12]", ".grad before"):
        assert label in texts, label
    assert root.attrib["viewBox"].startswith("0 0 ")
    # A viewer without these fonts falls back to a sans or mono font, not its (wider, serif) default.
    families = {e.attrib["font-family"] for e in root.iter() if "font-family" in e.attrib}
    assert families and all(f.endswith((",sans-serif", ",monospace")) for f in families), families
    # ... and before it to a CJK family, for Chinese text (a generic family may have no CJK glyphs).
    assert all(f.endswith(("Noto Sans CJK SC,sans-serif", "Noto Sans Mono CJK SC,monospace")) for f in families)
    assert any(f.endswith("DejaVu Sans Mono,Noto Sans Mono CJK SC,monospace") for f in families)


def test_caption_is_drawn_above_the_graph(view, two_x):
    scene, call = dot_scene(view, two_x.call, 2)
    plain = png_size(export.png_bytes(scene, 1))
    caption = export.Caption("2x\u1d40x", "y = 2 * torch.dot(x, x)", "step 2 / 3")
    with_caption = png_size(export.png_bytes(scene, 1, caption=caption))
    assert with_caption[1] > plain[1] + 30
    texts = {(t.text or "").strip() for t in ET.fromstring(export.svg_bytes(scene, caption)).iter(f"{SVG}text")}
    assert {"y = 2 * torch.dot(x, x)", "step 2 / 3"} <= texts
    assert export.step_caption(call, 2).step == "step 2 / 3 \u00b7 DotBackward0"
    assert export.step_caption(call, 0).step == "before backward \u00b7 3 steps"


def test_gif_has_one_frame_per_step_plus_the_start(view, two_x):
    scene, call = dot_scene(view, two_x.call)
    data = export.gif_bytes(scene, call, caption=export.Caption("2x\u1d40x"))
    gif = Image.open(io.BytesIO(data))
    assert gif.format == "GIF" and gif.n_frames == len(call.steps) + 1 == 4
    durations = []
    for k in range(gif.n_frames):
        gif.seek(k)
        durations.append(gif.info["duration"])
    assert durations == [export.FIRST_FRAME_MS, export.FRAME_MS, export.FRAME_MS, export.LAST_FRAME_MS]
    assert export.gif_bytes(scene, call, caption=export.Caption("2x\u1d40x")) == data


def test_gif_frames_show_the_lit_node(view, two_x):
    """Frame k of the GIF is the canvas at step k: its flow-coloured pixels move down the graph."""
    scene, call = dot_scene(view, two_x.call)
    gif = Image.open(io.BytesIO(export.gif_bytes(scene, call)))
    flow = QColor(palette("light").flow)
    flow_rgb = (flow.red(), flow.green(), flow.blue())
    rows = []
    for k in range(gif.n_frames):
        gif.seek(k)
        rgb = gif.convert("RGB")
        ys = [y for y in range(0, rgb.height, 2) for x in range(0, rgb.width, 2)
              if sum(abs(a - b) for a, b in zip(rgb.getpixel((x, y)), flow_rgb, strict=True)) < 40]
        rows.append(sum(ys) / len(ys) if ys else None)
    assert rows[0] is None  # before the engine starts nothing is lit
    assert rows[1] < rows[2] < rows[3]


def test_apng_frames_and_same_bytes(view, two_x):
    scene, call = dot_scene(view, two_x.call)
    data = export.apng_bytes(scene, call)
    png = Image.open(io.BytesIO(data))
    assert png.format == "PNG" and getattr(png, "is_animated", False) and png.n_frames == 4
    assert export.apng_bytes(scene, call) == data
    assert export.png_bytes(scene, 2) == export.png_bytes(scene, 2)
    assert export.svg_bytes(scene) == export.svg_bytes(scene)


def test_animation_leaves_the_scene_as_it_was(view, two_x):
    scene, call = dot_scene(view, two_x.call, 2)
    export.gif_bytes(scene, call)
    assert scene.frame.step == 2 and scene.node_items["n2"].state == 1


def test_numbered_png_frames(view, tmp_path, two_x):
    scene, call = dot_scene(view, two_x.call)
    paths = export.write_png_frames(scene, call, tmp_path / "frames", scale=1)
    assert [p.name for p in paths] == ["frame_000.png", "frame_001.png", "frame_002.png", "frame_003.png"]
    sizes = {png_size(p.read_bytes()) for p in paths}
    assert len(sizes) == 1  # every frame the same size


def test_error_call_animates_one_frame_with_the_banner(view, two_x):
    call = second_backward_call(two_x.call)
    view.show_graph(call.graph)
    gif = Image.open(io.BytesIO(export.gif_bytes(view.scene(), call)))
    assert gif.n_frames == 1
    texts = {(t.text or "").strip() for t in ET.fromstring(export.svg_bytes(view.scene())).iter(f"{SVG}text")}
    assert not any("second time" in t for t in texts)  # plain graph: no banner
    view.show_frame(Replay(call).frame(0), call)
    texts = {(t.text or "").strip() for t in ET.fromstring(export.svg_bytes(view.scene())).iter(f"{SVG}text")}
    assert "RuntimeError (line 6)" in texts


def test_huge_exports_are_capped(view):
    """An image that would be twice MAX_PIXELS is drawn at the largest scale that fits, same shape."""
    call = mlp_call()
    view.show_graph(call.graph)
    rect = export.export_rect(view.scene())
    small = export.render_image(view.scene(), 4.0)  # under the cap: the scale asked for
    assert small.width() == pytest.approx(rect.width() * 4, abs=2)
    scale = math.sqrt(2 * export.MAX_PIXELS / (rect.width() * rect.height()))
    image = export.render_image(view.scene(), scale)
    assert export.MAX_PIXELS * 0.99 <= image.width() * image.height() <= export.MAX_PIXELS * 1.01
    assert image.width() == pytest.approx(rect.width() * scale / math.sqrt(2), abs=2)
    assert image.height() == pytest.approx(rect.height() * scale / math.sqrt(2), abs=2)
    s = export.fit_scale(rect.width(), rect.height(), 4.0, max_pixels=200_000)
    assert rect.width() * rect.height() * s * s == pytest.approx(200_000, rel=0.01)


def test_same_bytes_in_another_process(tmp_path):
    """String hashing differs between processes (set order too): the output must not."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    code = (
        "import hashlib\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from gradviz.ui.canvas.plan import compute_layout, node_sizes\n"
        "from gradviz.ui.canvas.scene import GraphScene\n"
        "from gradviz.ui import export\n"
        "from tests.ui.canvas_data import mlp_call\n"
        "call = mlp_call()\n"
        "scene = GraphScene()\n"
        "shapes = scene.measure(call.graph)\n"
        "scene.build(call.graph, compute_layout(call.graph, node_sizes(shapes)), shapes)\n"
        "from gradviz.core.replay import Replay\n"
        "replay = Replay(call)\n"
        "for k in range(len(replay)):\n"
        "    scene.apply_frame(replay.frame(k), call)\n"
        "data = export.apng_bytes(scene, call) + export.svg_bytes(scene) + export.png_bytes(scene)\n"
        "print(hashlib.sha256(data).hexdigest())\n"
    )
    digests = set()
    for seed in ("1", "2", "3"):
        env = dict(os.environ, PYTHONHASHSEED=seed, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(root))
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=root,
                              timeout=120)
        assert proc.returncode == 0, proc.stderr
        digests.add(proc.stdout.strip())
    assert len(digests) == 1
