"""The campaign settings over the API: the window of visits, deadlines and target (Department sets)."""

from __future__ import annotations

from flask import Response, g, jsonify
from marshmallow import ValidationError

from ..auth import check_csrf, login_required, roles_required
from ..campaign import campaign
from ..errors import json_error
from . import bp
from .body import BadBody, json_object
from .lang import api_lang


@bp.get("/v1/settings")
@login_required
def get_settings() -> Response:
    """What every account works against: the first and last day of visits, deadlines, target."""
    return jsonify(campaign().settings.get().as_dict())


@bp.put("/v1/settings")
@roles_required("department")
def put_settings() -> Response:
    """Replace the settings, validated by ``SettingsSchema`` (dates bounded, in campaign order)."""
    check_csrf()
    camp = campaign()
    try:
        data = json_object()
    except BadBody as exc:
        return json_error(400, str(exc))
    try:
        values = camp.settings.schema(api_lang()).load(data)
    except ValidationError as exc:
        return json_error(422, "the settings have invalid fields", fields=exc.messages)
    return jsonify(camp.settings.save(values, g.user.username, camp.stamp()).as_dict())
