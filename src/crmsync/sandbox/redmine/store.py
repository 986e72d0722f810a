"""SQLite for the Redmine sandbox: contacts as JSON documents plus the columns filters need.

Seeded once (an empty database takes the seed file; a --db file that already has contacts keeps
them). Read-only afterwards, so one connection used from the event loop's thread is enough.
Text matching (search, tags, city) is done on casefolded copies made in Python, so it is
case-insensitive beyond ASCII (SQLite's LIKE and lower() are ASCII only).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import Any

from crmsync.extract.redmine.model import Contact, Note
from crmsync.extract.redmine.parse import contact_from_json, note_from_json
from crmsync.sandbox.redmine.query import ContactQuery, QueryError, normalize_time
from crmsync.sandbox.redmine.render import contact_json, note_json

IN_MEMORY = ":memory:"
LIKE_ESCAPE = "\\"
SEARCH_SEPARATOR = "\n"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS contacts (
    id INTEGER PRIMARY KEY,
    is_company INTEGER NOT NULL,
    first_name TEXT,
    last_name TEXT,
    company_key TEXT,
    assigned_to_id INTEGER,
    city_key TEXT,
    country_key TEXT,
    country_code_key TEXT,
    created_on TEXT,
    updated_on TEXT,
    search TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS contact_tags (contact_id INTEGER NOT NULL, tag_key TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS contact_tags_tag ON contact_tags (tag_key, contact_id);
CREATE TABLE IF NOT EXISTS projects (id INTEGER PRIMARY KEY, name TEXT, identifier TEXT);
CREATE TABLE IF NOT EXISTS contact_projects (
    contact_id INTEGER NOT NULL, project_id INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS contact_projects_project ON contact_projects (project_id, contact_id);
CREATE TABLE IF NOT EXISTS notes (
    id INTEGER,
    contact_id INTEGER NOT NULL,
    position INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notes_contact ON notes (contact_id, position);
"""

SORT_COLUMNS = {
    "id": "id",
    "first_name": "first_name COLLATE NOCASE",
    "last_name": "last_name COLLATE NOCASE",
    "created_on": "created_on",
    "updated_on": "updated_on",
}


class UnknownProjectError(LookupError):
    """`project_id` names no project: Redmine answers 404."""


