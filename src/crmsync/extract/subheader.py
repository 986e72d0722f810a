"""A second header row under the first: SurveyMonkey's "All responses" export.

SurveyMonkey writes two header rows. The first holds the respondent's metadata (``Respondent
ID``, ``Email Address``, ...) and each question's text, once, above the first of the question's
columns, the others blank; the second labels each question's columns: ``Response`` or
``Open-Ended Response`` for a one-column answer, the sub-fields of a contact-information
question (``Name``, ``Company``, ``Email Address``, ``Phone Number``), a multiple-choice
question's choices. Read as one header, the sub-fields were ``column_11`` and the like, and
the second row a data row that failed, as did every row after it. So a second row is read
into the header when it is recognisably one:

* as wide as the first, and every filled cell a label (letters, short; no email, URL, number
  or date), nothing a data row would hold;
* blank under at least one of the first row's names: the metadata columns have no
  sub-fields, where a data row of a file has values in most of its columns;
* SurveyMonkey's signature: ``MIN_SPANNED`` or more of the first row's gaps (or repeats of a
  question's text over its columns) labelled, or a ``Response``-like label under a name;
* every gap of the first row before its last name labelled (a question's columns all are).

A contacts file whose first data row is only text (``John,Smith,Acme`` under
``First,Last,Company``) has no gap and no answer label: its row stays a row. Detection only
runs where the header is detected (``skip_rows`` unset); a given ``skip_rows`` reads one row.
"""

from __future__ import annotations

from collections.abc import Sequence

from crmsync.extract.cells import data_like, name_like

# the labels that only say "the answer" (a question's own text then names its column)
ANSWER_LABELS = frozenset({"response", "open-ended response"})
MIN_SPANNED = 2  # gaps labelled: a question spanning three columns or more


def second_header(first: Sequence[str], second: Sequence[str]) -> bool:
    """Whether `second`, the record right below the header `first`, is a second header row
    (see the module's docstring)."""
    if len(second) != len(first):
        return False
    top = [cell.strip() for cell in first]
    below = [cell.strip() for cell in second]
    labels = [cell for cell in below if cell]
    if not labels or not all(name_like(cell) and not data_like(cell) for cell in labels):
        return False
    named = [j for j, cell in enumerate(top) if cell]
    if not named or all(below[j] for j in named):
        return False  # nothing left blank under a name: as a data row of a full file
    gaps = [j for j in range(len(top)) if _continues(top, j)]
    last_name = named[-1]
    if any(not below[j] for j in gaps if j < last_name):
        return False  # a gap of the first row with no label: no question's column
    spanned = sum(1 for j in gaps if below[j])
    answers = sum(1 for j in named if below[j].casefold() in ANSWER_LABELS)
    return spanned >= MIN_SPANNED or answers > 0


def header_names(first: Sequence[str], second: Sequence[str]) -> list[str]:
    """One name per column of a two-row header: the second row's label, unless it is blank
    or only says "Response" where the first row names the column (``Respondent ID``, a
    question's text). Duplicates are left to the reader, which numbers them as any header's."""
    names = []
    for above, below in zip(first, second, strict=True):
        top, label = above.strip(), below.strip()
        plain = not label or (top and label.casefold() in ANSWER_LABELS)
        names.append(top if plain else label)
    return names


def _continues(top: Sequence[str], j: int) -> bool:
    """Column `j` continues the question before it: blank in the first row after a name, or
    that name repeated."""
    if j == 0 or not any(top[:j]):
        return False
    return not top[j] or top[j] == top[j - 1]
