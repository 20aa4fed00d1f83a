"""The minutes as PDF, typeset by typst (the ``typst`` package) with a CJK font found on this machine.

The document goes to typst as JSON (``sys.inputs``) and the template (templates/minutes.typ)
shows every text with ``str`` values only: nothing from the journal or the files is ever
parsed as typst markup. Hangul needs a CJK font: Debian's fonts-noto-cjk (found through
fontconfig, else in the folders it installs to). Without one there is no PDF (exit 2, naming
the package): typst would draw the names as empty boxes. A character the font lacks (an emoji
in a note) is written as its code (``\\U0001f600``), never left out.
"""

from __future__ import annotations

import bisect
import json
import shutil
import struct
import subprocess
from dataclasses import asdict
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from panel_tui.errors import PanelError
from panel_tui.i18n import _
from panel_tui.minutes import TEMPLATES, Minutes

PACKAGE = "fonts-noto-cjk"  # Debian's (and Ubuntu's) package of the Noto CJK fonts
# Where the usual CJK fonts are when fontconfig is not there to say (Debian, Fedora, Arch, macOS).
FONT_DIRS: tuple[Path, ...] = (
    Path("/usr/share/fonts/opentype/noto"),
    Path("/usr/share/fonts/noto-cjk"),
    Path("/usr/share/fonts/google-noto-cjk"),
    Path("/usr/share/fonts/opentype/noto-cjk"),
    Path("/usr/share/fonts/truetype/nanum"),
    Path("/Library/Fonts"),
    Path("/System/Library/Fonts"),
)
# Families that hold Hangul, best first.
PREFERRED = ("Noto Sans CJK KR", "Noto Serif CJK KR", "Source Han Sans K", "NanumGothic", "Apple SD Gothic Neo")


class NoFont(PanelError):
    """No font with Hangul on this machine (exit status 2), naming the package to install."""

    exit_status = 2


def _fontconfig_dirs() -> list[Path]:
    """The folders of the fonts fontconfig says cover Korean."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return []
    try:
        out = subprocess.run(
            [fc_list, ":lang=ko", "--format", "%{file}\n"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted({Path(line).parent for line in out.splitlines() if line.strip()})


@cache
def find_font() -> tuple[str, tuple[Path, ...], Path, int]:
    """The CJK family to typeset with, the folders typst loads fonts from, and the file and face
    index of its regular face (for its character map). NoFont when there is none."""
    import typst

    dirs = tuple(d for d in (*_fontconfig_dirs(), *FONT_DIRS) if d.is_dir())
    seen: list[Path] = []
    for d in dirs:
        if d not in seen:
            seen.append(d)
    if seen:
        fonts = typst.Fonts(include_system_fonts=False, include_embedded_fonts=False, font_paths=[str(d) for d in seen])
        infos = fonts.fonts()
        for family in PREFERRED:
            regular = [f for f in infos if f.family == family and f.path and f.style == "normal"]
            if regular:
                face = min(regular, key=lambda f: abs(f.weight - 400))
                assert face.path is not None
                folders = tuple(sorted({Path(f.path).parent for f in infos if f.family == family and f.path}))
                return family, folders, Path(face.path), face.index
    raise NoFont(
        _(
            "the PDF minutes need a font with Hangul and none was found on this machine: install Debian's "
            "{package} (apt-get install {package}), or write the minutes as minutes-html or minutes-md"
        ).format(package=PACKAGE)
    )


# -- which characters the font has (its cmap) -----------------------------------------------


@cache
def coverage(path: Path, index: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The code points a font face maps to a glyph, as sorted (starts, ends) of ranges, read
    from its ``cmap`` table (format 12, else format 4)."""
    data = path.read_bytes()
    base = 0
    if data[:4] == b"ttcf":
        (count,) = struct.unpack_from(">I", data, 8)
        base = struct.unpack_from(">I", data, 12 + 4 * min(index, count - 1))[0]
    (tables,) = struct.unpack_from(">H", data, base + 4)
    cmap = None
    for i in range(tables):
        tag, _sum, offset, _length = struct.unpack_from(">4sIII", data, base + 12 + 16 * i)
        if tag == b"cmap":
            cmap = offset
    if cmap is None:
        return (), ()
    (subtables,) = struct.unpack_from(">H", data, cmap + 2)
    found: dict[int, int] = {}
    for i in range(subtables):
        platform, encoding, offset = struct.unpack_from(">HHI", data, cmap + 4 + 8 * i)
        if platform in (0, 3) and encoding in (1, 3, 4, 10):
            (fmt,) = struct.unpack_from(">H", data, cmap + offset)
            found.setdefault(fmt, cmap + offset)
    ranges: list[tuple[int, int]] = []
    if 12 in found:
        at = found[12]
        (groups,) = struct.unpack_from(">I", data, at + 12)
        for g in range(groups):
            start, end, glyph = struct.unpack_from(">III", data, at + 16 + 12 * g)
            ranges.append((start, end))
    elif 4 in found:
        at = found[4]
        (seg2,) = struct.unpack_from(">H", data, at + 6)
        segs = seg2 // 2
        ends = struct.unpack_from(f">{segs}H", data, at + 14)
        starts = struct.unpack_from(f">{segs}H", data, at + 16 + seg2)
        ranges = [(s, e) for s, e in zip(starts, ends, strict=True) if s != 0xFFFF]
    ranges.sort()
    return tuple(s for s, _e in ranges), tuple(e for _s, e in ranges)


