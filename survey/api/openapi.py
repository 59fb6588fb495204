"""The OpenAPI description, built with apispec from the same schemas that validate input."""

from __future__ import annotations

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import jsonify

from ..campaign import campaign
from ..households.listing import REVIEW_STATES
from ..reporting.aggregate import LEVELS, figure_columns
from . import bp

_ERROR = {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_AUTH_ERRORS = {"401": _ERROR, "403": _ERROR}


def _filters(*extra: dict) -> list[dict]:
    return [{"in": "query", "name": "district", "schema": {"type": "integer"}},
            {"in": "query", "name": "commune", "schema": {"type": "integer"}}, *extra]


_EMPTY = {"type": "string", "maxLength": 0}
_LIST_FILTERS = (
    {"in": "query", "name": "hamlet", "schema": {"type": "string", "maxLength": 100},
     "description": "one hamlet, any spelling of it (case, tone placement, Unicode form)"},
    {"in": "query", "name": "officer", "schema": {"type": "string", "maxLength": 64},
     "description": "'me' for the caller's own records; district and Department staff may name any officer"},
    {"in": "query", "name": "visited_on", "schema": {"oneOf": [{"type": "string", "format": "date"}, _EMPTY]},
     "description": "one visit date; empty (a form's blank field) means any"},
    {"in": "query", "name": "review", "schema": {"oneOf": [{"type": "string", "enum": list(REVIEW_STATES)}, _EMPTY]},
     "description": "open: sent back for correction; corrected: fixed since; none: never sent back"},
    {"in": "query", "name": "q", "schema": {"type": "string", "maxLength": 100},
     "description": "words in the head of household's name or the hamlet, accents and case ignored"})


def build_spec() -> dict:
    """Paths by hand, bodies from the form's marshmallow schema."""
    camp = campaign()
    spec = APISpec(title="Bluezone household survey API", version="1.0.0", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()])
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("HouseholdInput", schema=camp.schemas.schema("en").__class__)
    spec.components.schema("Error", {"type": "object", "required": ["error", "message"], "properties": {
        "error": {"type": "string"}, "message": {"type": "string"},
        "fields": {"type": "object"}, "id": {"type": "string"}}})
    household = {"allOf": [{"$ref": "#/components/schemas/HouseholdInput"}, {"type": "object", "properties": {
        "district_code": {"type": "integer"}, "officer": {"type": "string"},
        "created_at": {"type": "string"}, "updated_at": {"type": "string"}}}]}
    spec.components.schema("Household", household)
    row = {"type": "object", "properties": {"code": {}, "name": {"type": "string"}, **{
        c: {"type": "number", "nullable": True} if c == "coverage_pct" else {"type": "integer"}
        for c in figure_columns(camp.form)}}}
    spec.components.schema("AggregateRow", row)
    ref = lambda name: {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}  # noqa: E731
    body = {"required": True, **ref("HouseholdInput")}
    record_errors = {"400": _ERROR, "409": _ERROR, "413": _ERROR, "415": _ERROR, "422": _ERROR, **_AUTH_ERRORS, "503": _ERROR}
    spec.path("/healthz", operations={"get": {"summary": "Liveness", "responses": {"200": {"description": "ok"}}}})
    spec.path("/api/v1/units", operations={"get": {"summary": "Province, districts, communes",
              "parameters": [{"in": "query", "name": "q", "schema": {"type": "string"}},
                             {"in": "query", "name": "level", "schema": {"type": "string", "enum": ["commune", "district"]}}],
              "responses": {"200": {"description": "units"}, "400": _ERROR}}})
    spec.path("/api/v1/households", operations={
        "post": {"summary": "Store a household (idempotent on id)", "security": [{"bearer": []}],
                 "requestBody": body,
                 "responses": {"201": {"description": "stored", **ref("Household")},
                               "200": {"description": "already stored", **ref("Household")}, **record_errors}},
        "get": {"summary": "List households in scope", "security": [{"bearer": []}],
                "parameters": _filters(*_LIST_FILTERS,
                                       {"in": "query", "name": "page", "schema": {"type": "integer", "minimum": 1}},
                                       {"in": "query", "name": "per_page", "schema": {"type": "integer", "minimum": 1, "maximum": 500}}),
                "responses": {"200": {"description": "a page of households", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Household"}},
                                                     "total": {"type": "integer"}, "page": {"type": "integer"},
                                                     "per_page": {"type": "integer"}, "pages": {"type": "integer"}}}}}},
                              "400": _ERROR, "404": _ERROR, **_AUTH_ERRORS}}})
    spec.path("/api/v1/session", operations={"get": {
        "summary": "The signed-in user and the session's CSRF token (for pages that send with the cookie)",
        "responses": {"200": {"description": "user and csrf_token"}, "401": _ERROR}}})
    id_param = [{"in": "path", "name": "record_id", "required": True, "schema": {"type": "string"}}]
    spec.path("/api/v1/households/{record_id}", operations={
        "get": {"summary": "One household", "security": [{"bearer": []}], "parameters": id_param,
                "responses": {"200": {"description": "the household", **ref("Household")}, "404": _ERROR, **_AUTH_ERRORS}},
        "put": {"summary": "Correct a household", "security": [{"bearer": []}], "parameters": id_param,
                "requestBody": body,
                "responses": {"200": {"description": "corrected", **ref("Household")}, "404": _ERROR, **record_errors}}})
    spec.path("/api/v1/households/{record_id}/history", operations={"get": {
        "summary": "A record, its review flag and earlier versions", "security": [{"bearer": []}],
        "parameters": id_param, "responses": {"200": {"description": "history", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"current": {"$ref": "#/components/schemas/Household"},
                                             "flag": {"type": "object", "nullable": True},
                                             "versions": {"type": "array", "items": {"type": "object"}}}}}}},
                                              "404": _ERROR, **_AUTH_ERRORS}}})
    spec.path("/api/v1/households/{record_id}/checked", operations={"post": {
        "summary": "Close the record's open review flag as checked, no change (kept in its history)",
        "security": [{"bearer": []}], "parameters": id_param,
        "responses": {"200": {"description": "the closed flag"}, "404": _ERROR, "409": _ERROR, **_AUTH_ERRORS}}})
    spec.path("/api/v1/review/flags", operations={"get": {
        "summary": "Open review flags in scope", "security": [{"bearer": []}],
        "responses": {"200": {"description": "flags", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"items": {"type": "array", "items": {"type": "object"}}}}}}},
                      **_AUTH_ERRORS}}})
    spec.path("/api/v1/aggregates", operations={"get": {
        "summary": "Figures by level, every unit in scope included", "security": [{"bearer": []}],
        "parameters": _filters({"in": "query", "name": "level", "schema": {"type": "string", "enum": list(LEVELS)}}),
        "responses": {"200": {"description": "rows", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"level": {"type": "string"}, "generated_at": {"type": "string"},
                                             "rows": {"type": "array", "items": {"$ref": "#/components/schemas/AggregateRow"}}}}}}},
                      "400": _ERROR, "404": _ERROR, **_AUTH_ERRORS}}})
    _agency_paths(spec, camp, ref, record_errors)
    _settings_paths(spec, ref)
    return _tighten(spec.to_dict(), camp)


