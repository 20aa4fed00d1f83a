"""Where a corrected CSV score sheet differs from the last one, line by line (``inputs.contest``'s patch).

During a meeting the sheet is mostly corrected, not replaced: a few scores change and the
rest of its millions of bytes stay as they were, only moved when a line's length changes.
``changed_lines`` finds the lines that differ (the longest common prefix and suffix of the
two files' bytes, compared as memory, then widened to whole lines) and ``around`` the lines
near them, so that only those few lines are parsed again; everything else is known from the
last sheet's cells (``inputs.contest._patched_sheet``).

It works on bytes alone and answers None for any file whose lines it cannot cut as the
parser does: a quote anywhere (a quoted field may hold a line break), a header that changed,
no line break after the header (an old Mac file's CR only), a file larger than ``LIMIT``; and
for a sheet changed so widely (more than ``LARGEST`` bytes of lines, from the first change to
the last) that parsing the changes would cost more than the stream saves.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

LIMIT = 256 << 20  # bytes: a larger sheet is not kept to patch from (a console would hold it twice while it reads)
_BLOCK = 1 << 20  # the prefix and suffix are compared a block at a time, then within the block that differs
_WINDOW = 64 << 10  # the first look around the changed lines for their cells' other scores, widened 4x ...
_WIDEST = 4 << 20  # ... up to this (a sheet whose cells' scores lie further apart is streamed)
LARGEST = 4 << 20  # bytes of changed lines: a sheet changed more widely (rewritten in another order) is streamed


@dataclass(frozen=True)
class Changed:
    """The changed lines: ``old[start:old_end]`` became ``new[start:new_end]``; what precedes
    them (the header included, ``header_end`` bytes) and what follows them is the same in
    both. Each bound is a line's start (or the file's end)."""

    header_end: int
    start: int
    old_end: int
    new_end: int


def changed_lines(old: bytes, new: bytes) -> Changed | None:
    """Where ``new`` differs from ``old`` as whole lines after the same header; None when the
    lines cannot be cut without the parser (see the module), the header changed, or the
    changed lines span more than ``LARGEST`` bytes."""
    if len(old) > LIMIT or len(new) > LIMIT:
        return None
    header_end = old.find(b"\n") + 1
    if header_end == 0 or new[:header_end] != old[:header_end]:
        return None
    shortest = min(len(old), len(new))
    prefix = _common_prefix(old, new, shortest)
    suffix = _common_suffix(old, new, shortest - prefix)  # (never overlapping the prefix)
    start = old.rfind(b"\n", 0, prefix) + 1  # the start of the line the first change is in
    if start < header_end:
        return None
    tail = len(old) - suffix  # where the common suffix starts in ``old``
    moved = len(new) - len(old)
    if old[tail - 1 : tail] != b"\n" or new[tail + moved - 1 : tail + moved] != b"\n":
        # Mid-line in either file (the byte before the suffix differs): to the end of that line.
        found = old.find(b"\n", tail)
        tail = len(old) if found < 0 else found + 1
    if max(tail, tail + moved) - start > LARGEST:
        return None  # (before the look for quotes below: a sheet replaced whole goes to the stream at once)
    if b'"' in old or b'"' in new:
        return None
    return Changed(header_end, start, tail, tail + moved)


def around(data: bytes, changed: Changed) -> Iterator[tuple[int, int]]:
    """Wider and wider spans of whole lines of ``data`` (the new sheet) around its changed
    lines, after the header: where their cells' other scores are looked for."""
    width = _WINDOW
    while True:
        start = max(changed.header_end, changed.start - width)
        start = max(changed.header_end, data.rfind(b"\n", 0, start) + 1)
        end = changed.new_end + width
        found = data.find(b"\n", end - 1)  # (the line the span ends in, to its end)
        end = len(data) if end >= len(data) or found < 0 else found + 1
        yield start, end
        if (start == changed.header_end and end == len(data)) or width >= _WIDEST:
            return
        width *= 4


def _common_prefix(a: bytes, b: bytes, limit: int) -> int:
    """How many bytes ``a`` and ``b`` begin with alike (at most ``limit``): blocks compared as
    memory (``startswith`` on a view: no copy), then the differing block halved until its first
    difference."""
    vb = memoryview(b)
    low = 0
    while low + _BLOCK <= limit and a.startswith(vb[low : low + _BLOCK], low):
        low += _BLOCK
    high = min(limit, low + _BLOCK)  # the first difference is in [low, high], or there is none
    while low < high:
        middle = (low + high + 1) // 2
        if a.startswith(vb[low:middle], low):
            low = middle
        else:
            high = middle - 1
    return low


def _common_suffix(a: bytes, b: bytes, limit: int) -> int:
    """How many bytes ``a`` and ``b`` end with alike (at most ``limit``)."""
    vb = memoryview(b)
    la, lb = len(a), len(b)
    low = 0
    while low + _BLOCK <= limit and a.startswith(vb[lb - low - _BLOCK : lb - low], la - low - _BLOCK):
        low += _BLOCK
    high = min(limit, low + _BLOCK)
    while low < high:
        middle = (low + high + 1) // 2
        if a.startswith(vb[lb - middle : lb - low], la - middle):
            low = middle
        else:
            high = middle - 1
    return low
