"""GraphData / BackwardCall builders for the canvas, export and render tests (no torch).

The 2xᵀx call comes from the engine: the ``two_x`` fixture (tests/conftest.py).

- ``second_backward_call(first)``: ``first``'s graph backwarded again without retain_graph;
- ``fan_in_call()``: h = x * 3; z = (h.sin() + h.cos()).sum(): two gradients summed at MulBackward0;
- ``mlp_call()``: a two-layer MLP with nn.Linear parameters and mse_loss;
- ``big_call(n)``: a synthetic stack of transformer-like blocks of about ``n`` nodes.
"""

from __future__ import annotations

import math

from gradviz.core.result import (
    ACCUMULATE,
    LEAF,
    OP,
    PARAM,
    ROOT,
    BackwardCall,
    BackwardStep,
    ErrorInfo,
    GraphData,
    GraphEdge,
    GraphNode,
    LeafGrad,
    SavedRef,
    SavedTensor,
    Stats,
    TensorValue,
)


def tv(value, shape=None) -> TensorValue:
    """A float32 TensorValue from a number or a (nested) list."""
    if shape is None:
        shape = ()
        probe = value
        while isinstance(probe, list):
            shape += (len(probe),)
            probe = probe[0] if probe else 0
    return TensorValue(tuple(shape), "float32", value)


def summary(shape, norm=1.0, seed=0) -> TensorValue:
    """A summarised value (stats only), as the tracer sends for big tensors."""
    n = math.prod(shape) or 1
    rms = norm / math.sqrt(n)
    return TensorValue(tuple(shape), "float32", None,
                       Stats(min=-2 * rms - seed * 1e-3, max=2 * rms, mean=rms / 10, norm=norm))


def second_backward_call(first: BackwardCall) -> BackwardCall:
    """``first``'s graph backwarded again on the next line without retain_graph: no steps, its saved
    tensors freed, an error with a hint (as the engine records ``y.backward()`` run twice)."""
    line = first.line + 1
    graph = GraphData(
        nodes=tuple(
            GraphNode(n.id, n.kind, n.op, n.shape, n.dtype, n.names, n.line,
                      tuple(SavedTensor(s.name, s.shape, s.dtype, None, True) for s in n.saved),
                      n.attrs, n.value, n.grad, n.sequence_nr)
            for n in first.graph.nodes),
        edges=first.graph.edges, roots=first.graph.roots)
    err = ErrorInfo("RuntimeError",
                    "Trying to backward through the graph a second time (or directly access saved "
                    "tensors after they have already been freed).", line,
                    "The first backward() freed the saved tensors. Pass retain_graph=True to the "
                    "first backward() if you need to call it again.")
    return BackwardCall(first.index + 1, line, "backward", graph, (), error=err)


def fan_in_call() -> BackwardCall:
    """x = tensor([1., 2.]); h = x * 3; z = (h.sin() + h.cos()).sum(): h's two gradients meet at Mul."""
    h = [3.0, 6.0]
    cos_h = [math.cos(v) for v in h]
    msin_h = [-math.sin(v) for v in h]
    g_h = [a + b for a, b in zip(cos_h, msin_h, strict=True)]
    g_x = [3 * g for g in g_h]
    graph = GraphData(
        nodes=(
            GraphNode("r", ROOT, "Tensor", (), "float32", ("z",), line=4),
            GraphNode("sum", OP, "SumBackward0", (), "float32", ("z",), line=4),
            GraphNode("add", OP, "AddBackward0", (2,), "float32", ("y",), line=3, attrs=(("alpha", "1"),)),
            GraphNode("sin", OP, "SinBackward0", (2,), "float32", (), line=3,
                      saved=(SavedTensor("self", (2,), "float32", tv(h)),)),
            GraphNode("cos", OP, "CosBackward0", (2,), "float32", (), line=3,
                      saved=(SavedTensor("self", (2,), "float32", tv(h)),)),
            GraphNode("mul", OP, "MulBackward0", (2,), "float32", ("h",), line=2,
                      saved=(SavedTensor("other", (), "int64", tv(3)),)),
            GraphNode("acc", ACCUMULATE, "AccumulateGrad", (2,), "float32"),
            GraphNode("x", LEAF, "Tensor", (2,), "float32", ("x",), line=1, value=tv([1.0, 2.0])),
        ),
        edges=(GraphEdge("r", "sum"), GraphEdge("sum", "add"), GraphEdge("add", "sin", 0),
               GraphEdge("add", "cos", 1), GraphEdge("sin", "mul"), GraphEdge("cos", "mul"),
               GraphEdge("mul", "acc", 0), GraphEdge("acc", "x")),
        roots=("r",),
    )
    ones = tv([1.0, 1.0])
    steps = (
        BackwardStep(0, "sum", "SumBackward0", (tv(1.0),), (ones,)),
        BackwardStep(1, "add", "AddBackward0", (ones,), (ones, ones)),
        BackwardStep(2, "cos", "CosBackward0", (ones,), (tv(msin_h),)),
        BackwardStep(3, "sin", "SinBackward0", (ones,), (tv(cos_h),)),
        BackwardStep(4, "mul", "MulBackward0", (tv(g_h),), (tv(g_x), None)),
        BackwardStep(5, "acc", "AccumulateGrad", (tv(g_x),), (), None, tv(g_x)),
    )
    return BackwardCall(0, 5, "backward", graph, steps, leaves=(LeafGrad("x", "x", None, tv(g_x)),))


