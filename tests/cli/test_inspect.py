"""`gradviz inspect`: JSON document, readable report, exit codes 0/1/2."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

README = ("import torch\nx = torch.arange(4.0, requires_grad=True)\ny = 2 * torch.dot(x, x)\ny.backward()\n"
          "print(x.grad)\n")


def gradviz(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "gradviz", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=120)


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "example.py"
    path.write_text(README)
    return path


def test_inspect_json_of_a_script(script):
    proc = gradviz("inspect", str(script), "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["stdout"] == "tensor([ 0.,  4.,  8., 12.])\n" and doc["error"] is None
    assert doc["variables"]["x"] == {"shape": [4], "dtype": "float32", "requires_grad": True, "is_leaf": True,
                                     "value": [0.0, 1.0, 2.0, 3.0], "grad": [0.0, 4.0, 8.0, 12.0]}
    assert doc["variables"]["y"]["value"] == 28.0 and doc["variables"]["y"]["is_leaf"] is False
    (call,) = doc["backward_calls"]
    assert call["line"] == 4
    assert [s["op"] for s in call["steps"]] == ["MulBackward0", "DotBackward0", "AccumulateGrad"]
    assert call["steps"][1]["grad_out"] == [[0.0, 2.0, 4.0, 6.0], [0.0, 2.0, 4.0, 6.0]]
    assert call["leaves"]["x"] == {"before": None, "after": [0.0, 4.0, 8.0, 12.0]}
    ops = sorted(n["op"] for n in doc["graph"]["nodes"])
    assert ops == ["AccumulateGrad", "DotBackward0", "MulBackward0", "Tensor", "Tensor"]
    dot = next(n["id"] for n in doc["graph"]["nodes"] if n["op"] == "DotBackward0")
    assert sorted(e["index"] for e in doc["graph"]["edges"] if e["src"] == dot) == [0, 1]


def test_inspect_writes_the_graph_as_graphml(script, tmp_path):
    import networkx as nx

    out = tmp_path / "graph.graphml"
    proc = gradviz("inspect", str(script), "--json", "--graphml", str(out))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)  # the JSON still comes, and GraphML holds the same graph
    g = nx.read_graphml(out)
    assert isinstance(g, nx.MultiDiGraph)
    assert set(g) == {n["id"] for n in doc["graph"]["nodes"]}
    assert g.number_of_edges() == len(doc["graph"]["edges"]) == 5
    ops = dict(g.nodes(data="op"))
    assert sorted(ops.values()) == ["AccumulateGrad", "DotBackward0", "MulBackward0", "Tensor", "Tensor"]
    dot = next(v for v, op in ops.items() if op == "DotBackward0")
    acc = next(v for v, op in ops.items() if op == "AccumulateGrad")
    # torch.dot(x, x): both edges to x's AccumulateGrad, with their input index.
    assert g.number_of_edges(dot, acc) == 2
    assert sorted(d["index"] for _, _, d in g.edges(dot, data=True)) == [0, 1]
    by_label = {d["label"]: d for _, d in g.nodes(data=True)}
    assert by_label["y"] == {"kind": "root", "op": "Tensor", "label": "y", "shape": "[]", "dtype": "float32",
                             "names": "y", "root": 0}
    assert by_label["x"] == {"kind": "leaf", "op": "Tensor", "label": "x", "shape": "[4]", "dtype": "float32",
                             "names": "x"}
    assert by_label["MulBackward0"]["line"] == 3 and by_label["AccumulateGrad"]["kind"] == "accumulate"


def test_graphml_of_a_long_training_loop_is_the_last_calls_graph(tmp_path):
    import networkx as nx

    # Past the first 50 calls a loop's calls are recorded lightly, without their graph; the
    # GraphML is the graph of the last one all the same, as the app and render show it.
    path = tmp_path / "loop.py"
    path.write_text("import torch\nw = torch.ones(3, requires_grad=True)\nfor i in range(60):\n"
                    "    loss = (w * 2).sum()\n    loss.backward()\n")
    out = tmp_path / "loop.graphml"
    proc = gradviz("inspect", str(path), "--graphml", str(out))
    assert proc.returncode == 0, proc.stderr
    ops = sorted(op for _, op in nx.read_graphml(out).nodes(data="op"))
    assert ops == ["AccumulateGrad", "MulBackward0", "SumBackward0", "Tensor", "Tensor"]


def test_graphml_into_a_missing_folder_exits_2(script, tmp_path):
    proc = gradviz("inspect", str(script), "--graphml", str(tmp_path / "no" / "graph.graphml"))
    assert proc.returncode == 2 and proc.stdout == "" and "does not exist" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_inspect_of_a_failing_program_prints_the_error_and_exits_1(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text("import torch\nx = torch.ones(3, requires_grad=True)\ny = x * 2\ny.backward()\n")
    proc = gradviz("inspect", str(path), "--json")
    assert proc.returncode == 1
    err = json.loads(proc.stdout)["error"]
    assert err["line"] == 4 and err["type"] == "RuntimeError" and "scalar" in err["message"]
    assert "sum()" in err["hint"] or "gradient" in err["hint"]
    report = gradviz("inspect", str(path))
    assert report.returncode == 1 and "Error on line 4" in report.stdout and "Hint:" in report.stdout


def test_inspect_readable_report(script):
    proc = gradviz("inspect", str(script))
    assert proc.returncode == 0
    assert "MulBackward0" in proc.stdout and "x.grad: None -> [0.0, 4.0, 8.0, 12.0]" in proc.stdout


def test_the_last_lines_value_shows_as_in_a_notebook_but_not_in_stdout(tmp_path):
    """The README's first example ends with a bare x.grad: python prints nothing for it, a
    notebook shows its value; the report shows it apart from the output, the JSON keeps stdout."""
    path = tmp_path / "bare.py"
    path.write_text(README.replace("print(x.grad)", "x.grad"))
    report = gradviz("inspect", str(path), "--trust")
    assert report.returncode == 0 and "Output:" not in report.stdout
    assert report.stdout.startswith("Value of line 5:\n  tensor([ 0.,  4.,  8., 12.])\n")
    doc = json.loads(gradviz("inspect", str(path), "--trust", "--json").stdout)
    assert doc["stdout"] == ""


@pytest.mark.parametrize("content, reason", [
    (None, "No such file"),
    (b"{not json", "JSON"),
    (b'{"format": "gradviz-session", "version": 99, "program": ""}', "newer"),
])
def test_unusable_files_exit_2_with_one_line(tmp_path, content, reason):
    path = tmp_path / "lesson.gradviz"
    if content is not None:
        path.write_bytes(content)
    proc = gradviz("inspect", str(path), "--json")
    assert proc.returncode == 2 and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert reason.lower() in proc.stderr.lower()


def test_bad_arguments_exit_2():
    proc = gradviz("inspect")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_session_seed_is_used(tmp_path):
    path = tmp_path / "seeded.gradviz"
    path.write_text(json.dumps({"format": "gradviz-session", "version": 2, "program":
                                "import torch\nprint(torch.randn(2))\n", "seed": 5}))
    proc = gradviz("inspect", str(path), "--json")
    import torch
    torch.manual_seed(5)
    assert json.loads(proc.stdout)["stdout"] == f"{torch.randn(2)}\n"


def test_notes_close_the_report_and_are_in_the_json():
    from gradviz.cli import inspect_json, inspect_report
    from gradviz.core.result import RunResult

    result = RunResult(stdout="hi\n", notes=("The graphs behind the variables have more than 20,000 nodes.",))
    assert inspect_report(result).endswith(
        "The program ran without errors.\nNote: The graphs behind the variables have more than 20,000 nodes.\n")
    assert inspect_json(result)["notes"] == ["The graphs behind the variables have more than 20,000 nodes."]


def test_inspect_json_reports_values_in_full_up_to_100000_elements(tmp_path):
    path = tmp_path / "big.py"
    path.write_text("import torch\nwhole = torch.arange(100_000.0)\nbig = torch.arange(100_001.0)\n")
    proc = gradviz("inspect", str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    whole, big = doc["variables"]["whole"], doc["variables"]["big"]
    assert whole["value"] == [float(i) for i in range(100_000)]
    assert big["value"] == {"shape": [100_001], "summary": {"min": 0.0, "max": 100000.0, "mean": 50000.0,
                                                            "norm": pytest.approx(18257555.5, rel=1e-6)}}


def test_limits_come_from_the_session_and_the_command_line(tmp_path):
    """A session's "limits" apply to its run; an option overrides them; a bad value exits 2."""
    program = "import time\nprint('start')\ntime.sleep(30)\n"
    doc = {"format": "gradviz-session", "version": 3, "program": program, "limits": {"max_seconds": 1}}
    path = tmp_path / "slow.gradviz"
    path.write_text(json.dumps(doc))
    proc = gradviz("inspect", str(path), "--trust", "--json")
    error = json.loads(proc.stdout)["error"]
    assert proc.returncode == 1 and error["type"] == "LimitExceeded" and "1 seconds" in error["message"]
    assert "--max-seconds" in error["message"] and "Limits." not in error["message"]
    script = tmp_path / "quick.py"
    script.write_text("print('a' * 50)\n")
    proc = gradviz("inspect", str(script), "--trust", "--json", "--max-output-chars", "10")
    error = json.loads(proc.stdout)["error"]
    assert error["type"] == "LimitExceeded" and "10 printed characters" in error["message"]
    proc = gradviz("inspect", str(script), "--max-memory-mb", "5")
    assert proc.returncode == 2 and proc.stderr.strip() == (
        "gradviz inspect: --max-memory-mb must be between 64 and 1,048,576, got 5")
    loop = tmp_path / "loop.py"
    loop.write_text("import torch\nx = torch.ones(3)\nfor i in range(10_000):\n    x = x + 1\n")
    error = json.loads(gradviz("inspect", str(loop), "--trust", "--json", "--max-steps", "500").stdout)["error"]
    assert error["type"] == "LimitExceeded" and error["line"] == 4
    assert "500 torch operations" in error["message"] and "--max-steps" in error["message"]
    big = tmp_path / "big.py"
    big.write_text("import torch\nx = torch.zeros(100, 100)\n")
    error = json.loads(gradviz("inspect", str(big), "--trust", "--json", "--max-elements", "9999").stdout)["error"]
    assert error["line"] == 2 and error["message"].startswith("The program made a tensor of 10,000 elements")
    assert "--max-elements" in error["message"]
    proc = gradviz("inspect", str(big), "--max-steps", "0")
    assert proc.returncode == 2 and "--max-steps must be between 1 and 2,000,000,000, got 0" in proc.stderr


