"""The command line in Korean (issue 15.1): what the main commands print with ``--lang ko``
is Korean, the JSON is the same bytes in either language, argparse's own words are Korean,
and the rank table stays aligned although Hangul takes two cells of a terminal."""

from __future__ import annotations

import argparse
import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from conftest import copy_demo, run_batch

from panel_tui.text import text_width

ROOT = Path(__file__).resolve().parent.parent
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "panel_tui", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def settle(cwd: Path, *lang: str) -> list[subprocess.CompletedProcess]:
    """The demo's blockers decided (the service tie ordered, the pending C24 excluded)."""
    return [
        cli(*lang, "decide", "tie", "--category", "service", "--order", "S01,S02", "--reason", "시민 만족도", cwd=cwd),
        cli(
            *lang,
            "decide",
            "exclude",
            "--candidate",
            "C24",
            "--code",
            "withdrawn",
            "--reason",
            "9월 12일 공문",
            cwd=cwd,
        ),
    ]


def english_words(text: str) -> set[str]:
    """Lower-case English words of three letters or more in ``text``, leaving out what is data
    (the demo's names and labels, ids, file names, commands) rather than the tool's words."""
    words = set(re.findall(r"(?<![\w./-])[a-z]{3,}(?![\w./-])", text))
    return words


# -- the rank table -------------------------------------------------------------------------


def blocks(table: str) -> list[list[str]]:
    """The rank table's boards: each its header, its rows and its certification line."""
    found: list[list[str]] = []
    for chunk in table.split("\n\n")[1:]:  # (a board, after its title; the contest's line first)
        lines = chunk.splitlines()
        header = next(i for i, line in enumerate(lines) if line.startswith("순위 "))
        first = [line.lstrip()[:1] for line in lines]
        rows = [
            line
            for line, c in zip(lines[header + 1 :], first[header + 1 :], strict=True)
            if (c.isascii() and c.isalnum()) or "인증선" in line
        ]
        found.append([lines[header], *rows])
    return found


def cells_before(line: str, end: int) -> int:
    """The terminal cells ``line[:end]`` takes."""
    return text_width(line[:end])


def at_cell(line: str, cell: int) -> tuple[str, str]:
    """``line`` split where ``cell`` terminal cells have been taken (AssertionError when a wide
    character straddles it)."""
    width = 0
    for i, char in enumerate(line):
        if width >= cell:
            assert width == cell, line
            return line[:i], line[i:]
        width += text_width(char)
    assert width == cell, line
    return line, ""


def test_the_rank_table_in_korean_is_korean_and_its_columns_stay_aligned(contest):
    r = cli("--lang", "ko", "rank", cwd=contest.root)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    for word in ("절사평균", "인증 기준", "점 만점의", "순위", "이름", "총점", "등급", "결과", "비고", "인증선"):
        assert word in out, word
    for word in ("✔ 인증", "미인증", "최고점", "경계", "총점 기준", "A1 영역 기준", "대기"):
        assert word in out, word
    assert "미결 동점: S01, S02 (위원회가 순위를 정해야 합니다)" in out
    for english in ("threshold", "certified", "not_certified", "pending", "borderline", "rank", "grade", "status"):
        assert english not in english_words(out), english

    boards = blocks(out)
    assert len(boards) == 3
    for lines in boards:
        header, rows = lines[0], [ln for ln in lines[1:] if "인증선" not in ln]
        line = next((ln for ln in lines if "인증선" in ln), None)
        # Every number column ends where its heading ends, counted in cells: the total, the
        # percent and each area's subtotal (right-aligned), whatever Hangul the names hold.
        headings = header.split()
        ends = [cells_before(header, m.end()) for m in re.finditer(r"\S+", header)]
        number_columns = [i for i, h in enumerate(headings) if h in ("총점", "%") or re.fullmatch(r"A\d", h)]
        assert len(number_columns) == 5
        ranked = [row for row in rows if row[:4].strip()]
        assert ranked
        for row in ranked:
            numbers = list(re.finditer(r"\d[\d,]*\.\d\d", row))
            assert [cells_before(row, m.end()) for m in numbers[:5]] == [ends[i] for i in number_columns], row
        # The status column starts where its heading does: its mark, then the status in words.
        status_at = cells_before(header, header.index("결과"))
        for row in rows:
            assert re.match(r"[✔ ?…✘] (인증|미인증|미정|대기|제외)", at_cell(row, status_at)[1]), row
        # The certification line spans the whole table, by cells.
        if line is not None:
            assert text_width(line) == max(text_width(ln) for ln in [header, *rows])


