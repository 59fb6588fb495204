"""gunicorn's access log without Collect keys: a key in a URL path is a credential.

Collect can only carry its key in the server URL, so the path of each of its requests
holds it; the access log writes ``/openrosa/key/…/formList`` instead.
"""

from __future__ import annotations

import re

from gunicorn.glogging import Logger

__all__ = ["KeyRedactingLogger", "redact"]

_KEY = re.compile(r"(/openrosa/key/)[^/?\s]+")


def redact(path: str) -> str:
    """The path with any Collect key replaced by an ellipsis."""
    return _KEY.sub(r"\1…", path)


class KeyRedactingLogger(Logger):
    """gunicorn's logger, with the key taken out of the request line and path atoms."""

    def atoms(self, resp, req, environ, request_time):  # type: ignore[no-untyped-def]
        atoms = super().atoms(resp, req, environ, request_time)
        for name in ("r", "U"):
            if isinstance(atoms.get(name), str):
                atoms[name] = redact(atoms[name])
        return atoms
