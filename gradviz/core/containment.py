"""What holds the engine process: the OS layers it put on and the probes that tested them, as plain data."""

from __future__ import annotations

import re
from dataclasses import dataclass

# How the main layers are named, in this order, in a one-line summary (the others are in the report).
_SUMMARY_WORDS = {
    "landlock": "Landlock",
    "seatbelt": "Seatbelt",
    "seccomp": "seccomp",
    "no_new_privs": "no new privileges",
    "network_namespace": "network namespace",
}


@dataclass(frozen=True)
class Layer:
    """One layer of containment, or one self-check probe.

    Attributes
    ----------
    name
        The layer ("landlock", "seccomp", "no_new_privs", "capabilities", "network_namespace",
        "parent_death", "rlimits", "environment", "workdir", "seatbelt") or, for a probe, what it
        tried ("write a file").
    active
        A layer: it is in force. A probe: the attempt was blocked.
    detail
        One plain-English line: what it does here, or why it is unavailable.
    required
        Whether containment depends on it. A layer that is merely extra (a network namespace
        where sockets are already refused) is reported but does not decide ``contained``.
    """

    name: str
    active: bool
    detail: str
    required: bool = True


@dataclass(frozen=True)
class Containment:
    """How the engine process is held (``sandbox.contain``) or could be held (``sandbox.probe_platform``).

    Attributes
    ----------
    platform
        ``sys.platform`` of the process.
    contained
        True only if every required layer is active and every self-check probe was blocked.
    layers
        The layers, in the order they were put on.
    checks
        Self-check probes run right after containing; ``active`` means the attempt was blocked.
    """

    platform: str
    contained: bool
    layers: tuple[Layer, ...] = ()
    checks: tuple[Layer, ...] = ()

    def summary(self) -> str:
        """One line: "contained: Landlock ABI 7, seccomp, ..." or "NOT contained: <why>"."""
        if self.contained:
            active = {layer.name: layer for layer in self.layers if layer.active}
            words = []
            for name, word in _SUMMARY_WORDS.items():
                if name in active:
                    abi = re.search(r"\bABI (\d+)", active[name].detail)
                    words.append(f"{word} ABI {abi.group(1)}" if name == "landlock" and abi else word)
            return "contained: " + (", ".join(words) or "no layer named")
        return "NOT contained: " + "; ".join(self.reasons())

    def reasons(self) -> list[str]:
        """Why the process is not contained: failed required layers and probes that got through."""
        why = [f"{layer.name}: {layer.detail}" for layer in self.layers if layer.required and not layer.active]
        why += [f"{check.name} was not blocked ({check.detail})" for check in self.checks if not check.active]
        if not why and not self.checks:
            why.append("no self-check ran")
        return why or ["unknown"]

    def report(self) -> str:
        """Several lines, one per layer and probe, for ``gradviz doctor`` and the About box."""
        lines = [self.summary(), f"platform: {self.platform}"]
        for layer in self.layers:
            mark = "on " if layer.active else ("OFF" if layer.required else "off")
            lines.append(f"  [{mark}] {layer.name}: {layer.detail}")
        if self.checks:
            lines.append("self-check (each attempt must be blocked):")
        for check in self.checks:
            mark = "blocked" if check.active else "NOT BLOCKED"
            lines.append(f"  [{mark}] {check.name}: {check.detail}")
        return "\n".join(lines)
