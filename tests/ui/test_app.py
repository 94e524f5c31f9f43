"""Starting the app: display detection, the headless message, the window built on the example."""

import os
import subprocess
import sys
from pathlib import Path

from app_fixtures import FakeClient
from app_window import make_window

from gradviz.ui.app import HEADLESS_MESSAGE, has_display
from gradviz.ui.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_has_display(monkeypatch, tmp_path):
    import gradviz.ui.app as app_module

    monkeypatch.setattr(app_module, "_X11_SOCKETS", str(tmp_path))
    (tmp_path / "X0").touch()
    assert has_display({"DISPLAY": ":0.0"}, "linux")
    assert not has_display({"DISPLAY": ":7"}, "linux")  # no X server behind it
    assert has_display({"DISPLAY": "localhost:10.0"}, "linux")  # ssh forwarding: can't tell, try
    assert not has_display({}, "linux")
    assert has_display({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert has_display({"QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert has_display({}, "win32") and has_display({}, "darwin")


def test_no_display_prints_how_to_run_headless_instead_of_aborting():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from gradviz.ui.app import run_app; sys.exit(run_app())"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr == HEADLESS_MESSAGE
    assert "gradviz inspect" in proc.stderr and "QT_QPA_PLATFORM=offscreen" in proc.stderr
    assert "Aborted" not in proc.stderr and "qt.qpa" not in proc.stderr


def test_ui_modules_never_import_torch():
    code = (
        "import sys; from PySide6.QtWidgets import QApplication; app = QApplication([]);"
        "import gradviz.ui.app, gradviz.ui.main_window, gradviz.ui.grads, gradviz.ui.runner;"
        "print('torch' in sys.modules)"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "False", proc.stderr


def test_window_starts_the_engine_and_shows_it_is_starting(qtbot, tmp_path, dialog_log):
    class Slow(FakeClient):
        def wait_ready(self, timeout):
            self.gate.wait(5)
            return True

    client = Slow()
    import threading

    client.gate = threading.Event()
    window, _ = make_window(qtbot, tmp_path, client)
    assert window.engine_label.text().startswith("● Engine starting")
    assert window.engine_label.property("state") == "starting"
    client.gate.set()
    qtbot.waitUntil(lambda: window.engine_label.property("state") == "ready", timeout=3000)


def test_settings_live_in_the_given_directory(tmp_path):
    s = Settings(tmp_path / "cfg")
    s.theme = "dark"
    s.add_recent_file(str(tmp_path / "a.gradviz"))
    s.add_recent_file(str(tmp_path / "b.gradviz"))
    s.add_recent_file(str(tmp_path / "a.gradviz"))
    s.sync()
    again = Settings(tmp_path / "cfg")
    assert again.theme == "dark"
    assert [Path(p).name for p in again.recent_files()] == ["a.gradviz", "b.gradviz"]
    assert again.recovery_path == tmp_path / "cfg" / "recovery.gradviz"
    assert (tmp_path / "cfg" / "gradviz.ini").exists()
    again.clear_recent_files()
    assert again.recent_files() == []


def test_settings_refuse_odd_values(tmp_path):
    s = Settings(tmp_path)
    s._qs.setValue("view/theme", "purple")
    s._qs.setValue("player/speed", "fast")
    assert s.theme == "light" and s.speed == 1.0
    s.presentation = True
    assert Settings(tmp_path).presentation is True


def test_config_dir_from_environment(monkeypatch, tmp_path):
    from gradviz.ui.settings import default_config_dir

    monkeypatch.setenv("GRADVIZ_CONFIG_DIR", str(tmp_path / "env"))
    assert default_config_dir() == tmp_path / "env"


def test_gradviz_file_opens_a_script_and_draws_its_graph(tmp_path):
    script = tmp_path / "lesson.py"
    script.write_text("import torch\na = torch.ones(3, requires_grad=True)\nb = (a * a).sum()\nb.backward()\n",
                      encoding="utf-8")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", GRADVIZ_TIMING="quit", GRADVIZ_CONFIG_DIR=str(tmp_path / "cfg"))
    proc = subprocess.run([sys.executable, "-m", "gradviz", str(script)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    marks = [line.split()[1] for line in proc.stderr.splitlines() if line.startswith("gradviz-timing")]
    assert marks == ["shown", "graph"]
