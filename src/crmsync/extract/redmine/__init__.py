"""Redmine CRM as a source: its REST API and its export files, all into one frame.

``read_redmine_api`` walks ``/contacts.json`` (and, for notes, each contact's
``include=notes``); ``read_redmine_export`` reads the JSON and XML list formats (current and
older shapes) and the CSV/XLS-style exports. Whatever the source, the same data gives the same
frame: ``CONTACT_COLUMNS`` (one row per contact) or ``NOTE_COLUMNS`` (one row per note), all
``pl.String``, plus ``_source`` and ``_row``; records that cannot be read are rejects.
"""

from __future__ import annotations

from crmsync.extract.redmine.api import read_redmine_api
from crmsync.extract.redmine.files import read_redmine_export
from crmsync.extract.redmine.frame import CONTACT_COLUMNS, ENTITIES, NOTE_COLUMNS, Entity

__all__ = [
    "CONTACT_COLUMNS",
    "ENTITIES",
    "NOTE_COLUMNS",
    "Entity",
    "read_redmine_api",
    "read_redmine_export",
]
