"""What the service refuses, as exceptions: services raise them, ``errors.py`` answers them.

Views do not catch these to build answers; the handlers in ``errors.py`` turn each kind into
one HTTP status, as JSON for the API and token clients and as a page for browsers. A view
catches one only when it has something better to do than answer (the form page keeps the
first of two identical submissions, for example).
"""

from __future__ import annotations

# Conflict belongs to the household rules; this is the one import of it outside storage.
from .storage import Conflict

__all__ = ["BadInput", "Conflict", "NotFound", "NotYourAgency", "OutsideArea", "Refused"]


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
