"""The campaign settings over the API: the window of visits, deadlines and target (Department sets)."""

from __future__ import annotations

from flask import Response, g, jsonify

from ..auth import requires
from ..campaign import campaign
from . import bp
from .body import json_object
from .lang import api_lang


@bp.get("/v1/settings")
@requires("see_settings")
def get_settings() -> Response:
    """What every account works against: the first and last day of visits, deadlines, target."""
    return jsonify(campaign().settings.get().as_dict())


@bp.put("/v1/settings")
@requires("edit_settings")
def put_settings() -> Response:
    """Replace the settings, validated by ``SettingsSchema`` (dates bounded, in campaign order);
    a bad body or invalid fields are answered by ``errors.py`` (400, 422)."""
    camp = campaign()
    values = camp.settings.schema(api_lang()).load(json_object())
    return jsonify(camp.settings.save(values, g.user.username, camp.stamp()).as_dict())
