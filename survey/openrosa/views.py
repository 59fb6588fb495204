"""OpenRosa 1.0 routes as ODK Collect and KoboCollect call them, under ``/openrosa``.

Each route answers at ``/openrosa/...`` (HTTP Basic over HTTPS) and at
``/openrosa/key/<key>/...`` (the officer's Collect key). The household goes through the
campaign's schema and ``households.service.submit``, the same write path as the JSON API.
"""

from __future__ import annotations

from flask import Response, abort, current_app, request, url_for
from marshmallow import ValidationError
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import http_date

from ..auth import csrf
from ..campaign import campaign
from ..households.records import Conflict
from ..households.service import OutsideArea, submit
from . import bp
from .access import Refused, collect_user
from .documents import form_list, manifest, openrosa_response, xml_response
from .instance import BadInstance, UnknownForm, UnsafeXml, read_instance
from .xlsform import PublishedForm, publish

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def route(rule: str, **options):
    """Register a view at ``rule`` and at the same rule under ``/key/<key>``.

    Collect's routes are exempt from the session CSRF check: Collect sends no session cookie,
    and these routes never take one (``access.collect_user``): the key in the URL or HTTP
    Basic is the credential, so no other site can ride on a browser's ambient one.
    """
    def decorate(view):
        csrf.exempt(view)
        bp.add_url_rule(rule, view_func=view, defaults={"key": None}, **options)
        bp.add_url_rule("/key/<key>" + rule, view_func=view, **options)
        return view
    return decorate


def published(communes: frozenset[int]) -> PublishedForm | None:
    """The form for these communes, built once per app (pyxform takes a fifth of a second)."""
    if not communes:
        return None
    cache = current_app.extensions.setdefault("openrosa.forms", {})
    camp = campaign()
    window = camp.visit_window()
    key = (tuple(sorted(communes)), window)  # a new window is a new form version
    if key not in cache:
        cache[key] = publish(camp.form, camp.gazetteer, key[0], window)
    return cache[key]


def _form_of(key: str | None, form_id: str) -> PublishedForm:
    form = published(collect_user(key).writable)
    if form is None or form_id != form.form_id:
        abort(404)
    return form


@route("/formList", methods=["GET"])
def form_list_view(key: str | None):
    """The forms this account may fill, with absolute URLs and md5 of the exact bytes."""
    form = published(collect_user(key).writable)
    entries = []
    if form is not None:
        urls = {"form_id": form.form_id, "key": key, "_external": True}
        entries.append((form, url_for("openrosa.form_xml", **urls), url_for("openrosa.form_manifest", **urls)))
    return xml_response(form_list(entries))


@route("/forms/<form_id>.xml", methods=["GET"])
def form_xml(key: str | None, form_id: str):
    """The XForm, byte for byte what formList hashed."""
    return xml_response(_form_of(key, form_id).xform)


@route("/forms/<form_id>.xlsx", methods=["GET"])
def form_xlsx(key: str | None, form_id: str):
    """The XLSForm the XForm was built from, for teams that keep forms in Excel."""
    form = _form_of(key, form_id)
    return Response(form.xlsx, content_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="{form.form_id}.xlsx"'})


@route("/forms/<form_id>/manifest", methods=["GET"])
def form_manifest(key: str | None, form_id: str):
    """No media files: an empty manifest."""
    _form_of(key, form_id)
    return xml_response(manifest())


def _answer(status: int, message: str, nature: str = "") -> Response:
    return xml_response(openrosa_response(message, nature), status)


def _field_errors(messages: dict) -> str:
    form = campaign().form
    parts = []
    for name, errors in messages.items():
        label = form.label(name, "vi") if name in form.by_name else name
        text = " ".join(errors) if isinstance(errors, list) else str(errors)
        parts.append(f"{label} ({name}): {text}")
    return "Phiếu chưa đúng. " + "; ".join(parts)


@route("/submission", methods=["HEAD", "POST"])
def submission(key: str | None):
    """HEAD: 204 and the size accepted. POST: store the household once (201/202), or say why not."""
    user = collect_user(key)
    if request.method == "HEAD":
        return Response(status=204)
    upload = request.files.get("xml_submission_file")
    if upload is None:
        return _answer(400, "Thiếu tệp xml_submission_file trong yêu cầu multipart/form-data.")
    camp = campaign()
    try:
        instance = read_instance(camp.form, upload.read())
        record = camp.schemas.schema("vi").load(instance.data)
        _, created = submit(camp, user, record)
    except UnknownForm as exc:
        return _answer(404, f"Không có biểu mẫu «{exc}» trên máy chủ (hoặc đã ngừng dùng).")
    except (UnsafeXml, BadInstance) as exc:
        return _answer(400, str(exc))
    except ValidationError as exc:
        return _answer(400, _field_errors(exc.messages))  # type: ignore[arg-type]
    except OutsideArea as exc:
        return _answer(403, f"Tài khoản không được gửi phiếu của xã mã {exc.commune_code}.")
    except Conflict:
        return _answer(409, "Phiếu này đã được gửi trước đó với nội dung khác; không lưu.")
    if created:
        return _answer(201, "Đã lưu phiếu hộ gia đình. Cảm ơn!", "submit_success")
    return _answer(202, "Phiếu này đã được nhận trước đó; không lưu lại lần nữa.", "submit_success")


@bp.errorhandler(Refused)
def refused(exc: Refused):
    """401 with a challenge, 403 for a password in clear text, 429 when throttled."""
    response = _answer(exc.status, exc.message)
    response.headers.update(exc.headers)
    return response


@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc: RequestEntityTooLarge):
    """A body over the limit, said the way Collect shows it."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    return _answer(413, f"Phiếu quá lớn: tối đa {limit // 1024} KB mỗi lần gửi.")


@bp.errorhandler(404)
def not_found(exc):
    """An unknown form, as an OpenRosa document."""
    return _answer(404, "Không có biểu mẫu này cho tài khoản của bạn.")


@bp.after_app_request
def openrosa_headers(response: Response) -> Response:
    """Every answer under /openrosa (routing errors too) names the protocol version and the date."""
    if not request.path.startswith(bp.url_prefix or "/openrosa"):
        return response
    response.headers["X-OpenRosa-Version"] = "1.0"
    response.headers.setdefault("Date", http_date())
    response.headers["Cache-Control"] = "no-store"
    if request.endpoint == "openrosa.submission":
        response.headers["X-OpenRosa-Accept-Content-Length"] = str(current_app.config["MAX_CONTENT_LENGTH"])
    return response