def test_rank_json_is_the_same_bytes_in_korean_and_english(contest):
    en, ko = run_batch(
        [
            (["--lang", "en", "rank", "--format", "json"], contest.root),
            (["--lang", "ko", "rank", "--format", "json"], contest.root),
        ]
    )
    assert en.returncode == ko.returncode == 0
    assert en.stdout == ko.stdout and en.stdout.startswith(b'{"contest"')


def test_an_area_named_like_a_korean_heading_keeps_its_column_in_the_korean_csv(contest):
    # An area id is data, in any language: one called 총점 ("total" in the Korean headings)
    # is a column of its own, and the total keeps its English name beside it.
    indicators = contest.root / "data" / "indicators.csv"
    indicators.write_text(indicators.read_text(encoding="utf-8").replace(",A1,", ",총점,"), encoding="utf-8")
    config = contest.root / "config.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('"A1"', '"총점"'), encoding="utf-8")
    en, ko = run_batch(
        [
            (["--lang", "en", "rank", "--format", "csv"], contest.root),
            (["--lang", "ko", "rank", "--format", "csv"], contest.root),
        ]
    )
    assert en.returncode == ko.returncode == 0, ko.stderr
    english, korean = pl.read_csv(en.stdout), pl.read_csv(ko.stdout)
    assert "총점" in english.columns and "total" in english.columns
    assert "총점" in korean.columns and "total" in korean.columns and "순위" in korean.columns
    assert korean["총점"].to_list() == english["총점"].to_list()
    assert korean["total"].to_list() == english["total"].to_list()


def test_validate_in_korean(contest):
    r = cli("--lang", "ko", "validate", cwd=contest.root)
    assert r.returncode == 0, r.stderr
    assert "정상  설정:" in r.stdout and "종합 방식 절사평균" in r.stdout
    assert "경고  대기: C24" in r.stdout and "지표 56개 중 4개에 아직 점수가 없습니다" in r.stdout
    assert "경고  스마트서비스 부문의 미결 동점: S01, S02" in r.stdout
    assert r.stdout.rstrip().endswith("유효: 경고 3건")
    assert not {"warning", "pending", "valid", "indicators"} & english_words(r.stdout)


# -- the meeting: decisions, the journal, what changed, the lock, the exports -----------------


