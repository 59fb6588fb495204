"""Review: reviewers flag records and settle probable duplicates; officers see what to fix."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from marshmallow import ValidationError

from ..auth import login_required, requires
from ..campaign import campaign
from ..forms import from_form_post
from ..households.review import NotDuplicates, current_group, probable_duplicates
from ..households.service import confirm_unchanged, correct, find, remove_duplicate
from ..i18n import current_lang, gettext
from ..policy import may
from ..text import BadText, human_text
from . import bp
from .household import render_form


def _record(record_id: str) -> dict:
    return find(campaign(), g.user, record_id)


@bp.get("/review")
@login_required
def review():
    """Officers: their records that need correction. Reviewers: open flags and duplicates."""
    camp = campaign()
    communes = sorted(g.user.communes)
    flags = camp.flags.open_flags(communes)
    records = {f["record_id"]: camp.households.get(f["record_id"], [f["commune_code"]]) for f in flags}
    duplicates = []
    if may(g.user, "settle_duplicates"):
        duplicates = probable_duplicates(camp.households, communes, camp.flags.dismissed())
    return render_template("review.html", flags=flags, records=records, duplicates=duplicates,
                           gazetteer=camp.gazetteer)


@bp.get("/households/<record_id>")
@login_required
def household_detail(record_id: str):
    """One record, its review flag and its earlier versions."""
    camp = campaign()
    record = _record(record_id)
    return render_template("household.html", record=record, form=camp.form,
                           flag=camp.flags.get(record_id, record["commune_code"]),
                           versions=camp.history.versions(record_id, g.user.communes), gazetteer=camp.gazetteer)


@bp.post("/households/<record_id>/flag")
@requires("flag_households")
def flag_household(record_id: str):
    """Send a record back to its officer with a reason."""
    camp = campaign()
    record = _record(record_id)
    try:
        reason = human_text(request.form.get("reason", ""))[:300]
    except BadText as exc:
        flash(gettext("bad_chars", chars=exc.chars), "error")
        return redirect(url_for("pages.household_detail", record_id=record_id))
    if not reason:
        flash(gettext("reason_needed"), "error")
    else:
        camp.flags.flag(record, reason, g.user.username, camp.stamp())
        flash(gettext("flag_sent"), "ok")
    return redirect(url_for("pages.household_detail", record_id=record_id))


@bp.post("/households/<record_id>/checked")
@login_required
def household_checked(record_id: str):
    """The officer answers a flag with "checked, no change"; the history keeps it."""
    confirm_unchanged(campaign(), g.user, _record(record_id))  # errors.py answers a refusal or no open flag
    flash(gettext("checked_saved"), "ok")
    return redirect(url_for("pages.household_detail", record_id=record_id))


@bp.route("/households/<record_id>/edit", methods=["GET", "POST"])
@login_required
def edit_household(record_id: str):
    """Correct a record on the phone form; the previous version goes to the history."""
    camp = campaign()
    record = _record(record_id)
    if not g.user.can_write(record["commune_code"]):
        abort(403)
    action = url_for("pages.edit_household", record_id=record_id)
    if request.method == "GET":
        return render_form(record, {}, action=action)
    data = from_form_post(camp.form, request.form)
    data["id"] = record_id
    try:
        fixed = camp.schemas.schema(current_lang()).load(data)
        correct(camp, g.user, record, fixed)
    except ValidationError as exc:
        return render_form(data, exc.messages, 422, action=action)
    flash(gettext("record_corrected"), "ok")
    return redirect(url_for("pages.household_detail", record_id=record_id))


@bp.post("/review/duplicates")
@requires("settle_duplicates")
def settle_duplicates():
    """Keep both records (different households) or remove the later copies."""
    camp = campaign()
    ids = request.form.getlist("ids")
    communes = sorted({_record(i)["commune_code"] for i in set(ids)})  # 404 outside the area
    try:
        records = current_group(camp.households, ids, communes, camp.flags.dismissed())
    except NotDuplicates as exc:
        abort(exc.status, description=gettext(exc.key))
    if request.form.get("decision") == "keep":
        camp.flags.dismiss(ids, g.user.username, camp.stamp())
    elif request.form.get("decision") == "remove":
        kept, *copies = sorted(records, key=lambda r: r["created_at"])
        for copy in copies:
            remove_duplicate(camp, g.user, copy, kept)
    else:
        abort(400, description="decision must be keep or remove")
    return redirect(url_for("pages.review"))
