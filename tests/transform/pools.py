"""Raw cell values people really send, good and bad, per Rally object and field.

Shared by the property tests: random rows drawn from these pools must be normalized
idempotently and validated exactly as pydantic validates them.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from hypothesis import strategies as st

GUID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
# Per field: (values that should pass, values that should not, or may not, alone).
NAMES = (["Ann", "  Mary   Ann ", "Zoë"], ["", "   ", None])
GUIDS = ([GUID, GUID.upper(), None], ["not-a-guid", ""])
Pool = tuple[list[str | None], list[str | None]]

POOLS: dict[str, dict[str, Pool]] = {
    "contacts": {
        "firstName": NAMES,
        "lastName": NAMES,
        "email": (
            ["a@b.com", " John.Doe@Example.COM ", "josé@example.com", "mailto:x@y.org"],
            ["bad@", "nope", "a..b@x.com", "x@localhost", "", None],
        ),
        "phone": (["(415) 555-0142", "+44 20 7946 0958", None], ["garbage", "555-0142"]),
        "mobile": (["415.555.0199", None], []),
        "title": (["  VP   Sales ", None], []),
        "companyId": GUIDS,
        "ownerId": GUIDS,
        "lifecycleStage": (["lead", "customer", "", None], []),
        "leadScore": (["50", "0", "100", "1e2", "", None], ["150", "-1", "abc", "12.5"]),
        "tags": (["a, b;c|a", ",;", "vip", None], []),
        "notes": (["line 1\n  line 2 ", None], []),
    },
    "companies": {
        "name": (["Acme", "  Acme   Corp "], ["", "  ", None]),
        "domain": (
            ["https://www.Acme.com/about", "acme.co.uk", "info@acme.com", "bücher.de", "", None],
            ["john@gmail.com", "localhost"],
        ),
        "website": (["http://foo.co.uk:8080/x", None], ["n/a"]),
        "employeeCount": (["1,200", "0", None], ["-5", "12.5", "abc"]),
        "annualRevenue": (["$45,000,000", "45M", "1.2k", "0", None], ["-1", "abc"]),
        "tags": (["a, b;c|a", "x", ";", None], []),
        "ownerId": GUIDS,
        "phone": (["+1 415 555 0100", None], ["nope"]),
    },
    "activities": {
        "activityType": (["call", "Meeting", "note", "TASK"], ["bogus", "", None]),
        "subject": (["Discovery call"], ["  ", "", None]),
        "contactId": GUIDS,
        "dealId": GUIDS,
        "scheduledAt": (["2025-07-15T17:00:00+02:00", "07/15/2025", None], ["garbage"]),
        "dueDate": (["2025-07-15", None], ["2025-02-30"]),
        "priority": (["high", "URGENT", None], ["meh"]),
        "status": (["pending", "Completed", "", None], ["done"]),
        "callDirection": ([None, None, "inbound", "OUTBOUND"], ["sideways"]),
        "callOutcome": ([None, None, "connected"], []),
        "callDurationSeconds": ([None, None, "1800"], ["-1", "abc"]),
        "durationMinutes": ([None, None, "60"], ["-5"]),
        "location": ([None, None, "Room B"], []),
        "meetingUrl": ([None, None, "https://meet.example.com/abc"], []),
    },
}  # fmt: skip

# Columns a mapping might wrongly produce: not fields of any Rally create model.
EXTRA_COLUMNS: dict[str, Pool] = {"nickname": ([None], ["Bobby"])}
BAD_ONE_IN = 12  # how rarely a cell draws from the bad values


def _cell(pool: Pool) -> st.SearchStrategy[str | None]:
    good, bad = pool
    if not bad:
        return st.sampled_from(good)
    return st.integers(0, BAD_ONE_IN - 1).flatmap(
        lambda n: st.sampled_from(bad if n == 0 else good)
    )


@st.composite
def raw_frames(draw: st.DrawFn, obj_name: str, max_rows: int = 12) -> pl.DataFrame:
    """A mapped frame for `obj_name`: most of its fields, values mostly good, some bad."""
    pools = dict(POOLS[obj_name])
    if draw(st.integers(0, 3)) == 0:
        pools.update(EXTRA_COLUMNS)
    fields = [field for field in sorted(pools) if draw(st.integers(0, 9)) > 0]
    height = draw(st.integers(1, max_rows))
    columns: dict[str, Any] = {
        "_source": ["in.csv"] * height,
        "_row": pl.Series(range(2, height + 2), dtype=pl.Int64),
    }
    for field in fields:
        values = draw(st.lists(_cell(pools[field]), min_size=height, max_size=height))
        columns[field] = pl.Series(values, dtype=pl.String)
    return pl.DataFrame(columns)


def payloads(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Each row as the loader sends it: payload columns only, nulls left out."""
    return [
        {k: v for k, v in row.items() if v is not None and not k.startswith("_")}
        for row in frame.iter_rows(named=True)
    ]
