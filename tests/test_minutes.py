"""The minutes of the meeting (issue 15, points 2 and 3): a scripted demo meeting, then its
minutes in Markdown, HTML and PDF checked against the journal, field by field, in English and
in Korean; hostile text from the journal shown literally in each format; the PDF's Hangul
extracted with pdftotext and its first page rendered with pdftoppm."""

from __future__ import annotations

import html
import re
import shutil
import struct
import subprocess
import sys
import zlib
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import ContestFiles, copy_demo, lower_scores

from panel_tui import i18n, minutes, minutes_pdf
from panel_tui.analysis import robustness
from panel_tui.config import load_config
from panel_tui.export import FORMATS, export
from panel_tui.meeting import Meeting
from panel_tui.vocabulary import EventKind

_ = i18n._
HOSTILE_NOTE = "<script>alert(1)</script> [x](http://evil.example) **bold** `code` $x$ &amp; ~~s~~ @here :smile:"
FORMULA_NOTE = "=1+1"
MARKUP_NOTE = (
    "# not a heading\n- not a list\n1. not a list\n> not a quote\n#set page(width: 1cm) *b* _i_ <lbl> \\ / [c] 😀"
)
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
POPPLER = shutil.which("pdftotext") is not None and shutil.which("pdftoppm") is not None
needs_poppler = pytest.mark.skipif(not POPPLER, reason="pdftotext/pdftoppm missing (Debian's poppler-utils)")


def _font() -> bool:
    try:
        minutes_pdf.find_font()
    except minutes_pdf.NoFont:
        return False
    return True


needs_font = pytest.mark.skipif(not _font(), reason="no CJK font (Debian's fonts-noto-cjk)")


def meeting_as(contest: ContestFiles, who: str) -> Meeting:
    """``who``'s meeting, the contest's own words in the current language (as the command line loads it)."""
    config = load_config(contest.config).in_language(i18n.language())
    return Meeting(config, contest.root / "sessions" / "2022.sqlite", who=who)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> ContestFiles:
    """The demo meeting, scripted: kim the secretary, lee the chair, park a member. Notes
    (hostile ones too), a late scores file (Incheon's CI01 falls to 0 from everyone after the
    meeting started), the services' rank-1 tie ordered, the pending C24 excluded, the lock
    proposed by kim and confirmed by lee."""
    contest = copy_demo(tmp_path_factory.mktemp("minutes") / "contest")
    kim, lee, park = (meeting_as(contest, who) for who in ("kim", "lee", "park"))
    kim.note("E05 declared a conflict with Siheung and did not score it", candidate="C04")
    park.note(HOSTILE_NOTE, candidate="C05")
    lower_scores(contest.path("scores.csv"), "C01", "CI01")  # the late scores file
    for m in (kim, lee, park):
        m.data(reload=True)
    lee.note("Yongin sits just below the line: checked twice", candidate="C05")
    park.note(FORMULA_NOTE, candidate="C05")
    kim.note(MARKUP_NOTE, category="service")
    lee.note("The meeting opened at 10:00 with nine members")
    lee.focus("S01")
    kim.decide_tie("service", ["S01", "S02"], "more citizens served (vote 6-3)")
    kim.exclude("C24", "withdrawn", "withdrawal letter of 12 Sept")
    kim.propose_lock()
    lee.confirm_lock()
    return contest


@pytest.fixture
def language() -> Iterator[None]:
    yield
    i18n.set_language("en")


def write(contest: ContestFiles, fmt: str, out: Path, lang: str = "en") -> Path:
    i18n.set_language(lang)
    try:
        meeting = meeting_as(contest, "choi")
        return export(meeting.exportable(), fmt, out, "2022", meeting=meeting)
    finally:
        i18n.set_language("en")


def events(contest: ContestFiles):
    return meeting_as(contest, "choi").state().events


# -- before the lock --------------------------------------------------------------------------


