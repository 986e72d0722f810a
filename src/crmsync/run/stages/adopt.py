"""Companies without a domain, known by their name.

Rally's upsert key for a company is its domain; a company without one has no key, so before
this every run created it again, and a file naming "Colonial School District" on 54 rows made
54 of them. Dedupe already makes one row per name (`transform.normalize.company_match_key`);
here, planning:

- a domainless company's identity across runs is its name (``name:<name key>``), not the hash
  of its content, so a changed phone updates the record crmsync created instead of creating
  another;
- a domainless company new to this step whose name matches a company Rally already has (listed
  by name, or created by an earlier step or run) is that record: it is linked to, counted
  unchanged, and not sent. crmsync did not write that record, and an update by id would replace
  whatever people keep in it (its domain, its owner) with this row's few fields.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from crmsync.run.artifacts import ACTION, KEYED, KNOWN_ID, Plan
from crmsync.schema import RallyObject
from crmsync.transform.keys import name_key, normalize_key

if TYPE_CHECKING:  # the id index imports the planner, which imports this
    from crmsync.run.ids import IdIndex, Needed

COMPANIES = "companies"
NAME = "name"
NAME_IDENTITY_PREFIX = "name:"


def _named_companies(frame: pl.DataFrame, match_key: str | None) -> bool:
    return match_key == "domain" and NAME in frame.columns


def name_identity(frame: pl.DataFrame, match_key: str | None) -> list[pl.Expr]:
    """The planner's identity for a company without a domain, from its name (none for other
    objects); it comes after the domain and the source id, before the content hash."""
    if not _named_companies(frame, match_key):
        return []
    named = name_key(pl.col(NAME).cast(pl.String))
    return [pl.format("{}{}", pl.lit(NAME_IDENTITY_PREFIX), named)]


def names_needed(frame: pl.DataFrame, obj: RallyObject) -> Needed:
    """The name keys of this step's domainless companies, for the id index to look up."""
    if obj.name != COMPANIES or not _named_companies(frame, obj.match_key):
        return {}
    domainless = frame.filter(pl.col("domain").is_null()) if "domain" in frame.columns else frame
    keys = normalize_key(domainless[NAME], NAME).drop_nulls().unique().to_list()
    return {(COMPANIES, NAME): set(keys)} if keys else {}


def adopt_by_name(planned: Plan, ids: IdIndex) -> Plan:
    """New domainless companies whose name Rally already knows: unchanged, with that id."""
    frame = planned.frame
    if planned.obj.name != COMPANIES or NAME not in frame.columns:
        return planned
    known = ids.get(COMPANIES, NAME)
    if not known:
        return planned
    found = normalize_key(frame[NAME], NAME).replace_strict(
        known, default=None, return_dtype=pl.String
    )
    adopt = (pl.col(ACTION) == "new") & ~pl.col(KEYED) & found.is_not_null()
    adopted = frame.with_columns(
        pl.when(adopt).then(found).otherwise(pl.col(KNOWN_ID)).alias(KNOWN_ID),
        pl.when(adopt).then(pl.lit("unchanged")).otherwise(pl.col(ACTION)).alias(ACTION),
    )
    return Plan(obj=planned.obj, frame=adopted, columns=planned.columns)
