"""The dashboard page: one scope's totals, charts, silent communes and agency timeliness."""

from __future__ import annotations

from flask import g, render_template, request

from ..auth import requires
from ..campaign import campaign
from ..i18n import current_lang, gettext
from ..reporting.charts import coverage_bars, cumulative_line, number
from ..reporting.dashboard import build_dashboard
from ..scope import communes_in_scope
from . import bp


def _scope() -> tuple[list[int], str, str, int | None]:
    """(communes, bar level, scope name, district): one district's communes, or the province."""
    camp = campaign()
    district = request.args.get("district") or (str(g.user.unit) if g.user.role == "district" else None)
    communes = communes_in_scope(g.user, camp.gazetteer, district)
    if district:
        return communes, "commune", camp.gazetteer.districts[int(district)].name, int(district)
    return communes, "district", camp.gazetteer.province.name, None


@bp.get("/dashboard")
@requires("see_dashboard")
def dashboard():
    """Totals against the target, coverage bars, installations by day, who is late."""
    camp, lang = campaign(), current_lang()
    communes, level, scope_name, district = _scope()
    board = build_dashboard(camp, g.user, communes, level, district)
    title = gettext("coverage_by_commune" if level == "commune" else "coverage_by_district")
    bars = coverage_bars(board.bars, board.settings.target_pct, title, gettext("target"),
                         gettext("below_target"), lang)
    line = cumulative_line(board.by_day, board.target, gettext("cumulative_title"), gettext("target"), lang)
    return render_template("dashboard.html", board=board, bars=bars, bars_title=title, line=line,
                           scope_name=scope_name,
                           districts=camp.gazetteer.districts, chosen=request.args.get("district", ""),
                           num=lambda v: number(v, lang))