def test_a_meeting_on_the_command_line_in_korean(solo):
    tie, exclude = settle(solo, "--lang", "ko")
    assert tie.returncode == 0 and "스마트서비스 부문의 동점 순위를 기록했습니다: S01 > S02 (기록" in tie.stdout
    assert exclude.returncode == 0 and "C24 후보를 제외했습니다 (자진 철회)" in exclude.stdout
    note = cli("--lang", "ko", "note", "--candidate", "C05", "심사위원 E05 회피", cwd=solo)
    assert note.returncode == 0 and "메모를 기록했습니다" in note.stdout

    log, changes = run_batch([(["--lang", "ko", "log"], solo), (["--lang", "ko", "changes"], solo)])
    log_text = log.stdout.decode()
    assert log.returncode == 0 and "동점 순위 결정" in log_text and "제외" in log_text and "메모" in log_text
    assert "스마트서비스 부문 동점 순위: S01 > S02: 시민 만족도" in log_text
    assert "C24 제외 (자진 철회): 9월 12일 공문" in log_text
    assert "[C05] 심사위원 E05 회피" in log_text
    assert not {"tie_order", "exclusion", "note"} & english_words(log_text)
    # The event kinds fill their column by cells: every line's text starts at the same cell
    # (5 + 2 + 20 + 2 + 12 + 1 + 15 + 1), after the kind in Hangul.
    lines = log_text.splitlines()
    assert len(lines) == 3
    for line in lines:
        before, what = at_cell(line, 58)
        assert before.endswith(" ") and what[:1] not in ("", " "), line
        assert at_cell(line, 42)[1].startswith(("동점 순위 결정 ", "제외 ", "메모 ")), line

    changes_text = changes.stdout.decode()
    assert changes.returncode == 0
    assert changes_text.startswith("회의 시작 이후 바뀐 내용 (세션의 첫 기록 당시 명단과 비교 (")
    assert "(C24): 대기 → 제외" in changes_text and "(S02): 순위 1위 → 2위" in changes_text
    # the candidates and categories by their Korean names (candidates.csv's name_ko, config's label_ko)
    assert "중소도시: 서울 강서구 (C24): 대기 → 제외" in changes_text
    assert "  결정 (기록 1, " in changes_text
    assert not {"since", "decision", "rank", "event"} & english_words(changes_text)

    lock = cli("--lang", "ko", "lock", cwd=solo)
    assert lock.returncode == 0, lock.stderr
    assert "최종 명단이 확정되었습니다" in lock.stdout and "지문  " in lock.stdout
    verify, verify_en = run_batch([(["--lang", "ko", "verify"], solo), (["--lang", "en", "verify"], solo)])
    verify = subprocess.CompletedProcess(verify.args, verify.returncode, verify.stdout.decode(), verify.stderr.decode())
    assert verify.returncode == 0 and "검증 완료: 모든 항목이 일치합니다" in verify.stdout
    # Locked in Korean, verified in English: the lock records the names as the files write them.
    assert verify_en.returncode == 0, verify_en.stdout
    assert all(line.startswith(("정상  ", "검증 완료")) for line in verify.stdout.splitlines()), verify.stdout

    md, csv_ko, csv_en, xlsx = run_batch(
        [
            (["--lang", "ko", "export", "--format", "md", "--out", "ko"], solo),
            (["--lang", "ko", "export", "--format", "csv", "--out", "ko"], solo),
            (["--lang", "en", "export", "--format", "csv", "--out", "en"], solo),
            (["--lang", "ko", "export", "--format", "xlsx", "--out", "ko"], solo),
        ]
    )
    assert md.returncode == csv_ko.returncode == csv_en.returncode == xlsx.returncode == 0, md.stderr
    assert "지문" in md.stdout.decode() and "파일을 썼습니다" in md.stdout.decode()
    text = (solo / "ko" / "final-list-2022.md").read_text(encoding="utf-8")
    assert text.startswith("# 최종 인증 명단: 2022\n")
    assert "| 순위 | 후보 | 총점 | % | 등급 |" in text and "위원회 결정:" in text and "최고 평가: **" in text
    assert "(점수 종합 방식: 절사평균)" in text
    assert not {"rank", "candidate", "total", "threshold", "certified", "proposed"} & english_words(text.lower())
    assert "| 1 | 인천광역시 | 1,728.00 |" in text and "## 대도시" in text and "Incheon" not in text
    header_ko, first_ko = (solo / "ko" / "final-list-2022.csv").read_text(encoding="utf-8-sig").splitlines()[:2]
    assert first_ko.startswith("large_city,대도시,1,C01,인천광역시,")
    assert header_ko.startswith("부문,부문명,순위,후보 ID,이름,총점,득점률(%),등급,결과,인증,")
    assert header_ko.endswith(",A1 영역,A2 영역,A3 영역,지문") and ",인증," in first_ko
    sheet = pl.read_excel(solo / "ko" / "final-list-2022.xlsx", sheet_name="최종 명단")
    assert sheet.columns[:9] == ["부문", "부문명", "순위", "후보 ID", "이름", "총점", "득점률(%)", "등급", "결과"]
    assert set(sheet["결과"]) <= {"인증", "미인증", "제외"} and "인증" in set(sheet["결과"])
    lock_sheet = pl.read_excel(solo / "ko" / "final-list-2022.xlsx", sheet_name="확정", has_header=False)
    assert {"인증 심사", "지문", "제안자", "승인자"} <= set(lock_sheet[:, 0])
    header_en, first_en = (solo / "en" / "final-list-2022.csv").read_text(encoding="utf-8-sig").splitlines()[:2]
    assert first_en.startswith("large_city,Large cities (대도시),1,C01,Incheon (인천광역시),")
    assert header_en.startswith("category,category_label,rank,candidate_id,name,total,percent,grade,status,")
    assert header_en.endswith(",area_A1,area_A2,area_A3,fingerprint")


def test_a_viewers_note_is_refused_in_korean(contest):
    r = cli("--lang", "ko", "note", "--candidate", "C01", "메모", cwd=contest.root)
    assert r.returncode == 3
    assert "메모 작성에는 간사 또는 위원장 또는 위원 역할이 필요합니다" in r.stderr
    assert "이 심사에서 열람자입니다" in r.stderr


def test_bad_input_names_the_file_line_and_column_in_korean(contest):
    line = 2
    contest.set_cell("scores.csv", line, "score", "많음")
    contest_two = copy_demo(contest.root.parent / "two")
    contest_two.edit_config('method = "trimmed_mean"', 'method = "average"')
    scores, config = run_batch(
        [(["--lang", "ko", "validate"], contest.root), (["--lang", "ko", "validate"], contest_two.root)]
    )
    err = scores.stderr.decode()
    assert scores.returncode == 2 and "Traceback" not in err
    assert "scores.csv, 2번째 줄, 열 'score': " in err, err
    err = config.stderr.decode()
    assert config.returncode == 2
    assert "config.toml, 키 [scoring] method: 알 수 없는 점수 종합 방식 'average'" in err, err


