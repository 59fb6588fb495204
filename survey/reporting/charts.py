"""Charts drawn on the server as inline SVG: no script, no CDN, readable on a 360 px phone.

Each mark carries its figure in a ``data-`` attribute, so tests can check the chart
against the API, and a ``<title>`` that screen readers and hover tooltips show.
"""

from __future__ import annotations

import datetime as dt

from markupsafe import Markup, escape

from ..i18n import number

__all__ = ["coverage_bars", "cumulative_line", "short_name", "number", "thin", "MAX_POINTS"]

WIDTH = 340
MAX_POINTS = 62  # two months of days; a longer span is drawn from evenly spaced days
_PREFIXES = (("Thành phố ", "TP. "), ("Thị trấn ", "TT. "), ("Huyện ", ""), ("Phường ", "P. "), ("Xã ", ""))


def short_name(name: str) -> str:
    """A unit name without its administrative prefix, for chart labels."""
    for prefix, short in _PREFIXES:
        if name.startswith(prefix):
            return short + name[len(prefix):]
    return name


def _svg(height: int, title: str, body: list[str], css: str) -> Markup:
    return Markup(f'<svg class="chart {css}" viewBox="0 0 {WIDTH} {height}" role="img" '
                  f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}">'
                  f'<title>{escape(title)}</title>{"".join(body)}</svg>')


def coverage_bars(bars: list[dict], target_pct: int, title: str, target_label: str,
                  below_label: str, lang: str = "vi") -> Markup:
    """Horizontal bars of coverage (% of smartphone users), the target as a dashed line.

    Units below the target are drawn in red with a "▼" beside the figure, so the mark
    does not rest on colour alone; a unit with no smartphone user yet shows "—".
    """
    label_w, bar_w, row_h, top = 100, 190, 24, 24
    height = top + row_h * len(bars) + 18
    x0 = label_w
    body = []
    for pct in (0, 25, 50, 75, 100):
        x = x0 + bar_w * pct / 100
        body.append(f'<line class="grid" x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 16}" '
                    f'stroke="#e1e4e8"/><text class="tick" x="{x:.1f}" y="{height - 4}" '
                    f'text-anchor="middle" font-size="10" fill="#555">{pct}%</text>')
    for i, bar in enumerate(bars):
        y = top + i * row_h
        pct = bar["coverage_pct"]
        name = escape(bar["name"])
        state = "below" if bar["below"] else "ok"
        body.append(f'<g class="unit {state}" data-code="{escape(bar["code"])}" '
                    f'data-coverage="{"" if pct is None else pct}" '
                    f'data-installed="{bar["installed_total"]}"><title>{name}: {number(pct, lang)}%'
                    f'{" — " + escape(below_label) if bar["below"] else ""}</title>')
        body.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" font-size="12" '
                    f'fill="#1b1b1b">{escape(short_name(bar["name"])[:16])}</text>')
        width = bar_w * min(pct or 0, 100) / 100
        fill = "#b3261e" if bar["below"] else "#2e7d32"
        body.append(f'<rect x="{x0}" y="{y + 4}" width="{width:.1f}" height="{row_h - 8}" fill="{fill}"/>')
        mark = "▼ " if bar["below"] else ""
        body.append(f'<text x="{x0 + width + 4:.1f}" y="{y + 15}" font-size="12" fill="{fill}">'
                    f'{mark}{number(pct, lang)}{"" if pct is None else "%"}</text></g>')
    tx = x0 + bar_w * target_pct / 100
    body.append(f'<line class="target" x1="{tx:.1f}" y1="{top - 6}" x2="{tx:.1f}" y2="{height - 16}" '
                f'stroke="#0b5cab" stroke-width="2" stroke-dasharray="5 3" data-target="{target_pct}"/>'
                f'<text x="{tx:.1f}" y="{top - 9}" text-anchor="middle" font-size="12" fill="#0b5cab">'
                f'{escape(target_label)} {target_pct}%</text>')
    return _svg(height, title, body, "bars")


def _nice_max(value: int) -> int:
    """A round number at or above ``value`` for the top of an axis."""
    if value <= 10:
        return 10
    magnitude = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return int(step * magnitude)
    return value


def thin(series: list[tuple[dt.date, int]], most: int = MAX_POINTS) -> list[tuple[dt.date, int]]:
    """At most ``most`` points of a cumulative series, evenly spread, the first and last kept.

    A campaign of a few weeks keeps one point a day; a long span (a mistyped year) cannot
    make the page grow with it, since a running total read at fewer days is still true.
    """
    if len(series) <= most:
        return series
    step = (len(series) - 1) / (most - 1)
    return [series[round(i * step)] for i in range(most)]


def cumulative_line(series: list[tuple[dt.date, int]], target: int, title: str, target_label: str,
                    lang: str = "vi") -> Markup:
    """Cumulative installations by day (one point a day, at most ``MAX_POINTS``), with the
    target count as a dashed line."""
    series = thin(series)
    left, right, top, bottom, height = 46, 10, 18, 28, 210
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    top_value = _nice_max(max([target, *(v for _, v in series), 1]))
    steps = max(len(series) - 1, 1)

    def xy(i: int, value: int) -> tuple[float, float]:
        return left + plot_w * i / steps, top + plot_h * (1 - value / top_value)

    body = []
    for frac in (0, 0.5, 1):
        y = top + plot_h * (1 - frac)
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{WIDTH - right}" y2="{y:.1f}" stroke="#e1e4e8"/>'
                    f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10" fill="#555">'
                    f'{number(int(top_value * frac), lang)}</text>')
    every = max(1, -(-len(series) // 6))
    labelled = set(range(0, len(series), every))
    if series and len(series) - 1 not in labelled:
        labelled.discard(max(labelled))  # the last day always gets its label, without overlap
        labelled.add(len(series) - 1)
    label = "%d/%m/%Y" if series and series[0][0].year != series[-1][0].year else "%d/%m"  # show a year change
    for i, (day, _) in enumerate(series):
        if i in labelled:
            x, _y = xy(i, 0)
            anchor = "end" if i == len(series) - 1 and i else "middle"
            body.append(f'<text x="{x:.1f}" y="{height - 8}" text-anchor="{anchor}" font-size="10" '
                        f'fill="#555">{day.strftime(label)}</text>')
    ty = xy(0, target)[1]
    body.append(f'<line class="target" x1="{left}" y1="{ty:.1f}" x2="{WIDTH - right}" y2="{ty:.1f}" '
                f'stroke="#0b5cab" stroke-width="2" stroke-dasharray="5 3" data-target="{target}"/>'
                f'<text x="{WIDTH - right}" y="{ty - 4:.1f}" text-anchor="end" font-size="12" fill="#0b5cab">'
                f'{escape(target_label)} {number(target, lang)}</text>')
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, (_, v) in enumerate(series)))
    body.append(f'<polyline points="{points}" fill="none" stroke="#2e7d32" stroke-width="2.5"/>')
    for i, (day, value) in enumerate(series):
        x, y = xy(i, value)
        body.append(f'<circle class="day" cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#2e7d32" '
                    f'data-date="{day.isoformat()}" data-value="{value}">'
                    f'<title>{day:%d/%m/%Y}: {number(value, lang)}</title></circle>')
    return _svg(height, title, body, "line")
