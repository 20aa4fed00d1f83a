"""The contest's own words in the panel's language (issue 15): ``name_ko`` in config.toml,
``label_ko`` for a category, ``[columns]`` headings, and any text column ``X_ko`` of
candidates.csv and indicators.csv. Shown in Korean wherever a person reads them; JSON and the
lock keep the words as the files write them, so that a list locked in Korean verifies in
English and the JSON is the same bytes in both languages."""

from __future__ import annotations

import pytest
from conftest import ContestFiles, assert_refused, run_cli

from panel_tui.config import load_config
from panel_tui.engine import standings, to_json
from panel_tui.inputs import load_contest
from panel_tui.meeting import Meeting, final_in_words, final_standings


def test_the_config_gives_the_contest_and_its_categories_in_korean(contest: ContestFiles):
    written = load_config(contest.config)
    assert written.contest.name == "2022 Smart City and Smart Service Certification"
    korean = written.in_language("ko")
    assert korean.contest.name == "2022년 스마트도시·스마트서비스 인증"
    assert [c.label for c in korean.categories] == ["대도시", "중소도시", "스마트서비스"]
    assert [c.label_as_written for c in korean.categories] == [c.label for c in written.categories]
    assert (
        korean.heading("population_k") == "인구(천 명)" and written.heading("population_k") == "Population (thousands)"
    )
    assert korean.heading("not_a_column") == "not_a_column"
    assert written.contest.time("2022-09-14T01:41:07.5+00:00") == "2022-09-14 10:41 KST"
    assert korean.contest.time("2022-09-14T01:41:07+00:00", date=False, seconds=True) == "10:41:07 KST"
    # No English words of its own given: English shows them as written.
    assert written.in_language("en").categories[0].label == "Large cities (대도시)"


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('name_ko = "2022년', 'name_fr = "2022년', "name_fr"),
        ('label_ko = "대도시"', 'label_ko = ""', "label_ko"),
        ('region_ko = "지역"', "region_ko = 5", "region_ko"),
        ('region_ko = "지역"', '"region\\u0007_ko" = "지역"', "U+0007"),
        ('timezone = "Asia/Seoul"', 'timezone = "../../etc/passwd"', "timezone"),
    ],
    ids=["unknown language", "empty label", "a heading not text", "a hidden character", "unknown time zone"],
)
def test_a_bad_translation_in_the_config_is_refused_naming_its_key(contest: ContestFiles, old: str, new: str, key):
    contest.edit_config(old, new)
    assert new in contest.config_text()
    err = assert_refused(run_cli(["validate"], contest.root), "config.toml", None, None, ())
    assert key in err.replace("\\u0007", ""), err


def test_the_files_give_names_labels_and_further_columns_in_korean(contest: ContestFiles):
    # A blank translation falls back to the name as written.
    contest.set_cell("candidates.csv", 3, "name_ko", " ")
    written = load_contest(load_config(contest.config))
    korean = load_contest(load_config(contest.config).in_language("ko"))
    names = dict(korean.candidates.select("candidate_id", "name").iter_rows())
    assert names["C01"] == "인천광역시" and names["C02"] == "Suwon (수원시)"
    assert korean.written_names is not None and written.written_names is None
    assert dict(korean.written_names.iter_rows())["C01"] == "Incheon (인천광역시)"
    first = korean.candidates.row(0, named=True)
    assert first["region"] == "인천"
    labels = korean.indicators.filter(korean.indicators["indicator_id"] == "CI01").row(0, named=True)
    assert labels["label"] == "통합운영센터" and labels["area_label"] == "스마트시티 서비스·인프라 수준"
    # The translations are not further columns of their own in the detail.
    assert written.extra_columns == korean.extra_columns == ("population_k", "region", "applicant", "partner")


def test_json_and_the_final_list_keep_the_words_as_written(contest: ContestFiles):
    config = load_config(contest.config)
    written = standings(load_contest(config))
    korean = standings(load_contest(config.in_language("ko")))
    assert korean.board("large_city").entries["name"][0] == "인천광역시"
    assert korean.board("large_city").category.label == "대도시"
    assert to_json(korean) == to_json(written)
    # The locked boards, shown in Korean, still give the list as written.
    final = to_json(written, locked=True)
    locked = final_standings(final, config.in_language("ko"), korean)
    assert locked.board("large_city").entries["name"][0] == "인천광역시"
    assert locked.board("service").category.label == "스마트서비스"
    assert to_json(locked, locked=True) == final
    shown = final_in_words(final, config.in_language("ko"), load_contest(config.in_language("ko")))
    assert shown["categories"][0]["label"] == "대도시" and shown["categories"][0]["entries"][0]["name"] == "인천광역시"
    assert final["categories"][0]["entries"][0]["name"] == "Incheon (인천광역시)"  # (not changed in place)


def test_a_list_locked_in_korean_verifies_in_english_and_exports_in_either(contest: ContestFiles):
    session = contest.root / "sessions" / "2022.sqlite"
    config = load_config(contest.config)
    contest.edit_config("require_chair_confirmation = true", "require_chair_confirmation = false")
    config = load_config(contest.config)
    kim = Meeting(config.in_language("ko"), session, who="kim")
    kim.exclude("C24", "withdrawn", "철회 공문")
    kim.decide_tie("service", ["S01", "S02"], "표결 6-3")
    lock = kim.propose_lock()
    assert lock.final["categories"][0]["entries"][0]["name"] == "Incheon (인천광역시)"
    assert Meeting(config, session, who="kim").verify(lock.fingerprint).ok
    assert kim.verify(lock.fingerprint).ok
    assert kim.final_shown(lock)["categories"][0]["entries"][0]["name"] == "인천광역시"
    assert Meeting(config.in_language("en"), session, who="kim").final_shown(lock) == lock.final
    # Once candidates.csv changed since the lock, its names are not the locked list's: as recorded.
    contest.set_cell("candidates.csv", 2, "name_ko", "다른 이름")
    assert kim.final_shown(lock) == lock.final
