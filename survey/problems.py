"""What the service refuses, as exceptions: services raise them, ``errors.py`` answers them.

Views do not catch these to build answers; the handlers in ``errors.py`` turn each kind into
one HTTP status, as JSON for the API and token clients and as a page for browsers. A view
catches one only when it has something better to do than answer (the form page keeps the
first of two identical submissions, for example).
"""

from __future__ import annotations

# Conflict belongs to the household rules (households/records.py); raised there, answered in errors.py.
from .households.records import Conflict

__all__ = ["BadInput", "Conflict", "NoOpenFlag", "NotFound", "NotYourAgency", "OutsideArea", "Refused"]


class BadInput(Exception):
    """The request is malformed (a body, a filter, a level); the message says how. 400."""


class NotFound(Exception):
    """Nothing of that id in the user's area; whether it exists elsewhere is not said. 404."""


class Refused(Exception):
    """The user may not do this; the message says what. 403."""


class OutsideArea(Refused):
    """The user may not write households of this commune."""

    def __init__(self, commune_code: int):
        super().__init__(f"you may not write households of commune {commune_code}")
        self.commune_code = commune_code


class NotYourAgency(Refused):
    """The user may not report for this agency."""

    def __init__(self, agency_code: str):
        super().__init__(f"you may not report for agency {agency_code!r}")
        self.agency_code = agency_code


class NoOpenFlag(Exception):
    """The record has no open review flag to close. 409."""

    page_key = "no_open_flag"  # the message a browser is shown, in its language

    def __init__(self, record_id: str):
        super().__init__("this household has no open review flag")
        self.record_id = record_id
