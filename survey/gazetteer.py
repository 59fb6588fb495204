"""The administrative units of the campaign's province, from the `vietnam-provinces` package.

The package's 3-level data is the 2020 state (province -> district -> commune), which is
what the 2020 campaign reported against. Only the configured province is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import orjson
import vietnam_provinces

from .text import classic_tones, fold, place_key

__all__ = ["Unit", "Gazetteer", "load_gazetteer"]

_COMMUNE_KINDS = (("Thị trấn", "thị trấn"), ("Phường", "phường"), ("Xã", "xã"))


@dataclass(frozen=True)
class Unit:
    """One administrative unit: the province, a district-level unit or a commune-level unit."""

    code: int
    name: str
    kind: str
    parent: int | None = None
    keys: tuple[str, str] = field(default=("", ""), compare=False, repr=False)

    def as_dict(self) -> dict:
        """JSON shape used by the API."""
        data = {"code": self.code, "name": self.name, "kind": self.kind}
        if self.parent is not None:
            data["parent"] = self.parent
        return data


def _kind(name: str, default: str) -> str:
    """The unit's kind, read from its name's prefix ('Phường ...' is a ward)."""
    for prefix, kind in _COMMUNE_KINDS + (("Thành phố", "thành phố"), ("Thị xã", "thị xã"),
                                          ("Quận", "quận"), ("Huyện", "huyện")):
        if name.startswith(prefix + " "):
            return kind
    return default


def _unit(code: int, name: str, kind: str, parent: int | None = None) -> Unit:
    """A unit under one spelling: the source writes "Tỉnh Hoà Bình" but "Thành phố Hòa Bình"."""
    name = classic_tones(name)
    return Unit(code, name, kind, parent, (place_key(name), fold(name)))


class Gazetteer:
    """Look-ups over one province's districts and communes."""

    def __init__(self, province: dict):
        self.province = _unit(province["code"], province["name"], "tỉnh")
        self.districts: dict[int, Unit] = {}
        self.communes: dict[int, Unit] = {}
        self.communes_of: dict[int, list[int]] = {}
        for district in province["districts"]:
            unit = _unit(district["code"], district["name"], _kind(district["name"], "huyện"),
                         self.province.code)
            self.districts[unit.code] = unit
            self.communes_of[unit.code] = []
            for ward in district["wards"]:
                commune = _unit(ward["code"], ward["name"], _kind(ward["name"], "xã"), unit.code)
                self.communes[commune.code] = commune
                self.communes_of[unit.code].append(commune.code)

    def district_of(self, commune_code: int) -> int:
        """The district-level unit a commune belongs to."""
        return self.communes[commune_code].parent  # type: ignore[return-value]

    def unit(self, code: int) -> Unit | None:
        """Any unit of the province by code (districts and communes share no codes)."""
        if code == self.province.code:
            return self.province
        return self.districts.get(code) or self.communes.get(code)

    def search(self, query: str, *, level: str = "commune") -> list[Unit]:
        """Units whose name matches ``query``: same spelling first, then accent-insensitive.

        Matching ignores case, Unicode form and tone-mark placement; a query without
        accents matches any accents. The administrative prefix may be left out.
        """
        units = self.communes.values() if level == "commune" else self.districts.values()
        exact, loose = place_key(query), fold(query)
        if not loose:
            return []
        by_key = [u for u in units if u.keys[0] == exact or u.keys[0].endswith(" " + exact)]
        if by_key:
            return by_key
        return [u for u in units if u.keys[1] == loose or u.keys[1].endswith(" " + loose)
                or loose in u.keys[1]]

    def as_dict(self) -> dict:
        """The whole tree in the API's shape."""
        return {
            "province": self.province.as_dict(),
            "districts": [
                {**d.as_dict(), "communes": [self.communes[c].as_dict() for c in self.communes_of[d.code]]}
                for d in self.districts.values()
            ],
        }


@lru_cache(maxsize=4)
def load_gazetteer(province_code: int) -> Gazetteer:
    """Read the package's data once per process; an unknown province code is a config error."""
    data = orjson.loads(vietnam_provinces.NESTED_DIVISIONS_JSON_PATH.read_bytes())
    for province in data:
        if province["code"] == province_code:
            return Gazetteer(province)
    raise ValueError(f"SURVEY_PROVINCE={province_code} is not a province code of vietnam-provinces")
