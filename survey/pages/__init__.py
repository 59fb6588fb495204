"""Browser pages: login, the household form, the aggregates table."""

from flask import Blueprint

bp = Blueprint("pages", __name__)

from . import (  # noqa: E402,F401
               account,
               accounts,
               agency_report,
               dashboard,
               figures,
               household,
               households,
               imports,  # routes register on import
               offline,
               review,
               settings,
)
