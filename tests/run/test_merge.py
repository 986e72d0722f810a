"""The three-way merge of one record: what crmsync last wrote (base), what Rally holds
(theirs), what the source says (ours)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmsync.run.merge import FieldPolicy, created, empty, merge, same

WRITABLE = ("email", "phone", "title", "leadScore", "lifecycleStage", "tags", "city")
READABLE = ("email", "phone", "title", "leadScore", "lifecycleStage", "tags")  # city: write-only
THEIRS = {
    "id": "c-1",
    "email": "ada@x.org",
    "phone": "+15550001",
    "title": "Countess",
    "leadScore": 95,
    "lifecycleStage": "customer",
    "tags": "vip",
    "updatedAt": "2025-06-01T00:00:00Z",
}


def one(
    field: str,
    ours: Any,
    base: Any,
    theirs: Any,
    policy: FieldPolicy | None = None,
    defaulted: bool = False,
) -> tuple[str | None, Any]:
    """(why, value sent) for one field; why None: untouched."""
    merged = merge(
        {field: ours},
        {field: base},
        {"id": "c-1", field: theirs},
        writable=WRITABLE,
        readable=READABLE,
        policies={field: policy} if policy else {},
        defaulted={field} if defaulted else set(),
    )
    if not merged.changes:
        return None, merged.record.get(field)
    (change,) = merged.changes
    return change.why, merged.record.get(field)


CASES = [
    # (case, ours, base, theirs, policy, defaulted, why, sent)
    ("source unchanged: a person's edit stays", "CTO", "CTO", "Queen", None, False, None, "Queen"),
    ("source changed, Rally not", "CEO", "CTO", "CTO", None, False, "source changed", "CEO"),
    ("both changed: crm kept", "CEO", "CTO", "Queen", None, False, "conflict kept", "Queen"),
    (
        "both changed: source written",
        "CEO",
        "CTO",
        "Queen",
        FieldPolicy(on_conflict="source"),
        False,
        "conflict overwritten",
        "CEO",
    ),
    ("both changed the same way", "CEO", "CTO", "CEO", None, False, None, "CEO"),
    ("empty source keeps Rally's", None, "CTO", "CTO", None, False, None, "CTO"),
    (
        "empty source clears when asked",
        None,
        "CTO",
        "CTO",
        FieldPolicy(blank="clear"),
        False,
        "source changed",
        None,
    ),
    (
        "if_empty fills a blank",
        "CEO",
        None,
        None,
        FieldPolicy(update="if_empty"),
        False,
        "filled blank",
        "CEO",
    ),
    (
        "if_empty leaves a value",
        "CEO",
        "CTO",
        "CTO",
        FieldPolicy(update="if_empty"),
        False,
        None,
        "CTO",
    ),
    ("never is set once", "CEO", "CTO", "CTO", FieldPolicy(update="never"), False, None, "CTO"),
    ("a default never resets a stage", "lead", "lead", "customer", None, True, None, "customer"),
    (
        "a default on: always does",
        "lead",
        "prospect",
        "prospect",
        FieldPolicy(on_update=True),
        True,
        "source changed",
        "lead",
    ),
    ("keys compare without case", "ADA@X.ORG", "a@x.org", "ada@x.org", None, False, None, None),
    ("numbers compare by value", 95, 90, 95.0, None, False, None, 95.0),
]


@pytest.mark.parametrize(
    ("ours", "base", "theirs", "policy", "defaulted", "why", "sent"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_one_field(
    ours: Any,
    base: Any,
    theirs: Any,
    policy: FieldPolicy | None,
    defaulted: bool,
    why: str | None,
    sent: Any,
) -> None:
    field = "email" if "@" in str(ours) else "leadScore" if isinstance(ours, int) else "title"
    got_why, got_sent = one(field, ours, base, theirs, policy, defaulted)
    assert got_why == why
    if field == "email" and why is None:
        return  # a key that agrees is not written; what is sent is Rally's own spelling
    assert got_sent == sent


def test_a_record_crmsync_never_wrote_keeps_what_differs_and_fills_what_is_empty() -> None:
    merged = merge(
        {"email": "ada@x.org", "title": "CTO", "phone": "+15550002"},
        None,
        {**THEIRS, "phone": None},
        writable=WRITABLE,
        readable=READABLE,
    )
    assert {c.field: c.why for c in merged.changes} == {
        "title": "conflict kept",
        "phone": "filled blank",
    }
    assert merged.record["title"] == "Countess" and merged.record["phone"] == "+15550002"
    assert merged.base is None


def test_the_record_sent_is_rallys_with_only_the_written_fields_changed() -> None:
    merged = merge(
        {"email": "ada@x.org", "phone": "+15550009"},
        {"email": "ada@x.org", "phone": "+15550001", "city": "Zürich"},
        THEIRS,
        writable=WRITABLE,
        readable=READABLE,
    )
    assert [c.field for c in merged.writes] == ["phone"]
    assert merged.record == {
        "email": "ada@x.org",
        "phone": "+15550009",
        "title": "Countess",
        "leadScore": 95,
        "lifecycleStage": "customer",
        "tags": "vip",
        "city": "Zürich",  # write-only: Rally cannot show it, so it is sent as last written
    }
    assert "id" not in merged.record and "updatedAt" not in merged.record
    assert merged.written == {"email": "ada@x.org", "phone": "+15550009", "city": "Zürich"}


def test_a_new_record_writes_every_value_it_has() -> None:
    new = created({"email": "ada@x.org", "title": None, "tags": "vip"})
    assert [(c.field, c.why) for c in new.changes] == [("email", "new"), ("tags", "new")]
    assert new.record == new.written == {"email": "ada@x.org", "tags": "vip"}


VALUES = st.one_of(st.none(), st.sampled_from(["", "a", "b", "c"]))
POLICIES = st.builds(
    FieldPolicy,
    update=st.sampled_from(["always", "if_empty", "never"]),
    blank=st.sampled_from(["keep", "clear"]),
    on_conflict=st.sampled_from(["crm", "source"]),
    on_update=st.booleans(),
)


@settings(max_examples=400, derandomize=True, deadline=None)
@given(
    ours=VALUES,
    base=VALUES,
    theirs=VALUES,
    policy=POLICIES,
    defaulted=st.booleans(),
    unmapped=VALUES,
)
def test_what_a_merge_never_does(
    ours: Any, base: Any, theirs: Any, policy: FieldPolicy, defaulted: bool, unmapped: Any
) -> None:
    merged = merge(
        {"title": ours},
        {"title": base},
        {"id": "c-1", "title": theirs, "phone": unmapped},
        writable=WRITABLE,
        readable=READABLE,
        policies={"title": policy},
        defaulted={"title"} if defaulted else set(),
    )
    sent = merged.record.get("title")
    written = bool(merged.writes)
    assert merged.record.get("phone") == unmapped  # a field it does not map: untouched
    if ours == base or (empty(ours) and empty(base)):
        assert not written  # the source did not change it
    if policy.blank == "keep" and not empty(theirs):
        assert not empty(sent)  # never blanks a value
    if policy.update == "never" or (defaulted and not policy.on_update):
        assert not written
    if written and policy.on_conflict == "crm" and policy.update == "always":
        assert empty(theirs) or theirs == base  # a person's edit is never overwritten
    if not written:
        assert sent == theirs


def test_a_field_rally_cannot_show_is_no_reason_to_write_but_goes_with_a_write() -> None:
    theirs = {**THEIRS}
    quiet = merge(
        {"email": "ada@x.org", "city": "Zürich"}, None, theirs, writable=WRITABLE, readable=READABLE
    )
    assert not quiet.writes  # what Rally holds in city is unknown: nothing is written for it
    written = merge(
        {"email": "ada@x.org", "city": "Zürich", "phone": "+15550002"},
        None,
        {**theirs, "phone": None},
        writable=WRITABLE,
        readable=READABLE,
    )
    assert {c.field for c in written.writes} == {"phone", "city"}
    assert written.record["city"] == "Zürich"  # left out, a PUT would wipe it


@pytest.mark.parametrize(
    ("sent", "answered", "equal"),
    [
        ("vip, smb", ["vip", "smb"], True),
        ("smb", ["smb"], True),
        ("vip,smb", ["vip", "smb"], True),
        ("vip, smb", ["smb", "vip"], False),  # an order of its own is another value
        ("vip, smb", ["vip"], False),
        ("vip", "vip", True),
        ("", [], True),
        ("1, 2", [1, 2], False),  # not texts: compared as they are
    ],
)
def test_comma_separated_text_equals_the_list_a_rally_answers(
    sent: str, answered: list[object] | str, equal: bool
) -> None:
    """A contact's tags go out as one text; a Rally that answers them as a list holds the
    same value (undo left every tagged contact alone, as edited by a person)."""
    assert same(answered, sent, "tags") is equal
    assert same(sent, answered, "tags") is equal
