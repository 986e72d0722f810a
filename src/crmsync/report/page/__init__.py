"""report.html, a run's page: what it shows (model), its charts (charts), and the page
rendered and written (render, from report.html.j2).

    write_run_page(db, run_id, folder)   the page of a run, from the state database alone
"""

from __future__ import annotations

from pathlib import Path

from crmsync.report.page.model import RunPage, run_page
from crmsync.report.page.render import PAGE_FILE, render_page, write_page
from crmsync.state import StateDB


def write_run_page(db: StateDB, run_id: int, folder: Path) -> Path:
    """Write run `run_id`'s report.html into `folder`; KeyError when there is no such run."""
    record = db.runs.get(run_id)
    if record is None:
        raise KeyError(f"no run {run_id}")
    return write_page(folder, run_page(db, record))


__all__ = ["PAGE_FILE", "RunPage", "render_page", "run_page", "write_page", "write_run_page"]