def mlp_call() -> BackwardCall:
    """model = Sequential(Linear(3, 8), ReLU(), Linear(8, 2)); loss = mse_loss(model(x), t)."""
    N, D_IN, H, D_OUT = 4, 3, 8, 2  # batch, inputs, hidden units, outputs
    nodes = [
        GraphNode("root", ROOT, "Tensor", (), "float32", ("loss",), line=6),
        GraphNode("mse", OP, "MseLossBackward0", (), "float32", ("loss",), line=6,
                  saved=(SavedTensor("self", (N, D_OUT), "float32"), SavedTensor("target", (N, D_OUT), "float32")),
                  attrs=(("reduction", "1"),)),
        GraphNode("addmm2", OP, "AddmmBackward0", (N, D_OUT), "float32", ("out",), line=5,
                  saved=(SavedTensor("mat1", (N, H), "float32"), SavedTensor("mat2", (H, D_OUT), "float32"))),
        GraphNode("relu", OP, "ReluBackward0", (N, H), "float32", (), line=5,
                  saved=(SavedTensor("result", (N, H), "float32"),)),
        GraphNode("addmm1", OP, "AddmmBackward0", (N, H), "float32", (), line=5,
                  saved=(SavedTensor("mat2", (D_IN, H), "float32"),)),
        GraphNode("t2", OP, "TBackward0", (H, D_OUT), "float32", (), line=5),
        GraphNode("t1", OP, "TBackward0", (D_IN, H), "float32", (), line=5),
    ]
    edges = [GraphEdge("root", "mse"), GraphEdge("mse", "addmm2"),
             GraphEdge("addmm2", "relu", 1), GraphEdge("relu", "addmm1"),
             GraphEdge("addmm2", "t2", 2), GraphEdge("addmm1", "t1", 2)]
    params = {"model.0.weight": ((H, D_IN), "t1"), "model.0.bias": ((H,), "addmm1"),
              "model.2.weight": ((D_OUT, H), "t2"), "model.2.bias": ((D_OUT,), "addmm2")}
    for name, (shape, user) in params.items():
        acc, pid = f"acc:{name}", f"p:{name}"
        nodes.append(GraphNode(acc, ACCUMULATE, "AccumulateGrad", shape, "float32"))
        nodes.append(GraphNode(pid, PARAM, "Parameter", shape, "float32", (name,), line=1))
        edges.append(GraphEdge(user, acc, 0))
        edges.append(GraphEdge(acc, pid, 0))
    graph = GraphData(tuple(nodes), tuple(edges), ("root",))
    b2 = tv([0.41, -0.27])
    b1 = tv([0.0, 0.12, -0.05, 0.3, 0.0, 0.07, -0.2, 0.11])
    steps = (
        BackwardStep(0, "mse", "MseLossBackward0", (tv(1.0),), (summary((N, D_OUT), 0.82),)),
        BackwardStep(1, "addmm2", "AddmmBackward0", (summary((N, D_OUT), 0.82),),
                     (b2, summary((N, H), 0.61), summary((H, D_OUT), 1.35))),
        BackwardStep(2, "acc:model.2.bias", "AccumulateGrad", (b2,), (), None, b2),
        BackwardStep(3, "t2", "TBackward0", (summary((H, D_OUT), 1.35),), (summary((D_OUT, H), 1.35),)),
        BackwardStep(4, "acc:model.2.weight", "AccumulateGrad", (summary((D_OUT, H), 1.35),), (), None,
                     summary((D_OUT, H), 1.35)),
        BackwardStep(5, "relu", "ReluBackward0", (summary((N, H), 0.61),), (summary((N, H), 0.44),)),
        BackwardStep(6, "addmm1", "AddmmBackward0", (summary((N, H), 0.44),),
                     (b1, None, summary((D_IN, H), 0.93))),
        BackwardStep(7, "acc:model.0.bias", "AccumulateGrad", (b1,), (), None, b1),
        BackwardStep(8, "t1", "TBackward0", (summary((D_IN, H), 0.93),), (summary((H, D_IN), 0.93),)),
        BackwardStep(9, "acc:model.0.weight", "AccumulateGrad", (summary((H, D_IN), 0.93),), (), None,
                     summary((H, D_IN), 0.93)),
    )
    leaves = tuple(LeafGrad(name, f"p:{name}", None, None) for name in params)
    freed = tuple(SavedRef(n.id, s.name) for n in nodes for s in n.saved)
    return BackwardCall(0, 7, "backward", graph, steps, leaves=leaves, freed=freed)


