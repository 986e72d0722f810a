"""A local Redmine CRM contacts API over real HTTP: settings, seeding, the app, and `serve`.

Users rehearse a Redmine-to-Rally migration against it; the Redmine readers' tests walk it.
Contacts come from a seed file (the list shape `{"contacts": [...]}` with each contact's notes
inside, or the XML list) into SQLite (memory, or a --db file that keeps them). Every accepted
key sees the same contacts: Redmine keys are users, and the sandbox has one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException

from crmsync.errors import ConfigError
from crmsync.extract.encoding import decode, read_bytes
from crmsync.extract.redmine.files import json_records, xml_records
from crmsync.extract.redmine.model import Contact
from crmsync.sandbox import serving
from crmsync.sandbox.faults import FaultInjector
from crmsync.sandbox.redmine.middleware import Guards, RedmineMiddleware
from crmsync.sandbox.redmine.routes import build_routes, http_error
from crmsync.sandbox.redmine.store import RedmineStore
from crmsync.sandbox.serving import DEFAULT_HOST, IN_MEMORY, MS_PER_S, StoreApp
from crmsync.sandbox.stats import RequestStats

DEFAULT_PORT = 8766  # beside the Rally sandbox's 8765
DEFAULT_API_KEY = "redmine-key"
API_KEY_ENV = "REDMINE_API_KEY"
# The bundled sample (a source checkout: sample_data/ sits beside src/).
DEFAULT_SEED_FILE = (
    Path(__file__).resolve().parents[4] / "sample_data" / "redmine" / "contacts.json"
)


def default_api_keys() -> tuple[str, ...]:
    """The key in REDMINE_API_KEY when set, else 'redmine-key'."""
    return serving.default_api_keys(API_KEY_ENV, DEFAULT_API_KEY)


@dataclass(frozen=True)
class RedmineSettings:
    """Everything `crmsync redmine-sandbox` takes; keys stay out of the repr."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    db_path: str | None = None
    seed_file: str | None = None  # None: the bundled sample
    api_keys: tuple[str, ...] = field(default=(DEFAULT_API_KEY,), repr=False)
    latency_ms: int = 0
    fail_rate: float = 0.0
    seed: int | None = None
    quiet: bool = False

    def __post_init__(self) -> None:
        serving.check_settings(self, shares=("fail_rate",), counts=("latency_ms",))

    @classmethod
    def from_cli(cls, *, api_keys: tuple[str, ...] = (), **options: Any) -> RedmineSettings:
        """From the click options; no --api-key means the default key."""
        return cls(api_keys=tuple(api_keys) or default_api_keys(), **options)


def load_seed(path: str | Path) -> list[Contact]:
    """The contacts of a seed file (JSON or XML list, as the export readers take them).

    Unlike an export, a seed must be whole: a record that is not a contact is a ConfigError.
    """
    source = str(path)
    data = read_bytes(path, source)
    if Path(path).suffix.lower() == ".xml":
        records = xml_records(data, source)
    else:
        records = json_records(decode(data, None, source).data, source)
    contacts: list[Contact] = []
    seen: set[int] = set()
    for number, _, contact in records:
        if not isinstance(contact, Contact):
            raise ConfigError(f"record {number}: {contact}", file=source)
        if contact.id in seen:
            raise ConfigError(f"record {number}: id {contact.id} appears twice", file=source)
        seen.add(contact.id)
        contacts.append(contact)
    return contacts


class RedmineApp(StoreApp):
    """The ASGI application, and the store it must close."""

    store: RedmineStore

    def __init__(self, settings: RedmineSettings) -> None:
        self.store = RedmineStore(settings.db_path)
        self.seeded = 0
        if self.store.counts()["contacts"] == 0:
            self.seeded = self.store.load(load_seed(settings.seed_file or DEFAULT_SEED_FILE))
        self.stats = RequestStats()
        guards = Guards(
            api_keys=frozenset(settings.api_keys),
            stats=self.stats,
            faults=FaultInjector(
                fail_rate=settings.fail_rate, commit_then_fail_rate=0.0, seed=settings.seed
            ),
            latency_s=settings.latency_ms / MS_PER_S,
            log_requests=not settings.quiet,
        )
        starlette = Starlette(
            routes=build_routes(self.store, self.stats),
            exception_handlers={HTTPException: http_error, Exception: http_error},
        )
        self._asgi = RedmineMiddleware(starlette, guards)


def serve(settings: RedmineSettings) -> None:
    """Run until interrupted (Ctrl-C or SIGTERM), then close the database."""
    serving.configure_logging("crmsync.sandbox.redmine", settings.quiet)
    app = RedmineApp(settings)
    counts = app.store.counts()
    origin = f"seeded {app.seeded} from the seed file" if app.seeded else "kept from the database"
    serving.run(
        app,
        host=settings.host,
        port=settings.port,
        banner=f"Redmine CRM sandbox: http://{settings.host}:{settings.port}/contacts.json"
        f" ({len(settings.api_keys)} API key(s); {counts['contacts']} contacts,"
        f" {counts['notes']} notes, {origin}; in {settings.db_path or IN_MEMORY})",
    )
