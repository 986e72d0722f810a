"""Tags: one canonical list from "a, b;c|a"-style cells (or one tag per line)."""

from __future__ import annotations

import polars as pl

from crmsync.transform.normalizers.names import trimmed
from crmsync.transform.normalizers.unique import on_unique

TAG_SEPARATORS = r"[,;|\r\n]"  # one tag per line too, as a multi-line cell lists them
JSON_ARRAY = r'^\s*\[\s*(?:"[^"]*"\s*(?:,\s*"[^"]*"\s*)*)?\]\s*$'
TAG_JOINER = ","  # Rally contacts take tags as one comma-separated string: "enterprise,tech"
# every tag in quotes, as Mailchimp writes them ("VIP","Big, Important"): a company's list
# keeps a tag's own comma (a contact's one text of tags cannot)
QUOTED_TAGS = r'^\s*"[^"]*"(?:\s*[,;|]\s*"[^"]*")*\s*$'


def normalize_tags(expr: pl.Expr, *, as_list: bool) -> pl.Expr:
    """Split on , ; | or a line break, trim (and take the quotes off a quoted tag), drop
    empties, drop repeats (case-insensitively, first spelling wins), keep order. A
    List(String) when `as_list` (companies), else a comma-joined String (contacts). No tags
    at all becomes null. Computed once per distinct cell.
    """
    dtype = pl.List(pl.String) if as_list else pl.String
    return on_unique(expr.cast(pl.String), lambda e: _tags(e, as_list=as_list), dtype)


def unwrap_json_array(text: pl.Expr) -> pl.Expr:
    """A cell holding a JSON array of strings (`["a","b"]`, how a JSON or NDJSON file's list
    of tags reads, an export of Rally companies among them) as "a,b"; other cells as they are."""
    array = text.str.contains(JSON_ARRAY)
    items = (
        text.str.strip_chars()
        .str.strip_chars("[]")
        .str.replace_all(r'"\s*,\s*"', TAG_JOINER)
        .str.strip_chars()
        .str.strip_chars('"')
    )
    return pl.when(array).then(items).otherwise(text)


def _tags(expr: pl.Expr, *, as_list: bool) -> pl.Expr:
    # each tag without the quotes around it: Mailchimp writes its TAGS "VIP","Customer"
    element = trimmed(trimmed(pl.element().str.replace_all(r"\s+", " ")).str.strip_chars('"'))
    text = unwrap_json_array(expr.cast(pl.String))
    split = text.str.replace_all(TAG_SEPARATORS, TAG_JOINER).str.split(TAG_JOINER)
    if as_list:  # each quoted tag whole, its own comma kept
        quoted = text.str.extract_all(r'"[^"]*"')
        split = pl.when(text.str.contains(QUOTED_TAGS)).then(quoted).otherwise(split)
    tags = split.list.eval(element.filter(element.str.len_bytes() > 0)).list.eval(
        pl.element().filter(pl.element().str.to_lowercase().is_first_distinct())
    )
    tags = pl.when(tags.list.len() > 0).then(tags)
    return tags if as_list else tags.list.join(TAG_JOINER)


def tags_as_text(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A tags column as one String, whether it arrived as text or as a list."""
    if isinstance(dtype, pl.List):
        return expr.list.join(TAG_JOINER)
    return expr.cast(pl.String)
