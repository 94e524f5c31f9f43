"""`gradviz inspect/render --lang`: the readable report and the CLI's words in Chinese; JSON keys,
the program's output and torch's messages as they are; the system locale as the default."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gradviz.core import i18n
from gradviz.core.language_option import add_language_option, apply_language_option

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = ("import torch\nx = torch.arange(4.0, requires_grad=True)\ny = 2 * torch.dot(x, x)\ny.backward()\n"
           "print(x.grad)\nz = x * x\nz.backward()\n")


def gradviz(*args, lang_env="C.UTF-8"):
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")}
    env["LANG"] = lang_env
    return subprocess.run([sys.executable, "-m", "gradviz", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, env=env)


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "mistake.py"
    path.write_text(PROGRAM)
    return path


def test_the_readable_report_in_chinese(script):
    proc = gradviz("inspect", str(script), "--lang", "zh_CN")
    assert proc.returncode == 1, proc.stderr
    out = proc.stdout
    assert out.startswith("输出：\n  tensor([ 0.,  4.,  8., 12.])\n")  # the program's own output as printed
    assert "张量：\n  x: float32[4] (叶子, requires_grad) = [0.0, 1.0, 2.0, 3.0]\n" in out
    assert "第 1 次反向传播（backward，第 4 行）：3 步\n" in out
    assert "     1. MulBackward0 (n1; 第 3 行; y)            传入 1.0\n" in out  # columns as wide as English
    assert "        汇合：2 部分之和\n          来自第 2 步：[0.0, 2.0, 4.0, 6.0]\n" in out
    assert "第 2 次反向传播（backward，第 7 行）：0 步\n" in out
    # Torch's message stays torch's, the hint beside it is Chinese.
    assert "第 7 行出错：RuntimeError: grad can be implicitly created only for scalar outputs\n" in out
    assert "提示：backward() 需要从一个标量（单个数）开始。" in out


def test_english_is_the_default_and_unchanged(script):
    default = gradviz("inspect", str(script))
    english = gradviz("inspect", str(script), "--lang", "en", lang_env="zh_CN.UTF-8")
    assert default.stdout == english.stdout
    assert "Backward call 1 (backward, line 4): 3 steps\n" in default.stdout
    assert f"     1. {'MulBackward0 (n1; line 3; y)':<40} in 1.0\n" in default.stdout  # as before --lang
    assert "Error on line 7: RuntimeError: grad can be implicitly created only for scalar outputs\n" in default.stdout
    assert "Hint: backward() needs a single number to start from." in default.stdout


def test_the_system_locale_decides_without_lang(script):
    proc = gradviz("inspect", str(script), lang_env="zh_CN.UTF-8")
    assert "第 1 次反向传播" in proc.stdout


def test_json_keys_stay_english(script):
    zh = json.loads(gradviz("inspect", str(script), "--json", "--lang", "zh_CN").stdout)
    en = json.loads(gradviz("inspect", str(script), "--json", "--lang", "en").stdout)
    assert zh.keys() == en.keys() and zh["error"].keys() == en["error"].keys()
    assert zh["stdout"] == en["stdout"] and zh["error"]["message"] == en["error"]["message"]
    assert zh["variables"] == en["variables"] and zh["graph"] == en["graph"]
    assert zh["error"]["hint"].startswith("backward() 需要从一个标量")
    assert en["error"]["hint"].startswith("backward() needs a single number")


@pytest.mark.parametrize("command", ["inspect", "render"])
def test_a_bad_language_is_one_line_listing_the_choices(script, tmp_path, command):
    extra = ["-o", str(tmp_path / "out.png")] if command == "render" else []
    proc = gradviz(command, str(script), *extra, "--lang", "klingon")
    assert proc.returncode == 2
    assert proc.stderr == (f"gradviz {command}: argument --lang: unknown language 'klingon': "
                           "choose one of en (English), zh_CN (简体中文)\n")
    assert not (tmp_path / "out.png").exists()


def test_a_cli_message_in_chinese(tmp_path, script):
    proc = gradviz("render", str(script), "-o", str(tmp_path / "missing" / "out.png"), "--lang", "zh-CN")
    assert proc.returncode == 2
    assert proc.stderr == f"gradviz render: 文件夹 {str(tmp_path / 'missing')!r} 不存在\n"


def test_the_option_helper_parses_and_applies(monkeypatch):
    import argparse

    monkeypatch.setattr(i18n, "_current", "en")
    parser = argparse.ArgumentParser()
    add_language_option(parser)
    assert parser.parse_args(["--lang", "zh_CN.UTF-8"]).lang == "zh_CN"
    assert apply_language_option(parser.parse_args(["--lang", "zh"])) == "zh_CN" == i18n.language()
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(var, raising=False)
    assert apply_language_option(parser.parse_args([])) == "en" == i18n.language()
