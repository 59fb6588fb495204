"""What every download shares: content types, file names and the attachment answer."""

from __future__ import annotations

from flask import Response, request

from ..campaign import campaign
from ..codes import is_code
from ..i18n import LANGS, current_lang

__all__ = ["CSV", "XLSX", "attachment", "filename", "lang_of_request"]

CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def lang_of_request() -> str:
    """?lang= when it names a language, else the session's."""
    lang = request.args.get("lang")
    return lang if lang in LANGS else current_lang()


def filename(stem: str, ext: str) -> str:
    """A file name saying what and when: stem, the unit filters, today."""
    camp = campaign()
    parts = [stem, *(f"{k}{request.args[k]}" for k in ("district", "commune") if is_code(request.args.get(k))),
             camp.today().isoformat()]
    return "-".join(parts) + "." + ext


def attachment(body, mimetype: str, name: str) -> Response:
    """``body`` as a download named ``name``."""
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
