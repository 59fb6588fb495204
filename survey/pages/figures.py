"""The aggregates page: a table per level for the user's area, with downloads."""

from __future__ import annotations

from flask import abort, g, render_template, request

from ..auth import requires
from ..campaign import campaign
from ..i18n import current_lang, gettext
from ..policy import levels_for
from ..reporting.aggregate import aggregate_rows, column_headings, figure_columns, total_row
from ..scope import communes_in_scope
from . import bp


@bp.get("/aggregates")
@requires("see_figures")
def figures():
    """Figures at one level; every unit in scope is listed, the empty ones too."""
    camp, lang = campaign(), current_lang()
    levels = levels_for(g.user.role)
    level = request.args.get("level", levels[1] if len(levels) > 1 else levels[0])
    if level not in levels:
        abort(400, description=f"level must be one of {', '.join(levels)}")
    communes = communes_in_scope(g.user, camp.gazetteer, request.args.get("district"), request.args.get("commune"))
    rows = aggregate_rows(camp, level, communes)
    # name first (held in place while the rest scrolls), coverage next to it, the code last
    columns = ["coverage_pct", "households", *camp.form.aggregate["sums"], "installed_total"]
    headings = column_headings(camp.form, ["name", *columns, "code"], lang)
    total = total_row(rows, camp.form, gettext("total")) if len(rows) > 1 and level != "hamlet" else None
    return render_template("figures.html", rows=rows, columns=columns, headings=headings, total=total,
                           level=level, levels=levels, districts=camp.gazetteer.districts,
                           args=request.args, all_columns=figure_columns(camp.form))
