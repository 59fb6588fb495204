"""A realistic demo campaign: households spread unevenly over the real communes.

Names, hamlets and figures follow the province's make-up (Mường and Kinh family names,
xóm/bản hamlets, phone ownership well below the household size); some communes are left
without any household so that the gaps show, as they would mid-campaign.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator

from .gazetteer import Gazetteer

__all__ = ["household", "households_for"]

FAMILY = ["Bùi", "Đinh", "Quách", "Xa", "Hà", "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đỗ", "Lò", "Sa"]
MIDDLE = ["Văn", "Thị", "Đức", "Thị Thu", "Văn Hải", "Minh", "Thanh", "Xuân", "Công"]
GIVEN = ["An", "Bình", "Chung", "Dũng", "Hòa", "Hùng", "Lan", "Mai", "Nam", "Ngọc", "Phương", "Quân",
         "Sơn", "Thắng", "Thủy", "Tuấn", "Vân", "Yến", "Khánh", "Lợi"]
HAMLET_KIND = ["Xóm", "Bản", "Thôn", "Tổ"]
HAMLET_NAME = ["Mới", "Lác", "Lạc", "Đồng Tâm", "Trại", "Sưng", "Chiềng", "Mường", "Bãi Sỏi", "Khả",
               "Hòa Sơn", "Tân Thủy", "Đồi Bương", "Nà Phòn", "Cọi", "Bưa", "Thung", "Vó", "Rộc", "Đá Bia"]
REASONS = ["no_smartphone", "unsupported_phone", "no_mobile_data", "declined", "not_home", "other"]
REASON_WEIGHTS = [30, 12, 18, 10, 25, 5]
START = dt.date(2020, 8, 12)
DAYS = 13


def _variant(name: str, rng: random.Random) -> str:
    """Another common way of typing the same hamlet: other tone placement or case."""
    roll = rng.random()
    if roll < 0.05:
        return name.replace("òa", "oà").replace("ủy", "uỷ")
    if roll < 0.08:
        return name.lower()
    return name


def household(commune: int, district: int, hamlet: str, rng: random.Random, officer: str) -> dict:
    """One plausible household record of ``commune``."""
    members = min(12, max(1, int(rng.gauss(4, 1.6))))
    smart = min(members, max(0, int(rng.gauss(members * 0.45, 1))))
    before = sum(rng.random() < 0.25 for _ in range(smart))
    during = sum(rng.random() < 0.55 for _ in range(smart - before))
    missing = smart - before - during
    reasons: list[str] = []
    if smart < members:
        reasons.append("no_smartphone")
    if missing:
        reasons += rng.choices(REASONS[1:], REASON_WEIGHTS[1:], k=rng.randint(1, 2))
    visited = START + dt.timedelta(days=min(DAYS - 1, int(rng.expovariate(1 / 4))))
    stamp = dt.datetime.combine(visited, dt.time(rng.randint(7, 18), rng.randint(0, 59)),
                                dt.timezone(dt.timedelta(hours=7))).isoformat()
    name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
    return {"id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "commune_code": commune,
            "hamlet": _variant(hamlet, rng), "head_name": name,
            "members": members, "smartphone_users": smart, "installed_before": before,
            "installed_during_visit": during, "reasons_not_installed": sorted(set(reasons), key=REASONS.index),
            "visited_on": visited.isoformat(), "district_code": district,
            "officer": officer, "created_at": stamp, "updated_at": stamp}


def households_for(gazetteer: Gazetteer, total: int, seed: int = 2020, empty_share: float = 0.08
                   ) -> Iterator[tuple[int, list[dict]]]:
    """(commune, records) for about ``total`` households, spread unevenly, some communes empty."""
    rng = random.Random(seed)
    communes = list(gazetteer.communes.values())
    weights = [0.0 if rng.random() < empty_share else rng.lognormvariate(0, 0.6) for _ in communes]
    scale = total / (sum(weights) or 1)
    for unit, weight in zip(communes, weights):
        count = round(weight * scale)
        if not count:
            continue
        hamlets = [f"{rng.choice(HAMLET_KIND)} {name}" for name in rng.sample(HAMLET_NAME, rng.randint(4, 12))]
        officer = f"xa-{unit.code}"
        yield unit.code, [household(unit.code, unit.parent, rng.choice(hamlets), rng, officer)
                          for _ in range(count)]



def agency_reports_for(codes: list[str], seed: int = 2020, missing_share: float = 0.2) -> list[dict]:
    """Staff reports of most agencies, some after the 20/8 deadline, some corrected later.

    Each report carries its ``submitted_at`` (Vietnam time) as if it had come in then.
    """
    rng = random.Random(seed)
    reports = []
    for code in codes:
        if rng.random() < missing_share:
            continue
        staff = rng.randint(60, 160) if code.startswith("UBND") else rng.randint(18, 420)
        smart = round(staff * rng.uniform(0.7, 0.95))
        versions = 2 if rng.random() < 0.25 else 1
        day = START + dt.timedelta(days=rng.randint(3, 10))
        for n in range(versions):
            installed = round(smart * min(1.0, rng.uniform(0.3, 0.8) + 0.15 * n))
            when = dt.datetime.combine(day + dt.timedelta(days=2 * n), dt.time(rng.randint(7, 22), rng.randint(0, 59)),
                                       dt.timezone(dt.timedelta(hours=7)))
            reports.append({"id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "agency_code": code,
                            "staff_total": staff, "smartphone_users": smart, "installed": installed,
                            "reported_on": when.date().isoformat(),
                            "reporter_name": f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}",
                            "reporter_phone": f"09{rng.randint(10000000, 99999999)}", "note": "",
                            "submitted_at": when.isoformat()})
    return sorted(reports, key=lambda r: r["submitted_at"])
