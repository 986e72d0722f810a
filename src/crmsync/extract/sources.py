"""Every source kind behind one protocol, built once from its config.

A `Source` says how summaries name it, the column it can be read incrementally by (if any),
and reads itself into an `Extracted` frame, from an update time on when given one. API sources
remember their reads, so several steps reading one Redmine walk it once per run.

`open_source` is the one place that knows the config classes of sources.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Generator
from datetime import datetime
from pathlib import Path
from typing import Protocol

from crmsync.api import ClientSettings
from crmsync.api.http import public_url
from crmsync.api.settings import DEFAULT_REQUEST_DEADLINE_S
from crmsync.config.sources import (
    FileSource,
    RallyApiSource,
    RedmineApiSource,
    RedmineExportSource,
    SourceConfig,
)
from crmsync.errors import SourceError
from crmsync.extract import read_source
from crmsync.extract.csv_stream import read_in_pieces, stream_csv
from crmsync.extract.rally import read_rally_api
from crmsync.extract.redmine import read_redmine_api, read_redmine_export
from crmsync.extract.redmine.derived import with_derived_columns
from crmsync.extract.result import Extracted
from crmsync.paths import resolved
from crmsync.spreadsheet import is_report, unescape_cell, unescape_frame

API_TIME = "%Y-%m-%dT%H:%M:%SZ"  # how Redmine's updated_on filter takes a time


class Source(Protocol):
    """A source a step reads: the same protocol for files and APIs."""

    @property
    def label(self) -> str:
        """Its identity in the state database (the path as written, or the API's URL)."""

    @property
    def name(self) -> str:
        """How summaries and errors name it: the resolved path, or the URL."""

    @property
    def incremental_by(self) -> str | None:
        """The update-time column an incremental read resumes from; None: read whole."""

    def describe(self, since: datetime | None) -> str | None:
        """What a read from `since` will fetch, for the progress line; None when it fetches
        nothing worth saying (a local file, or what this run already read)."""

    def read(self, since: datetime | None = None) -> Extracted:
        """The records (updated since `since`, for an incremental source)."""

    def pieces(self) -> Generator[Extracted, None, None] | None:
        """The whole source a piece at a time, when it is big enough to be worth it and of a
        kind read that way (None: `read` it). The iterator raises NotStreamable when the
        source turns out to need a whole read after all."""

    def check(self) -> None:
        """A cheap look before a run reads anything: SourceError when it cannot be read at
        all (a file that is not there); an API is only known by reading it."""

    def forget(self) -> None:
        """Let go of what was read: no step reads it again (a next read reads anew)."""


@dataclasses.dataclass(frozen=True)
class _LocalFile:
    """A file beside the pipeline: read whole, once per run however many steps read it;
    nothing to announce."""

    config: FileSource | RedmineExportSource
    path: Path
    incremental_by: str | None = None
    _read: dict[None, Extracted] = dataclasses.field(default_factory=dict, compare=False)

    @property
    def label(self) -> str:
        return self.config.label

    @property
    def name(self) -> str:
        return str(self.path)

    def describe(self, since: datetime | None) -> str | None:
        return None

    def check(self) -> None:
        check_file(self.path)

    def read(self, since: datetime | None = None) -> Extracted:
        if None not in self._read:
            self._read[None] = self._parse()
        return self._read[None]

    def forget(self) -> None:
        self._read.clear()

    def pieces(self) -> Generator[Extracted, None, None] | None:
        return None

    def _parse(self) -> Extracted:
        raise NotImplementedError

    def _encoding(self) -> str | None:
        return None if self.config.encoding == "auto" else self.config.encoding


@dataclasses.dataclass(frozen=True)
class FileSourceReader(_LocalFile):
    """A CSV, JSON or NDJSON file."""

    config: FileSource

    def _parse(self) -> Extracted:
        cfg = self.config
        extracted = read_source(
            cfg.kind,
            self.path,
            encoding=self._encoding(),
            delimiter=None if cfg.delimiter == "auto" else cfg.delimiter,
            skip_rows=cfg.skip_rows,
            records=cfg.records,
        )
        return fed_back(extracted) if cfg.kind == "csv" else extracted

    def pieces(self) -> Generator[Extracted, None, None] | None:
        cfg = self.config
        try:
            big = read_in_pieces(self.path)
        except OSError:  # `read` says what is wrong with it
            return None
        if cfg.kind != "csv" or not big:
            return None
        read = stream_csv(
            self.path,
            encoding=self._encoding(),
            delimiter=None if cfg.delimiter == "auto" else cfg.delimiter,
            skip_rows=cfg.skip_rows,
        )
        return (fed_back(piece) for piece in read)


@dataclasses.dataclass(frozen=True)
class RedmineExportReader(_LocalFile):
    """A Redmine CRM export file, with the columns Rally mappings need derived."""

    config: RedmineExportSource

    def _parse(self) -> Extracted:
        cfg = self.config
        export = read_redmine_export(
            self.path, entity=cfg.entity, format=cfg.format, encoding=self._encoding()
        )
        return with_derived(export)


class ApiSourceReader:
    """A source API, read at most once per start time in a run, however many steps read it."""

    def __init__(
        self,
        label: str,
        what: str,
        where: str,
        incremental_by: str | None,
        walk: Callable[[datetime | None], Extracted],
    ) -> None:
        self.label = self.name = label
        self.incremental_by = incremental_by
        self._what = what
        self._where = where
        self._walk = walk
        self._reads: dict[datetime | None, Extracted] = {}

    def describe(self, since: datetime | None) -> str | None:
        if since in self._reads:
            return None
        newer = f" updated since {since:{API_TIME}}" if since else ""
        return f"reading {self._what}{newer} from {self._where}"

    def check(self) -> None:
        """An API is checked by reading it."""

    def read(self, since: datetime | None = None) -> Extracted:
        if since not in self._reads:
            self._reads[since] = self._walk(since)
        return self._reads[since]

    def pieces(self) -> Generator[Extracted, None, None] | None:
        """An API's pages are read whole."""
        return None

    def forget(self) -> None:
        self._reads.clear()


def fed_back(extracted: Extracted) -> Extracted:
    """A report file crmsync wrote (errors.csv fixed and fed back) without the apostrophes it
    put before cells a spreadsheet would run as formulas; any other file as it is."""
    if not is_report(extracted.columns):
        return extracted
    names = {name: unescape_cell(name) for name in extracted.columns}
    frame = unescape_frame(extracted.frame, extracted.columns).rename(names)
    columns = tuple(names[name] for name in extracted.columns)
    return dataclasses.replace(extracted, frame=frame, columns=columns)


def check_file(path: Path) -> None:
    """SourceError, worded as the reader words it, for a path that is no readable file."""
    if not path.exists():
        if path.is_symlink():
            raise SourceError(
                "is a symbolic link to nothing: its target is missing, or a loop of links",
                source=str(path),
            )
        raise SourceError("file not found", source=str(path))
    if path.is_dir():
        raise SourceError("is a directory, not a file", source=str(path))
    if not path.is_file():
        raise SourceError(
            "is not a regular file (a FIFO, socket or device): copy the data into a file",
            source=str(path),
        )


def with_derived(extracted: Extracted) -> Extracted:
    """A Redmine frame with the columns Rally mappings need (second phone, custom fields)."""
    frame = with_derived_columns(extracted.frame)
    added = tuple(c for c in frame.columns if c not in extracted.frame.columns)
    return dataclasses.replace(extracted, frame=frame, columns=extracted.columns + added)


def _redmine_api(cfg: RedmineApiSource, allow_insecure_http: bool, deadline_s: float) -> Source:
    secret = cfg.api_key.get_secret_value()

    def walk(since: datetime | None) -> Extracted:
        return with_derived(
            read_redmine_api(
                cfg.url,
                secret,
                entity=cfg.entity,
                filters=cfg.filters,
                page_size=cfg.page_size,
                updated_since=f"{since:{API_TIME}}" if since else None,
                allow_insecure_http=allow_insecure_http,
                request_deadline_s=deadline_s,
            )
        )

    # Notes are always read whole: a new note need not touch its contact's updated_on.
    incremental = "updated_on" if cfg.entity == "contacts" else None
    where = public_url(cfg.url)
    return ApiSourceReader(cfg.label, f"Redmine CRM {cfg.entity}", where, incremental, walk)


def _rally_api(cfg: RallyApiSource, allow_insecure_http: bool, deadline_s: float) -> Source:
    secret = cfg.api_key.get_secret_value()

    def walk(since: datetime | None) -> Extracted:
        return read_rally_api(
            cfg.base_url,
            secret,
            cfg.object,
            updated_since=since,
            settings=ClientSettings(request_deadline_s=deadline_s),
            allow_insecure_http=allow_insecure_http,
        )

    where = public_url(cfg.base_url)
    return ApiSourceReader(cfg.label, f"Rally {cfg.object}", where, "updatedAt", walk)


def open_source(
    cfg: SourceConfig,
    base_dir: Path,
    *,
    allow_insecure_http: bool = False,
    request_deadline_s: float = DEFAULT_REQUEST_DEADLINE_S,
) -> Source:
    """The reader of one source config; relative paths are taken from `base_dir`. API sources
    refuse plain http:// to another machine unless `allow_insecure_http`, and give each
    request `request_deadline_s` at most, its whole answer read."""
    match cfg:
        case FileSource():
            return FileSourceReader(cfg, _resolve(base_dir, cfg.path))
        case RedmineExportSource():
            return RedmineExportReader(cfg, _resolve(base_dir, cfg.path))
        case RedmineApiSource():
            return _redmine_api(cfg, allow_insecure_http, request_deadline_s)
        case RallyApiSource():
            return _rally_api(cfg, allow_insecure_http, request_deadline_s)
    raise TypeError(f"no reader for source kind {cfg.kind!r}")


def _resolve(base_dir: Path, path: Path) -> Path:
    return resolved(path if path.is_absolute() else base_dir / path)


class SourceSet:
    """The sources of one run: steps with the same source config share one reader."""

    def __init__(self, base_dir: Path, *, allow_insecure_http: bool = False) -> None:
        self._base_dir = base_dir
        self._allow_insecure_http = allow_insecure_http
        self._open: dict[str, Source] = {}

    def open(
        self, cfg: SourceConfig, *, request_deadline_s: float = DEFAULT_REQUEST_DEADLINE_S
    ) -> Source:
        """The reader of `cfg`; the first step to open it sets its requests' deadline."""
        key = cfg.model_dump_json()
        if key not in self._open:
            self._open[key] = open_source(
                cfg,
                self._base_dir,
                allow_insecure_http=self._allow_insecure_http,
                request_deadline_s=request_deadline_s,
            )
        return self._open[key]
