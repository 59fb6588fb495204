"""Browser pages: login, the household form, the aggregates table."""

from flask import Blueprint

bp = Blueprint("pages", __name__)

from . import account, accounts, household, figures, imports, review  # noqa: E402,F401  (routes register on import)
