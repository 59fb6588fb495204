"""Upload page for paper forms typed into a spreadsheet, and the template to type them into.

A file is read and checked in the request (a bad file is a 422 at once); a small one is
imported there and then, a large one as a job whose page shows its progress.
"""

from __future__ import annotations

import io

from flask import Response, abort, g, jsonify, redirect, render_template, request, url_for

from ..auth import requires
from ..campaign import campaign
from ..households import import_jobs
from ..households.imports import ImportFileError, import_rows, read_rows, template_xlsx
from ..i18n import current_lang, gettext
from ..limits import body_limit
from . import bp

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/import", methods=["GET", "POST"])
@requires("import_households")
@body_limit("IMPORT_MAX_CONTENT_LENGTH")  # a file of paper forms may be larger than an API body (nginx allows the same)
def import_file():
    """Upload a CSV/XLSX of households; show what was stored and each bad row with its reasons."""
    report, error = None, None
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            error = gettext("choose_file")
        else:
            raw = upload.stream.read()
            try:  # every row read once to check the file; none kept (a large file's job reads them again)
                total = sum(1 for _ in read_rows(campaign(), upload.filename, io.BytesIO(raw)))
            except ImportFileError as exc:
                error = str(exc)
            else:
                if total > import_jobs.SYNC_ROWS:
                    job_id = import_jobs.start(campaign(), g.user, upload.filename, raw, total, current_lang())
                    return redirect(url_for("pages.import_job", job_id=job_id), 303)
                rows = read_rows(campaign(), upload.filename, io.BytesIO(raw))
                report = import_rows(campaign(), g.user, rows, current_lang())
    status = 422 if error or (report and report.errors) else 200
    return render_template("import.html", report=report, error=error), status


def _job(job_id: str) -> dict:
    state = import_jobs.status(campaign(), g.user, job_id)
    if state is None:
        abort(404)
    return state


@bp.get("/import/jobs/<job_id>")
@requires("import_households")
def import_job(job_id: str):
    """A running import's progress (the page polls the JSON below), then its report."""
    job = _job(job_id)
    return render_template("import.html", job=job, report=import_jobs.report_of(job), error=None)


@bp.get("/import/jobs/<job_id>.json")
@requires("import_households")
def import_job_status(job_id: str):
    """Progress of an import job: state, rows done of total, and the outcome when done."""
    job = _job(job_id)
    return jsonify({k: job.get(k) for k in ("state", "done", "total", "created", "unchanged", "error_count")})


@bp.get("/import/template.xlsx")
@requires("import_households")
def import_template():
    """The import sheet with Vietnamese headings and drop-down lists."""
    body = template_xlsx(campaign(), g.user, current_lang())
    return Response(body, mimetype=XLSX,
                    headers={"Content-Disposition": 'attachment; filename="mau-nhap-ho-gia-dinh.xlsx"'})
