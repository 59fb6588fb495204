"""Which communes a request may see, from the user's role and the ?district= / ?commune= filters."""

from __future__ import annotations

from .codes import CodeError, parse_code
from .gazetteer import Gazetteer
from .users import User

__all__ = ["ScopeError", "communes_in_scope"]


class ScopeError(Exception):
    """A filter names an unknown unit (status 400/404) or one outside the user's (403)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _code(value: str | None, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return parse_code(value, name)
    except CodeError as exc:
        raise ScopeError(400, str(exc)) from None


def communes_in_scope(user: User, gazetteer: Gazetteer, district: str | None = None,
                      commune: str | None = None) -> list[int]:
    """Commune codes in gazetteer order, narrowed by the filters, within what ``user`` may read."""
    district_code, commune_code = _code(district, "district"), _code(commune, "commune")
    if commune_code is not None:
        if commune_code not in gazetteer.communes:
            raise ScopeError(404, f"commune {commune_code} is not a commune of {gazetteer.province.name}")
        if district_code is not None and gazetteer.district_of(commune_code) != district_code:
            raise ScopeError(400, f"commune {commune_code} is not in district {district_code}")
        chosen = [commune_code]
    elif district_code is not None:
        if district_code not in gazetteer.districts:
            raise ScopeError(404, f"district {district_code} is not a district of {gazetteer.province.name}")
        chosen = gazetteer.communes_of[district_code]
    else:
        return [c for c in gazetteer.communes if user.can_read(c)]
    if not all(user.can_read(c) for c in chosen):
        raise ScopeError(403, "this unit is outside your area")
    return list(chosen)
