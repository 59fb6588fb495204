"""OpenRosa 1.0 server face: ODK Collect and KoboCollect as field clients on the same store."""

from flask import Blueprint

bp = Blueprint("openrosa", __name__, url_prefix="/openrosa", template_folder="templates")

from . import setup, views  # noqa: E402,F401  (routes register themselves on bp)
