"""A throwaway PostgreSQL server on 127.0.0.1, from the system's own server binaries, for
rehearsing a shared state and for the tests and benchmarks that need a real server.

The cluster lives in a temporary folder, listens on a free port with trust authentication for
loopback only, and is built for speed rather than durability (fsync off): it is gone when the
context ends. PostgreSQL refuses to run as root; as root the server runs as the `postgres`
user that Debian's package creates.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

INSTALL_HINT = "install PostgreSQL's server (Debian: apt-get install postgresql)"
START_TIMEOUT_S = 60


class PostgresMissing(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def server_binaries() -> Path | None:
    """The folder holding initdb and pg_ctl (the newest version installed), or None."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_server_user() -> tuple[list[str], int | None]:
    """The command prefix that runs a server binary (root can't), and that user's uid."""
    if os.geteuid() != 0:
        return [], None
    try:
        uid = pwd.getpwnam("postgres").pw_uid
    except KeyError:
        raise PostgresMissing(f"no 'postgres' user to run the server as: {INSTALL_HINT}") from None
    return ["runuser", "-u", "postgres", "--"], uid


@contextmanager
def temporary_postgres() -> Iterator[str]:
    """Start a server; yield its URL (postgresql://postgres@127.0.0.1:PORT/postgres)."""
    binaries = server_binaries()
    if binaries is None:
        raise PostgresMissing(f"no PostgreSQL server binaries (initdb, pg_ctl): {INSTALL_HINT}")
    prefix, uid = _as_server_user()
    folder = Path(tempfile.mkdtemp(prefix="crmsync-pg-"))
    data = folder / "data"
    if uid is not None:
        os.chown(folder, uid, -1)
    port = _free_port()
    try:
        subprocess.run(
            [*prefix, str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
             "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            check=True,
        )  # fmt: skip
        options = (
            f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c full_page_writes=off -c synchronous_commit=off -c max_connections=200"
        )
        subprocess.run(
            [*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l",
             str(folder / "server.log"), "-w", "-t", str(START_TIMEOUT_S), "start"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            check=True,
        )  # fmt: skip
    except subprocess.CalledProcessError as exc:
        log = (folder / "server.log").read_text(errors="replace") if data.exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {exc.stderr!r} {log[-2000:]}") from None
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        shutil.rmtree(folder, ignore_errors=True)
