"""Write the bundled demo contest: the 2022 smart city and smart service certification.

The applicants, the certified list and the structure (56 city indices in three areas
totalling 2,000 points, 64 service indicators in three areas totalling 100, nine evaluators
per committee, five of them common to both) follow the ministry's announcement
(shared/seeds, shared/DOMAIN.md). The scores are synthetic and seeded, built so that the
demo shows every ranking rule at work:

- a total tie decided by an area: Suwon and Gimhae both total 1,564.00; Suwon leads on A1;
- a full tie at rank 1 among the services that the panel must decide (S01, S02);
- borderline candidates on both sides of 70 %: Siheung 70.85, Osan 70.60, IoT Shared
  Parking 70.50 above; Yongin 69.45, Seoul Nowon-gu 69.70, Demand-Responsive Transit
  69.80 below;
- a recusal: evaluator E05 has no scores for Siheung;
- a pending candidate: Seoul Gangseo-gu has four indicators nobody has scored yet.

Each cell's scores are made around a chosen consolidated value: seven "middle" scores whose
mean is that value, plus one lower and one higher outlier that the trimmed mean drops. So the
trimmed mean reproduces the chosen totals exactly, while the mean and median differ a little
(as they would in a real committee). Evaluator E07 tends to score high and E12 low.

    python scripts/make_demo.py [OUT_DIR]     # default: rewrites panel_tui/demo/data/*.csv
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "panel_tui" / "demo" / "data"
SEED = 2022

CITY_AREAS = [
    ("A1", "Smart city service and infrastructure level (스마트시티 서비스·인프라 수준)", [35.0] * 20 + [37.5] * 8),
    ("A2", "Institutional base and promotion system (제도적 기반 및 추진체계)", [37.5] * 16),
    (
        "A3",
        "Professionalism and innovation of citizens and officials (시민·공무원의 전문성과 혁신성)",
        [40.0] * 4 + [30.0] * 8,
    ),
]
SERVICE_AREAS = [
    ("A1", "Experiential effect and civic satisfaction (체감효과 및 시민 만족도)", [1.5] * 16 + [2.0] * 8),
    ("A2", "Level and suitability of technology and function (기술·기능의 수준 및 적합성)", [1.5] * 22 + [1.0] * 2),
    ("A3", "Possibility of regional spread (지역 확산 가능성)", [1.5] * 14 + [2.0] * 2),
]
CITY_TOPICS = {
    "A1": [
        "Integrated operation centre",
        "Smart transport",
        "Smart parking",
        "Public transport information",
        "Crime prevention CCTV",
        "Disaster prevention",
        "Environment monitoring",
        "Air quality",
        "Energy management",
        "Water management",
        "Smart lighting",
        "Public Wi-Fi",
        "IoT network",
        "City data hub",
        "Open data",
        "Digital twin",
        "Welfare services",
        "Health care",
        "Smart tourism",
        "Smart education",
        "Citizen app",
        "Safety of the vulnerable",
        "Smart waste",
        "Mobility on demand",
        "Infrastructure security",
        "Service interoperability",
        "Infrastructure coverage",
        "Service use",
    ],
    "A2": [
        "Smart city ordinance",
        "Master plan",
        "Dedicated organisation",
        "Budget",
        "Governance committee",
        "Public-private partnership",
        "Living lab",
        "Pilot projects",
        "Performance management",
        "Personal data protection",
        "Standards adoption",
        "Procurement of innovation",
        "Regional cooperation",
        "Funding from outside",
        "Monitoring of services",
        "Sustainability plan",
    ],
    "A3": [
        "Citizen participation",
        "Citizen proposals adopted",
        "Digital literacy programmes",
        "Official training",
        "Smart city experts on staff",
        "Innovation awards",
        "Start-up support",
        "Research partnerships",
        "Civic data use",
        "Inclusion of the elderly",
        "Feedback loop",
        "Citizen satisfaction",
    ],
}
SERVICE_TOPICS = {
    "A1": "Experiential effect",
    "A2": "Technology and function",
    "A3": "Regional spread",
}
# The same words in Korean (the files' ``label_ko``, ``name_ko``, ...: a Korean panel reads no English).
CITY_TOPICS_KO = {
    "A1": [
        "통합운영센터",
        "스마트 교통",
        "스마트 주차",
        "대중교통 정보",
        "방범 CCTV",
        "재난 예방",
        "환경 모니터링",
        "대기질",
        "에너지 관리",
        "물 관리",
        "스마트 가로등",
        "공공 와이파이",
        "IoT 네트워크",
        "도시 데이터 허브",
        "공공데이터 개방",
        "디지털 트윈",
        "복지 서비스",
        "보건의료",
        "스마트 관광",
        "스마트 교육",
        "시민 앱",
        "사회적 약자 안전",
        "스마트 폐기물",
        "수요응답형 이동",
        "인프라 보안",
        "서비스 연계성",
        "인프라 보급률",
        "서비스 이용률",
    ],
    "A2": [
        "스마트도시 조례",
        "스마트도시 계획",
        "전담 조직",
        "예산",
        "거버넌스 위원회",
        "민관 협력",
        "리빙랩",
        "시범 사업",
        "성과 관리",
        "개인정보 보호",
        "표준 도입",
        "혁신 조달",
        "지역 간 협력",
        "외부 재원 확보",
        "서비스 모니터링",
        "지속가능성 계획",
    ],
    "A3": [
        "시민 참여",
        "시민 제안 채택",
        "디지털 역량 교육",
        "공무원 교육",
        "스마트도시 전문 인력",
        "혁신 수상 실적",
        "창업 지원",
        "연구 협력",
        "시민 데이터 활용",
        "고령층 포용",
        "환류 체계",
        "시민 만족도",
    ],
}
SERVICE_TOPICS_KO = {"A1": "체감효과", "A2": "기술·기능", "A3": "지역 확산"}
REGIONS_KO = {
    "Incheon": "인천",
    "Gyeonggi": "경기",
    "Gyeongnam": "경남",
    "Chungbuk": "충북",
    "Chungnam": "충남",
    "Jeonbuk": "전북",
    "Jeonnam": "전남",
    "Daegu": "대구",
    "Gangwon": "강원",
    "Seoul": "서울",
    "Jeju": "제주",
    "Bucheon": "부천시",
    "": "",
}
APPLICANTS_KO = {
    "Data Alliance and three partner companies": "데이터얼라이언스 외 협력사 3곳",
    "Applicant company (name not in the announcement)": "신청 기업 (공고문에 이름 없음)",
    "Synthetic demo applicant": "데모용 가상 신청자",
}


def korean(bilingual: str) -> str:
    """The Korean in "English (한국어)"."""
    return bilingual[bilingual.rindex("(") + 1 : -1]


# (id, name, category, target percent, population in thousands, region)
CITIES = [
    ("C01", "Incheon (인천광역시)", "large_city", 86.40, 2960, "Incheon"),
    ("C02", "Suwon (수원시)", "large_city", 78.20, 1190, "Gyeonggi"),
    ("C03", "Gimhae (김해시)", "large_city", 78.20, 540, "Gyeongnam"),
    ("C04", "Siheung (시흥시)", "large_city", 70.85, 530, "Gyeonggi"),
    ("C05", "Yongin (용인시)", "large_city", 69.45, 1080, "Gyeonggi"),
    ("C06", "Hwaseong (화성시)", "large_city", 66.10, 1040, "Gyeonggi"),
    ("C07", "Cheongju (청주시)", "large_city", 63.80, 850, "Chungbuk"),
    ("C08", "Cheonan (천안시)", "large_city", 61.25, 660, "Chungnam"),
    ("C09", "Jeonju (전주시)", "large_city", 58.60, 650, "Jeonbuk"),
    ("C10", "Ansan (안산시)", "large_city", 55.35, 640, "Gyeonggi"),
    ("C11", "Daegu Dalseo-gu (대구 달서구)", "small_city", 84.70, 520, "Daegu"),
    ("C12", "Gangneung-si (강릉시)", "small_city", 76.30, 210, "Gangwon"),
    ("C13", "Seoul Gangdong-gu (서울 강동구)", "small_city", 74.05, 500, "Seoul"),
    ("C14", "Seoul Seocho-gu (서울 서초구)", "small_city", 72.50, 420, "Seoul"),
    ("C15", "Osan-si (오산시)", "small_city", 70.60, 230, "Gyeonggi"),
    ("C16", "Seoul Nowon-gu (서울 노원구)", "small_city", 69.70, 490, "Seoul"),
    ("C17", "Jeju-si (제주시)", "small_city", 67.20, 490, "Jeju"),
    ("C18", "Paju-si (파주시)", "small_city", 65.05, 450, "Gyeonggi"),
    ("C19", "Gimpo-si (김포시)", "small_city", 63.40, 440, "Gyeonggi"),
    ("C20", "Seoul Eunpyeong-gu (서울 은평구)", "small_city", 61.15, 460, "Seoul"),
    ("C21", "Yeosu-si (여수시)", "small_city", 58.25, 270, "Jeonnam"),
    ("C22", "Seoul Gwanak-gu (서울 관악구)", "small_city", 57.00, 480, "Seoul"),
    ("C23", "Daegu Suseong-gu (대구 수성구)", "small_city", 55.55, 410, "Daegu"),
    ("C24", "Seoul Gangseo-gu (서울 강서구)", "small_city", 71.30, 550, "Seoul"),
]
# (id, name, target percent, applicant, partner local government)
SERVICES = [
    ("S01", "Smart City Pass (스마트시티 패스)", 81.30, "Data Alliance and three partner companies", "Bucheon"),
    (
        "S02",
        "Smart Integrated Parking Information System (스마트 통합주차정보 시스템)",
        81.30,
        "Applicant company (name not in the announcement)",
        "",
    ),
    (
        "S03",
        "Smart Parking Service (스마트 파킹 서비스)",
        76.80,
        "Applicant company (name not in the announcement)",
        "",
    ),
    (
        "S04",
        "IoT Shared Parking Service (IoT 공유주차 서비스)",
        70.50,
        "Applicant company (name not in the announcement)",
        "",
    ),
    ("S05", "Demand-Responsive Transit (수요응답형 교통 서비스)", 69.80, "Synthetic demo applicant", ""),
    ("S06", "AI Traffic Signal Control (AI 교통신호 제어 서비스)", 66.40, "Synthetic demo applicant", ""),
    ("S07", "Smart Crosswalk (스마트 횡단보도)", 63.10, "Synthetic demo applicant", ""),
    ("S08", "Real-time Bus Information (실시간 버스정보 서비스)", 60.20, "Synthetic demo applicant", ""),
    ("S09", "Shared E-Scooter Integration (공유 킥보드 통합 서비스)", 57.50, "Synthetic demo applicant", ""),
    ("S10", "EV Charging Guidance (전기차 충전 안내 서비스)", 52.90, "Synthetic demo applicant", ""),
]
CITY_COMMITTEE = [f"E{i:02d}" for i in range(1, 10)]
SERVICE_COMMITTEE = [f"E{i:02d}" for i in range(1, 6)] + [f"E{i:02d}" for i in range(10, 14)]
BIAS = {"E07": 1.0, "E12": -1.0}  # a generous and a severe evaluator, for calibration views
# Area subtotals fixed by hand where the demo needs them (in points):
FIXED_AREAS = {
    "C02": {"A1": 800.0, "A2": 466.0, "A3": 298.0},  # Suwon 1,564.00: ahead of Gimhae on A1
    "C03": {"A1": 795.5, "A2": 470.5, "A3": 298.0},  # Gimhae 1,564.00
    "S01": {"A1": 33.5, "A2": 28.4, "A3": 19.4},  # the full tie at rank 1: every area equal
    "S02": {"A1": 33.5, "A2": 28.4, "A3": 19.4},
}
RECUSALS = {("C04", "E05")}  # Siheung: E05 recused
PENDING = {"C24": 4}  # Seoul Gangseo-gu: the last four A3 indicators not yet scored

MIDDLE_PATTERNS = {  # offsets (in grid steps) of the scores the trimmed mean keeps; each sums to 0
    7: [[-2, -1, -1, 0, 1, 1, 2], [-3, -1, 0, 1, 1, 1, 1], [-1, -1, -1, -1, 0, 1, 3], [-1, 0, 0, 0, 0, 0, 1]],
    6: [[-2, -1, 0, 0, 1, 2], [-2, 0, 0, 0, 1, 1], [-1, -1, 0, 0, 0, 2], [-1, 0, 0, 0, 0, 1]],
}


def units(value: float, step: float) -> int:
    return round(value / step)


def split_area_targets(rng: random.Random, total_units: int, areas, step: float) -> dict[str, int]:
    """Area subtotals (in grid units) summing exactly to the total, each near its share."""
    set_max = sum(sum(points) for _, _, points in areas)
    result = {}
    remaining = total_units
    for i, (area, _, points) in enumerate(areas):
        if i == len(areas) - 1:
            result[area] = remaining
        else:
            share = total_units * sum(points) / set_max * rng.uniform(0.97, 1.03)
            result[area] = round(share)
            remaining -= result[area]
    return result


def spread(rng: random.Random, target_units: int, maxima: list[float], step: float) -> list[int]:
    """Indicator values (grid units) within their maxima, summing exactly to the area target."""
    caps = [units(m, step) for m in maxima]
    fraction = target_units / sum(caps)
    values = [min(cap, max(0, round(cap * fraction + rng.gauss(0, cap * 0.06)))) for cap in caps]
    diff = target_units - sum(values)
    while diff:
        i = rng.randrange(len(values))
        if diff > 0 and values[i] < caps[i]:
            values[i] += 1
            diff -= 1
        elif diff < 0 and values[i] > 0:
            values[i] -= 1
            diff += 1
    return values


def cell_scores(rng: random.Random, value: int, cap: int, evaluators: list[str]) -> dict[str, int]:
    """Scores (grid units) whose trimmed mean is exactly ``value``; outliers on both sides."""
    middle_n = len(evaluators) - 2
    patterns = [p for p in MIDDLE_PATTERNS[middle_n] if value + min(p) >= 0 and value + max(p) <= cap]
    pattern = rng.choice(patterns) if patterns else [0] * middle_n
    middle = sorted(value + o for o in pattern)
    low = max(0, middle[0] - rng.randint(0, 4))
    high = min(cap, middle[-1] + rng.randint(0, 4))
    ordered = [low, *middle, high]
    # Who gave which score: mostly chance, tilted by each evaluator's leaning.
    keys = sorted(evaluators, key=lambda e: BIAS.get(e, 0.0) + rng.gauss(0, 1.0))
    return dict(zip(keys, ordered, strict=False))


def main(out: Path = OUT) -> None:
    rng = random.Random(SEED)
    out.mkdir(parents=True, exist_ok=True)
    sets = {"city": (CITY_AREAS, 0.5, CITY_COMMITTEE), "service": (SERVICE_AREAS, 0.1, SERVICE_COMMITTEE)}

    indicator_rows = []
    for set_id, (areas, _, _) in sets.items():
        n = 0
        for area, area_label, points in areas:
            for k, maximum in enumerate(points):
                n += 1
                if set_id == "city":
                    label, label_ko = CITY_TOPICS[area][k], CITY_TOPICS_KO[area][k]
                    iid = f"CI{n:02d}"
                else:
                    label, label_ko = f"{SERVICE_TOPICS[area]} {k + 1}", f"{SERVICE_TOPICS_KO[area]} {k + 1}"
                    iid = f"SV{n:02d}"
                indicator_rows.append(
                    (set_id, iid, area, f"{maximum:g}", label, area_label, label_ko, korean(area_label))
                )
    with (out / "indicators.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(
            [
                "indicator_set",
                "indicator_id",
                "area_id",
                "max_points",
                "label",
                "area_label",
                "label_ko",
                "area_label_ko",
            ]
        )
        w.writerows(indicator_rows)

    with (out / "candidates.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(
            ["candidate_id", "name", "category", "population_k", "region", "applicant", "partner"]
            + ["name_ko", "region_ko", "applicant_ko", "partner_ko"]
        )
        for cid, name, category, _, population, region in CITIES:
            w.writerow([cid, name, category, population, region, "", "", korean(name), REGIONS_KO[region], "", ""])
        for cid, name, _, applicant, partner in SERVICES:
            w.writerow(
                [cid, name, "service", "", "", applicant, partner]
                + [korean(name), "", APPLICANTS_KO[applicant], REGIONS_KO[partner]]
            )

    candidates = [(cid, "city", pct) for cid, _, _, pct, _, _ in CITIES] + [
        (cid, "service", pct) for cid, _, pct, _, _ in SERVICES
    ]
    score_rows = []
    for cid, set_id, pct in candidates:
        areas, step, committee = sets[set_id]
        set_max = sum(sum(p) for _, _, p in areas)
        if cid in FIXED_AREAS:
            targets = {a: units(v, step) for a, v in FIXED_AREAS[cid].items()}
        else:
            targets = split_area_targets(rng, units(pct / 100 * set_max, step), areas, step)
        evaluators = [e for e in committee if (cid, e) not in RECUSALS]
        n = 0
        for area, _, points in areas:
            values = spread(rng, targets[area], points, step)
            for maximum, value in zip(points, values, strict=False):
                n += 1
                iid = f"CI{n:02d}" if set_id == "city" else f"SV{n:02d}"
                if cid in PENDING and area == areas[-1][0] and n > len(indicator_rows_of(set_id)) - PENDING[cid]:
                    continue
                for evaluator, score in cell_scores(rng, value, units(maximum, step), evaluators).items():
                    score_rows.append((cid, evaluator, iid, round(score * step, 1)))
    score_rows.sort(key=lambda r: (r[0], r[2], r[1]))
    with (out / "scores.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["candidate_id", "evaluator_id", "indicator_id", "score"])
        for cid, evaluator, iid, score in score_rows:
            w.writerow([cid, evaluator, iid, f"{score:g}"])
    print(f"wrote {len(indicator_rows)} indicators, {len(candidates)} candidates, {len(score_rows)} scores to {out}")


def indicator_rows_of(set_id: str) -> list[float]:
    areas = CITY_AREAS if set_id == "city" else SERVICE_AREAS
    return [p for _, _, points in areas for p in points]


if __name__ == "__main__":
    import sys

    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
