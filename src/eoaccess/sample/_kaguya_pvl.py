"""Text writers for the PVL flavours of the Kaguya TC sidecars.

ISIS writes its labels (``.isis.lbl``, ``.caminfo.pvl``) with a fixed layout: two-space
indentation per level, ``=`` aligned on the longest keyword of each Object/Group, blank lines
between containers and values wrapped at 80 columns (at spaces or commas, with a trailing ``-``
for unbreakable tokens). The JAXA PDS3 label (``.lbl``) is flat ``KEY = value`` text with
``OBJECT``/``END_OBJECT`` blocks. Reproducing these layouts keeps the sample files byte-shaped
like the real ones, so tools that scan the text (not only ``pvl.load``) behave the same.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

Keyword = tuple[str, str]
"""A keyword and its value already rendered as PVL text (units, quotes and parentheses included)."""

_CHAR_LIMIT = 80  # ISIS PvlFormat default line length


@dataclass
class Block:
    """An ISIS ``Object`` or ``Group`` with its keywords and nested blocks, in order."""

    kind: str
    name: str
    children: list[Keyword | Block] = field(default_factory=list)

    def add(self, key: str, value: str) -> Block:
        """Append a keyword (value already rendered) and return self for chaining."""
        self.children.append((key, value))
        return self


def isis_double(value: float, digits: int = 14) -> str:
    """Render a float the way ISIS does: ~14 significant digits, always with a decimal point,
    and ``d.ddde-04`` exponent notation below 1e-3 (``-9.13008670889038e-04``)."""
    if not math.isfinite(value):
        raise ValueError(f"cannot write non-finite value {value!r} to PVL")
    if value != 0 and abs(value) < 1e-3:
        mantissa, exponent = f"{value:.{digits}e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
        return f"{mantissa}e{exponent[0]}{exponent[1:].lstrip('0').zfill(2)}"
    text = f"{value:.{digits}g}"
    if "e" in text:  # very large magnitudes
        mantissa, exponent = text.split("e")
        return f"{mantissa}e{exponent[0]}{exponent[1:].lstrip('0').zfill(2)}"
    if "." not in text:
        text += ".0"
    return text


def isis_time(value: datetime, decimals: int = 6) -> str:
    """ISO time without zone (ISIS/PDS convention: implicitly UTC) with ``decimals`` digits."""
    base = value.strftime("%Y-%m-%dT%H:%M:%S")
    if decimals <= 0:
        return base
    return f"{base}.{value.microsecond:06d}"[: len(base) + 1 + decimals]


def isis_list(values: Sequence[str]) -> str:
    """A parenthesised PVL array: ``(a, b, c)``."""
    return "(" + ", ".join(values) + ")"


def _quoted_spans(text: str) -> list[tuple[int, int]]:
    """Index ranges (inclusive) of quoted or ``<unit>`` sections, where breaks are second-best."""
    spans: list[tuple[int, int]] = []
    pairs = {'"': '"', "'": "'", "<": ">"}
    start = -1
    for pos, char in enumerate(text):
        if start < 0:
            if char in pairs:
                start = pos
        elif char == pairs[text[start]]:
            spans.append((start, pos))
            start = -1
    return spans


def wrap_value(text: str, start_column: int) -> str:
    """Wrap a rendered value the way ISIS ``PvlKeyword::writeWithWrap`` does.

    Lines hold at most ``78 - start_column`` characters of value. A break goes at the last space
    outside quotes (and not before a unit), else at the last space inside quotes, else the token
    is split with a trailing ``-``. Continuation lines are indented to the value column, one more
    when the value opens with ``(`` or ``"``, so they line up with the first element.
    """
    space = _CHAR_LIMIT - 2 - start_column
    indent = start_column + (1 if text[:1] in '("' else 0)
    spans = _quoted_spans(text)
    lines: list[str] = []
    rest = text
    done = 0
    while rest:
        if len(rest) <= space:
            lines.append(rest)
            break
        good = excellent = -1
        pos = space
        while True:
            if rest[pos] == " " and not (pos > 0 and rest[pos - 1] == "-"):
                if good < 0:
                    good = pos
                quoted = any(a <= pos + done <= b for a, b in spans)
                if not quoted and pos < len(rest) - 1 and rest[pos + 1] != "<":
                    excellent = pos
            if excellent >= 0 or pos <= 1:
                break
            pos -= 1
        cut = excellent if excellent > 0 else good if good > 0 else -1
        if cut >= 0:
            lines.append(rest[:cut])
        else:
            # No space to break at: split the token with a hyphen (never between "//").
            cut = space - 2 if rest[space - 1 : space + 1] == "//" else space - 1
            lines.append(rest[:cut] + "-")
        rest = rest[cut:]
        done += cut
        if rest.startswith(" "):
            rest = rest[1:]
            done += 1
    return ("\n" + " " * indent).join(lines)


def _render_block(block: Block, depth: int, out: list[str]) -> None:
    pad = "  " * depth
    out.append(f"{pad}{block.kind} = {block.name}")
    keys = [c for c in block.children if isinstance(c, tuple)]
    width = max((len(k) for k, _ in keys), default=0)
    inner = pad + "  "
    previous = False
    for child in block.children:
        if isinstance(child, tuple):
            key, value = child
            head = f"{inner}{key:<{width}} = "
            out.append(head + wrap_value(value, len(head)))
        else:
            if previous:
                out.append("")
            _render_block(child, depth + 1, out)
        previous = True
    out.append(f"{pad}End_{block.kind}")


def render_isis(blocks: Sequence[Block]) -> str:
    """Render top-level ISIS blocks as a label file (blank line between blocks, final ``End``)."""
    out: list[str] = []
    for index, block in enumerate(blocks):
        if index:
            out.append("")
        _render_block(block, 0, out)
    out.append("End")
    return "\n".join(out) + "\n"


def render_pds3(keywords: Sequence[Keyword | Block]) -> str:
    """Render a flat PDS3 label: aligned ``KEY = value`` lines, ``OBJECT`` blocks, final ``END``."""
    top = [c for c in keywords if isinstance(c, tuple)]
    width = max(len(k) for k, _ in top)
    out: list[str] = []
    for child in keywords:
        if isinstance(child, tuple):
            out.append(f"{child[0]:<{width}} = {child[1]}")
            continue
        out.append(f"{'OBJECT':<{width}} = {child.name}")
        inner = [c for c in child.children if isinstance(c, tuple)]
        inner_width = max(len(k) for k, _ in inner)
        out.extend(f"  {k:<{inner_width}} = {v}" for k, v in inner)
        out.append(f"{'END_OBJECT':<{width}} = {child.name}")
    out.append("END")
    # PDS3 labels are CRLF text (the PDS standard record terminator), as JAXA distributes them.
    return "\r\n".join(out) + "\r\n"