def test_the_report_tells_two_muls_apart_and_shows_the_parts_of_a_fan_in(tmp_path):
    path = tmp_path / "fan.py"
    path.write_text("import torch\nw = torch.ones(2, requires_grad=True)\na = w * 2\nb = a * w\nb.sum().backward()\n")
    report = gradviz("inspect", str(path)).stdout
    doc = json.loads(gradviz("inspect", str(path), "--json").stdout)
    steps = doc["backward_calls"][0]["steps"]
    assert "Backward call 1 (backward, line 5): 4 steps" in report
    muls = [line for line in report.splitlines() if ". MulBackward0" in line]
    assert len(muls) == 2 and muls[0] != muls[1]
    assert "line 4; b)" in muls[0] and "line 3; a)" in muls[1]
    assert [s["node"] for s in steps if s["op"] == "MulBackward0"] == [m.split("(")[1].split(";")[0] for m in muls]
    # w's AccumulateGrad sums a part from each MulBackward0 (steps 2 and 3): both are listed.
    tail = report[report.index("AccumulateGrad"):].splitlines()
    assert "w.grad" in tail[0]
    assert tail[1].strip() == "fan-in: the sum of 2 parts"
    assert tail[2].strip() == "from step 2: [2.0, 2.0]" and tail[3].strip() == "from step 3: [2.0, 2.0]"


def test_one_step_is_not_steps(tmp_path):
    path = tmp_path / "one.py"
    path.write_text("import torch\nx = torch.tensor(3.0, requires_grad=True)\nx.backward()\n")
    report = gradviz("inspect", str(path)).stdout
    assert "Backward call 1 (backward, line 3): 1 step\n" in report


def test_the_report_says_which_nodes_a_create_graph_backward_made(tmp_path):
    path = tmp_path / "second.py"
    path.write_text("import torch\nx = torch.tensor(1.0, requires_grad=True)\ny = torch.sin(x) * x\n"
                    "(g,) = torch.autograd.grad(y, x, create_graph=True)\ng.backward()\n")
    report = gradviz("inspect", str(path)).stdout
    first, second = report.split("Backward call 2")
    assert "∂ of" not in first.split("Backward call 1")[1]  # the first graph was made by the program
    made = [line for line in second.splitlines() if "∂ of SinBackward0, line 3, call 1" in line]
    assert len(made) >= 3 and any("CosBackward0" in line for line in made)