class RedmineStore:
    """The sandbox's contacts, notes and projects."""

    def __init__(self, path: str | None = None) -> None:
        self._conn = sqlite3.connect(path or IN_MEMORY, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        self._conn.close()

    def counts(self) -> dict[str, int]:
        contacts = self._conn.execute("SELECT COUNT(*) FROM contacts").fetchone()[0]
        notes = self._conn.execute("SELECT COUNT(*) FROM notes").fetchone()[0]
        return {"contacts": contacts, "notes": notes}

    def load(self, contacts: Iterable[Contact]) -> int:
        """Insert the contacts (and their notes and projects) in one transaction."""
        loaded = 0
        self._conn.execute("BEGIN")
        try:
            for contact in contacts:
                self._insert(contact)
                loaded += 1
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")
        return loaded

    def _insert(self, c: Contact) -> None:
        address = c.address
        doc = contact_json(c, show=True, project_identifiers=True)
        self._conn.execute(
            "INSERT INTO contacts (id, is_company, first_name, last_name, company_key,"
            " assigned_to_id, city_key, country_key, country_code_key, created_on, updated_on,"
            " search, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                c.id,
                int(c.is_company),
                c.first_name,
                c.last_name,
                _key(c.company),
                c.assigned_to.id if c.assigned_to else None,
                _key(address.city if address else None),
                _key(address.country if address else None),
                _key(address.country_code if address else None),
                _time(c.created_on),
                _time(c.updated_on),
                _search_text(c),
                json.dumps(doc, ensure_ascii=False),
            ),
        )
        self._conn.executemany(
            "INSERT INTO contact_tags (contact_id, tag_key) VALUES (?, ?)",
            [(c.id, tag.casefold()) for tag in c.tags],
        )
        for project in c.projects:
            self._conn.execute(
                "INSERT OR IGNORE INTO projects (id, name, identifier) VALUES (?, ?, ?)",
                (project.id, project.name, project.identifier),
            )
            self._conn.execute(
                "INSERT INTO contact_projects (contact_id, project_id) VALUES (?, ?)",
                (c.id, project.id),
            )
        self._conn.executemany(
            "INSERT INTO notes (id, contact_id, position, doc) VALUES (?, ?, ?, ?)",
            [
                (note.id, c.id, position, json.dumps(note_json(note), ensure_ascii=False))
                for position, note in enumerate(c.notes or ())
            ],
        )

    def search(self, query: ContactQuery) -> tuple[list[Contact], int]:
        """A page of contacts and the total count. The count ignores `search` (Redmine's quirk)."""
        where, params = self._filters(query, with_search=False)
        total = self._conn.execute(f"SELECT COUNT(*) FROM contacts WHERE {where}", params)
        total_count: int = total.fetchone()[0]
        where, params = self._filters(query, with_search=True)
        order = ", ".join(
            f"{SORT_COLUMNS[name]} {'DESC' if desc else 'ASC'}" for name, desc in query.order
        )
        rows = self._conn.execute(
            f"SELECT doc FROM contacts WHERE {where} ORDER BY {order}, id LIMIT ? OFFSET ?",
            (*params, query.limit, query.offset),
        ).fetchall()
        return [contact_from_json(json.loads(row[0])) for row in rows], total_count

    def get(self, contact_id: int) -> Contact | None:
        row = self._conn.execute("SELECT doc FROM contacts WHERE id = ?", (contact_id,)).fetchone()
        return None if row is None else contact_from_json(json.loads(row[0]))

    def notes(self, contact_id: int) -> list[Note]:
        rows = self._conn.execute(
            "SELECT doc FROM notes WHERE contact_id = ? ORDER BY position", (contact_id,)
        ).fetchall()
        return [note_from_json(json.loads(row[0])) for row in rows]

    def people_of(self, company: Contact) -> list[tuple[int, str]]:
        """`include=contacts`: the people whose `company` names this company."""
        rows = self._conn.execute(
            "SELECT doc FROM contacts WHERE is_company = 0 AND company_key = ? ORDER BY id",
            (_key(company.first_name),),
        ).fetchall()
        people = [contact_from_json(json.loads(row[0])) for row in rows]
        return [(person.id, person.name) for person in people]

    def project_id(self, key: str) -> int:
        """A project by id or identifier; UnknownProjectError if none."""
        row = self._conn.execute(
            "SELECT id FROM projects WHERE CAST(id AS TEXT) = ? OR identifier = ?", (key, key)
        ).fetchone()
        if row is None:
            raise UnknownProjectError(key)
        project: int = row[0]
        return project

    def _filters(self, q: ContactQuery, *, with_search: bool) -> tuple[str, list[Any]]:
        clauses: list[str] = ["1 = 1"]
        params: list[Any] = []
        if q.project is not None:
            clauses.append("id IN (SELECT contact_id FROM contact_projects WHERE project_id = ?)")
            params.append(self.project_id(q.project))
        if q.assigned_to_id is not None:
            clauses.append("assigned_to_id = ?")
            params.append(q.assigned_to_id)
        for tag in q.tags_all:
            clauses.append("id IN (SELECT contact_id FROM contact_tags WHERE tag_key = ?)")
            params.append(tag)
        for tag in q.tags_none:
            clauses.append("id NOT IN (SELECT contact_id FROM contact_tags WHERE tag_key = ?)")
            params.append(tag)
        if q.is_company is not None:
            clauses.append("is_company = ?")
            params.append(int(q.is_company))
        if q.city is not None:
            clauses.append("city_key = ?")
            params.append(_key(q.city))
        if q.country is not None:
            clauses.append("(country_key = ? OR country_code_key = ?)")
            params.extend([_key(q.country)] * 2)
        for column, bounds in q.times.items():
            if bounds.low is not None:
                clauses.append(f"{column} >= ?")
                params.append(bounds.low)
            if bounds.high is not None:
                clauses.append(f"{column} <= ?")
                params.append(bounds.high)
        if with_search:
            for word in q.words:
                clauses.append(f"search LIKE ? ESCAPE '{LIKE_ESCAPE}'")
                params.append(f"%{_escape_like(word)}%")
        return " AND ".join(clauses), params


def _key(text: str | None) -> str | None:
    return text.strip().casefold() if text and text.strip() else None


def _time(text: str | None) -> str | None:
    """Stored times in one format, so range filters compare them as text."""
    if not text:
        return None
    try:
        return normalize_time(text)
    except QueryError:
        return text


def _search_text(c: Contact) -> str:
    """What `search` matches: names, company, emails, phones, job title (casefolded)."""
    parts = [c.first_name, c.middle_name, c.last_name, c.company, c.job_title, *c.emails, *c.phones]
    return SEARCH_SEPARATOR.join(part for part in parts if part).casefold()


def _escape_like(word: str) -> str:
    for char in (LIKE_ESCAPE, "%", "_"):
        word = word.replace(char, LIKE_ESCAPE + char)
    return word