def test_a_bad_score_cell_is_refused_wholly_in_korean(contest):
    """The inputs' own messages (inputs/read.py), not only the place, are Korean."""
    contest.set_cell("scores.csv", 3, "score", "많음")
    r = cli("--lang", "ko", "validate", cwd=contest.root)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "scores.csv, 3번째 줄, 열 'score': 숫자가 아닙니다: '많음'" in r.stderr, r.stderr
    message = r.stderr.split("scores.csv", 1)[1].replace("'score'", "")
    assert not english_words(message), r.stderr
    english = cli("--lang", "en", "validate", cwd=contest.root)
    assert english.returncode == 2
    assert "scores.csv, line 3, column 'score': is not a number: '많음'" in english.stderr, english.stderr


# -- argparse's own words -----------------------------------------------------------------------


def test_argparses_own_words_are_korean_too(tmp_path):
    bad_choice, missing, usage = run_batch(
        [
            (["--lang", "ko", "rank", "--format", "xml"], tmp_path),
            (["--lang", "ko", "decide", "tie", "--category", "service"], tmp_path),
            (["--lang", "ko", "note", "--help"], tmp_path),
        ]
    )
    assert bad_choice.returncode == 2 and missing.returncode == 2 and usage.returncode == 0
    err = bad_choice.stderr.decode()
    assert err.startswith("사용법: panel-tui rank") and "인수 --format: 잘못된 선택: 'xml'" in err
    assert "다음 인수가 필요합니다: --order, --reason" in missing.stderr.decode()
    help_text = usage.stdout.decode()
    assert "위치 인수:" in help_text and "옵션:" in help_text and "이 도움말을 보여 주고 끝냅니다" in help_text
    assert "이 후보에 대한 메모" in help_text
    english = cli("--lang", "en", "rank", "--format", "xml", cwd=tmp_path).stderr
    assert english.startswith("usage: ") and "invalid choice: 'xml'" in english


def test_the_help_in_korean_fits_the_terminal_by_cells(tmp_path):
    """argparse wraps help by characters; ours by cells, so that Hangul fits 80 columns."""
    env = {**os.environ, "COLUMNS": "80"}
    for command in ([], ["rank"], ["serve"], ["decide", "tie"]):
        r = subprocess.run(
            [sys.executable, "-m", "panel_tui", "--lang", "ko", *command, "--help"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert r.returncode == 0 and HANGUL.search(r.stdout)
        too_wide = [line for line in r.stdout.splitlines() if text_width(line) > 80]
        assert not too_wide, too_wide


def test_argparse_still_reads_its_words_through_the_module_globals_we_point_at_our_catalogue():
    """panel_tui.cli._argparse_in points ``argparse._`` and ``argparse.ngettext`` at our
    catalogue: an argparse that no longer looks its messages up through them would leave
    them English (then look for the new route)."""
    source = Path(argparse.__file__).read_text(encoding="utf-8")
    assert re.search(r"^from gettext import gettext as _, ngettext$", source, re.M), "argparse's gettext import moved"
    from panel_tui.cli import _argparse_in

    try:
        _argparse_in("ko")
        assert argparse._("usage: ") == "사용법: "  # type: ignore[attr-defined]
        parser = argparse.ArgumentParser(prog="x", add_help=True)
        assert "사용법: x" in parser.format_help() and "이 도움말을 보여 주고 끝냅니다" in parser.format_help()
    finally:
        _argparse_in("en")
    assert argparse.ArgumentParser(prog="x").format_usage().startswith("usage: ")


# -- the catalogue can see every message -----------------------------------------------------


def core_sources() -> list[Path]:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import i18n as tool  # scripts/i18n.py
    finally:
        sys.path.pop(0)
    return list(tool.sources("core"))


@pytest.mark.parametrize("path", core_sources(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_message_is_marked_inside_an_f_string(path):
    """Babel reads an f-string as one string token (Python 3.11): a ``_("…")`` inside one never
    reaches the catalogue and stays English. Messages are marked outside f-strings."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and inner.args:
                    literal = isinstance(inner.args[0], ast.Constant)
                    assert not literal or inner.func.id not in ("_", "N_", "ngettext"), f"{path.name}:{node.lineno}"
