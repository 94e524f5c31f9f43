"""Chinese text is drawn as glyphs, not boxes, in exports and on the canvas; where no CJK font is
installed, gradviz says so once (the command line, the app) instead of drawing boxes silently.

The pixel test compares a caption in Chinese with one of the same length in a private-use character
that no font has (its missing-glyph box): with a CJK font they differ; without one (a subprocess whose
fontconfig lists DejaVu only) they are the same picture, so the test can tell the two apart.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from app_window import make_window
from PySide6.QtGui import QTextLayout

from gradviz.core import i18n
from gradviz.ui import cjk_fonts, export
from gradviz.ui.canvas import GraphView
from gradviz.ui.theme import Theme
from tests.ui.canvas_data import mlp_call

ROOT = Path(__file__).resolve().parents[2]
CHINESE = ("梯度的计算图", "梯度 = x * 2")
BOXES = ("\ue000" * 6, "\ue000\ue000 = x * 2")  # private use: no font has these, each draws the missing-glyph box
NEEDS_FONT = "no CJK font on this system: `make setup` installs fonts-noto-cjk (Debian)"


def caption_pngs() -> tuple[bytes, bytes]:
    """PNG exports of one graph under the Chinese caption and under the caption of boxes."""
    view = GraphView()
    view.resize(800, 600)
    view.show_graph(mlp_call().graph)
    scene = view.scene()
    return (export.png_bytes(scene, 1, False, export.Caption(*CHINESE)),
            export.png_bytes(scene, 1, False, export.Caption(*BOXES)))


@pytest.fixture(scope="module")
def no_cjk_fontconfig(tmp_path_factory) -> dict[str, str]:
    """An environment whose fontconfig knows the DejaVu fonts only (no CJK font)."""
    if shutil.which("fc-list") is None:
        pytest.fail("fontconfig's fc-list is needed to find the DejaVu fonts")
    files = subprocess.run(["fc-list", "-f", "%{file}\n", "DejaVu Sans"], capture_output=True, text=True).stdout
    folders = sorted({str(Path(f).parent) for f in files.split()})
    assert folders, "no DejaVu font to keep"
    base = tmp_path_factory.mktemp("fontconfig")
    (base / "fonts.conf").write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        + "".join(f"  <dir>{d}</dir>\n" for d in folders)
        + f"  <cachedir>{base / 'cache'}</cachedir>\n</fontconfig>\n")
    env = dict(os.environ, FONTCONFIG_FILE=str(base / "fonts.conf"), QT_QPA_PLATFORM="offscreen")
    probe = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, env=env)
    assert probe.stdout.strip() == "", probe.stdout
    return env


def test_a_chinese_caption_in_a_png_is_drawn_with_glyphs(qapp):
    assert cjk_fonts.cjk_font_available(), NEEDS_FONT
    chinese, boxes = caption_pngs()
    assert chinese != boxes


def test_without_a_cjk_font_the_same_caption_is_boxes(no_cjk_fontconfig):
    code = ("import sys; sys.path.insert(0, 'tests/ui'); from PySide6.QtWidgets import QApplication; "
            "app = QApplication([]); "
            "from tests.ui.test_cjk_fonts import caption_pngs; from gradviz.ui import cjk_fonts; "
            "a, b = caption_pngs(); print(cjk_fonts.cjk_font_available(), a == b)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env=no_cjk_fontconfig, timeout=120)
    assert proc.stdout.split() == ["False", "True"], proc.stderr


@pytest.mark.parametrize("role", ["title", "mono", "subtitle", "caption_title", "banner", "badge"])
def test_every_canvas_font_has_the_glyphs_of_chinese_names(qapp, role):
    """Each font the canvas draws text with maps 梯度 and the hint's marks to real glyphs (index 0 is
    a font's missing glyph), from the CJK family the theme lists."""
    assert cjk_fonts.cjk_font_available(), NEEDS_FONT
    layout = QTextLayout("梯度：提示", Theme("light").font(role))
    layout.beginLayout()
    layout.createLine()
    layout.endLayout()
    runs = layout.glyphRuns()
    assert runs
    for run in runs:
        assert 0 not in run.glyphIndexes()
        assert "CJK" in run.rawFont().familyName()


def render(env, tmp_path, out_name, *extra):
    script = tmp_path / "梯度.py"
    script.write_text("import torch\nx = torch.arange(3.0, requires_grad=True)\n"
                      "梯度 = (x * x).sum()\n梯度.backward()\n")
    return subprocess.run([sys.executable, "-m", "gradviz", "render", str(script), "--trust", "-o",
                           str(tmp_path / out_name), *extra], capture_output=True, text=True, cwd=ROOT, env=env,
                          timeout=180)


def test_render_says_once_that_no_cjk_font_is_installed(no_cjk_fontconfig, tmp_path):
    proc = render(no_cjk_fontconfig, tmp_path, "out.gif", "--lang", "zh_CN", "--caption")  # a frame per step
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines() == ["gradviz render: 没有安装中文（CJK）字体，中文会显示成方框；请安装一个，"
                                        "例如 sudo apt-get install fonts-noto-cjk"]
    assert (tmp_path / "out.gif").stat().st_size > 0


def test_render_says_nothing_when_the_font_is_there(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = render(env, tmp_path, "out.png", "--lang", "zh_CN")
    assert proc.returncode == 0 and proc.stderr == ""


def test_the_app_says_it_once_in_the_status_bar(qtbot, tmp_path, monkeypatch, two_x_client, two_x):
    monkeypatch.setattr(cjk_fonts, "cjk_font_available", lambda: False)
    monkeypatch.setattr(i18n, "_current", "en")
    window, _ = make_window(qtbot, tmp_path, two_x_client)
    window.show_result(two_x.result)  # English, no Chinese in the program: nothing to say
    assert window.statusBar().currentMessage() == ""
    window.editor.setPlainText("梯度 = 1\n")
    window.show_result(two_x.result)
    assert window.statusBar().currentMessage() == cjk_fonts.APP_NOTICE
    window.statusBar().clearMessage()
    for _ in range(3):  # later results (and every repaint) say nothing more
        window.show_result(two_x.result)
    assert window.statusBar().currentMessage() == ""


def test_the_app_says_it_for_the_chinese_language(qtbot, tmp_path, monkeypatch, two_x_client, two_x):
    monkeypatch.setattr(cjk_fonts, "cjk_font_available", lambda: False)
    monkeypatch.setattr(i18n, "_current", "zh_CN")
    window, _ = make_window(qtbot, tmp_path, two_x_client)
    window.show_result(two_x.result)
    assert window.statusBar().currentMessage() == cjk_fonts.APP_NOTICE
    monkeypatch.setattr(cjk_fonts, "cjk_font_available", lambda: True)
    other, _ = make_window(qtbot, tmp_path, two_x_client, config="other")
    other.show_result(two_x.result)
    assert other.statusBar().currentMessage() == ""
