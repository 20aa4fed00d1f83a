"""The bundled demo reproduces the 2022 announcement and shows every rule at work."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ANNOUNCED = {
    "large_city": {"Gimhae", "Suwon", "Siheung", "Incheon"},
    "small_city": {"Gangneung-si", "Daegu Dalseo-gu", "Seoul Gangdong-gu", "Seoul Seocho-gu", "Osan-si"},
    "service": {
        "Smart City Pass",
        "Smart Integrated Parking Information System",
        "Smart Parking Service",
        "IoT Shared Parking Service",
    },
}


def english(name: str) -> str:
    return name.split(" (")[0]


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict:
    # From an empty directory: no ./config.toml, so the demo bundled in the package is used.
    cwd = tmp_path_factory.mktemp("empty")
    out = subprocess.run(
        [sys.executable, "-m", "panel_tui", "rank", "--format", "json"],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {c["id"]: c for c in json.loads(out)["categories"]}


def test_certified_exactly_as_announced(demo):
    for category, names in ANNOUNCED.items():
        certified = {english(e["name"]) for e in demo[category]["entries"] if e["certified"]}
        assert certified == names, category


def test_top_candidates(demo):
    assert [english(e["name"]) for e in demo["large_city"]["entries"] if e["top"]] == ["Incheon"]
    assert [english(e["name"]) for e in demo["small_city"]["entries"] if e["top"]] == ["Daegu Dalseo-gu"]
    assert [e for e in demo["service"]["entries"] if e["top"]] == []  # tied at rank 1, for the panel


def test_shape_of_the_round(demo):
    cities = demo["large_city"]["entries"] + demo["small_city"]["entries"]
    assert len(cities) == 24 and len(demo["service"]["entries"]) == 10
    assert demo["large_city"]["max_points"] == 2000.0 and demo["service"]["max_points"] == 100.0


def test_every_rule_is_on_show(demo):
    by_name = {english(e["name"]): e for c in demo.values() for e in c["entries"]}
    # a total tie decided by an area
    assert by_name["Suwon"]["total"] == by_name["Gimhae"]["total"]
    assert (by_name["Suwon"]["rank"], by_name["Gimhae"]["rank"], by_name["Gimhae"]["decided_by"]) == (2, 3, "A1")
    # a full tie at rank 1 among the services
    assert demo["service"]["unresolved_ties"] == [["S01", "S02"]]
    # borderline on both sides of 70 %
    border = [e for c in demo.values() for e in c["entries"] if e["borderline"]]
    assert any(e["certified"] for e in border) and any(e["certified"] is False for e in border)
    # a recusal and a pending candidate
    assert by_name["Siheung"]["evaluators"] == 8
    assert by_name["Seoul Gangseo-gu"]["status"] == "pending" and by_name["Seoul Gangseo-gu"]["rank"] is None


def test_demo_data_is_what_the_seeded_script_writes(tmp_path):
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_demo.py"), str(tmp_path)], check=True, capture_output=True
    )
    shipped = ROOT / "panel_tui" / "demo" / "data"
    for name in ("candidates.csv", "indicators.csv", "scores.csv"):
        assert (tmp_path / name).read_bytes() == (shipped / name).read_bytes(), name


def test_root_config_is_the_same_contest(tmp_path):
    def run(*args, cwd):
        return subprocess.run(
            [sys.executable, "-m", "panel_tui", "rank", "--format", "json", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    assert run(cwd=ROOT) == run(cwd=tmp_path)
