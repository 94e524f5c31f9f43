"""gradviz's own words in Chinese through the real, contained engine: the language travels in the
request, the hints and limit messages come back in Chinese, torch's message stays as torch prints it."""

from __future__ import annotations

import pytest
from runner_helpers import run_python

from gradviz.core import i18n
from gradviz.core.request import Limits, RunRequest
from gradviz.engine.hints import _first_lines
from gradviz.engine.run import run_request

# (program, torch's own words in the message, the Chinese hint's words, the English hint's words, line)
MISTAKES = {
    "non-scalar backward": (
        "import torch\nx = torch.ones(3, requires_grad=True)\ny = x * 2\ny.backward()\n",
        "grad can be implicitly created only for scalar outputs",
        "backward() 需要从一个标量（单个数）开始。先把张量归约，例如 y.sum().backward()",
        "backward() needs a single number to start from", 4),
    "backward a second time": (
        "import torch\nx = torch.ones(3, requires_grad=True)\ny = (x * x).sum()\ny.backward()\ny.backward()\n",
        "Trying to backward through the graph a second time",
        "第 4 行的 backward()已经释放了计算图保存的张量（它运行时没有 retain_graph=True）",
        "The backward() at line 4 freed the values the graph saved", 5),
    "no requires_grad": (
        "import torch\nx = torch.ones(3)\ny = (x * 2).sum()\ny.backward()\n",
        "element 0 of tensors does not require grad and does not have a grad_fn",
        "这次计算中没有任何张量需要梯度，所以没有可以反向传播的计算图",
        "Nothing in this computation requires a gradient", 4),
    "x.grad()": (
        "import torch\nx = torch.ones(3, requires_grad=True)\n(x * 2).sum().backward()\nprint(x.grad())\n",
        "'Tensor' object is not callable",
        ".grad 是属性，不是方法：要写 x.grad，而不是 x.grad()",
        ".grad is an attribute, not a method", 4),
    "y.sum.backward": (
        "import torch\nx = torch.ones(3, requires_grad=True)\ny = x * 2\ny.sum.backward()\n",
        "'builtin_function_or_method' object has no attribute 'backward'",
        "这里用的是方法本身，而不是它的结果：在 .backward 前面加上括号",
        "Something is a method, not its result: add parentheses before .backward", 4),
    "np.arange with requires_grad": (
        "import numpy as np\nx = np.arange(4.0, requires_grad=True)\n",
        "unexpected keyword argument 'requires_grad'",
        "numpy 数组不会跟踪梯度：只有 torch 张量才接受 requires_grad",
        "numpy arrays don't track gradients", 2),
    "in-place on a leaf": (
        "import torch\nx = torch.ones(3, requires_grad=True)\nx.add_(1)\n",
        "a leaf Variable that requires grad is being used in an in-place operation",
        "需要梯度的叶子张量在自动求导跟踪它时不能被原地修改",
        "A leaf tensor that requires grad can't be changed in place", 3),
}


@pytest.fixture(autouse=True)
def english_here(monkeypatch):
    """This process speaks English (as by default); only the engine is asked for Chinese."""
    monkeypatch.setattr(i18n, "_current", "en")


@pytest.mark.parametrize("name", list(MISTAKES))
def test_the_hint_comes_back_in_chinese_beside_torchs_own_message(engine, name):
    program, torch_words, zh_words, en_words, line = MISTAKES[name]
    result = engine.run(RunRequest(program, language="zh_CN"))
    error = result.error
    assert error is not None and error.line == line
    # Torch's (or Python's) message exactly as the program raised it in plain Python.
    with pytest.raises(Exception) as raised:
        run_python(program)
    assert error.message == _first_lines(str(raised.value))
    assert torch_words in error.message
    assert error.hint is not None and zh_words in error.hint, error.hint
    assert en_words not in error.hint
    # The same program in English (the engine in this process): the same message, the English hint.
    english = run_request(RunRequest(program)).error
    assert english.message == error.message and english.type == error.type
    assert en_words in english.hint


def test_a_limit_message_in_chinese(engine):
    program = "for i in range(100):\n    print('0123456789')\n"
    result = engine.run(RunRequest(program, limits=Limits(max_output_chars=50), language="zh_CN"))
    error = result.error
    assert error is not None and error.type == "LimitExceeded" and error.limit == "max_output_chars"
    assert error.message == ("程序输出的内容太多：这次运行超出了输出上限（50 个输出字符）。如果程序本来就需要这么多，"
                             "可以在“运行 → 限制…”中调高（随会话保存），或对 gradviz inspect/render 使用 "
                             "--max-output-chars。")


def test_english_stays_as_it_was(engine):
    program = "for i in range(100):\n    print('0123456789')\n"
    result = engine.run(RunRequest(program, limits=Limits(max_output_chars=50)))
    assert result.error.message == (
        "The program printed too much: this run is over the output limit (50 printed characters). If the "
        "program is meant to do this much, raise it under Run → Limits… (saved with the session), or with "
        "--max-output-chars for gradviz inspect/render.")


def test_the_request_carries_a_known_language_only():
    request = RunRequest("x = 1", language="zh_CN")
    assert RunRequest.from_json(request.to_json()).language == "zh_CN"
    assert RunRequest("x = 1").language == "en"
    with pytest.raises(ValueError, match="zh_CN"):
        RunRequest("x = 1", language="fr")
    with pytest.raises(ValueError):
        RunRequest.from_json(RunRequest("x = 1").to_json().replace('"en"', '"xx"'))


def test_a_session_asks_in_the_current_language_and_does_not_store_it(monkeypatch):
    from gradviz.core.session import Session, dumps_session, parse_session

    session = Session(program="x = 1\n", title="一课")
    assert session.request().language == "en"
    monkeypatch.setattr(i18n, "_current", "zh_CN")
    assert session.request().language == "zh_CN"
    assert session.request(language="en").language == "en"
    saved = dumps_session(session)
    assert b"language" not in saved and b"zh_CN" not in saved
    assert parse_session(saved).request().language == "zh_CN"  # the reader's language, not the writer's
