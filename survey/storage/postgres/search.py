"""The office's household list answered by the database, so no worker holds a search index.

Each row carries its folded name and hamlet (``search_text``) and its hamlet's key
(``hamlet_key``), written in Python with the record (``matching``), the same forms the
files' index holds. A searched word is a substring (``LIKE '%word%'``), served by the
trigram index of migration 0004; the other filters narrow the commune's rows. Pages run
through the communes in the order asked, each commune's records in the order they came.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from ..matching import Match, hamlet_key, searched_text

__all__ = ["find", "search_columns"]


def search_columns(record: dict) -> tuple[str, str]:
    """The two searched columns of a record, in the order the statements name them."""
    return searched_text(record), hamlet_key(record)


def _like(word: str) -> str:
    """A LIKE pattern finding ``word`` anywhere, its own ``%``, ``_`` and ``\\`` taken literally."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _filters(match: Match) -> tuple[list[sql.Composable], list[Any]]:
    """The conditions beyond the commune, and their parameters."""
    conditions: list[sql.Composable] = []
    params: list[Any] = []
    for word in match.words:
        conditions.append(sql.SQL("search_text LIKE %s"))
        params.append(_like(word))
    for column, value in (("hamlet_key", match.hamlet), ("record->>'officer'", match.officer),
                          ("record->>'visited_on'", match.visited_on)):
        if value:
            conditions.append(sql.SQL(column + " = %s"))
            params.append(value)
    if match.ids:  # no ids: with ``without_ids`` every record passes (``find`` answers the other case)
        conditions.append(sql.SQL("NOT (id = ANY(%s))" if match.without_ids else "id = ANY(%s)"))
        params.append(sorted(match.ids))
    return conditions, params


def _counts(cur: psycopg.Cursor, match: Match, conditions: list[sql.Composable], params: list[Any]) -> dict[int, int]:
    """How many records of each commune in scope match; without a filter, the communes' kept
    counts. A scope holding every commune with records (the Department's) is no condition:
    the rows the search index finds are then read without also listing the communes' rows."""
    cur.execute("SELECT commune_code, records FROM household_communes WHERE records > 0")
    stored = {int(code): int(n) for code, n in cur}
    codes = sorted(set(match.communes) & stored.keys())
    if not conditions or not codes:
        return {code: stored[code] for code in codes}
    if len(codes) < len(stored):
        conditions = [sql.SQL("commune_code = ANY(%s)"), *conditions]
        params = [codes, *params]
    cur.execute(sql.SQL("SELECT commune_code, count(*) FROM households WHERE {} GROUP BY commune_code").format(
        sql.SQL(" AND ").join(conditions)), params)
    return {int(code): int(n) for code, n in cur if int(code) in stored}


def _segments(communes: tuple[int, ...], counts: dict[int, int], skip: int, limit: int) -> list[tuple[int, int, int]]:
    """(commune, offset, count) of the rows a page takes from each commune, in page order."""
    segments = []
    for code in communes:
        found = counts.get(code, 0)
        if limit and skip < found:
            take = min(found - skip, limit)
            segments.append((code, skip, take))
            limit -= take
            skip = 0
        else:
            skip -= min(skip, found)
    return segments


def _page(cur: psycopg.Cursor, segments: list[tuple[int, int, int]], conditions: list[sql.Composable],
          params: list[Any]) -> list[dict]:
    """The records of a page: each commune's part by its own (commune, seq) order, in one statement."""
    where = sql.SQL("").join(sql.SQL(" AND ") + c for c in conditions)
    part = sql.SQL("(SELECT record, {n} AS part, seq FROM households WHERE commune_code = %s{where}"
                   " ORDER BY seq OFFSET %s LIMIT %s)")
    parts = [part.format(n=sql.Literal(n), where=where) for n in range(len(segments))]
    statement = sql.SQL("SELECT record FROM ({}) AS page ORDER BY part, seq").format(sql.SQL(" UNION ALL ").join(parts))
    values = [v for code, offset, count in segments for v in (code, *params, offset, count)]
    cur.execute(statement, values)
    return [row[0] for row in cur]


def find(cur: psycopg.Cursor, match: Match, skip: int, limit: int) -> tuple[int, list[dict]]:
    """How many records match in all, and ``limit`` of them after the first ``skip``
    (``cur`` in one snapshot, so the total and the page agree)."""
    if match.ids is not None and not match.ids and not match.without_ids:
        return 0, []  # only the records of no id
    conditions, params = _filters(match)
    counts = _counts(cur, match, conditions, params)
    segments = _segments(match.communes, counts, skip, limit)
    items = _page(cur, segments, conditions, params) if segments else []
    return sum(counts.get(code, 0) for code in match.communes), items
