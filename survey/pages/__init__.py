"""Browser pages: login, the household form, the aggregates table."""

from flask import Blueprint

bp = Blueprint("pages", __name__)

from . import (account, accounts, agency_report, dashboard, household, households, figures,  # noqa: E402,F401
               imports, offline, review, settings)  # routes register on import
