"""Mapping: source columns -> Rally wire fields, as one polars projection.

Headers are matched ignoring case, spaces and punctuation, so "E-mail Address",
"email address" and "EmailAddress" name the same column. A cell that is blank or says there is
no value (``n/a``, ``null``, ``-``: `crmsync.transform.placeholders`) is read as empty.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import polars as pl

from crmsync.errors import ConfigError
from crmsync.transform.placeholders import no_value_to_null

IDENTITY_COLUMNS = ("_source", "_row")
DEFAULT_MARK = "_default:"  # prefix of the columns saying a row's value is a default or constant
TEMPLATE_FIELD = re.compile(r"\{([^{}]+)\}")  # a {column} placeholder of a template
_NOT_ALNUM = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class ByLabel:
    """A field read from the first of its columns whose label column (one each, after them
    in `FieldRule.columns`) holds one of `labels` (`take`), or none of them (not `take`)."""

    labels: frozenset[str]
    take: bool


GOOGLE_PRIMARY = "* "  # Google marks a contact's primary number's label "* Mobile"
SEVERAL_LABELS = ":::"  # Google's separator of several values (and labels) in one cell


def label_key(label: str) -> str:
    """A label as labels are compared: without Google's primary mark, trimmed, any case."""
    return label.strip().removeprefix(GOOGLE_PRIMARY).strip().casefold()


def _label_cell(column: str) -> pl.Expr:
    """A label column's cell as `label_key` has it (the first of several: `a ::: b`)."""
    first = pl.col(column).cast(pl.String).str.split(SEVERAL_LABELS).list.first()
    mark = "^" + re.escape(GOOGLE_PRIMARY)
    return first.str.strip_chars().str.replace(mark, "").str.strip_chars().str.to_lowercase()


def _by_label(actual: Sequence[str], choice: ByLabel) -> pl.Expr:
    """The first of the columns (the first half of `actual`) whose label (the second half)
    the choice takes; a blank label is no label `take` asks for, and one `labels_not` passes."""
    half = len(actual) // 2
    chosen = []
    for value, label in zip(actual[:half], actual[half:], strict=True):
        named = _label_cell(label).is_in(list(choice.labels)).fill_null(False)
        chosen.append(pl.when(named if choice.take else ~named).then(_cell(value)))
    return pl.coalesce(chosen)


@dataclass(frozen=True)
class FieldRule:
    """Where one Rally field's value comes from, in the terms the projection needs.

    Exactly one origin applies, in this order: `constant`, `template` (its placeholders are
    the `columns`), the first non-empty of `columns`, else nothing. `values` translates the
    result (keys matched ignoring case; what it does not list is kept, or dropped when
    `keep_unmatched` is false); `default` fills what is still empty.
    """

    columns: tuple[str, ...] = ()
    template: str | None = None
    constant: str | None = None
    default: str | None = None
    values: Mapping[str, str] = field(default_factory=dict)
    keep_unmatched: bool = True
    mark_default: bool = False  # add DEFAULT_MARK + name: whether the default or constant applied
    by_label: ByLabel | None = None  # the columns' labels choose, row by row


def template_columns(template: str) -> list[str]:
    """The columns a template's placeholders name, in order."""
    return TEMPLATE_FIELD.findall(template)


