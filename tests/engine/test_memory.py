"""A recorded backward pass through big maps holds little more than plain torch holds."""

from __future__ import annotations

import torch

from gradviz.engine import tracer as tracer_module
from gradviz.engine.tracer import Tracer


def test_big_gradients_are_reduced_as_the_pass_goes_once_the_held_budget_is_spent(monkeypatch):
    monkeypatch.setattr(tracer_module, "HOLD_ELEMENTS", 10_000)
    torch.manual_seed(0)
    x = torch.randn(100, 100, requires_grad=True)
    h = x
    for _ in range(20):
        h = torch.tanh(h) + h
    loss = h.mean()
    tracer = Tracer()
    tracer.bind(lambda: [("x", x), ("loss", loss)])
    held_tensors = []
    original = tracer_module._Keeper.__call__

    def spy(self, grads):
        kept = original(self, grads)
        held_tensors.extend(g for g in kept if isinstance(g, torch.Tensor) and g.numel() > 64)
        return kept

    monkeypatch.setattr(tracer_module._Keeper, "__call__", spy)
    tracer.run_backward("backward", 1, torch.Tensor.backward, (loss,), {})
    call = tracer.calls[0]
    # Only the first 10,000 elements' worth stayed tensors; the rest became values at once.
    assert sum(t.numel() for t in held_tensors) <= 20_000
    reduced = [v for st in call.steps for v in st.grad_in if v is not None and v.data is None]
    assert reduced and all(v.stats is not None for v in reduced)
    # The record is the same as with everything held to the end.
    monkeypatch.setattr(tracer_module, "HOLD_ELEMENTS", 10**12)
    x.grad = None
    h = x
    for _ in range(20):
        h = torch.tanh(h) + h
    loss = h.mean()
    again = Tracer()
    again.bind(lambda: [("x", x), ("loss", loss)])
    again.run_backward("backward", 1, torch.Tensor.backward, (loss,), {})
    assert [(s.op, s.grad_in) for s in again.calls[0].steps] == [(s.op, s.grad_in) for s in call.steps]
