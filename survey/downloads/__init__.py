"""Downloads of aggregates and household lists as CSV, XLSX and JSON."""

from flask import Blueprint

bp = Blueprint("downloads", __name__, url_prefix="/exports")

from . import reports, views  # noqa: E402,F401  (routes register on import)
