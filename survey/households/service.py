"""Submitting and correcting households: the rules shared by the API and the form page."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..forms import new_id
from ..policy import may
from ..problems import NoOpenFlag, NotFound, OutsideArea
from ..storage import NotStored
from ..users import User
from .review import changes_between

if TYPE_CHECKING:
    from ..campaign import Campaign

__all__ = ["OutsideArea", "NoOpenFlag", "find", "submit", "correct", "confirm_unchanged", "remove_duplicate"]

CHECKED_NO_CHANGE = "checked, no change"


def find(camp: Campaign, user: User, record_id: str) -> dict:
    """A household of the user's area by id; NotFound otherwise (other areas stay unseen)."""
    record = camp.households.get(record_id, sorted(user.communes))
    if record is None:
        raise NotFound(f"no household {record_id} in your area")
    return record


def _server_fields(camp: Campaign, user: User, record: dict) -> dict:
    """What the server sets: the id if the client gave none, the district and the officer."""
    if not user.can_write(record["commune_code"]):
        raise OutsideArea(record["commune_code"])
    if "id" not in record:  # phones send their own: no random id made only to be thrown away
        record["id"] = new_id()
    record["district_code"] = camp.gazetteer.district_of(record["commune_code"])
    record["officer"] = user.username
    return record


def submit(camp: Campaign, user: User, record: dict) -> tuple[dict, bool]:
    """Store a validated household; (stored, created). Raises OutsideArea or Conflict."""
    return camp.households.create(_server_fields(camp, user, record), camp.stamp)


def correct(camp: Campaign, user: User, current: dict, record: dict) -> dict:
    """Replace ``current`` by a validated correction; the first officer stays on record.

    A review flag closes only when something changed: sending the record back unchanged
    must not clear the reviewer's question (``confirm_unchanged`` says so explicitly).
    """
    if not user.can_write(current["commune_code"]):
        raise OutsideArea(current["commune_code"])
    record = _server_fields(camp, user, record)
    record["officer"] = current["officer"]
    try:
        stored = camp.households.replace(current, record, camp.stamp)
    except NotStored:  # removed (or moved) since it was read: as if it had never been found
        raise NotFound(f"no household {current['id']} in your area") from None
    if changes_between(current, stored):
        moved = current["commune_code"] != stored["commune_code"]
        reason = f"moved from commune {current['commune_code']}" if moved else ""
        camp.history.add(current, stored, user.username, stored["updated_at"], reason=reason)
        camp.flags.resolve(current["id"], current["commune_code"], user.username, stored["updated_at"])
    return stored


def confirm_unchanged(camp: Campaign, user: User, record: dict) -> dict:
    """Close an open flag as "checked, no change", kept in the history with who and when."""
    if not user.can_write(record["commune_code"]):
        raise OutsideArea(record["commune_code"])
    flag = camp.flags.get(record["id"], record["commune_code"])
    if flag is None or flag["status"] != "open":
        raise NoOpenFlag(record["id"])
    at = camp.stamp()
    camp.history.add(record, record, user.username, at, reason=CHECKED_NO_CHANGE)
    return camp.flags.resolve(record["id"], record["commune_code"], user.username, at, status="checked") or flag


def remove_duplicate(camp: Campaign, user: User, record: dict, kept: dict) -> None:
    """Take a duplicate out of the figures; its content stays in the history."""
    if not user.can_read(record["commune_code"]) or not may(user, "settle_duplicates"):
        raise OutsideArea(record["commune_code"])
    at = camp.stamp()
    camp.history.add(record, None, user.username, at, reason=f"duplicate of {kept['id']}")
    camp.households.remove(record)
