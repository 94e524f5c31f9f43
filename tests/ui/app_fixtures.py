"""Hand-built RunResults for UI tests (accumulation, a heatmap, a long chain) and a fake EngineClient.

The 2xᵀx result is not built here: the ``two_x`` fixture (tests/conftest.py) has the engine make it.
"""

from __future__ import annotations

import threading
import time

from gradviz.core.containment import Containment, Layer
from gradviz.core.request import RunRequest
from gradviz.core.result import (
    ACCUMULATE,
    BACKWARD,
    LEAF,
    OP,
    ROOT,
    SET_NONE,
    BackwardCall,
    BackwardStep,
    ErrorInfo,
    GradEvent,
    GraphData,
    GraphEdge,
    GraphNode,
    LeafGrad,
    LeafHistory,
    RunResult,
    TensorInfo,
    TensorValue,
)


def tv(*values, shape=None):
    """A float32 TensorValue: one number is a scalar, several a vector (or ``shape``)."""
    if len(values) == 1 and shape is None:
        return TensorValue((), "float32", values[0])
    return TensorValue(shape or (len(values),), "float32", list(values))


ACCUM_PROGRAM = """import torch

w = torch.tensor([1.0, 2.0], requires_grad=True)
for step in range(3):
    loss = (w * w).sum()
    loss.backward()

v = torch.tensor([1.0, 2.0], requires_grad=True)
for step in range(3):
    v.grad = None
    loss = (v * v).sum()
    loss.backward()
"""


def _square_sum_call(index: int, line: int, leaf: str, before, after, ids: int) -> BackwardCall:
    p = f"c{ids}_"
    graph = GraphData(
        nodes=(GraphNode(p + "r", ROOT, "Tensor", (), "float32", ("loss",)),
               GraphNode(p + "sum", OP, "SumBackward0", (), "float32", ("loss",), line - 1),
               GraphNode(p + "mul", OP, "MulBackward0", (2,), "float32", (), line - 1),
               GraphNode(p + "acc", ACCUMULATE, "AccumulateGrad", (2,), "float32"),
               GraphNode(p + "leaf", LEAF, "Tensor", (2,), "float32", (leaf,), 3)),
        edges=(GraphEdge(p + "r", p + "sum"), GraphEdge(p + "sum", p + "mul"), GraphEdge(p + "mul", p + "acc", 0),
               GraphEdge(p + "mul", p + "acc", 1), GraphEdge(p + "acc", p + "leaf")),
        roots=(p + "r",),
    )
    ones = tv(1.0, 1.0)
    half = tv(1.0, 2.0)
    grad = tv(2.0, 4.0)
    steps = (BackwardStep(0, p + "sum", "SumBackward0", (tv(1.0),), (ones,)),
             BackwardStep(1, p + "mul", "MulBackward0", (ones,), (half, half)),
             BackwardStep(2, p + "acc", "AccumulateGrad", (grad,), (), before, after))
    return BackwardCall(index, line, "backward", graph, steps, leaves=(LeafGrad(leaf, p + "leaf", before, after),))


def accumulation_result() -> RunResult:
    """Three backward calls into w without zero_grad (2, 4, 6 × w), three into v with .grad = None."""
    w_vals = [tv(2.0 * k, 4.0 * k) for k in (1, 2, 3)]
    calls = []
    before = None
    for k in range(3):
        calls.append(_square_sum_call(k, 6, "w", before, w_vals[k], k))
        before = w_vals[k]
    for k in range(3):
        calls.append(_square_sum_call(3 + k, 12, "v", None, tv(2.0, 4.0), 3 + k))
    w_hist = LeafHistory("w", (2,), tuple(GradEvent(BACKWARD, 6, w_vals[k], k) for k in range(3)))
    v_events = []
    for k in range(3):
        v_events.append(GradEvent(SET_NONE, 10, None, None))
        v_events.append(GradEvent(BACKWARD, 12, tv(2.0, 4.0), 3 + k))
    v_hist = LeafHistory("v", (2,), tuple(v_events))
    return RunResult(
        variables=(TensorInfo("w", (2,), "float32", True, True, tv(1.0, 2.0), w_vals[-1], node_id="c2_leaf"),
                   TensorInfo("v", (2,), "float32", True, True, tv(1.0, 2.0), tv(2.0, 4.0), node_id="c5_leaf")),
        graph=calls[-1].graph,
        backward_calls=tuple(calls),
        grad_history=(w_hist, v_hist),
    )


