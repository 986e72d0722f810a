"""The Redmine sandbox over HTTP: paging rules, shapes, order, filters, the search quirk, auth."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from tests.redmine.conftest import KEY, MANY, OTHER_KEY
from tests.redmine.samples import ADMIN, TOM, sample_contacts

from crmsync.extract.redmine.frame import Row, contact_row
from crmsync.extract.redmine.model import Contact
from crmsync.extract.redmine.parse import contact_from_json, contact_from_xml
from crmsync.sandbox.redmine.handle import RedmineHandle

SAMPLE = sample_contacts()
BY_ID = {c.id: c for c in SAMPLE}
LIST_KEYS = [  # REDMINE.md's example, in its order
    "id", "avatar", "is_company", "first_name", "last_name", "middle_name", "company", "website",
    "skype_name", "birthday", "job_title", "background", "author", "assigned_to", "address",
    "phones", "emails", "tag_list", "custom_fields", "created_on", "updated_on",
]  # fmt: skip


def _blank_free(contact: Contact) -> Row:
    return {name: value or None for name, value in contact_row(contact).items()}


def ids(body: dict[str, Any]) -> list[int]:
    return [item["id"] for item in body["contacts"]]


# -- paging ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "offset", "limit", "count"),
    [
        ({}, 0, 25, 25),
        ({"limit": "0"}, 0, 25, 25),
        ({"limit": "-5"}, 0, 25, 25),
        ({"limit": "abc"}, 0, 25, 25),
        ({"limit": "7abc"}, 0, 7, 7),
        ({"limit": "1000"}, 0, 100, 40),
        ({"limit": "10", "page": "3"}, 20, 10, 10),
        ({"limit": "10", "page": "3", "offset": "5"}, 5, 10, 10),
        ({"limit": "10", "offset": "-3"}, 0, 10, 10),
        ({"limit": "10", "page": "0"}, 0, 10, 10),
        ({"limit": "10", "offset": "38"}, 38, 10, 2),
        ({"offset": "40"}, 40, 25, 0),
    ],
    ids=[
        "defaults",
        "zero",
        "negative",
        "not-a-number",
        "ruby-to-i",
        "capped",
        "page",
        "offset-wins",
        "negative-offset",
        "page-zero",
        "last-page",
        "past-the-end",
    ],
)
def test_paging_follows_redmine_rules(
    api: httpx.Client, params: dict[str, str], offset: int, limit: int, count: int
) -> None:
    body = api.get("/contacts.json", params=params).json()
    assert (body["offset"], body["limit"], body["total_count"]) == (offset, limit, len(SAMPLE))
    assert len(body["contacts"]) == count


def test_nometa_drops_the_counts(api: httpx.Client) -> None:
    assert list(api.get("/contacts.json", params={"nometa": "1"}).json()) == ["contacts"]
    root = ElementTree.fromstring(api.get("/contacts.xml", params={"nometa": "1"}).content)
    assert root.attrib == {"type": "array"}


def test_pages_by_id_cover_everything_once(redmine_many: RedmineHandle) -> None:
    seen: list[int] = []
    with httpx.Client(base_url=redmine_many.base_url, headers={"X-Redmine-API-Key": KEY}) as c:
        for page in (1, 2, 3, 4):
            params = {"sort": "id", "limit": "100", "page": str(page)}
            body = c.get("/contacts.json", params=params).json()
            assert body["total_count"] == MANY
            seen.extend(ids(body))
    assert seen == list(range(1, MANY + 1))


# -- shapes ----------------------------------------------------------------------------------


def test_json_keys_as_redmine_emits_them(api: httpx.Client) -> None:
    items = {item["id"]: item for item in api.get("/contacts.json?limit=100").json()["contacts"]}
    assert list(items[3]) == LIST_KEYS  # everything present: avatar, author, assignee, ...
    assert items[3]["avatar"] == {"attachment_id": 39}
    assert "avatar" not in items[1]
    assert "assigned_to" not in items[26]  # null assignee left out
    assert "phones" not in items[30] and "emails" not in items[30]  # empty lists left out
    assert "address" not in items[23]
    assert "country_code" not in items[34]["address"]  # a blank address
    assert items[4]["address"]["country_code"] == "PL"
    assert items[4]["tag_list"] == ["vip", "technical"]
    fields = {field["name"]: field for field in items[4]["custom_fields"]}
    assert fields["Industries"] == {
        "id": 5, "name": "Industries", "multiple": True,
        "value": ["Software", "Consulting", "Education"],
    }  # fmt: skip
    assert fields["License"] == {"id": 1, "name": "License", "value": "ENT-2304"}
    assert items[4]["first_name"] == "Zoë" and items[4]["last_name"] == "Łukasiewicz"


def test_xml_list_says_the_same_as_json(api: httpx.Client) -> None:
    response = api.get("/contacts.xml", params={"limit": "100", "sort": "id"})
    assert response.headers["content-type"].startswith("application/xml")
    root = ElementTree.fromstring(response.content)
    assert root.tag == "contacts"
    assert root.attrib == {"type": "array", "total_count": "40", "offset": "0", "limit": "100"}
    zoe = root[3]
    assert zoe.findtext("tag_list") == "vip, technical"
    assert [e.text for e in zoe.iter("number")] == list(BY_ID[4].phones)
    assert [e.text for e in zoe.findall("emails/email/address")] == list(BY_ID[4].emails)
    as_json = api.get("/contacts.json", params={"limit": "100", "sort": "id"}).json()["contacts"]
    # as the readers see them ("" and an empty element are both blank)
    assert [_blank_free(contact_from_xml(e)) for e in root] == [
        _blank_free(contact_from_json(c)) for c in as_json
    ]


# -- order -----------------------------------------------------------------------------------


def test_default_order_is_last_name_then_first_name(api: httpx.Client) -> None:
    body = api.get("/contacts.json", params={"limit": "100"}).json()
    people = [c for c in body["contacts"] if not c["is_company"]]
    companies = [c for c in body["contacts"] if c["is_company"]]
    assert body["contacts"][: len(companies)] == companies  # no last name sorts first
    assert [c["first_name"] for c in companies] == sorted(c["first_name"] for c in companies)
    keys = [(c["last_name"].lower(), c["first_name"].lower()) for c in people]
    assert [k for k in keys if k[0].isascii()] == sorted(k for k in keys if k[0].isascii())


@pytest.mark.parametrize(
    ("sort", "expected"),
    [("id", sorted(BY_ID)), ("id:desc", sorted(BY_ID, reverse=True))],
    ids=["id", "id-desc"],
)
def test_sort_by_id(api: httpx.Client, sort: str, expected: list[int]) -> None:
    assert ids(api.get("/contacts.json", params={"sort": sort, "limit": "100"}).json()) == expected


# -- filters ---------------------------------------------------------------------------------


def _in_project(identifier: str) -> Callable[[Contact], bool]:
    return lambda c: any(p.identifier == identifier for p in c.projects)


def _matches(*words: str) -> Callable[[Contact], bool]:
    def match(c: Contact) -> bool:
        texts = [c.first_name, c.middle_name, c.last_name, c.company, c.job_title]
        haystack = " ".join([t or "" for t in texts] + list(c.emails) + list(c.phones)).lower()
        return all(word.lower() in haystack for word in words)

    return match


def _city(name: str) -> Callable[[Contact], bool]:
    return lambda c: c.address is not None and c.address.city == name


def _country(code: str) -> Callable[[Contact], bool]:
    return lambda c: c.address is not None and c.address.country_code == code


def _updated(low: str, high: str) -> Callable[[Contact], bool]:
    return lambda c: low <= (c.updated_on or "") <= high


def _created(low: str, high: str) -> Callable[[Contact], bool]:
    return lambda c: low <= (c.created_on or "") <= high


def _all(*tests: Callable[[Contact], bool]) -> Callable[[Contact], bool]:
    return lambda c: all(test(c) for test in tests)


def _tags(*wanted: str, without: str = "") -> Callable[[Contact], bool]:
    return lambda c: set(wanted) <= set(c.tags) and without not in c.tags


FILTERS: list[tuple[str, dict[str, str], Callable[[Contact], bool]]] = [
    ("project-identifier", {"project_id": "support"}, _in_project("support")),
    ("project-id", {"project_id": "2"}, _in_project("support")),
    ("assignee", {"assigned_to_id": "6"}, lambda c: c.assigned_to == TOM),
    ("assignee-me", {"assigned_to_id": "me"}, lambda c: c.assigned_to == ADMIN),
    ("tag", {"tags": "vip"}, _tags("vip")),
    ("tags-all", {"tags": "vip|technical"}, _tags("vip", "technical")),
    ("tag-excluded", {"tags": "vip|!customer"}, _tags("vip", without="customer")),
    ("tag-case", {"tags": "VIP"}, _tags("vip")),
    ("companies", {"is_company": "1"}, lambda c: c.is_company),
    ("people", {"is_company": "false"}, lambda c: not c.is_company),
    ("city", {"city": "hamburg"}, _city("Hamburg")),
    ("country-code", {"country": "NL"}, _country("NL")),
    ("country-name", {"country": "Netherlands"}, _country("NL")),
    ("search-company", {"search": "nordwind"}, _matches("nordwind")),
    ("search-two-words", {"search": "Sarah Chen"}, _matches("sarah", "chen")),
    ("search-non-ascii", {"search": "ZOË"}, _matches("zoë")),
    ("search-phone", {"search": "+49 40 3861"}, _matches("+49", "40", "3861")),
    ("search-job-title", {"search": "cto"}, _matches("cto")),
    ("updated-since", {"updated_on": ">=2023-08-01T00:00:00Z"}, _updated("2023-08-01", "9999")),
    ("updated-until", {"updated_on": "<=2023-05-01"}, _updated("", "2023-05-01T23:59:59Z")),
    (
        "created-between",
        {"created_on": "><2023-04-01|2023-05-01"},
        _created("2023-04-01", "2023-05-01T23:59:59Z"),
    ),
    (
        "combined",
        {"is_company": "0", "tags": "customer", "city": "Barcelona"},
        _all(lambda c: not c.is_company, _tags("customer"), _city("Barcelona")),
    ),
]


@pytest.mark.parametrize(
    ("params", "keep"), [case[1:] for case in FILTERS], ids=[case[0] for case in FILTERS]
)
def test_filters(
    api: httpx.Client, params: dict[str, str], keep: Callable[[Contact], bool]
) -> None:
    expected = sorted(c.id for c in SAMPLE if keep(c))
    assert expected  # every case selects something...
    assert len(expected) < len(SAMPLE) or params.get("search") is None  # ...and not everything
    body = api.get("/contacts.json", params={**params, "sort": "id", "limit": "100"}).json()
    assert ids(body) == expected


def test_project_path_is_the_project_filter(api: httpx.Client) -> None:
    by_path = api.get("/projects/support/contacts.json").json()
    assert ids(by_path) == ids(api.get("/contacts.json", params={"project_id": "support"}).json())
    assert api.get("/projects/no-such-project/contacts.json").status_code == 404


def test_search_quirk_total_count_ignores_the_search(api: httpx.Client) -> None:
    body = api.get("/contacts.json", params={"search": "nordwind", "limit": "100"}).json()
    assert body["total_count"] == len(SAMPLE)
    assert len(body["contacts"]) == len([c for c in SAMPLE if _matches("nordwind")(c)])
    filtered = api.get("/contacts.json", params={"tags": "vip", "search": "zoe@"}).json()
    assert filtered["total_count"] == len([c for c in SAMPLE if "vip" in c.tags])
    assert ids(filtered) == [4]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"updated_on": ">=not-a-date"}, "Updated is not a valid date"),
        ({"assigned_to_id": "someone"}, "Assignee is invalid"),
    ],
    ids=["bad-date", "bad-assignee"],
)
def test_invalid_filter_is_422(api: httpx.Client, params: dict[str, str], message: str) -> None:
    response = api.get("/contacts.json", params=params)
    assert (response.status_code, response.json()) == (422, {"errors": [message]})
    xml = api.get("/contacts.xml", params=params)
    assert xml.status_code == 422
    assert ElementTree.fromstring(xml.content).findtext("error") == message


# -- show ------------------------------------------------------------------------------------


def test_show_with_notes(api: httpx.Client) -> None:
    body = api.get("/contacts/4.json", params={"include": "notes"}).json()["contact"]
    assert body["projects"] == [{"id": 1, "name": "Sales"}]
    assert [(n["id"], n["type_id"], n["author"]["name"]) for n in body["notes"]] == [
        (4, None, "Kirill Bezrukov"), (5, 1, "Kirill Bezrukov"), (6, 2, "Maria Santos"),
    ]  # fmt: skip
    assert set(body["notes"][0]) == {"id", "content", "type_id", "author", "created_on",
                                     "updated_on"}  # fmt: skip
    assert "notes" not in api.get("/contacts/4.json").json()["contact"]
    xml = ElementTree.fromstring(api.get("/contacts/4.xml?include=notes").content)
    assert contact_from_xml(xml).notes == contact_from_json(body).notes


def test_show_company_with_its_people(api: httpx.Client) -> None:
    body = api.get("/contacts/7.json", params={"include": "contacts,notes"}).json()["contact"]
    named = [c.id for c in SAMPLE if not c.is_company and c.company == "Nordwind Logistik GmbH"]
    assert [person["id"] for person in body["contacts"]] == named
    assert 23 not in named  # "Nordwind Logistik" without GmbH names no company
    assert len(body["notes"]) == 1


def test_unknown_contact_is_404(api: httpx.Client) -> None:
    response = api.get("/contacts/9999.json")
    assert (response.status_code, response.content) == (404, b"")


# -- auth and formats ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "params", "auth", "status", "challenge"),
    [
        ({}, {}, None, 401, True),
        ({"X-Redmine-API-Key": "wrong"}, {}, None, 401, False),
        ({"X-Redmine-API-Key": KEY}, {}, None, 200, False),
        ({"X-Redmine-API-Key": OTHER_KEY}, {}, None, 200, False),
        ({}, {"key": KEY}, None, 200, False),
        ({}, {"key": "wrong"}, None, 401, False),
        ({}, {}, (KEY, "anything"), 200, False),
        ({}, {}, ("wrong", "anything"), 401, False),
    ],
    ids=[
        "none",
        "wrong-header",
        "header",
        "second-key",
        "param",
        "wrong-param",
        "basic",
        "wrong-basic",
    ],
)
def test_auth(
    redmine: RedmineHandle,
    headers: dict[str, str],
    params: dict[str, str],
    auth: tuple[str, str] | None,
    status: int,
    challenge: bool,
) -> None:
    response = httpx.get(
        f"{redmine.base_url}/contacts.json", headers=headers, params=params, auth=auth
    )
    assert response.status_code == status
    assert ("www-authenticate" in response.headers) is challenge
    if status == 401:
        assert response.content == b""


@pytest.mark.parametrize(
    ("path", "status"),
    [("/contacts", 302), ("/contacts.csv", 302), ("/contacts?format=json", 200),
     ("/contacts/4?format=xml", 200), ("/nothing.json", 404)],
    ids=["html", "csv", "format-param", "show-format-param", "unknown-path"],
)  # fmt: skip
def test_only_json_and_xml_answer_the_api(api: httpx.Client, path: str, status: int) -> None:
    response = api.get(path)
    assert response.status_code == status
    if status == 302:
        assert response.headers["location"] == "/login"


def test_stats_count_requests_by_template(redmine: RedmineHandle, api: httpx.Client) -> None:
    redmine.reset_stats()
    api.get("/contacts/1.json")
    api.get("/contacts/2.json")
    api.get("/contacts.json")
    httpx.get(f"{redmine.base_url}/contacts.json")
    stats = redmine.stats()
    assert stats["records"] == {
        "contacts": len(SAMPLE),
        "notes": sum(len(c.notes or ()) for c in SAMPLE),
    }
    assert stats["requests"] == [
        {"method": "GET", "path": "/contacts.json", "status": 200, "count": 1},
        {"method": "GET", "path": "/contacts.json", "status": 401, "count": 1},
        {"method": "GET", "path": "/contacts/{id}.json", "status": 200, "count": 2},
    ]