def header_key(name: str) -> str:
    """The form two headers are compared in: letters (of every script, accents read as none:
    "Prénom" is "prenom", "Имя" stays "имя") and digits only, in lower case. ASCII letters
    alone made every Cyrillic header "", so a mapped name the file lacked read the file's
    first Cyrillic column instead; a name with no letter or digit matches only exactly."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_ALNUM.sub("", bare)


def resolve_columns(
    wanted: Mapping[str, Sequence[str]], columns: Sequence[str], *, source: str
) -> dict[str, list[str]]:
    """Rally field -> the actual source columns it reads, in order (`wanted` names them as
    the pipeline file wrote them).

    A mapped column the file does not have is a ConfigError before anything is sent:
    loading a file whose email column was renamed would fail every row.
    """
    exact = set(columns)
    by_key: dict[str, str] = {}
    for column in columns:
        if key := header_key(column):
            by_key.setdefault(key, column)
    resolved: dict[str, list[str]] = {}
    problems: list[str] = []
    for name, names in wanted.items():
        found = []
        for column in names:
            if column in exact:
                found.append(column)
            elif (key := header_key(column)) and key in by_key:
                found.append(by_key[key])
            else:
                close = difflib.get_close_matches(column, list(columns), n=1, cutoff=0.5)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                problems.append(f"mapping.{name}: column {column!r} is not in the file{hint}")
        if found:
            resolved[name] = found
    if problems:
        available = ", ".join(repr(c) for c in columns) or "(none)"
        problems.append(f"columns in the file: {available}")
        raise ConfigError("\n  ".join(problems), file=source)
    return resolved


def absent_columns(
    wanted: Mapping[str, Sequence[str]], columns: Sequence[str]
) -> dict[str, list[str]]:
    """Per field, the columns it names that the source does not have (matched as
    `resolve_columns` matches them); fields missing nothing are left out."""
    keys = {header_key(column) for column in columns} - {""}
    absent = {
        name: [c for c in names if c not in columns and header_key(c) not in keys]
        for name, names in wanted.items()
    }
    return {name: missing for name, missing in absent.items() if missing}


def _literal(value: object) -> pl.Expr:
    return pl.lit(None if value is None else str(value), dtype=pl.String)


def _blank_to_null(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr.is_null() | (expr.str.strip_chars() == "")).then(None).otherwise(expr)


def _cell(column: str) -> pl.Expr:
    """A source cell as text, null where it is blank or a no-value word (``n/a``, ``null``)."""
    return no_value_to_null(pl.col(column))


def _template(template: str, actual: Sequence[str]) -> pl.Expr:
    """Placeholders filled from their columns; an empty one drops out with the spaces and
    separators around it collapsing, so "{first} {middle}" with no middle is "Ann"."""
    names = iter(actual)
    pieces: list[pl.Expr] = []
    position = 0
    for match in TEMPLATE_FIELD.finditer(template):
        pieces.append(pl.lit(template[position : match.start()]))
        pieces.append(_cell(next(names)).fill_null(""))
        position = match.end()
    pieces.append(pl.lit(template[position:]))
    text = pl.concat_str(pieces)
    text = text.str.replace_all(r"[ \t]{2,}", " ").str.replace_all(r"\n{3,}", "\n\n")
    return _blank_to_null(text.str.strip_chars(" \t\n,;-"))


def compared(expr: pl.Expr) -> pl.Expr:
    """A cell as the values a pipeline names are compared with it: trimmed, in lower case
    (`values:` translations, and `where:`)."""
    return expr.cast(pl.String).str.strip_chars().str.to_lowercase()


def _translate(expr: pl.Expr, values: Mapping[str, str], *, keep: bool) -> pl.Expr:
    folded = {key.casefold(): value for key, value in values.items()}
    key = compared(expr)
    fallback = expr if keep else pl.lit(None, dtype=pl.String)
    return key.replace_strict(folded, default=fallback, return_dtype=pl.String)


# Fields whose value is an email address: of several columns, the first that holds one.
ADDRESS_FIELDS = frozenset({"email"})


# Outlook's Exchange user address (an X.500 path, "/o=ExchangeLabs/ou=.../cn=Recipients/..."):
# no email, and no domain to take from one.
EXCHANGE_PATH = r"(?i)^\s*/o="


def _first_usable(columns: Sequence[str], *, address: bool) -> pl.Expr:
    """The first of `columns` with a usable value (no Exchange path; for an `address` field,
    one holding an "@"), else the first non-empty: Outlook writes an Exchange user's first
    address as an X.500 path and the SMTP one second, and the first failed the row (and gave
    its company no domain) though the second was good."""
    cells = [_cell(c) for c in columns]
    usable = [~c.str.contains(EXCHANGE_PATH) for c in cells]
    if address:
        usable = [
            ok & c.str.contains("@", literal=True) for c, ok in zip(cells, usable, strict=True)
        ]
    chosen = (pl.when(ok).then(c) for c, ok in zip(cells, usable, strict=True))
    return pl.coalesce([*chosen, *cells])


def apply_mapping(
    frame: pl.DataFrame,
    rules: Mapping[str, FieldRule],
    columns: Mapping[str, Sequence[str]],
) -> pl.DataFrame:
    """A frame of Rally wire fields (all String) plus the identity columns.

    `columns` comes from `resolve_columns`. Values stay strings here: typing them is the
    normalizer's job, which can then report a bad value against its field.
    """
    exprs: list[pl.Expr] = [pl.col(name) for name in IDENTITY_COLUMNS]
    marks: list[pl.Expr] = []
    for name, rule in rules.items():
        actual = columns.get(name, [])
        if rule.constant is not None:
            expr = _literal(rule.constant)
        elif rule.template is not None:
            expr = _template(rule.template, actual)
        elif rule.by_label is not None:
            expr = _by_label(actual, rule.by_label)
        elif len(actual) > 1:
            expr = _first_usable(actual, address=name in ADDRESS_FIELDS)
        elif actual:
            expr = _cell(actual[0])
        else:
            expr = _literal(None)
        if rule.values:
            expr = _translate(expr, rule.values, keep=rule.keep_unmatched)
        defaulted = pl.lit(rule.constant is not None)
        if rule.default is not None:
            defaulted = _blank_to_null(expr).is_null() | defaulted
            expr = pl.coalesce(_blank_to_null(expr), _literal(rule.default))
        exprs.append(expr.alias(name))
        if rule.mark_default and (rule.default is not None or rule.constant is not None):
            marks.append(defaulted.alias(DEFAULT_MARK + name))
    return frame.select(exprs + marks)
