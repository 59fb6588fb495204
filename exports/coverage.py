"""The coverage figure, defined once: every table, chart and report divides the same way."""

from __future__ import annotations

__all__ = ["coverage_pct"]


def coverage_pct(installed: int, smartphone_users: int) -> float | None:
    """Installed as a percentage of smartphone users, one decimal; None when there are none.

    Totals recompute it from their sums (a mean of percentages would weigh a hamlet of two
    like a town of two thousand).
    """
    return round(installed * 100 / smartphone_users, 1) if smartphone_users else None