_SERVER_FIELDS = {"district_code": {"type": "integer"}, "officer": {"type": "string"},
                  "created_at": {"type": "string", "format": "date-time"},
                  "updated_at": {"type": "string", "format": "date-time"}}


def _tighten(doc: dict, camp) -> dict:
    """Say what the code enforces: commune codes of this province; a stored record's exact shape."""
    schemas = doc["components"]["schemas"]
    given = schemas["HouseholdInput"]
    given["properties"]["commune_code"]["enum"] = sorted(camp.gazetteer.communes)
    given["description"] = ("Also checked, answered 422 naming the field: the form's cross-field rules, "
                            "no date in the future, no control or invisible characters in text; "
                            "on PUT an id in the body must match the URL.")
    schemas["Household"] = {
        "type": "object", "additionalProperties": False,
        "properties": {**given["properties"], **_SERVER_FIELDS},
        "required": sorted({*given["required"], "id", "reasons_not_installed", *_SERVER_FIELDS})}
    for operation in (op for path in doc["paths"].values() for op in path.values()):
        for param in operation.get("parameters", []):
            if param["in"] == "query" and param["name"] in ("district", "commune"):
                param["schema"] = _UNIT_FILTER  # ?district= (a form's "all") means no filter
    return doc


_UNIT_FILTER = {"oneOf": [{"type": "integer"}, {"type": "string", "maxLength": 0}]}


def _agency_paths(spec: APISpec, camp, ref, record_errors: dict) -> None:
    """Agency staff reports: submit, every version, the summary with statuses."""
    spec.components.schema("AgencyReportInput", schema=camp.agency_schemas.schema("en").__class__)
    agency = {"in": "query", "name": "agency", "schema": {"type": "string"}}
    spec.path("/api/v1/agency-reports", operations={
        "post": {"summary": "Store an agency's report as its next version (idempotent on id)",
                 "security": [{"bearer": []}], "requestBody": {"required": True, **ref("AgencyReportInput")},
                 "responses": {"201": {"description": "stored"}, "200": {"description": "already stored"},
                               **record_errors}},
        "get": {"summary": "Every version of the reports in scope, oldest first; current marks the counted one",
                "security": [{"bearer": []}], "parameters": [agency],
                "responses": {"200": {"description": "reports"}, "404": _ERROR, **_AUTH_ERRORS}}})
    spec.path("/api/v1/agency-reports/summary", operations={"get": {
        "summary": "One row per agency in scope: latest figures, on_time / late / pending / overdue, totals",
        "security": [{"bearer": []}], "parameters": [agency],
        "responses": {"200": {"description": "rows and totals"}, "404": _ERROR, **_AUTH_ERRORS}}})


def _settings_paths(spec: APISpec, ref) -> None:
    """The campaign settings: the window of visits (first and last day), deadlines, target."""
    from ..settings import SettingsSchema
    spec.components.schema("Settings", schema=SettingsSchema)
    spec.path("/api/v1/settings", operations={
        "get": {"summary": "The campaign settings (defaults: visits 2020-08-10 to 2020-08-25)",
                "security": [{"bearer": []}], "responses": {"200": {"description": "settings"}, **_AUTH_ERRORS}},
        "put": {"summary": "Replace the campaign settings (Department); dates 2020-2099, within a year of the start",
                "security": [{"bearer": []}], "requestBody": {"required": True, **ref("Settings")},
                "responses": {"200": {"description": "stored settings"}, "400": _ERROR, "413": _ERROR,
                              "415": _ERROR, "422": _ERROR, **_AUTH_ERRORS}}})


@bp.get("/openapi.json")
def openapi():
    """The API's OpenAPI 3 document."""
    return jsonify(build_spec())