def matrix_result() -> RunResult:
    """A 3×4 parameter gradient (for the heatmap)."""
    data = [[float(r * 4 + c - 5) for c in range(4)] for r in range(3)]
    g = TensorValue((3, 4), "float32", data)
    return RunResult(variables=(TensorInfo("lin.weight", (3, 4), "float32", True, True, g, g, is_param=True),))


class FakeClient:
    """The EngineClient API over canned results: ``respond(request) -> RunResult`` (default: an empty run).

    ``while True`` programs run until cancelled or killed, like the real worker would.
    """

    def __init__(self, respond=None, ready_delay: float = 0.0, run_delay: float = 0.0, contained: bool = True):
        self.respond = respond or (lambda request: RunResult())
        self.containment = Containment("linux", contained, (Layer("landlock", contained, "test"),))
        self.ready_delay = ready_delay
        self.run_delay = run_delay
        self.requests: list[RunRequest] = []
        self.starts = 0
        self._cancel = threading.Event()
        self._kill = threading.Event()
        self.running = threading.Event()

    def start(self) -> None:
        self.starts += 1

    def wait_ready(self, timeout: float) -> bool:
        time.sleep(self.ready_delay)
        return True

    def run(self, request: RunRequest, on_progress=None, trusted: bool = False) -> RunResult:
        if not trusted and not self.containment.contained:
            return RunResult(error=ErrorInfo("NotContained", "not contained here: trust it before it runs"))
        self.requests.append(request)
        self._cancel.clear()
        self._kill.clear()
        self.running.set()
        try:
            deadline = time.monotonic() + self.run_delay
            endless = "while True" in request.program
            while endless or time.monotonic() < deadline:
                if self._kill.is_set():
                    return RunResult(error=ErrorInfo("WorkerCrashed", "the engine process stopped (killed)"))
                if self._cancel.is_set():
                    return RunResult(error=ErrorInfo("Cancelled", "stopped by the user", line=1))
                if on_progress is not None:
                    on_progress({"statements_done": 1, "line": 1})
                time.sleep(0.01)
            return self.respond(request)
        finally:
            self.running.clear()

    def cancel(self) -> None:
        self._cancel.set()

    def kill(self) -> None:
        self._kill.set()

    def close(self) -> None:
        self._kill.set()


def chain_result(n: int = 400) -> RunResult:
    """A long chain loss ← op_1 ← … ← op_n ← AccumulateGrad ← x, run by one backward call."""
    nodes = [GraphNode("r", ROOT, "Tensor", (), "float32", ("loss",))]
    edges = [GraphEdge("r", "o0")]
    steps = []
    for i in range(n):
        nodes.append(GraphNode(f"o{i}", OP, "SinBackward0", (4,), "float32", (), 5))
        nxt = f"o{i + 1}" if i + 1 < n else "acc"
        edges.append(GraphEdge(f"o{i}", nxt))
        steps.append(BackwardStep(i, f"o{i}", "SinBackward0", (tv(1.0, 1.0, 1.0, 1.0),), (tv(0.5, 0.5, 0.5, 0.5),)))
    nodes += [GraphNode("acc", ACCUMULATE, "AccumulateGrad", (4,), "float32"),
              GraphNode("x", LEAF, "Tensor", (4,), "float32", ("x",), 3)]
    edges.append(GraphEdge("acc", "x"))
    g = tv(0.5, 0.5, 0.5, 0.5)
    steps.append(BackwardStep(n, "acc", "AccumulateGrad", (g,), (), None, g))
    graph = GraphData(tuple(nodes), tuple(edges), ("r",))
    call = BackwardCall(0, 6, "backward", graph, tuple(steps), leaves=(LeafGrad("x", "x", None, g),))
    return RunResult(
        variables=(TensorInfo("x", (4,), "float32", True, True, tv(1.0, 1.0, 1.0, 1.0), g, node_id="x"),),
        graph=graph, backward_calls=(call,),
        grad_history=(LeafHistory("x", (4,), (GradEvent(BACKWARD, 6, g, 0),)),),
    )