def covered(char: str, ranges: tuple[tuple[int, ...], tuple[int, ...]]) -> bool:
    starts, ends = ranges
    code = ord(char)
    i = bisect.bisect_right(starts, code) - 1
    return i >= 0 and code <= ends[i]


def _shown(text: str, ranges: tuple[tuple[int, ...], tuple[int, ...]]) -> str:
    """``text`` with every character the font has no glyph for written as its code."""
    if text.isascii():
        return text
    out = []
    for char in text:
        if char in "\n\t " or covered(char, ranges):
            out.append(char)
        else:
            code = ord(char)
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
    return "".join(out)


def _fit(value: object, ranges: tuple[tuple[int, ...], tuple[int, ...]]) -> object:
    if isinstance(value, str):
        return _shown(value, ranges)
    if isinstance(value, list | tuple):
        return [_fit(v, ranges) for v in value]
    if isinstance(value, dict):
        return {k: _fit(v, ranges) for k, v in value.items()}
    return value


def document(minutes: Minutes, ranges: tuple[tuple[int, ...], tuple[int, ...]], family: str) -> str:
    """The JSON the template reads: the minutes' blocks, each with its kind, and the labels."""
    from panel_tui.minutes import Heading, Items, Paragraph, Signatures, Table

    kinds = {Heading: "heading", Paragraph: "paragraph", Items: "items", Table: "table", Signatures: "signatures"}
    blocks = [{"kind": kinds[type(b)], **asdict(b)} for b in minutes.blocks]
    doc = {
        "title": minutes.title,
        "subtitle": minutes.subtitle,
        "language": minutes.language,
        "fingerprint": minutes.fingerprint,
        "font": family,
        "blocks": blocks,
    }
    fitted = _fit(doc, ranges)
    assert isinstance(fitted, dict)
    fitted["font"] = family
    return json.dumps(fitted, ensure_ascii=False)


def pdf(minutes: Minutes) -> bytes:
    """The minutes typeset as A4 pages (page numbers, the fingerprint in the footer)."""
    import typst

    family, folders, face, index = find_font()
    ranges = coverage(face, index)
    source = (TEMPLATES / "minutes.typ").read_bytes()
    try:
        stamp = datetime.fromisoformat(minutes.locked_at).replace(microsecond=0)
    except ValueError:
        stamp = datetime(1970, 1, 1, tzinfo=UTC)
    try:
        result = typst.compile(
            source,
            format="pdf",
            font_paths=typst.Fonts(include_system_fonts=False, font_paths=[str(f) for f in folders]),
            ignore_system_fonts=True,
            sys_inputs={"minutes": document(minutes, ranges, family)},
            timestamp=stamp,  # the lock's time, not the time of writing
        )
    except typst.TypstError as exc:  # a bug of ours: the template, never the data
        raise RuntimeError(f"typst could not typeset the minutes: {exc.message}") from exc
    assert isinstance(result, bytes)
    return result
