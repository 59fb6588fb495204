"""JSON API v1: units, households, aggregates, and its OpenAPI description."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")

from . import agency_reports, households, openapi, session, settings, units  # noqa: E402,F401  (routes register on import)
