"""Upload page for paper forms typed into a spreadsheet, and the template to type them into."""

from __future__ import annotations

from flask import Response, abort, g, render_template, request

from ..auth import login_required
from ..campaign import campaign
from ..households.imports import ImportFileError, import_rows, read_rows, template_xlsx
from ..i18n import current_lang, gettext
from . import bp

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _writer_only() -> None:
    if not g.user.writable:
        abort(403)


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_file():
    """Upload a CSV/XLSX of households; show what was stored and each bad row with its reasons."""
    _writer_only()
    report, error = None, None
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            error = gettext("choose_file")
        else:
            try:
                rows = read_rows(campaign(), upload.filename, upload.stream)
                report = import_rows(campaign(), g.user, rows, current_lang())
            except ImportFileError as exc:
                error = str(exc)
    status = 422 if error or (report and report.errors) else 200
    return render_template("import.html", report=report, error=error), status


@bp.get("/import/template.xlsx")
@login_required
def import_template():
    """The import sheet with Vietnamese headings and drop-down lists."""
    _writer_only()
    body = template_xlsx(campaign(), g.user, current_lang())
    return Response(body, mimetype=XLSX,
                    headers={"Content-Disposition": 'attachment; filename="mau-nhap-ho-gia-dinh.xlsx"'})
