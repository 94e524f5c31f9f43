"""Greedy wrap of callout text to a width: between words, and between any two CJK characters
(Chinese has no spaces; a line may break after any character, but not before a closing mark)."""

from __future__ import annotations

import re
from typing import Protocol

_CJK = "\u2e80-\u9fff\u3000-\u303f\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
_CLOSING = "，。、；：！？）」』”’》〉】"
# One token: a CJK character with the closing marks after it, a run of other non-space text, or space.
_TOKEN = re.compile(f"[{_CJK}][{_CLOSING}]*|[^\\s{_CJK}]+|\\s+")


class _Measures(Protocol):
    def width(self, role: str, text: str) -> float: ...


def wrap_text(text: str, look: _Measures, role: str, max_w: float) -> list[str]:
    """``text`` as lines no wider than ``max_w`` pixels (a single word wider than that stays whole).

    Words are runs of non-space text, each CJK character a word of its own: for text without
    CJK this is the plain greedy word wrap (spaces between words collapse to one)."""
    lines: list[str] = []
    for para in text.splitlines() or [""]:
        line = ""
        space = False  # a space came between the line so far and the next token
        for token in _TOKEN.findall(para.strip()):
            if token.isspace():
                space = True
                continue
            trial = line + (" " if space and line else "") + token
            space = False
            if line and look.width(role, trial) > max_w:
                lines.append(line)
                line = token
            else:
                line = trial
        lines.append(line)
    return lines