def big_call(n_nodes: int = 5000, seed_norm: float = 1.0) -> BackwardCall:
    """A stack of transformer-like blocks (layer norm, attention, MLP, residuals) of about n_nodes nodes.

    Steps run the ops in reverse creation order (a valid engine order); every gradient is a
    summarised [8, 64] value, as the tracer sends for big tensors.
    """
    nodes: list[GraphNode] = []
    edges: list[GraphEdge] = []
    shape = (8, 64)

    def op(name: str, inputs: list[str], saved: tuple[str, ...] = ()) -> str:
        nid = f"o{len(nodes)}"
        nodes.append(GraphNode(nid, OP, name, shape, "float32", (), line=len(nodes) % 40 + 1,
                               saved=tuple(SavedTensor(s, shape, "float32") for s in saved),
                               sequence_nr=len(nodes)))
        for i, src in enumerate(inputs):
            if src is not None:
                edges.append(GraphEdge(nid, src, i))
        return nid

    def param(name: str, pshape=(64, 64)) -> str:
        acc = f"a{len(nodes)}"
        nodes.append(GraphNode(acc, ACCUMULATE, "AccumulateGrad", pshape, "float32"))
        pid = f"p{len(nodes)}"
        nodes.append(GraphNode(pid, PARAM, "Parameter", pshape, "float32", (name,)))
        edges.append(GraphEdge(acc, pid))
        return acc

    x_acc = f"a{len(nodes)}"
    nodes.append(GraphNode(x_acc, ACCUMULATE, "AccumulateGrad", shape, "float32"))
    nodes.append(GraphNode("x", LEAF, "Tensor", shape, "float32", ("x",)))
    edges.append(GraphEdge(x_acc, "x"))
    h = x_acc
    b = 0
    per_block = 46
    while len(nodes) + per_block + 3 <= n_nodes:
        p = f"blocks[{b}]"
        ln = op("NativeLayerNormBackward0", [h, param(f"{p}.ln1.weight", (64,)), param(f"{p}.ln1.bias", (64,))],
                ("input", "result1", "result2"))
        q = op("MmBackward0", [ln, param(f"{p}.wq")], ("self", "mat2"))
        k = op("MmBackward0", [ln, param(f"{p}.wk")], ("self", "mat2"))
        v = op("MmBackward0", [ln, param(f"{p}.wv")], ("self", "mat2"))
        kt = op("TransposeBackward0", [k])
        s = op("MmBackward0", [q, kt], ("self", "mat2"))
        s = op("DivBackward0", [s], ("other",))
        a = op("SoftmaxBackward0", [s], ("result",))
        o = op("MmBackward0", [a, v], ("self", "mat2"))
        o = op("MmBackward0", [o, param(f"{p}.wo")], ("self", "mat2"))
        h1 = op("AddBackward0", [h, o])
        ln2 = op("NativeLayerNormBackward0", [h1, param(f"{p}.ln2.weight", (64,)), param(f"{p}.ln2.bias", (64,))],
                 ("input", "result1", "result2"))
        f = op("MmBackward0", [ln2, param(f"{p}.w1")], ("self", "mat2"))
        f = op("AddBackward0", [f, param(f"{p}.b1", (64,))])
        g = op("GeluBackward0", [f], ("self",))
        f = op("MmBackward0", [g, param(f"{p}.w2")], ("self", "mat2"))
        h = op("AddBackward0", [h1, f])
        b += 1
    while len(nodes) + 2 < n_nodes:  # pad with an elementwise chain to hit the size exactly
        h = op("MulBackward0", [h], ("other",))
    loss = op("MeanBackward0", [h])
    nodes.append(GraphNode("root", ROOT, "Tensor", (), "float32", ("loss",)))
    edges.append(GraphEdge("root", loss))
    graph = GraphData(tuple(nodes), tuple(edges), ("root",))
    # Reverse creation order is a topological order from the root down.
    steps = []
    out_edges = graph.out_edges
    for node in reversed(nodes):
        if node.kind not in (OP, ACCUMULATE):
            continue
        k = len(steps)
        g_in = summary(node.shape, seed_norm * (1 + k % 7) / 10)
        if node.kind == ACCUMULATE:
            steps.append(BackwardStep(k, node.id, node.op, (g_in,), (), None, g_in))
        else:
            outs = [None] * (max((e.index for e in out_edges[node.id]), default=-1) + 1)
            for e in out_edges[node.id]:
                outs[e.index] = summary(graph.node(e.dst).shape, seed_norm * (1 + (k + e.index) % 5) / 10)
            steps.append(BackwardStep(k, node.id, node.op, (g_in,), tuple(outs)))
    leaves = tuple(LeafGrad(n.names[0], n.id, None, None) for n in nodes if n.kind in (LEAF, PARAM))
    return BackwardCall(0, 99, "backward", graph, tuple(steps), leaves=leaves)