def test_no_minutes_before_the_lock(contest: ContestFiles, tmp_path: Path):
    kim = meeting_as(contest, "kim")
    kim.note("a note", candidate="C01")
    with pytest.raises(Exception, match="not locked"):
        minutes.build(kim)
    run = subprocess.run(
        [sys.executable, "-m", "panel_tui", "export", "--format", "minutes-md", "--out", str(tmp_path / "out")],
        cwd=contest.root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 3 and "not locked" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_the_minutes_are_export_formats_the_lock_screen_offers():
    assert {"minutes-md", "minutes-html", "minutes-pdf"} <= set(FORMATS)


# -- Markdown, field by field, in both languages ----------------------------------------------


def md(text: str) -> str:
    return minutes.md(text)


def row(*cells: str) -> str:
    return "| " + " | ".join(md(c) for c in cells) + " |"


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_markdown_minutes_match_the_journal(demo: ContestFiles, tmp_path: Path, lang: str, language):
    text = write(demo, "minutes-md", tmp_path, lang).read_text(encoding="utf-8")
    i18n.set_language(lang)
    meeting = meeting_as(demo, "choi")
    state = meeting.state()
    lock = state.lock
    assert lock is not None
    journal = state.events
    zone = meeting.config.contest  # its time zone: Asia/Seoul
    assert zone.time(journal[0].at).endswith(" KST")
    assert md(_("Times are in {zone}.").format(zone="Asia/Seoul")) in text or "Asia/Seoul" in text
    words = {"kim": _("secretary"), "lee": _("chair"), "park": _("member")}
    # Names and labels in the panel's language (the files' name_ko, label_ko, ...): the lock keeps them as written.
    shown = meeting.final_shown(lock)
    names = {e["candidate_id"]: e["name"] for c in shown["categories"] for e in c["entries"]}
    if lang == "ko":
        assert names["C05"] == "용인시" and shown["categories"][0]["label"] == "대도시"
    else:
        assert shown == lock.final
    sections = [
        _("Participants"),
        _("Final certification list"),
        _("Ties and how they were decided"),
        _("Exclusions"),
        _("Notes of the discussion"),
        _("Scores that changed during the meeting"),
        _("Fragile outcomes (robustness analysis)"),
        _("The lock"),
        _("Signatures"),
    ]
    at = [text.index(f"## {md(s)}\n") for s in sections]
    assert at == sorted(at), "the sections in their order"

    def section(title: str) -> str:
        i = sections.index(title)
        return text[at[i] : at[i + 1] if i + 1 < len(at) else len(text)]

    # the contest and its date
    assert text.startswith(f"# {md(_('Minutes of the panel meeting'))}\n")
    contest_name = (
        "2022년 스마트도시·스마트서비스 인증" if lang == "ko" else "2022 Smart City and Smart Service Certification"
    )
    assert f"**{md(contest_name + ' (2022)')}**" in text
    # (The day in the contest's time zone: from 15:00 UTC on, Seoul is a day ahead of the journal's UTC.)
    assert row(_("Date of the meeting"), zone.time(journal[0].at)[:10]) in text
    assert row(_("Fingerprint of the locked list"), lock.fingerprint) in text
    # who took part: every author, with the role and the count of entries
    for who in sorted({e.author for e in journal}):
        count = sum(e.author == who for e in journal)
        assert f"| {who} | {md(words[who])} | {count} |" in section(_("Participants"))
    # the final list: every entry of every category, the certification line after the last certified
    final = section(_("Final certification list"))
    for category in shown["categories"]:
        assert f"### {md(category['label'])}\n" in final
        lines = []
        for e in category["entries"]:
            status = minutes._status(e["status"])
            grade = "" if e["grade"] is None else str(e["grade"])
            rank = "" if e["rank"] is None else str(e["rank"])
            cells = (rank, e["candidate_id"], e["name"], f"{e['total']:,.2f}", f"{e['percent']:.2f}", grade, status)
            lines.append(row(*cells))
            assert lines[-1] in final, lines[-1]
        last = max(i for i, e in enumerate(category["entries"]) if e["certified"])
        marker = f"— {_('certification line {threshold} %').format(threshold='70')} —"
        block = final[final.index(f"### {md(category['label'])}") :]
        assert block.index(lines[last]) < block.index(md(marker)) < block.index(lines[last + 1])
    assert row("", "C24", names["C24"], "1,337.50", "66.88", "", _("excluded")) in final
    # the ties: the panel's order (reason, who, when) and the area that separated equal totals
    ties = section(_("Ties and how they were decided"))
    decision = next(e for e in journal if e.kind == EventKind.TIE_ORDER)
    assert md("more citizens served (vote 6-3)") in ties
    assert md(f"kim ({words['kim']})" if lang == "en" else f"kim({words['kim']})") in ties
    assert zone.time(decision.at) in ties
    assert ties.index("S01") < ties.index("S02")
    area = (
        "스마트시티 서비스·인프라 수준"
        if lang == "ko"
        else "Smart city service and infrastructure level (스마트시티 서비스·인프라 수준)"
    )
    assert md(f"A1 ({area})") in ties
    assert "800.00" in ties and "795.50" in ties and "C02" in ties and "C03" in ties
    # the exclusion: code, reason, who, when
    exclusion = next(e for e in journal if e.kind == EventKind.EXCLUSION)
    excluded = section(_("Exclusions"))
    assert md("withdrawal letter of 12 Sept") in excluded and zone.time(exclusion.at) in excluded
    assert md(_("withdrawn")) in excluded and "C24" in excluded
    # the notes: per candidate, in time order, each with its author and time
    notes = section(_("Notes of the discussion"))
    for e in journal:
        if e.kind == EventKind.NOTE:
            assert md(e.payload["text"]) in notes, e.payload["text"]
            assert zone.time(e.at) in notes
    c05 = notes[notes.index("### " + md(f"{names['C05']} (C05)")) :]
    c05 = c05[: c05.index("\n### ")] if "\n### " in c05 else c05
    texts = [e.payload["text"] for e in journal if e.kind == EventKind.NOTE and e.payload.get("candidate_id") == "C05"]
    assert [c05.index(md(t)) for t in texts] == sorted(c05.index(md(t)) for t in texts)
    assert len(texts) == 3
    # the scores that changed during the meeting: Incheon's late CI01, and nothing else
    changed = section(_("Scores that changed during the meeting"))
    assert row(f"{names['C01']} (C01)", "1,728.00", "1,698.00", "86.40", "84.90", _("certified"), _("certified")) in (
        changed
    )
    assert "C24" not in changed and "C02" not in changed
    # the fragile outcomes: exactly the analysis' fragile candidates
    fragile = section(_("Fragile outcomes (robustness analysis)"))
    analysis = robustness(meeting.data(), state.decisions)
    for cid, a in analysis.items():
        if cid != "C24":
            assert (f"({cid})" in fragile) == (a["verdict"] == "fragile"), cid
    # the lock: proposer, confirmer, times, fingerprint, unsigned, and how to verify it
    locked = section(_("The lock"))
    assert lock.confirmation is not None
    assert zone.time(lock.proposal.at) in locked and zone.time(lock.confirmation.at) in locked
    assert lock.fingerprint in locked and lock.digest in locked
    assert md(_("Journal")) in locked and "SHA-256" in locked
    assert f"`panel-tui verify --fingerprint {lock.fingerprint}`" in locked
    assert row(_("Secretary"), "kim", "", "") in text and row(_("Chair"), "lee", "", "") in text
    if lang == "ko":
        for word in ("심사위원회 회의록", "참석자", "간사", "위원장", "동점", "인증", "제외", "서명", "지문"):
            assert word in text, word
        assert "Participants" not in text and "The lock" not in text and "certified |" not in text
        # the contest's own words too: no English name or label of the demo
        for english in (
            "Incheon (",
            "Yongin (",
            "Large cities",
            "Smart services",
            "Smart City and",
            "infrastructure level",
        ):
            assert english not in text, english


def test_the_minutes_are_the_same_bytes_for_the_same_journal_and_files(demo: ContestFiles, tmp_path: Path):
    first = {fmt: write(demo, fmt, tmp_path / "one").read_bytes() for fmt in ("minutes-md", "minutes-html")}
    elsewhere = copy_demo(tmp_path / "copy")
    shutil.copy2(demo.path("scores.csv"), elsewhere.path("scores.csv"))
    shutil.copytree(demo.root / "sessions", elsewhere.root / "sessions")
    for fmt, data in first.items():
        assert write(demo, fmt, tmp_path / "two").read_bytes() == data, fmt
        assert write(elsewhere, fmt, tmp_path / "three").read_bytes() == data, f"{fmt} in another folder"
    if _font():  # the PDF too: typst is stamped with the lock's time
        pdf = write(demo, "minutes-pdf", tmp_path / "one").read_bytes()
        assert write(elsewhere, "minutes-pdf", tmp_path / "two").read_bytes() == pdf


# -- hostile text -----------------------------------------------------------------------------

HOSTILE = [
    "<script>alert(1)</script>",
    "[x](http://evil.example)",
    "![img](http://evil.example/a.png)",
    "=1+1",
    "+1",
    "-1",
    "@SUM(A1)",
    "# heading",
    "> quote",
    "1. item",
    "2) item",
    "**bold** __b__ *i* _i_ ~~s~~",
    "`code` ``more``",
    "&lt; &amp; &#60;",
    "a | b | c",
    "line one\nline two\n===",
    "<http://evil.example> www.evil.example user@evil.example",
    "$x^2$ \\ backslash",
    "---",
    "    indented code",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_markdown_shows_hostile_text_literally(text: str):
    """Rendered by a CommonMark parser (with GFM tables) in a paragraph, a list item and a table
    cell, the text comes out as itself: no tag but the block's own, no link, nothing lost."""
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark").enable("table").enable("strikethrough")
    shown = minutes.md(text)
    for source in (shown, f"- {shown}", f"| a |\n| --- |\n| {shown} |", f"intro\n\n{shown}"):
        rendered = parser.render(source)
        tags = set(re.findall(r"</?([a-z0-9]+)", rendered))
        assert tags <= {"p", "ul", "li", "br", "table", "thead", "tbody", "tr", "th", "td"}, (source, rendered)
        body = re.sub(r"<br\s*/?>\n?", "\n", rendered)
        assert text.strip().replace("\n", "\n") in html.unescape(re.sub(r"<[^>]+>", "", body)), (source, rendered)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes |= {name for name, _v in attrs}

    def handle_data(self, data):
        self.text.append(data)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_html_minutes_are_one_printable_file_showing_the_notes_literally(
    demo: ContestFiles, tmp_path: Path, lang: str, language
):
    page = write(demo, "minutes-html", tmp_path, lang).read_text(encoding="utf-8")
    parsed = _Tags()
    parsed.feed(page)
    assert parsed.tags <= {
        *("html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "ul", "li", "strong", "code"),
        *("table", "thead", "tbody", "tr", "th", "td", "div", "span", "br"),
    }, parsed.tags
    assert not parsed.attributes & {"src", "href", "srcset", "action", "onload", "onerror"}
    assert "url(" not in page and "@import" not in page and "<link" not in page and "<script" not in page
    text = "".join(parsed.text)
    for note in (HOSTILE_NOTE, FORMULA_NOTE):
        assert note in text
    assert html.escape("<script>alert(1)</script>") in page
    # print: A4, page numbers, a signature line for the secretary and the chair
    assert "size: A4" in page and "counter(page)" in page and "@bottom-center" in page
    assert page.count('class="sign-line"') == 2
    i18n.set_language(lang)
    assert f'<div class="role">{_("Secretary")}</div>' in page and f'<div class="role">{_("Chair")}</div>' in page
    assert f'<html lang="{lang}">' in page


# -- PDF ------------------------------------------------------------------------------------


def png_pixels(path: Path) -> tuple[int, int, bytes]:
    """Width, height and the RGB bytes of an 8-bit RGB, non-interlaced PNG (what pdftoppm writes)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, chunk = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    assert header is not None
    width, height, depth, color, _c, _f, interlace = header
    assert depth == 8 and color in (0, 2) and interlace == 0, header
    channels = 3 if color == 2 else 1
    raw = zlib.decompress(idat)
    stride = width * channels
    out = bytearray()
    previous = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - channels] if x >= channels else 0
            up = previous[x]
            corner = previous[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[x] = (line[x] + pred) & 0xFF
        out += line
        previous = line
    return width, height, bytes(out)


@needs_font
@needs_poppler
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_pdf_minutes_hold_every_certified_name_in_hangul_and_page_one_is_not_blank(
    demo: ContestFiles, tmp_path: Path, lang: str, language
):
    pdf = write(demo, "minutes-pdf", tmp_path, lang)
    assert pdf.read_bytes()[:5] == b"%PDF-"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = re.sub(r"\s+", "", text)
    lock = meeting_as(demo, "choi").state().lock
    assert lock is not None
    certified = [e for c in lock.final["categories"] for e in c["entries"] if e["certified"]]
    assert len(certified) == 13
    for e in certified:
        hangul = re.search(r"\(([^)]*[가-힣][^)]*)\)", e["name"])
        assert hangul is not None, e["name"]
        assert re.sub(r"\s+", "", hangul.group(1)) in flat, e["name"]
    assert lock.fingerprint in text
    i18n.set_language(lang)
    for heading in (_("Minutes of the panel meeting"), _("Participants"), _("The lock"), _("Signatures")):
        assert heading in text, heading
    # the data shows as it is: no typst markup ran (a heading, a page setting, a label)
    for literal in ("<script>alert(1)</script>", "#set page(width: 1cm)", "*b* _i_ <lbl>", "=1+1", "$x$"):
        assert re.sub(r"\s+", "", literal) in flat, literal
    assert "\\U0001f600" in text  # an emoji the font has no glyph for is written as its code
    png = tmp_path / "page"
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(pdf), str(png)], check=True)
    (page,) = tmp_path.glob("page*.png")
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(page, ARTIFACTS / f"minutes-page-1-{lang}.png")  # to look at
    width, height, pixels = png_pixels(page)
    assert abs(width - 413) <= 1 and abs(height - 585) <= 1  # A4 (210 x 297 mm) at 50 dpi
    dark = sum(1 for b in pixels[::3] if b < 128)
    assert dark > 0.01 * width * height, "page 1 is blank"


@needs_font
def test_the_font_covers_hangul_and_says_what_it_lacks():
    _family, _folders, face, index = minutes_pdf.find_font()
    ranges = minutes_pdf.coverage(face, index)
    for char in "가힣A1인증":
        assert minutes_pdf.covered(char, ranges), char
    assert not minutes_pdf.covered("😀", ranges)


def test_without_a_cjk_font_no_pdf_and_exit_2_naming_the_package(
    demo: ContestFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    from panel_tui import cli

    monkeypatch.setattr(minutes_pdf, "FONT_DIRS", ())
    monkeypatch.setattr(minutes_pdf, "_fontconfig_dirs", lambda: [])
    minutes_pdf.find_font.cache_clear()
    try:
        status = cli.main(
            [
                "export",
                "--config",
                str(demo.config),
                "--session",
                str(demo.root / "sessions" / "2022.sqlite"),
                "--format",
                "minutes-pdf",
                "--out",
                str(tmp_path / "out"),
            ]
        )
    finally:
        minutes_pdf.find_font.cache_clear()
        i18n.set_language("en")
    err = capsys.readouterr().err
    assert status == 2 and "fonts-noto-cjk" in err and "Traceback" not in err
    assert not list((tmp_path / "out").glob("*.pdf")) and not list((tmp_path / "out").glob(".*"))


def test_the_lock_screen_offers_the_minutes_after_the_lock(demo: ContestFiles, tmp_path: Path):
    """The secretary's lock screen, once locked, has a button per minutes format; the minutes it
    writes are the command line's, byte for byte."""
    import asyncio

    from test_console import make_app, settled

    from panel_tui.tui.screens import LockScreen

    root = tmp_path / "contest"
    shutil.copytree(demo.root, root, ignore=shutil.ignore_patterns("exports"))
    expected = write(ContestFiles(root), "minutes-md", tmp_path / "cli").read_bytes()

    async def scenario() -> None:
        app = make_app(root, who="kim")
        async with app.run_test(size=(80, 24)) as pilot:
            await settled(pilot, app, lambda: app.snapshot is not None and app.snapshot.state.lock is not None)
            await pilot.press("l")
            await pilot.pause()
            assert isinstance(app.screen, LockScreen)
            ids = {button.id for button in app.screen.query("Button")}
            assert {"export-minutes-md", "export-minutes-html", "export-minutes-pdf"} <= ids
            app.screen.query_one("#export-minutes-md").focus()
            await pilot.press("enter")
            await pilot.pause()

    asyncio.run(scenario())
    assert (root / "exports" / "minutes-2022.md").read_bytes() == expected
