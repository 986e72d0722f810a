"""Notion relation cells: the page a company name points to, read as that page's title.

Notion's database CSV export writes a relation to another page as the page's title followed by
its address in parentheses, ``Acme Corp (https://www.notion.so/Acme-Corp-<32 hex id>)``, and
several relations joined by ", ". Mapped to a company's name, that text went to Rally whole,
address included, and renamed the company it matched. So a cell that is *exactly* that shape
(every part a title and a notion.so or notion.site address in parentheses) reads as its first
title; a name that merely holds parentheses, or another site's address, is left as written.
"""

from __future__ import annotations

import polars as pl

from crmsync.transform.issues import WARNING, empty_issues, issues_where, quoted

# notion.so (with or without www) and a workspace's public notion.site pages
NOTION_URL = r"(?i:https?://(?:(?:www\.)?notion\.so|[a-z0-9-]+\.notion\.site)/)[^\s()]*"
_LINK = rf" \({NOTION_URL}\)"
# the whole cell: the first title (lazily: the shortest that leaves relations after it), its
# link, then any more ", title (link)"; Notion writes no line break inside a title
RELATIONS = rf"^\s*([^\n]+?){_LINK}(?:, [^\n]+?{_LINK})*\s*$"
MAY_BE_RELATION = "notion."  # cheap test before any regex: most columns hold none
_FIRST, _COUNT = "__relation__", "__relations__"


def relation_title(text: pl.Expr) -> pl.Expr:
    """`text` with a cell of Notion relations replaced by its first page's title; any other
    value as it is. A replace, not an extract: a cell without a match is only searched (the
    fast path of polars' regex), never captured."""
    return text.cast(pl.String).str.replace(RELATIONS, "${1}")


def relation_count(text: pl.Expr) -> pl.Expr:
    """How many relations a cell of Notion relations holds (0 for any other value)."""
    cell = text.cast(pl.String)
    return (
        pl.when(cell.str.contains(RELATIONS))
        .then(cell.str.count_matches(_LINK))
        .otherwise(pl.lit(0, pl.UInt32))
    )


def first_relations(frame: pl.DataFrame, field: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(frame, warnings): `field`'s Notion relation cells as their first title, and a warning
    naming each cell of several relations, whose others are left out (a company has one name).
    Rows and order unchanged; a column without "notion." anywhere is not searched."""
    if field not in frame.columns:
        return frame, empty_issues()
    cell = pl.col(field).cast(pl.String)
    if not frame.select(cell.str.contains(MAY_BE_RELATION, literal=True).any()).item():
        return frame, empty_issues()
    staged = frame.with_columns(
        relation_title(cell).alias(_FIRST), relation_count(cell).alias(_COUNT)
    )
    count = pl.col(_COUNT)
    others = pl.when(count == 2).then(pl.lit("the other is")).otherwise(pl.lit("the others are"))
    message = pl.format(
        "{} holds {} Notion relations: the first, {}, is used; {} left out",
        quoted(pl.col(field)),
        count,
        quoted(pl.col(_FIRST)),
        others,
    )
    issues = issues_where(staged, count >= 2, field, message, WARNING)
    return staged.with_columns(pl.col(_FIRST).alias(field)).drop(_FIRST, _COUNT), issues
