"""read_redmine_api: against the sandbox over 127.0.0.1, and against scripted servers for the
answers a sandbox does not give (capped limits, ignored offsets, retries, odd bodies)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
from tests.redmine.conftest import KEY, MANY
from tests.redmine.samples import many_contacts, stamp, xml_export

from crmsync.config.sources import RedmineApiSource
from crmsync.errors import EXIT_CANNOT_START, AuthError, ConfigError, SourceError
from crmsync.extract import sources
from crmsync.extract.redmine import CONTACT_COLUMNS, NOTE_COLUMNS, read_redmine_api
from crmsync.extract.redmine import read_redmine_export as read_export
from crmsync.sandbox.redmine.handle import RedmineHandle
from crmsync.sandbox.testing import running_redmine

SECRET = "s3cret-redmine-key-0042"


def no_sleep(seconds: float) -> None:
    """Retries in tests do not wait."""


def list_requests(handle: RedmineHandle, path: str = "/contacts.json") -> int:
    return sum(
        row["count"]
        for row in handle.stats()["requests"]
        if row["path"] == path and row["status"] == 200
    )


def same_frame(left: pl.DataFrame, right: pl.DataFrame) -> bool:
    """Equal but for _source (a URL path on one side, a file path on the other)."""
    return left.drop("_source").equals(right.drop("_source"))


# -- against the sandbox ---------------------------------------------------------------------


def test_reads_all_257_contacts_in_three_pages(redmine_many: RedmineHandle) -> None:
    redmine_many.reset_stats()
    result = read_redmine_api(redmine_many.base_url, KEY)
    frame = result.frame
    assert frame.columns == [*CONTACT_COLUMNS, "_source", "_row"]
    assert all(dtype == pl.String for dtype in frame.drop("_row").dtypes)
    assert frame["id"].to_list() == [str(n) for n in range(1, MANY + 1)]
    assert frame["_row"].to_list() == list(range(1, MANY + 1))
    assert frame["_source"].unique().to_list() == ["/contacts.json"]
    assert result.rejects.height == 0
    assert list_requests(redmine_many) == 3  # 100 + 100 + 57: the short page ends the walk


def test_api_frame_equals_the_export_files(
    redmine_many: RedmineHandle, many_seed: Path, tmp_path: Path
) -> None:
    xml = tmp_path / "many.xml"
    xml.write_bytes(xml_export(many_contacts(MANY)))
    old_xml = tmp_path / "many_old.xml"
    old_xml.write_bytes(xml_export(many_contacts(MANY), "older"))
    api = read_redmine_api(redmine_many.base_url, KEY, page_size=40)
    for path in (many_seed, xml, old_xml):
        assert same_frame(api.frame, read_export(path).frame), path.name


def test_sample_through_the_api_equals_the_sample_files(
    redmine: RedmineHandle, samples: dict[str, Path]
) -> None:
    api = read_redmine_api(redmine.base_url, KEY)
    assert api.frame.height == 40
    for name in ("json", "xml", "old_xml"):
        assert same_frame(api.frame, read_export(samples[name]).frame), name
    zoe = api.frame.filter(pl.col("id") == "4").row(0, named=True)
    assert (zoe["first_name"], zoe["last_name"]) == ("Zoë", "Łukasiewicz")
    assert zoe["other_emails"] == "zoe.lukasiewicz@outlook.com, zl@wisla.dev"
    assert zoe["other_phones"] == "+48 601 555 010, +48 22 555 01 78"
    assert json.loads(zoe["custom_fields"]) == {
        "Industries": ["Software", "Consulting", "Education"],
        "License": "ENT-2304",
        "Lead source": "Webinar",
        "Purchase date": "2024-05-30",
    }


def test_notes_entity_reads_each_contact(redmine: RedmineHandle, samples: dict[str, Path]) -> None:
    redmine.reset_stats()
    notes = read_redmine_api(redmine.base_url, KEY, entity="notes")
    frame = notes.frame
    assert frame.columns == [*NOTE_COLUMNS, "_source", "_row"]
    assert frame.height == 21
    assert frame["_row"].to_list() == list(range(1, 22))
    assert list_requests(redmine, "/contacts/{id}.json") == 40  # one per contact: the cost
    assert list_requests(redmine) == 1
    zoe = frame.filter(pl.col("contact_id") == "4")
    assert zoe["type_id"].to_list() == [None, "1", "2"]
    assert zoe["_source"].unique().to_list() == ["/contacts/4.json"]
    assert zoe["contact_name"].unique().to_list() == ["Zoë Łukasiewicz"]
    file_notes = read_export(samples["json"], entity="notes").frame
    assert same_frame(frame, file_notes)


@pytest.mark.parametrize(
    ("search", "page_size", "rows", "requests"),
    [("First01", 100, 100, 2), ("First00", 30, 99, 4), ("First0257", 100, 1, 1)],
    ids=["boundary-page", "small-pages", "one-match"],
)
def test_search_walk_stops_on_a_short_page_not_total_count(
    redmine_many: RedmineHandle, search: str, page_size: int, rows: int, requests: int
) -> None:
    redmine_many.reset_stats()
    result = read_redmine_api(
        redmine_many.base_url, KEY, filters={"search": search}, page_size=page_size
    )
    assert result.frame.height == rows
    assert result.frame["first_name"].str.starts_with(search).all()
    assert list_requests(redmine_many) == requests  # total_count (257) would mean more


@pytest.mark.parametrize(
    ("filters", "updated_since", "expected"),
    [
        ({"is_company": "1"}, None, [str(n) for n in range(10, MANY + 1, 10)]),
        ({"tags": "even|!odd"}, None, [str(n) for n in range(2, MANY + 1, 2)]),
        ({}, stamp(232 / 24 + 1), [str(n) for n in range(232, MANY + 1)]),
    ],
    ids=["companies", "tags", "updated-since"],
)
def test_filters_reach_the_server(
    redmine_many: RedmineHandle,
    filters: dict[str, str],
    updated_since: str | None,
    expected: list[str],
) -> None:
    result = read_redmine_api(
        redmine_many.base_url, KEY, filters=filters, updated_since=updated_since
    )
    assert result.frame["id"].to_list() == expected


def test_refused_key_is_an_auth_error_without_the_key(redmine: RedmineHandle) -> None:
    with pytest.raises(AuthError) as caught:
        read_redmine_api(redmine.base_url, SECRET)
    error = caught.value
    assert error.status == 401
    assert error.exit_code == EXIT_CANNOT_START
    assert "refused the API key" in str(error)
    assert SECRET not in str(error) and SECRET not in repr(error)
    assert error.__cause__ is None and error.__context__ is None


def test_injected_faults_are_retried(many_seed: Path) -> None:
    with running_redmine(api_keys=(KEY,), seed_file=many_seed, fail_rate=0.3, seed=7) as h:
        result = read_redmine_api(h.base_url, KEY, page_size=25, sleep=no_sleep)
        faults = [row for row in h.stats()["requests"] if row["status"] >= 500]
    assert result.frame["id"].to_list() == [str(n) for n in range(1, MANY + 1)]
    assert faults  # the walk did meet 5xx answers, and came through them


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"filters": {"offset": "5"}}, "may not set offset"),
        ({"filters": {"updated_on": ">=2025"}, "updated_since": "2025"}, "not both"),
        ({"page_size": 101}, "page size"),
        ({"page_size": 0}, "page size"),
        ({"concurrency": 0}, "concurrency"),
        ({"entity": "deals"}, "unknown Redmine entity"),
    ],
    ids=["reserved-filter", "two-since", "page-too-big", "page-zero", "no-workers", "entity"],
)
def test_unusable_arguments(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises((ConfigError, ValueError), match=message):
        read_redmine_api("http://127.0.0.1:9", KEY, **kwargs)


@pytest.mark.parametrize(
    ("url", "key"),
    [("ftp://redmine.example", KEY), ("http://127.0.0.1:9", ""), ("http://127.0.0.1:9", "a\nb")],
    ids=["scheme", "empty-key", "header-breaking-key"],
)
def test_unusable_url_or_key(url: str, key: str) -> None:
    with pytest.raises(ConfigError):
        read_redmine_api(url, key)


# -- scripted servers ------------------------------------------------------------------------

Handler = Callable[[httpx.Request], httpx.Response]


def people(first: int, count: int) -> list[dict[str, Any]]:
    return [
        {"id": n, "is_company": False, "first_name": f"P{n}"} for n in range(first, first + count)
    ]


def list_server(pages: Callable[[int, int], tuple[list[dict[str, Any]], int]]) -> Handler:
    """Answers /contacts.json from `pages(offset, limit) -> (contacts, applied limit)`."""

    def handle(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        limit = int(request.url.params["limit"])
        contacts, applied = pages(offset, limit)
        body = {"contacts": contacts, "total_count": 999, "offset": offset, "limit": applied}
        return httpx.Response(200, json=body)

    return handle


def read_with(handler: Handler, **kwargs: Any) -> Any:
    return read_redmine_api(
        "https://redmine.example/sub", SECRET, transport=httpx.MockTransport(handler),
        sleep=no_sleep, **kwargs,
    )  # fmt: skip


def test_a_server_with_a_lower_cap_is_read_to_the_end() -> None:
    total = 120

    def pages(offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        applied = min(limit, 50)
        return people(offset + 1, max(0, min(applied, total - offset))), applied

    result = read_with(list_server(pages))
    assert result.frame["id"].to_list() == [str(n) for n in range(1, total + 1)]
    assert result.frame["_source"].unique().to_list() == ["/sub/contacts.json"]


def test_a_server_ignoring_offset_stops_the_walk() -> None:
    with pytest.raises(SourceError, match="ignore offset"):
        read_with(list_server(lambda offset, limit: (people(1, limit), limit)))


class Changing:
    """Redmine's contact list, in id order, changed by `change` after the first page read."""

    def __init__(self, total: int, change: Callable[[list[dict[str, Any]]], None]) -> None:
        self.contacts = people(1, total)
        self.change = change
        self.offsets: list[int] = []

    def __call__(self, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        self.offsets.append(offset)
        page = self.contacts[offset : offset + limit]
        if len(self.offsets) == 1:
            self.change(self.contacts)
        return page, limit


def test_contacts_shifted_by_an_insert_are_read_once() -> None:
    listing = Changing(202, lambda contacts: contacts.insert(0, people(0, 1)[0]))
    result = read_with(list_server(listing))
    assert result.frame["id"].to_list() == [str(n) for n in range(1, 203)]


def test_a_contact_moved_up_by_a_deletion_is_still_read() -> None:
    """Id 50 deleted after the first page: every later contact moved a place up, and id 101
    crossed into the page already read. It was never read, nor by a later incremental run."""
    listing = Changing(202, lambda contacts: contacts.pop(49))
    result = read_with(list_server(listing))
    assert result.frame["id"].to_list() == [str(n) for n in range(1, 203)]  # 50 read before
    assert listing.offsets[:3] == [0, 99, 0]  # the overlap showed the shift: a page back


def test_unreadable_records_are_rejects_with_their_position() -> None:
    items = [*people(1, 2), {"first_name": "no id"}, ["not", "an", "object"], *people(5, 1)]
    result = read_with(list_server(lambda offset, limit: (items if offset == 0 else [], limit)))
    assert result.frame["_row"].to_list() == [1, 2, 5]
    assert result.rejects["_row"].to_list() == [3, 4]
    assert result.rejects["error"].to_list() == [
        "id: missing",
        "a contact must be a JSON object, not an array",
    ]
    assert result.rows_read == len(items)


class Script:
    """Answers in turn from a list of responses (the last one repeats), counting requests."""

    def __init__(self, *responses: httpx.Response) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        index = min(len(self.requests), len(self.responses)) - 1
        return self.responses[index]


OK_PAGE = httpx.Response(200, json={"contacts": people(1, 3), "limit": 100})


@pytest.mark.parametrize(
    "first",
    [
        httpx.Response(503, headers={"Retry-After": "0"}),
        httpx.Response(429, headers={"Retry-After": "2"}),
        httpx.Response(502),
        httpx.Response(200, text="<html>maintenance</html>"),
        httpx.Response(200, json={"unexpected": True}),
    ],
    ids=["503", "429", "502", "html-200", "wrong-shape"],
)
def test_transient_answers_are_retried(first: httpx.Response) -> None:
    script = Script(first, OK_PAGE)
    result = read_with(script)
    assert result.frame.height == 3
    assert len(script.requests) == 2
    assert script.requests[0].headers["X-Redmine-API-Key"] == SECRET
    assert "key" not in script.requests[0].url.params


def test_a_lasting_html_page_is_said_to_be_one() -> None:
    script = Script(httpx.Response(200, text="<!DOCTYPE html><html>Sign in</html>"))
    with pytest.raises(SourceError, match="with an HTML page, not the API's JSON"):
        read_with(script, max_retries=1)


def test_a_lasting_failure_is_a_source_error_after_the_retries() -> None:
    script = Script(httpx.Response(500))
    with pytest.raises(SourceError, match="still failing after 2 retries") as caught:
        read_with(script, max_retries=2)
    assert len(script.requests) == 3
    assert caught.value.source == "/sub/contacts.json"


@pytest.mark.parametrize(
    ("response", "error", "text"),
    [
        (httpx.Response(403), AuthError, "refused the API key"),
        (httpx.Response(404), SourceError, "CRM plugin installed"),
        (httpx.Response(302, headers={"Location": "/login"}), SourceError, "REST API enabled"),
        (httpx.Response(422, json={"errors": ["Tags is invalid"]}), SourceError, "Tags is invalid"),
        (httpx.Response(400, text=f"bad key {SECRET}"), SourceError, "[redacted]"),
    ],
    ids=["403", "404", "redirect", "422", "echoed-key"],
)
def test_refusals(response: httpx.Response, error: type[Exception], text: str) -> None:
    script = Script(response)
    with pytest.raises(error) as caught:
        read_with(script)
    assert text in str(caught.value)
    assert SECRET not in str(caught.value)
    assert len(script.requests) == 1  # refused for good: not retried


def test_a_contact_gone_before_its_notes_is_a_reject() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/contacts.json"):
            return httpx.Response(200, json={"contacts": people(1, 3), "limit": 100})
        if request.url.path.endswith("/2.json"):
            return httpx.Response(404)
        contact_id = int(request.url.path.rsplit("/", 1)[1].split(".")[0])
        assert request.url.params["include"] == "notes"
        notes = [{"id": contact_id * 10 + k, "content": f"n{k}", "type_id": k} for k in (0, 1)]
        return httpx.Response(200, json={"contact": {"id": contact_id, "notes": notes}})

    result = read_with(handle, entity="notes", concurrency=2)
    assert result.frame["id"].to_list() == ["10", "11", "30", "31"]
    assert result.frame["_row"].to_list() == [1, 2, 4, 5]
    assert result.rejects.select("_source", "_row").rows() == [("/sub/contacts/2.json", 3)]
    assert "gone (HTTP 404)" in result.rejects["error"][0]


def test_the_steps_deadline_bounds_each_redmine_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """load.request_deadline_s held for Rally only: a Redmine that never answered held the
    run for ten minutes whatever the pipeline said."""
    seen: dict[str, Any] = {}

    def fake(*args: Any, **kwargs: Any) -> Any:
        seen.update(kwargs)
        raise SourceError("stop here", source="redmine")

    monkeypatch.setattr(sources, "read_redmine_api", fake)
    cfg = RedmineApiSource(kind="redmine_api", url="https://redmine.example", api_key=KEY)
    reader = sources.SourceSet(tmp_path).open(cfg, request_deadline_s=20)
    with pytest.raises(SourceError):
        reader.read()
    assert seen["request_deadline_s"] == 20


def test_a_custom_field_in_an_undocumented_shape_is_kept_as_json_not_a_failure() -> None:
    """A plugin's object-valued field failed every contact that had it ('Other: expected
    text, found an object'), though the pipeline did not map it."""
    contact = {
        **people(1, 1)[0],
        "custom_fields": [
            {"id": 3, "name": "Other", "value": {"a": 1}},
            {"id": 4, "name": "Levels", "value": ["x", ["y"]]},
            {"id": 5, "name": "Lead source", "value": "Fair"},
        ],
    }
    result = read_with(list_server(lambda offset, limit: ([contact] if offset == 0 else [], limit)))
    assert result.rejects.height == 0
    fields = json.loads(result.frame["custom_fields"][0])
    assert fields == {"Other": '{"a":1}', "Levels": ["x", '["y"]'], "Lead source": "Fair"}
