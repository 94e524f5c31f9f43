"""Export from the window: PNG at a scale, SVG, the backward pass as GIF/APNG/frames, clipboard, screenshot."""

import pytest
from app_window import make_window, run_and_wait
from PIL import Image
from PySide6.QtWidgets import QApplication

from gradviz.ui.dialogs import ExportChoice


@pytest.fixture
def window(qtbot, tmp_path, dialog_log, two_x_client):
    """The window after a run of the engine's 2xᵀx (through a fake engine)."""
    w, _ = make_window(qtbot, tmp_path, two_x_client)
    run_and_wait(qtbot, w)
    return w


def test_png_scale_follows_the_choice(window, tmp_path, dialog_log):
    sizes = {}
    for scale in (1.0, 2.0):
        dialog_log.export_answer = ExportChoice("png", scale, False, False)
        dialog_log.export_path_answer = str(tmp_path / f"g{scale:g}.png")
        assert window.export_graph()
        sizes[scale] = Image.open(tmp_path / f"g{scale:g}.png").size
    assert sizes[2.0][0] == pytest.approx(2 * sizes[1.0][0], abs=2)
    assert dialog_log.named("ask_export")[0] == ("ask_export", True, True)
    assert dialog_log.named("export_path")[0][2].endswith("-call1-step3.png")


def test_svg_keeps_labels_as_text(window, tmp_path, dialog_log):
    dialog_log.export_answer = ExportChoice("svg", 1.0, True, True)
    dialog_log.export_path_answer = str(tmp_path / "g.svg")
    assert window.export_graph()
    svg = (tmp_path / "g.svg").read_text(encoding="utf-8")
    assert "<text" in svg and "Dot" in svg and "The gradient of 2x" in svg


def test_gif_has_a_frame_per_step(window, tmp_path, dialog_log):
    dialog_log.export_answer = ExportChoice("gif", 1.0, False, True)
    dialog_log.export_path_answer = str(tmp_path / "pass.gif")
    assert window.export_graph()
    gif = Image.open(tmp_path / "pass.gif")
    assert gif.n_frames == 4  # before the first step, then one per step
    assert window.player.step == 3  # the canvas shows what it showed before


def test_png_frames_into_a_folder(window, tmp_path, dialog_log):
    dialog_log.export_answer = ExportChoice("frames", 1.0, False, False)
    dialog_log.export_path_answer = str(tmp_path)
    assert window.export_graph()
    assert sorted(p.name for p in tmp_path.glob("frame_*.png")) == [f"frame_00{k}.png" for k in range(4)]


def test_cancelled_export_writes_nothing(window, tmp_path, dialog_log):
    dialog_log.export_answer = None
    assert not window.export_graph()
    assert not list(tmp_path.glob("*.png"))


def test_copy_image_and_screenshot(window, tmp_path, dialog_log):
    assert window.copy_graph_image()
    image = QApplication.clipboard().image()
    assert image.width() > 100 and image.height() > 100
    dialog_log.export_path_answer = str(tmp_path / "window.png")
    assert window.save_screenshot()
    assert Image.open(tmp_path / "window.png").size == (window.width(), window.height())


def test_a_typed_extension_wins_over_the_chosen_format(window, tmp_path, dialog_log, monkeypatch):
    from gradviz.ui import dialogs

    dialog_log.export_answer = ExportChoice("png", 1.0, False, True)
    dialog_log.export_path_answer = str(tmp_path / "fan-in-app.gif")
    assert window.export_graph()
    assert [p.name for p in tmp_path.iterdir()] == ["fan-in-app.gif"]
    assert Image.open(tmp_path / "fan-in-app.gif").n_frames == 4  # the animation the name asked for
    # The save dialog itself no longer appends the chosen format's extension to a typed one.
    monkeypatch.undo()
    monkeypatch.setattr(dialogs.QFileDialog, "getSaveFileName", lambda *a: (str(tmp_path / "fan-in.gif"), ""))
    assert dialogs.export_path(None, "png", "x.png") == str(tmp_path / "fan-in.gif")
    monkeypatch.setattr(dialogs.QFileDialog, "getSaveFileName", lambda *a: (str(tmp_path / "fan-in"), ""))
    assert dialogs.export_path(None, "svg", "x.svg") == str(tmp_path / "fan-in.svg")


def test_an_extension_gradviz_cannot_write_is_explained(window, tmp_path, dialog_log):
    dialog_log.export_answer = ExportChoice("png", 1.0, False, True)
    dialog_log.export_path_answer = str(tmp_path / "figure.jpg")
    assert not window.export_graph()
    (error,) = dialog_log.named("show_error")
    assert "figure.jpg" in error[2] and ".png" in error[2] and ".svg" in error[2]
    assert not list(tmp_path.iterdir())


def test_export_format_follows_the_extension():
    from gradviz.ui.dialogs import export_format

    assert export_format("png", "a.svg", True) == ("svg", None)
    assert export_format("svg", "a.png", False) == ("png", None)
    assert export_format("apng", "a.png", True) == ("apng", None)
    assert export_format("gif", "a.png", True) == ("apng", None)
    assert export_format("png", "a.apng", True) == ("apng", None)
    fmt, why = export_format("png", "a.gif", False)
    assert fmt == "png" and "backward" in why  # no call shown: nothing to animate


def test_the_default_animation_name_names_the_call_not_a_step(window, tmp_path, dialog_log):
    dialog_log.export_answer = ExportChoice("gif", 1.0, False, True)
    dialog_log.export_path_answer = str(tmp_path / "pass.gif")
    assert window.export_graph()
    suggested = dialog_log.named("export_path")[0][2]
    assert suggested.endswith("-call1.gif") and "step" not in suggested
