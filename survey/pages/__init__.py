"""Browser pages: login, the household form, the aggregates table."""

from flask import Blueprint

bp = Blueprint("pages", __name__)

from . import account, household, figures, offline  # noqa: E402,F401  (routes register on import)
