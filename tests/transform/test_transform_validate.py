"""validate: vectorized rules from the models, agreeing with pydantic row for row."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from tests.transform.conftest import identity_frame
from tests.transform.pools import GUID, payloads, raw_frames

from crmsync.schema import OBJECTS
from crmsync.transform import ISSUE_SCHEMA, NormalizeOptions, normalize, validate

OPTIONS = NormalizeOptions(default_region="US")

CONTACT_CASES = [
    ({"firstName": "Ann", "lastName": "Lee", "email": "ann@x.com"}, {}),
    ({"lastName": "Lee", "email": "ann@x.com"}, {"firstName": "missing"}),
    ({"firstName": "Ann", "lastName": "Lee", "email": "ann@"}, {"email": '"ann@"'}),
    (
        {"firstName": "Ann", "lastName": "Lee", "email": "ann@x.com", "leadScore": "150"},
        {"leadScore": "above the maximum 100"},
    ),
    (
        {"firstName": "Ann", "lastName": "Lee", "email": "ann@x.com", "ownerId": "42"},
        {"ownerId": "not a Rally id"},
    ),
    (
        {"firstName": "Ann", "lastName": "Lee", "email": "a@x.com", "companyId": GUID.upper()},
        {},
    ),
    (
        {"firstName": "Ann", "lastName": "Lee", "email": "ann@x.com", "nickname": "Annie"},
        {"nickname": "not a field of Rally contacts"},
    ),
]


@pytest.mark.parametrize(
    ("row", "expected"),
    CONTACT_CASES,
    ids=[
        "valid",
        "missing-first",
        "bad-email",
        "score-too-high",
        "bad-guid",
        "guid-upper",
        "extra",
    ],
)
def test_validate_contacts(row: dict[str, str], expected: dict[str, str]) -> None:
    normalized, _ = normalize(identity_frame({k: [v] for k, v in row.items()}), OBJECTS["contacts"])
    issues = validate(normalized, OBJECTS["contacts"])
    assert dict(zip(issues["field"], issues["error"], strict=True)).keys() == expected.keys()
    for field, fragment in expected.items():
        assert fragment in issues.filter(pl.col("field") == field)["error"].item()


ACTIVITY_CASES = [
    ({"activityType": "call", "subject": "Hi", "callDirection": "inbound"}, set()),
    ({"activityType": "task", "subject": "Hi", "callDirection": "inbound"}, {"callDirection"}),
    ({"activityType": "note", "subject": "Hi", "location": "Room B"}, {"location"}),
    ({"activityType": "meeting", "subject": "Hi", "durationMinutes": "-5"}, {"durationMinutes"}),
    ({"activityType": "chat", "subject": "Hi"}, {"activityType"}),
    ({"activityType": "task", "subject": " ", "priority": "meh"}, {"subject", "priority"}),
    ({"activityType": "task", "subject": "Hi", "status": "done"}, {"status"}),
    ({"subject": "Hi"}, {"activityType"}),
]


@pytest.mark.parametrize(
    ("row", "failing"),
    ACTIVITY_CASES,
    ids=[
        "valid-call", "call-field-on-task", "meeting-field-on-note", "negative-duration",
        "unknown-type", "blank-subject-bad-priority", "bad-status", "type-column-absent",
    ],
)  # fmt: skip
def test_validate_activities(row: dict[str, str], failing: set[str]) -> None:
    frame = identity_frame({k: [v] for k, v in row.items()})
    normalized, _ = normalize(frame, OBJECTS["activities"])
    issues = validate(normalized, OBJECTS["activities"])
    assert set(issues["field"]) == failing
    assert issues.schema == pl.Schema(ISSUE_SCHEMA)
    assert set(issues["severity"]) <= {"error"}


def test_validate_keeps_identity_and_frame_order() -> None:
    frame = identity_frame(
        {
            "firstName": [None, "Ann", None],
            "lastName": ["Lee", None, None],
            "email": ["x", "a@b.co", "y"],
        }
    )
    issues = validate(normalize(frame, OBJECTS["contacts"])[0], OBJECTS["contacts"])
    assert issues["_row"].to_list() == [2, 2, 3, 4, 4, 4]
    assert issues["field"].to_list() == [
        "firstName",
        "email",
        "lastName",
        "firstName",
        "lastName",
        "email",
    ]


def test_validate_reads_text_in_typed_fields() -> None:
    frame = identity_frame(
        {
            "firstName": ["A", "A"],
            "lastName": ["B", "B"],
            "email": ["a@b.co"] * 2,
            "leadScore": ["7", "x"],
        }
    )
    issues = validate(frame, OBJECTS["contacts"])
    assert issues.select("_row", "field", "error").rows() == [
        (3, "leadScore", '"x" is not a whole number')
    ]


@pytest.mark.slow  # a sweep: the whole suite runs it
@pytest.mark.parametrize("obj_name", sorted(OBJECTS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_validate_agrees_with_pydantic(obj_name: str, data: st.DataObject) -> None:
    """A row has no issue iff obj.create.model_validate(its payload) succeeds."""
    obj = OBJECTS[obj_name]
    raw = data.draw(raw_frames(obj_name))
    normalized, _ = normalize(raw, obj, OPTIONS)
    failing_rows = set(validate(normalized, obj)["_row"].to_list())
    for row_number, payload in zip(normalized["_row"], payloads(normalized), strict=True):
        try:
            obj.create.model_validate(payload)
            accepted = True
        except ValidationError:
            accepted = False
        assert accepted == (row_number not in failing_rows), payload


def test_messages_quote_the_cell_as_given_and_what_it_was_read_as_where_that_differs() -> None:
    given = identity_frame(
        {
            "firstName": ["Ann", "Bo"],
            "lastName": ["Lee", "Ng"],
            "email": ["mailto:Ann@@X.com", " BO@@y.com "],
            "leadScore": ["$150", "150"],
        }
    )
    normalized, _ = normalize(given, OBJECTS["contacts"], OPTIONS)
    issues = validate(normalized, OBJECTS["contacts"], given=given)
    said = {
        (row, field): error for row, field, error in issues.select("_row", "field", "error").rows()
    }
    assert said[(2, "email")].startswith('"mailto:Ann@@X.com" (read as ann@@x.com) is not a valid')
    assert said[(3, "email")].startswith('"BO@@y.com" is not a valid')  # as written, trimmed
    assert said[(2, "leadScore")] == '"$150" (read as 150) is above the maximum 100'
    assert said[(3, "leadScore")] == '"150" is above the maximum 100'
